# R side of bench/stats/run: survfit, survdiff and coxph on the same CSV as bench_surv, timing
# only the computation (system.time, elapsed; best of `reps`). Prints "method n seconds".
suppressMessages(library(survival))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], colClasses = c("numeric", "numeric", "integer", "numeric", "numeric"))
reps <- as.integer(a[2])
n <- nrow(d)
best <- function(f) min(sapply(seq_len(reps), function(i) system.time(f())[["elapsed"]]))
tk <- best(function() fit <<- survfit(Surv(time, status) ~ arm, data = d))
tl <- best(function() sdf <<- survdiff(Surv(time, status) ~ arm, data = d))
tc <- best(function() cf <<- coxph(Surv(time, status) ~ x1 + x2, data = d))
cat(sprintf("km %d %.6f median_arm0=%g\n", n, tk, summary(fit)$table[1, "median"]))
cat(sprintf("logrank %d %.6f chisq=%.6f\n", n, tl, sdf$chisq))
cat(sprintf("cox %d %.6f coef_x1=%.6f\n", n, tc, coef(cf)[[1]]))
