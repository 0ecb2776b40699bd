/* Synthetic survival data for the statistics benchmark: `gen_surv N SEED > data.csv`.
 * Columns time,status,arm,x1,x2: integer follow-up days (many ties, as real day-resolution
 * data), about 70% events, a two-arm grouping and two covariates (x1 continuous, 2 decimals;
 * x2 0/1) acting on the hazard. Deterministic for a given seed (xorshift64*). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state;

static double unif(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_surv N SEED\n");
        return 2;
    }
    long n = atol(argv[1]);
    rng_state = strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
    printf("time,status,arm,x1,x2\n");
    for (long i = 0; i < n; i++) {
        int arm = unif() < 0.5;
        double x1 = round(100 * sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif())) / 100;
        int x2 = unif() < 0.3;
        double rate = 0.002 * exp(-0.4 * arm + 0.3 * x1 + 0.5 * x2);
        double t_event = -log(unif()) / rate, t_cens = -log(unif()) / 0.0009;
        double t = t_event < t_cens ? t_event : t_cens;
        printf("%d,%d,%d,%.2f,%d\n", (int)ceil(t), t_event < t_cens, arm, x1, x2);
    }
    return 0;
}
