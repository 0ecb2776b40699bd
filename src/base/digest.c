/* SHA-256 through Nettle (digest.h says why not libsodium's). */
#include "base/digest.h"

void digest_init(struct digest *d)
{
    sha256_init(&d->ctx);
}

void digest_add(struct digest *d, const void *data, size_t len)
{
    sha256_update(&d->ctx, len, data);
}

void digest_bin(struct digest *d, unsigned char out[DIGEST_BYTES])
{
    sha256_digest(&d->ctx, DIGEST_BYTES, out);
}

void digest_to_hex(char *out, const unsigned char *bin, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bin[i] >> 4];
        out[2 * i + 1] = hex[bin[i] & 15];
    }
    out[2 * n] = '\0';
}

void digest_hex(struct digest *d, char out[65])
{
    unsigned char bin[DIGEST_BYTES];
    digest_bin(d, bin);
    digest_to_hex(out, bin, sizeof bin);
}

void digest_sha256_hex(const void *data, size_t len, char out[65])
{
    struct digest d;
    digest_init(&d);
    digest_add(&d, data, len);
    digest_hex(&d, out);
}
