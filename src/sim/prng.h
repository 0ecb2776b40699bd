/* The simulator's pseudo-random numbers: xoshiro256** seeded with splitmix64 (Blackman &
 * Vigna), and the few distributions the cohort model draws from.
 *
 * Written by hand so that the same seed gives the same numbers on every platform and C library
 * (rand(), random() and drand48() differ between systems). Every draw uses only integer
 * arithmetic and IEEE double operations with a fixed order; the transcendental functions come
 * from libm (log, exp, sqrt, cos), which glibc computes correctly rounded for these ranges.
 *
 * A struct prng is a plain value: copy it to fork a stream; no allocation. */
#ifndef IOHEME_SIM_PRNG_H
#define IOHEME_SIM_PRNG_H

#include <stddef.h>
#include <stdint.h>

struct prng {
    uint64_t s[4];
};

/* Seeds the generator from (seed, stream): the 256-bit state is four splitmix64 outputs of
 * seed mixed with stream, so patient k of seed S always gets the same independent stream,
 * whatever order or batching the patients are generated in. */
void prng_seed(struct prng *r, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
uint64_t prng_next(struct prng *r);
/* Uniform on [0, 1) with 53 random bits. */
double prng_uniform(struct prng *r);
/* Uniform on [lo, hi). */
double prng_range(struct prng *r, double lo, double hi);
/* Uniform integer in [lo, hi] (inclusive; unbiased by rejection). */
long prng_int(struct prng *r, long lo, long hi);
/* 1 with probability p, else 0. */
int prng_bernoulli(struct prng *r, double p);
/* Standard normal (Box–Muller, one value per call; both uniforms consumed). */
double prng_normal(struct prng *r);
/* Normal with mean mu and standard deviation sd. */
double prng_gauss(struct prng *r, double mu, double sd);
/* Log-normal with the given median and sigma of the log. */
double prng_lognormal(struct prng *r, double median, double sigma);
/* Exponential with the given rate (> 0). */
double prng_exponential(struct prng *r, double rate);
/* Index i in [0, n) drawn with probability w[i] / sum(w). */
size_t prng_choice(struct prng *r, const double *w, size_t n);

#endif
