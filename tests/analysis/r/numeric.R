# Means, totals and quantiles of numeric (non-1-5) columns by group, for the differential test.
# Usage: Rscript numeric.R data.csv out.csv
# Designs: two = svydesign(ids=~psu+person, strata=~stratum, fpc=~N1+N2, nest=TRUE) and
# one = svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE), lonely PSUs "adjust".
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
designs <- list(
  two = svydesign(ids = ~psu + person, strata = ~stratum, fpc = ~N1 + N2, nest = TRUE, data = d),
  one = svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
)
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
for (dn in names(designs)) {
  for (v in c("minutes", "score")) {
    des <- designs[[dn]]
    sub <- des[!is.na(des$variables[[v]]), ]
    f <- as.formula(paste0("~", v))
    for (g in c(sort(unique(d$grp)), "all")) {
      s <- if (g == "all") sub else sub[sub$variables$grp == g, ]
      m <- svymean(f, s)                                               # svymean(~v, s)
      t <- svytotal(f, s, deff = TRUE)                                 # svytotal(~v, s, deff=TRUE)
      add(design = dn, var = v, group = g, measure = "mean", estimate = coef(m)[[1]],
          se = SE(m)[[1]], ci_low = NA, ci_high = NA, deff = NA, df = degf(s))
      add(design = dn, var = v, group = g, measure = "total", estimate = coef(t)[[1]],
          se = SE(t)[[1]], ci_low = NA, ci_high = NA, deff = deff(t)[[1]], df = degf(s))
      for (p in c(0.25, 0.5, 0.9)) {
        # svyquantile(~v, s, p) (qrule = "math", interval.type = "mean": Woodruff)
        q <- svyquantile(f, s, p)[[1]]
        add(design = dn, var = v, group = g, measure = paste0("quantile_", p),
            estimate = q[1, 1], se = q[1, 4], ci_low = q[1, 2], ci_high = q[1, 3], deff = NA,
            df = degf(s))
      }
    }
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
