/* Cox proportional hazards regression as survival::coxph fits it (docs/r-algorithms.md §3):
 * Efron (default) or Breslow ties, Newton–Raphson exactly as survival's coxfit6 (start at 0,
 * centred and scaled covariates, eps 1e-9, iter.max 20, step halving, stop when
 * |1 - Lbest/L| <= eps, LDL' Cholesky), then the summary(coxph) quantities and Harrell's
 * concordance as survival's concordance() reports it for a coxph fit.
 *
 * Pure; result arrays are allocated in the caller's arena. Factor covariates are the caller's
 * business: pass their dummy columns. */
#ifndef IOHEME_STATS_COX_H
#define IOHEME_STATS_COX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

enum cox_ties { COX_EFRON = 0, COX_BRESLOW };

struct cox_opts {
    enum cox_ties ties; /* R default: efron */
    bool timefix;       /* aeqSurv first (R default: true) */
    int iter_max;       /* R default 20 */
    double eps;         /* R default 1e-9 */
    double conf_level;  /* for the hazard-ratio limits; R default 0.95 */
};

/* The R defaults: efron, timefix, 20 iterations, eps 1e-9, 95% limits. */
struct cox_opts cox_default_opts(void);

/* Concordance counts over comparable pairs (reverse = TRUE: a higher predictor should die
 * first). concordance = (concordant + tied_x/2) / (concordant + discordant + tied_x). */
struct cox_concordance {
    double concordant, discordant;
    double tied_x;  /* comparable pairs with equal predictor: count 1/2 */
    double tied_y;  /* pairs of events at the same time, different predictor: not comparable */
    double tied_xy; /* events at the same time with equal predictor */
    double concordance;
};

struct cox_result {
    size_t p;
    /* p entries each; a redundant (collinear, constant) column has coef NaN (R's NA), se 0 */
    double *coef, *se, *hr, *hr_lower, *hr_upper, *z, *p_value;
    double *var;                /* p x p, row-major: inverse information */
    double loglik_null, loglik; /* at b = 0 and at the estimate */
    double lrt_stat, lrt_p, wald_stat, wald_p, score_stat, score_p;
    int df; /* p */
    size_t n, nevent;
    int iter;             /* Newton iterations, as fit$iter (iter_max + 1 when not converged) */
    bool converged;       /* false: "Ran out of iterations" */
    bool *maybe_infinite; /* p flags: R's "Loglik converged before variable j; coefficient may
                           * be infinite." (checked only after convergence, as coxph.fit) */
    struct cox_concordance conc;
};

/* Fits coxph(Surv(time, status) ~ x). x: n x p column-major (column j at x + j*n), as R's
 * model matrix. Needs p >= 1 and at least one event. out's arrays are allocated in ar.
 * Returns 0 or a negative err_code with e filled. Cost per Newton iteration: one backward pass,
 * O(n p^2). */
int cox_fit(const double *time, const double *status, const double *x, size_t n, size_t p,
            const struct cox_opts *opts, struct arena *ar, struct cox_result *out, struct err *e);

/* survival::concordancefit(Surv(time, status), lp, reverse = TRUE) counts, without weights or
 * strata: pair (i, j) is comparable when i has an event and time_j > time_i, or j is censored
 * at time_i. O(n log n) with counts per rank and per power-of-two block of ranks (a Fenwick
 * tree laid out by level); scratch from ar.
 * Returns 0 or ERR_NOMEM. */
int cox_concordance(const double *time, const double *status, const double *lp, size_t n,
                    struct arena *ar, struct cox_concordance *out);
/* As cox_concordance, for input already in ascending time order (saves the time sort). */
int cox_concordance_sorted(const double *time, const double *status, const double *lp, size_t n,
                           struct arena *ar, struct cox_concordance *out);
/* As cox_concordance_sorted, given the predictor as dense ranks: rank[i] in [0, m), equal
 * ranks for equal predictor values, ordered as the values. */
int cox_concordance_ranks(const double *time, const double *status, const size_t *rank, size_t m,
                          size_t n, struct arena *ar, struct cox_concordance *out);

#endif
