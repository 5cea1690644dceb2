# What R's survey package computes on a responses file, for the analysis engine's tests.
#
#   Rscript reference.R RESPONSES.csv OUTDIR
#
# Writes to OUTDIR: estimates.csv, agency_tests.csv, raked.csv and the population margins used for
# raking (margins_sex.csv, margins_age_group.csv). Each number's R call is in the comment beside it.
suppressPackageStartupMessages(library(survey))

argv <- commandArgs(trailingOnly = TRUE)
if (length(argv) != 2) stop("usage: Rscript reference.R RESPONSES.csv OUTDIR")
resp <- read.csv(argv[1], stringsAsFactors = FALSE)
outdir <- argv[2]

# Derived variables -------------------------------------------------------------------------------
item_cols <- sprintf("q%d", 1:6)
items <- as.matrix(resp[item_cols])
resp$sat <- as.numeric(resp$q_overall >= 4)                      # satisfied with the service overall
resp$answers <- rowSums(!is.na(items))                           # items answered (not blank)
resp$sat_answers <- rowSums(!is.na(items) & items >= 4, na.rm = TRUE)  # of which 4 or 5

# Population shares for raking (invented census figures); written out for the engine to read.
margins <- list(
  sex = c("F" = 0.51, "M" = 0.49),
  age_group = c("18-34" = 0.33, "35-54" = 0.41, "55+" = 0.26)
)
for (m in names(margins)) {
  write.csv(setNames(data.frame(names(margins[[m]]), unname(margins[[m]])), c(m, "share")),
            file.path(outdir, sprintf("margins_%s.csv", m)), row.names = FALSE, quote = FALSE)
}

# Designs -----------------------------------------------------------------------------------------
designs <- list(
  # A, counter design: desk = stratum, respondents a simple random sample of its clients,
  # population size = volume (so weights are volume / responses).
  A = svydesign(ids = ~1, strata = ~service_point, fpc = ~volume, data = resp),
  # B, clustered design: strata = level/sector, desks are the PSUs, weights given.
  B = svydesign(ids = ~service_point, strata = ~stratum, weights = ~weight, nest = TRUE,
                data = resp)
)

# Domains: list of (by, group, logical row selector). Design B has agencies with a single PSU,
# whose variance R cannot estimate, so B is referenced by sector and overall only.
domains <- function(design_name) {
  bys <- if (design_name == "A") c("agency", "sector") else "sector"
  out <- list()
  for (by in bys) {
    for (g in sort(unique(resp[[by]]))) {
      out[[length(out) + 1]] <- list(by = by, group = g, rows = resp[[by]] == g)
    }
  }
  c(out, list(list(by = "all", group = "all", rows = rep(TRUE, nrow(resp)))))
}
domain_design <- function(des, rows) if (all(rows)) des else des[rows, ]

num <- function(x) { x <- as.numeric(x); ifelse(is.nan(x), NA, x) }

# estimates.csv -----------------------------------------------------------------------------------
estimate_rows <- function(design_name, dom) {
  sub <- domain_design(designs[[design_name]], dom$rows)
  df <- degf(sub)                                                # degf(sub)
  t975 <- qt(0.975, df)
  row <- function(measure, est, se, lo = NA, hi = NA, deff = NA) {
    data.frame(design = design_name, by = dom$by, group = dom$group, measure = measure,
               estimate = num(est), se = num(se), ci_low = num(lo), ci_high = num(hi),
               deff = num(deff), df = df)
  }
  # svyciprop(~sat, sub, method = "logit"): interval on the logit scale with t(degf)
  p_logit <- suppressWarnings(svyciprop(~sat, sub, method = "logit"))
  # svyciprop(~sat, sub, method = "beta"): Korn-Graubard
  p_beta <- suppressWarnings(svyciprop(~sat, sub, method = "beta"))
  # svymean(~sat, sub, deff = TRUE): design effect of the share
  m_sat <- svymean(~sat, sub, deff = TRUE)
  # svyratio(~sat_answers, ~answers, sub): share of satisfied answers; CI est +- qt(0.975, df) se
  r_ans <- svyratio(~sat_answers, ~answers, sub)
  # svymean(~q_overall, sub): mean overall rating; CI est +- qt(0.975, df) se
  m_all <- svymean(~q_overall, sub)
  rbind(
    row("prop_logit", coef(p_logit), SE(p_logit), confint(p_logit)[1], confint(p_logit)[2]),
    row("prop_beta", coef(p_beta), SE(p_beta), confint(p_beta)[1], confint(p_beta)[2]),
    row("prop_deff", coef(m_sat), SE(m_sat), deff = deff(m_sat)),
    row("ratio_satisfied_answers", coef(r_ans), SE(r_ans),
        coef(r_ans) - t975 * SE(r_ans), coef(r_ans) + t975 * SE(r_ans)),
    row("mean_overall", coef(m_all), SE(m_all),
        coef(m_all) - t975 * SE(m_all), coef(m_all) + t975 * SE(m_all))
  )
}
estimates <- do.call(rbind, unlist(lapply(names(designs), function(dn) {
  lapply(domains(dn), function(dom) estimate_rows(dn, dom))
}), recursive = FALSE))
write.csv(estimates, file.path(outdir, "estimates.csv"), row.names = FALSE)

# agency_tests.csv --------------------------------------------------------------------------------
# Rao-Scott second-order test that the share satisfied is the same in every agency of a sector:
# svychisq(~sat + agency, des[resp$sector == s, ], statistic = "F")
tests <- do.call(rbind, lapply(names(designs), function(dn) {
  do.call(rbind, lapply(sort(unique(resp$sector)), function(s) {
    rs <- svychisq(~sat + agency, designs[[dn]][resp$sector == s, ], statistic = "F")
    data.frame(design = dn, sector = s, statistic = "F", value = num(rs$statistic),
               ndf = num(rs$parameter[["ndf"]]), ddf = num(rs$parameter[["ddf"]]),
               p_value = num(rs$p.value))
  }))
}))
write.csv(tests, file.path(outdir, "agency_tests.csv"), row.names = FALSE)

# raked.csv ---------------------------------------------------------------------------------------
# Design A raked to the margins, shares scaled to its total weight:
# rake(A, list(~sex, ~age_group), list(pop_sex, pop_age), control = list(epsilon = 1e-10, maxit = 100))
total_weight <- sum(weights(designs$A))
population <- lapply(names(margins), function(m) {
  setNames(data.frame(names(margins[[m]]), unname(margins[[m]]) * total_weight), c(m, "Freq"))
})
raked <- rake(designs$A, lapply(names(margins), function(m) as.formula(paste0("~", m))),
              population, control = list(epsilon = 1e-10, maxit = 100))
raked_rows <- lapply(Filter(function(dom) dom$by != "agency", domains("A")), function(dom) {
  m <- svymean(~sat, domain_design(raked, dom$rows))  # svymean(~sat, raked[rows, ])
  data.frame(by = dom$by, group = dom$group, estimate = num(coef(m)), se = num(SE(m)))
})
write.csv(do.call(rbind, raked_rows), file.path(outdir, "raked.csv"), row.names = FALSE)

cat(sprintf("%s: %d estimates, %d tests, %d raked rows (survey %s, %s)\n", outdir,
            nrow(estimates), nrow(tests), length(raked_rows), packageVersion("survey"),
            R.version.string))
