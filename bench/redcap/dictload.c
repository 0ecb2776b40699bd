/* Times the protocol loader alone: dict_load_full, the call `ioheme protocol check` makes (the
 * folder's files read, parsed and validated, logic compiled, into a struct dict), `reps` times
 * in one process, one line per run: "RUN FIELDS MS" (wall time, CLOCK_MONOTONIC). Unlike the
 * whole `protocol check` process it leaves out exec, dynamic linking and exit. Run 1 is what a
 * fresh process pays (its heap still growing: first-touch page faults); later runs reuse the
 * freed memory. Built by bench/redcap/run against the build's libioheme_lib.a. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/strbuf.h"
#include "core/dict.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: dictload PROTOCOL_DIR REPS\n");
        return 2;
    }
    int reps = atoi(argv[2]);
    for (int i = 1; i <= reps; i++) {
        struct dict d;
        struct err e;
        struct strbuf errors = STRBUF_INIT;
        size_t nerrors = 0;
        err_clear(&e);
        double t0 = now_ms();
        int rc = dict_load_full(argv[1], &d, &errors, &nerrors, &e);
        double t = now_ms() - t0;
        strbuf_release(&errors);
        if (rc) {
            fprintf(stderr, "dictload: %s does not load: %s\n", argv[1], e.msg);
            return 1;
        }
        printf("%d %zu %.3f\n", i, d.nfields, t);
        dict_free(&d);
    }
    return 0;
}
