/* SHA-256, the one hash of the audit chain, file fingerprints, token digests and table
 * checksums. Nettle's implementation: on CPUs with the SHA extensions it is about 4.5 times
 * libsodium's portable one (1 million 300-byte hashes: 0.21 s against 0.97 s on the 2 vCPU EPYC
 * of docs/performance.md), and the audit chain hashes one row per value written: an import of
 * 5 million values hashes 5 million rows. Nettle is already in every ioheme process (GnuTLS,
 * under libmicrohttpd). libsodium stays for argon2id, random bytes and secretbox.
 *
 *   struct digest d;
 *   digest_init(&d);
 *   digest_add(&d, data, len);      any number of times
 *   digest_hex(&d, hex);            65 bytes: 64 lowercase hex digits and a NUL */
#ifndef IOHEME_BASE_DIGEST_H
#define IOHEME_BASE_DIGEST_H

#include <nettle/sha2.h>
#include <stddef.h>

#define DIGEST_BYTES 32

struct digest {
    struct sha256_ctx ctx;
};

void digest_init(struct digest *d);
void digest_add(struct digest *d, const void *data, size_t len);
/* The digest of what was added, as 32 bytes; d is reset (digest_init) for reuse. */
void digest_bin(struct digest *d, unsigned char out[DIGEST_BYTES]);
/* The same as 64 lowercase hex digits and a NUL. */
void digest_hex(struct digest *d, char out[65]);
/* The hex SHA-256 of data in one call. */
void digest_sha256_hex(const void *data, size_t len, char out[65]);
/* n bytes of bin as 2n lowercase hex digits and a NUL (out holds 2n + 1). */
void digest_to_hex(char *out, const unsigned char *bin, size_t n);

#endif
