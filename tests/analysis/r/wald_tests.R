# Design-based Wald tests that agencies within a sector are equal, for the differential test:
# means by regTermTest(svyglm(q1 ~ agency)), ratios (satisfied answers / valid answers over q1..q6)
# by the Wald statistic on svyby(..., svyratio, covmat = TRUE).
# Usage: Rscript wald_tests.R responses.csv out.csv
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
items <- c("q1", "q2", "q3", "q4", "q5", "q6")
d$sat_answers <- rowSums(sapply(items, function(i) !is.na(d[[i]]) & d[[i]] >= 4))
d$answers <- rowSums(sapply(items, function(i) !is.na(d[[i]])))
# Design A only: under design B an agency with one PSU makes the contrasts' covariance singular
# (R's solve() stops; the engine reports no statistic, tested separately).
designs <- list(A = svydesign(ids = ~1, strata = ~service_point, fpc = ~volume, data = d))
rows <- list()
for (dn in names(designs)) {
  des <- designs[[dn]]
  for (s in sort(unique(d$sector))) {
    sub <- subset(des, sector == s & !is.na(q1))
    t <- regTermTest(svyglm(q1 ~ agency, sub), ~agency)
    rows[[length(rows) + 1]] <- data.frame(design = dn, measure = "mean", sector = s,
      statistic = as.numeric(t$Ftest), ndf = t$df, ddf = t$ddf, p_value = as.numeric(t$p))
    sub <- subset(des, sector == s)
    r <- svyby(~sat_answers, ~agency, sub, svyratio, denominator = ~answers, covmat = TRUE)
    theta <- coef(r)
    k <- length(theta)
    contrasts <- cbind(diag(k - 1), -1)
    diff <- contrasts %*% theta
    w <- as.numeric(t(diff) %*% solve(contrasts %*% vcov(r) %*% t(contrasts)) %*% diff)
    ddf <- degf(sub) - (k - 1)
    rows[[length(rows) + 1]] <- data.frame(design = dn, measure = "ratio", sector = s,
      statistic = w / (k - 1), ndf = k - 1, ddf = ddf,
      p_value = pf(w / (k - 1), k - 1, ddf, lower.tail = FALSE))
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
