# Means and shares (by group and overall) on one- and two-stage designs under every lonely-PSU
# rule, for the differential test of multistage designs and lonely PSUs; the Rao-Scott test of
# sat by grp (columns: estimate = F, se = ddf, ci_low = ndf, ci_high = p).
# Usage: Rscript designs.R data.csv out.csv
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q >= 4)
make <- list(
  # one stage, PSUs in strata, weights given (a lonely stratum, no fpc)
  one = function() svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d),
  # one stage with the stage-1 fpc (a certainty stratum: N1 = n1)
  one_fpc = function() svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~N1,
                                 nest = TRUE, data = d),
  # two stages, fpc at both: weights N1/n1 * N2/n2
  two = function() svydesign(ids = ~psu + person, strata = ~stratum, fpc = ~N1 + N2,
                             nest = TRUE, data = d),
  # two stages without strata
  two_nostrata = function() svydesign(ids = ~psu + person, fpc = ~M1 + N2, data = d)
)
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
for (rule in c("fail", "adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = rule)
  for (dn in names(make)) {
    des <- make[[dn]]()
    sub <- subset(des, !is.na(q))
    res <- tryCatch({
      for (g in c(sort(unique(d$grp)), "all")) {
        s <- if (g == "all") sub else sub[sub$variables$grp == g, ]
        m <- svymean(~q, s)                                  # svymean(~q, s)
        p <- svyciprop(~sat, s, method = "logit")            # svyciprop(~sat, s, "logit")
        add(design = dn, rule = rule, group = g, measure = "mean", estimate = coef(m)[[1]],
            se = SE(m)[[1]], ci_low = NA, ci_high = NA, df = degf(s), error = "")
        add(design = dn, rule = rule, group = g, measure = "prop", estimate = as.numeric(p),
            se = sqrt(attr(p, "var"))[[1]], ci_low = confint(p)[1], ci_high = confint(p)[2],
            df = degf(s), error = "")
      }
      rs <- svychisq(~sat + grp, sub, statistic = "F")    # svychisq(~sat + grp, sub, "F")
      add(design = dn, rule = rule, group = "all", measure = "rao-scott",
          estimate = as.numeric(rs$statistic), se = rs$parameter[["ddf"]],
          ci_low = rs$parameter[["ndf"]], ci_high = rs$p.value, df = NA, error = "")
      "ok"
    }, error = function(e) conditionMessage(e))
    if (res != "ok") add(design = dn, rule = rule, group = "all", measure = "error",
                         estimate = NA, se = NA, ci_low = NA, ci_high = NA, df = NA, error = res)
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
