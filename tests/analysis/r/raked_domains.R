# Korn-Graubard intervals, Rao-Scott tests and design effects on raked domains with blank answers,
# for the differential test (R's nrow() and degf() of a calibrated subset keep every row).
# Usage: Rscript raked_domains.R responses.csv out.csv MARGINS_DIR
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$sat1 <- as.numeric(d$q1 >= 4)  # NA where q1 is blank
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
  keep <- !is.na(d$q1) & (g == "all" | d$sector == g)
  sub <- raked[keep, ]
  # svyciprop(~sat1, raked[!is.na(q1) & sector == g, ], method = "beta", na.rm = TRUE)
  ci <- suppressWarnings(svyciprop(~sat1, sub, method = "beta", na.rm = TRUE))
  # svymean(~sat1, raked[...], deff = TRUE, na.rm = TRUE)
  m <- svymean(~sat1, sub, deff = TRUE, na.rm = TRUE)
  rows[[length(rows) + 1]] <- data.frame(kind = "beta", group = g, estimate = as.numeric(ci),
    se = as.numeric(SE(m)), ci_low = confint(ci)[1], ci_high = confint(ci)[2], deff = deff(m),
    df = degf(sub), ndf = NA, ddf = NA, p_value = NA, chisq = NA)
  # svychisq(~sat1 + agency_g, raked[!is.na(q1) & sector == g, ], statistic = "F"), agency_g
  # the agency inside the sector and NA elsewhere (every agency of the sample would otherwise
  # enter the table, since a calibrated subset keeps all rows, and make it singular)
  sub$variables$agency_g <- ifelse(g == "all" | d$sector == g, d$agency, NA)
  rs <- svychisq(~sat1 + agency_g, sub, statistic = "F")
  {
    rows[[length(rows) + 1]] <- data.frame(kind = "rao-scott", group = g,
      estimate = as.numeric(rs$statistic), se = NA, ci_low = NA, ci_high = NA, deff = NA,
      df = NA, ndf = rs$parameter[["ndf"]], ddf = rs$parameter[["ddf"]],
      p_value = rs$p.value, chisq = NA)
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
