# Logit intervals of the share satisfied on design A raked to sex and age margins, by sector and
# overall, with the design degrees of freedom R uses, for the differential test.
# Usage: Rscript raked_intervals.R responses.csv out.csv MARGINS_DIR
# (MARGINS_DIR holds margins_sex.csv and margins_age_group.csv: a category column and `share`.)
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q_overall >= 4)
A <- svydesign(ids = ~1, strata = ~service_point, fpc = ~volume, data = d)
population <- function(column) {
  m <- read.csv(file.path(args[3], paste0("margins_", column, ".csv")), stringsAsFactors = FALSE,
                colClasses = c("character", "numeric"))
  setNames(data.frame(m[[1]], m$share * sum(weights(A))), c(column, "Freq"))
}
raked <- rake(A, list(~sex, ~age_group), list(population("sex"), population("age_group")),
  control = list(epsilon = 1e-10, maxit = 100))
rows <- list()
for (g in c(sort(unique(d$sector)), "all")) {
  sub <- if (g == "all") raked else raked[d$sector == g, ]
  ci <- suppressWarnings(svyciprop(~sat, sub, method = "logit"))
  rows[[length(rows) + 1]] <- data.frame(group = g, estimate = as.numeric(ci),
    ci_low = confint(ci)[1], ci_high = confint(ci)[2], df = degf(sub))
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
