# Shares (logit and Korn-Graubard intervals) and means by domain on the counter design and on a
# clustered design, for the test of the estimators from aggregates (test_aggregates.py); every
# group g: s <- subset(des, !is.na(q))[grp == g, ], then svyciprop(~sat, s, method=...),
# svymean(~q, s, deff=TRUE), confint(., df=degf(s)) and degf(s).
# Usage: Rscript aggregates.R counter.csv clustered.csv out.csv
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
run <- function(name, des) {
  sub <- subset(des, !is.na(q))
  for (g in c(sort(unique(des$variables$grp)), "all")) {
    s <- if (g == "all") sub else sub[sub$variables$grp == g, ]
    for (method in c("logit", "beta")) {
      p <- svyciprop(~sat, s, method = method)
      add(design = name, group = g, measure = method, estimate = as.numeric(p),
          se = sqrt(attr(p, "var"))[[1]], ci_low = confint(p)[1], ci_high = confint(p)[2],
          df = degf(s), deff = NA)
    }
    m <- svymean(~q, s, deff = TRUE)
    ci <- confint(m, df = degf(s))
    add(design = name, group = g, measure = "mean", estimate = coef(m)[[1]], se = SE(m)[[1]],
        ci_low = ci[1], ci_high = ci[2], df = degf(s), deff = deff(m)[[1]])
  }
}
counter <- read.csv(args[1], stringsAsFactors = FALSE)
counter$sat <- as.numeric(counter$q >= 4)
run("counter", svydesign(ids = ~1, strata = ~stratum, fpc = ~volume, data = counter))
clustered <- read.csv(args[2], stringsAsFactors = FALSE)
clustered$sat <- as.numeric(clustered$q >= 4)
run("clustered", svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~N1, nest = TRUE,
                           data = clustered))
write.csv(do.call(rbind, rows), args[3], row.names = FALSE)
