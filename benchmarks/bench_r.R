# Benchmark 1 in R: share satisfied by agency with logit intervals, design A.
# Usage: Rscript bench_r.R FILE.csv
suppressMessages(library(survey))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q_overall >= 4)
des <- svydesign(ids = ~1, strata = ~service_point, fpc = ~volume, data = d)
r <- svyby(~sat, ~agency, des, svyciprop, method = "logit", vartype = "ci")
print(head(r))
