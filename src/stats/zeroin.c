/* R_zeroin2 (R 4.2.2, src/library/stats/src/zeroin.c) and the checks uniroot() makes before
 * calling it. Kept statement by statement as in R: the Wilcoxon and Fisher roots are found with
 * tol ~1e-4, so any change to an iterate changes the reported digits. */
#include "stats/zeroin.h"

#include <float.h>
#include <math.h>

/* uniroot's wrapper around f: -Inf -> -DBL_MAX, +Inf/NA/NaN -> +DBL_MAX. */
static double finite_value(double v)
{
    if (isfinite(v))
        return v;
    if (v == -INFINITY)
        return -DBL_MAX;
    return DBL_MAX;
}

/* uniroot's truncate(): pmax(pmin(x, xmax), -xmax). */
static double truncate_value(double v)
{
    if (v > DBL_MAX)
        return DBL_MAX;
    if (v < -DBL_MAX)
        return -DBL_MAX;
    return v;
}

static double sign_of(double v)
{
    return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}

static double zeroin2(double ax, double bx, double fa, double fb, zeroin_fn f, void *info,
                      double *Tol, int *Maxit)
{
    double a, b, c, fc;
    double tol;
    int maxit;

    a = ax;
    b = bx;
    c = a;
    fc = fa;
    maxit = *Maxit + 1;
    tol = *Tol;

    /* First test if we have found a root at an endpoint */
    if (fa == 0.0) {
        *Tol = 0.0;
        *Maxit = 0;
        return a;
    }
    if (fb == 0.0) {
        *Tol = 0.0;
        *Maxit = 0;
        return b;
    }

    while (maxit--) {
        double prev_step = b - a;
        double tol_act;
        double p;
        double q;
        double new_step;

        if (fabs(fc) < fabs(fb)) { /* Swap data for b to be the best approximation */
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        tol_act = 2 * DBL_EPSILON * fabs(b) + tol / 2;
        new_step = (c - b) / 2;

        if (fabs(new_step) <= tol_act || fb == (double)0) {
            *Maxit -= maxit;
            *Tol = fabs(c - b);
            return b; /* Acceptable approx. is found */
        }

        /* Decide if the interpolation can be tried */
        if (fabs(prev_step) >= tol_act && fabs(fa) > fabs(fb)) {
            double t1, cb, t2;
            cb = c - b;
            if (a == c) { /* linear interpolation */
                t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else { /* inverse quadratic interpolation */
                q = fa / fc;
                t1 = fb / fc;
                t2 = fb / fa;
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if (p > (double)0)
                q = -q;
            else
                p = -p;

            if (p < (0.75 * cb * q - fabs(tol_act * q) / 2) && p < fabs(prev_step * q / 2))
                new_step = p / q;
        }

        if (fabs(new_step) < tol_act) { /* Adjust the step to be not less than tolerance */
            if (new_step > (double)0)
                new_step = tol_act;
            else
                new_step = -tol_act;
        }
        a = b;
        fa = fb; /* Save the previous approx. */
        b += new_step;
        fb = finite_value((*f)(b, info));
        if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
            c = a;
            fc = fa;
        }
    }
    /* failed! */
    *Tol = -1.0;
    *Maxit = -1;
    return b;
}

int zeroin_uniroot(zeroin_fn f, void *info, double ax, double bx, double fa, double fb, double tol,
                   int maxiter, struct zeroin_result *out)
{
    if (isnan(fa) || isnan(fb) || !(ax < bx))
        return -1;
    fa = truncate_value(fa);
    fb = truncate_value(fb);
    if (sign_of(fa) * sign_of(fb) > 0)
        return -1;
    double t = tol;
    int it = maxiter;
    out->root = zeroin2(ax, bx, fa, fb, f, info, &t, &it);
    out->iter = it;
    out->estim_prec = t;
    return 0;
}
