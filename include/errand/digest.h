/* digest.h — SHA-256, for cache keys of outside content (web:page:{sha256(url)}).
 *
 * OpenSSL's libcrypto does the hashing; it is loaded on first use (dl.h), as
 * libcurl loads it anyway for https. */
#ifndef ERRAND_DIGEST_H
#define ERRAND_DIGEST_H

#include "common.h"
#include "error.h"

/* Lower-case hex SHA-256 of data[0..len) into out (65 bytes with the NUL).
 * ER_EUNAVAIL when libcrypto cannot be loaded. */
/* The 32 raw bytes of SHA-256 (PKCE's S256 challenge). */
int er_sha256(const void *data, size_t len, unsigned char out[32], er_error *err);
int er_sha256_hex(const void *data, size_t len, char out[65], er_error *err);

#endif
