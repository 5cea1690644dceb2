# Benchmarks 3 and 4 in R: share satisfied by agency with logit intervals on a two-stage design
# (fpc at both stages) or on supplied replicate weights.
# Usage: Rscript bench_r_designs.R twostage|replicates FILE.csv
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[2], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q_overall >= 4)
options(survey.lonely.psu = "adjust")
if (args[1] == "twostage") {
  des <- svydesign(ids = ~psu + person, strata = ~stratum, fpc = ~N1 + N2, nest = TRUE, data = d)
} else {
  des <- svrepdesign(data = d, repweights = "rw_[0-9]+", weights = ~weight, type = "bootstrap",
                     combined.weights = TRUE)
}
r <- svyby(~sat, ~agency, des, svyciprop, method = "logit", vartype = "ci")
print(head(r))
