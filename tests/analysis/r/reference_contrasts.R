# Every unit against the aggregate that contains it, for test_reference_comparisons.py: on the
# counter design, sub <- subset(des, !is.na(q)) (the whole table) or subset(sub, sector == s),
# the totals svytotal(~su + iu + sat + one, s) with su = sat * 1[grp == u], iu = 1[grp == u],
# and the nonlinear contrast svycontrast(tot, quote(su/iu - sat/one)) (delta method: the
# covariance of the unit and its aggregate included); t on degf(s), p.adjust within each
# reference. Usage: Rscript reference_contrasts.R counter.csv out.csv
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q >= 4)
d$one <- 1
for (u in sort(unique(d$grp))) {
  d[[paste0("su_", u)]] <- d$sat * (d$grp == u)
  d[[paste0("iu_", u)]] <- as.numeric(d$grp == u)
}
des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~volume, data = d)
sub <- subset(des, !is.na(q))
rows <- list()
for (s in c("all", sort(unique(d$sector)))) {
  ref <- if (s == "all") sub else subset(sub, sector == s)
  units <- sort(unique(ref$variables$grp))
  part <- NULL
  for (u in units) {
    su <- paste0("su_", u)
    iu <- paste0("iu_", u)
    tot <- svytotal(as.formula(paste("~", su, "+", iu, "+ sat + one")), ref)
    con <- svycontrast(tot, parse(text = paste0(su, "/", iu, " - sat/one"))[[1]])
    est <- coef(con)[[1]]
    se <- SE(con)[[1]]
    df <- degf(ref)
    part <- rbind(part, data.frame(reference = s, group = u, difference = est, se = se,
                                   df = df, p = 2 * pt(-abs(est / se), df),
                                   ci_low = est - qt(0.975, df) * se,
                                   ci_high = est + qt(0.975, df) * se))
  }
  part$p_holm <- p.adjust(part$p, "holm")
  part$p_bh <- p.adjust(part$p, "BH")
  rows[[length(rows) + 1]] <- part
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
