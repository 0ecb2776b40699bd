/* R's root finder: uniroot() -> R_zeroin2 (Brent 1973), ported literally from R 4.2.2's
 * src/library/stats/src/zeroin.c, including the way uniroot's wrapper replaces non-finite
 * function values. Wilcoxon's normal-approximation CI/estimate and Fisher's conditional MLE and
 * CI are roots found with a loose tolerance, so only this exact iteration reproduces R's digits. */
#ifndef IOHEME_STATS_ZEROIN_H
#define IOHEME_STATS_ZEROIN_H

/* The function whose root is sought; info is the caller's context. */
typedef double (*zeroin_fn)(double x, void *info);

struct zeroin_result {
    double root;       /* R's uniroot()$root */
    int iter;          /* iterations used; -1 when not converged (R only warns) */
    double estim_prec; /* |c - b| at return; 0 when an end point is a root; -1 if not converged */
};

/* Runs R_zeroin2 on [ax, bx] with the given end values fa = f(ax), fb = f(bx) (as uniroot's
 * f.lower/f.upper: first truncated to +-DBL_MAX), tolerance tol and maxiter (uniroot's default is
 * 1000). Inside the iteration a non-finite f(b) becomes -DBL_MAX (for -Inf) or +DBL_MAX (+Inf,
 * NaN), as uniroot's wrapper does. Returns 0, or -1 when fa/fb is NaN or both have the same sign
 * (uniroot's errors); nothing is allocated. */
int zeroin_uniroot(zeroin_fn f, void *info, double ax, double bx, double fa, double fb, double tol,
                   int maxiter, struct zeroin_result *out);

#endif
