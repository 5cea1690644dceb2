# Replicate-weight designs for the differential test. Usage: Rscript replicates.R data.csv out.csv OUTDIR
# Writes OUTDIR/repweights.csv (the data with the replicate columns jk1_*, jkn_*, brr_*, fay_*,
# boot_* made by as.svrepdesign(compress=FALSE)), OUTDIR/jkn_rscales.csv, and out.csv: on
# s <- subset(rep, !is.na(q)) and s[grp == g, ]: svymean(~q, s), svyciprop(~sat, s, "logit"),
# degf(s); on s2 <- rep[grp == g, ]: svytotal(~minutes, s2), svyquantile(~minutes, s2, 0.5); and
# svychisq(~sat + grp, s, statistic = "F"), for
#   from_JK1  as.svrepdesign(svydesign(ids=~psu, weights=~w, fpc=~M1), type="JK1")
#   from_JKn  as.svrepdesign(svydesign(ids=~psu, strata=~stratum, weights=~w, fpc=~N1,
#             nest=TRUE), type="JKn")            (lonely PSUs: "adjust")
#   JK1, JKn, BRR, Fay, bootstrap: svrepdesign(data=rw, repweights="<type>_[0-9]+",
#             weights=~w, type=..., combined.weights=TRUE[, rscales=, rho=0.5])
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$sat <- as.numeric(d$q >= 4)
set.seed(20251)
# BRR and Fay need two PSUs per stratum: consecutive PSUs paired into pseudo-strata
psus <- unique(d$psu)
psus <- psus[seq_len(2 * (length(psus) %/% 2))]
pair <- setNames(paste0("pair", (seq_along(psus) + 1) %/% 2), psus)
d_pair <- d[d$psu %in% psus, ]
d_pair$pair <- pair[d_pair$psu]
des0 <- svydesign(ids = ~psu, weights = ~w, fpc = ~M1, data = d)
desn <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~N1, nest = TRUE, data = d)
desb <- svydesign(ids = ~psu, strata = ~pair, weights = ~w, nest = TRUE, data = d_pair)
from <- list(
  from_JK1 = as.svrepdesign(des0, type = "JK1"),
  from_JKn = as.svrepdesign(desn, type = "JKn")
)
made <- list(
  jk1 = as.svrepdesign(des0, type = "JK1", compress = FALSE),
  jkn = as.svrepdesign(desn, type = "JKn", compress = FALSE),
  boot = as.svrepdesign(desn, type = "bootstrap", replicates = 40, compress = FALSE),
  brr = as.svrepdesign(desb, type = "BRR", compress = FALSE),
  fay = as.svrepdesign(desb, type = "Fay", fay.rho = 0.5, compress = FALSE)
)
rw <- d
rw$in_pair <- d$psu %in% psus
for (k in names(made)) {
  a <- unclass(as.matrix(weights(made[[k]], "analysis")))
  full <- matrix(0, nrow(d), ncol(a))
  if (k %in% c("brr", "fay")) full[rw$in_pair, ] <- a else full <- a
  colnames(full) <- paste0(k, "_", seq_len(ncol(a)))
  rw <- cbind(rw, full)
}
write.csv(rw, file.path(args[3], "repweights.csv"), row.names = FALSE)
write.csv(data.frame(rscales = made$jkn$rscales), file.path(args[3], "jkn_rscales.csv"),
          row.names = FALSE)
rwp <- rw[rw$in_pair, ]
supplied <- list(
  JK1 = svrepdesign(data = rw, repweights = "jk1_[0-9]+", weights = ~w, type = "JK1",
                    combined.weights = TRUE),
  JKn = svrepdesign(data = rw, repweights = "jkn_[0-9]+", weights = ~w, type = "JKn",
                    combined.weights = TRUE, rscales = made$jkn$rscales),
  bootstrap = svrepdesign(data = rw, repweights = "boot_[0-9]+", weights = ~w,
                          type = "bootstrap", combined.weights = TRUE),
  BRR = svrepdesign(data = rwp, repweights = "brr_[0-9]+", weights = ~w, type = "BRR",
                    combined.weights = TRUE),
  Fay = svrepdesign(data = rwp, repweights = "fay_[0-9]+", weights = ~w, type = "Fay",
                    rho = 0.5, combined.weights = TRUE)
)
designs <- c(from, supplied)
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
for (dn in names(designs)) {
  full <- suppressWarnings(designs[[dn]])
  sub <- subset(full, !is.na(q))
  for (g in c(sort(unique(d$grp)), "all")) {
    s <- if (g == "all") sub else sub[sub$variables$grp == g, ]
    s2 <- if (g == "all") full else full[full$variables$grp == g, ]  # minutes is never blank
    m <- svymean(~q, s)
    p <- svyciprop(~sat, s, method = "logit")
    t <- svytotal(~minutes, s2)
    qq <- svyquantile(~minutes, s2, 0.5)[[1]]
    df <- degf(s)
    df2 <- degf(s2)
    add(design = dn, group = g, measure = "mean", estimate = coef(m)[[1]], se = SE(m)[[1]],
        ci_low = NA, ci_high = NA, df = df)
    add(design = dn, group = g, measure = "prop", estimate = as.numeric(p),
        se = sqrt(attr(p, "var"))[[1]], ci_low = confint(p)[1], ci_high = confint(p)[2], df = df)
    add(design = dn, group = g, measure = "total", estimate = coef(t)[[1]], se = SE(t)[[1]],
        ci_low = NA, ci_high = NA, df = df2)
    add(design = dn, group = g, measure = "median", estimate = qq[1, 1], se = qq[1, 4],
        ci_low = qq[1, 2], ci_high = qq[1, 3], df = df2)
  }
  rs <- svychisq(~sat + grp, sub, statistic = "F")
  add(design = dn, group = "all", measure = "rao-scott", estimate = as.numeric(rs$statistic),
      se = rs$parameter[["ddf"]], ci_low = rs$parameter[["ndf"]], ci_high = rs$p.value, df = NA)
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
