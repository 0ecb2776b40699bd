/* xoshiro256** 1.0 and splitmix64, from the public-domain reference code by David Blackman and
 * Sebastiano Vigna (https://prng.di.unimi.it/), plus the distributions of prng.h. */
#include "sim/prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_seed(struct prng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream number through splitmix64 first so that nearby (seed, stream) pairs do
     * not give overlapping splitmix sequences. */
    uint64_t m = stream;
    uint64_t x = seed ^ splitmix64(&m);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t prng_next(struct prng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prng_uniform(struct prng *r)
{
    return (double)(prng_next(r) >> 11) * 0x1.0p-53;
}

double prng_range(struct prng *r, double lo, double hi)
{
    return lo + (hi - lo) * prng_uniform(r);
}

long prng_int(struct prng *r, long lo, long hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t x;
    do
        x = prng_next(r);
    while (x >= limit);
    return lo + (long)(x % span);
}

int prng_bernoulli(struct prng *r, double p)
{
    return prng_uniform(r) < p;
}

double prng_normal(struct prng *r)
{
    double u1 = 1.0 - prng_uniform(r); /* (0, 1]: log is finite */
    double u2 = prng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double prng_gauss(struct prng *r, double mu, double sd)
{
    return mu + sd * prng_normal(r);
}

double prng_lognormal(struct prng *r, double median, double sigma)
{
    return median * exp(sigma * prng_normal(r));
}

double prng_exponential(struct prng *r, double rate)
{
    return -log(1.0 - prng_uniform(r)) / rate;
}

size_t prng_choice(struct prng *r, const double *w, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    double u = prng_uniform(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}
