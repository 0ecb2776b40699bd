/* chisq.test for a contingency table (R 4.2.2): E = outer(rowSums, colSums)/n, the Yates term
 * min(0.5, |x - E|) for 2x2 tables, and sum((|x - E| - YATES)^2/E) added in R's column-major
 * order in long double, as R's sum() does. */
#include "stats/chisq.h"

#include <math.h>

#define MATHLIB_STANDALONE
#include <Rmath.h>

int chisq_test(const double *counts, size_t nrow, size_t ncol, bool correct, struct arena *ar,
               struct chisq_result *r, struct err *e)
{
    if (nrow < 2 || ncol < 2)
        return err_set_field(e, ERR_INVALID, "table",
                             "the table needs at least 2 rows and 2 columns (got %zu x %zu)", nrow,
                             ncol);
    for (size_t i = 0; i < nrow * ncol; i++)
        if (!(counts[i] >= 0) || !isfinite(counts[i]))
            return err_set_field(e, ERR_INVALID, "table",
                                 "all entries of the table must be non-negative and finite");
    double *sr = arena_calloc(ar, nrow, sizeof *sr);
    double *sc = arena_calloc(ar, ncol, sizeof *sc);
    r->expected = arena_calloc(ar, nrow * ncol, sizeof(double));
    if (!sr || !sc || !r->expected)
        return err_set(e, ERR_NOMEM, "out of memory");
    long double total = 0;
    for (size_t j = 0; j < ncol; j++)
        for (size_t i = 0; i < nrow; i++)
            total += counts[i * ncol + j];
    for (size_t i = 0; i < nrow; i++) {
        long double s = 0;
        for (size_t j = 0; j < ncol; j++)
            s += counts[i * ncol + j];
        sr[i] = (double)s;
    }
    for (size_t j = 0; j < ncol; j++) {
        long double s = 0;
        for (size_t i = 0; i < nrow; i++)
            s += counts[i * ncol + j];
        sc[j] = (double)s;
    }
    double n = (double)total;
    if (!(n > 0))
        return err_set_field(e, ERR_INVALID, "table",
                             "at least one entry of the table must be positive");
    r->approx_warning = false;
    for (size_t i = 0; i < nrow; i++)
        for (size_t j = 0; j < ncol; j++) {
            double ex = sr[i] * sc[j] / n;
            r->expected[i * ncol + j] = ex;
            if (ex < 5)
                r->approx_warning = true;
        }
    double yates = 0;
    if (correct && nrow == 2 && ncol == 2) {
        yates = 0.5;
        for (size_t i = 0; i < 4; i++)
            yates = fmin(yates, fabs(counts[i] - r->expected[i]));
    }
    long double s = 0;
    for (size_t j = 0; j < ncol; j++)
        for (size_t i = 0; i < nrow; i++) {
            double ex = r->expected[i * ncol + j];
            double t = fabs(counts[i * ncol + j] - ex) - yates;
            s += t * t / ex;
        }
    r->statistic = (double)s;
    r->yates = yates;
    r->df = (double)((nrow - 1) * (ncol - 1));
    r->p_value = pchisq(r->statistic, r->df, 0, 0);
    return 0;
}
