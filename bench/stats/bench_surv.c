/* Times the survival engine alone (src/stats/ km_fit, logrank_test, cox_fit) on a CSV made by
 * gen_surv, so it can be held against R's system.time() of survfit / survdiff / coxph on the
 * same file: the CSV is parsed first (not timed), then each method runs `reps` times and the
 * fastest wall time is printed as "method n seconds". Built by bench/stats/run. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/cox.h"
#include "stats/km.h"
#include "stats/logrank.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_surv data.csv reps\n");
        return 2;
    }
    int reps = atoi(argv[2]);
    /* Keep freed blocks in the heap between repetitions (as in the long-lived server process
     * and in R's best-of-3), so the fastest run measures computation, not first-touch page
     * faults of fresh mmap()ed arena blocks. The first repetition still pays them. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1 << 20, n = 0;
    double *time = malloc(cap * sizeof *time), *status = malloc(cap * sizeof *status);
    double *x = NULL;
    int *arm = malloc(cap * sizeof *arm);
    double *x1 = malloc(cap * sizeof *x1), *x2 = malloc(cap * sizeof *x2);
    char line[256];
    if (!fgets(line, sizeof line, f))
        return 1;
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            time = realloc(time, cap * sizeof *time);
            status = realloc(status, cap * sizeof *status);
            arm = realloc(arm, cap * sizeof *arm);
            x1 = realloc(x1, cap * sizeof *x1);
            x2 = realloc(x2, cap * sizeof *x2);
        }
        char *p = line;
        time[n] = strtod(p, &p);
        status[n] = strtod(p + 1, &p);
        arm[n] = (int)strtol(p + 1, &p, 10);
        x1[n] = strtod(p + 1, &p);
        x2[n] = strtod(p + 1, &p);
        n++;
    }
    fclose(f);
    x = malloc(2 * n * sizeof *x);
    memcpy(x, x1, n * sizeof *x);
    memcpy(x + n, x2, n * sizeof *x);

    double best[3] = {1e300, 1e300, 1e300};
    double check[3] = {0, 0, 0};
    for (int r = 0; r < reps; r++) {
        struct arena ar = ARENA_INIT;
        struct err e;
        struct km_fit km;
        struct km_opts ko = {KM_CONF_LOG, 0.95, true, NULL, 0};
        double ka = now();
        if (km_fit(time, status, arm, 2, n, &ko, &ar, &km, &e) != 0) {
            fprintf(stderr, "km: %s\n", e.msg);
            return 1;
        }
        double kb = now();
        check[0] = km.curves[0].median;
        arena_free(&ar);
        struct logrank_result lr;
        double la = now();
        if (logrank_test(time, status, arm, 2, NULL, 1, n, 0, true, &ar, &lr, &e) != 0) {
            fprintf(stderr, "logrank: %s\n", e.msg);
            return 1;
        }
        double lb = now();
        check[1] = lr.chisq;
        arena_free(&ar);
        struct cox_opts co = cox_default_opts();
        struct cox_result cr;
        double ca = now();
        if (cox_fit(time, status, x, n, 2, &co, &ar, &cr, &e) != 0) {
            fprintf(stderr, "cox: %s\n", e.msg);
            return 1;
        }
        double cb = now();
        check[2] = cr.coef[0];
        arena_free(&ar);
        if (kb - ka < best[0])
            best[0] = kb - ka;
        if (lb - la < best[1])
            best[1] = lb - la;
        if (cb - ca < best[2])
            best[2] = cb - ca;
    }
    printf("km %zu %.6f median_arm0=%g\n", n, best[0], check[0]);
    printf("logrank %zu %.6f chisq=%.6f\n", n, best[1], check[1]);
    printf("cox %zu %.6f coef_x1=%.6f\n", n, best[2], check[2]);
    free(time);
    free(status);
    free(arm);
    free(x1);
    free(x2);
    free(x);
    return 0;
}
