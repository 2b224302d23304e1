/* secret.h — secrets encrypted at rest (OAuth tokens in the store) with
 * libsodium's secretbox (XSalsa20-Poly1305), loaded on first use.
 *
 * The key is 32 random bytes, written as 64 hex digits: ERRAND_SECRET_KEY
 * when set (networked processes that share a database must share it), else
 * the key file DATA/secret.key ($XDG_DATA_HOME/errand), created mode 0600 on
 * first use.  A key file that group or others may read, or that another user
 * owns, is refused rather than used.
 *
 * Sealed form: one version byte (1), the 24-byte nonce, then the box (the
 * 16-byte tag and the ciphertext).  Thread-safe. */
#ifndef ERRAND_SECRET_H
#define ERRAND_SECRET_H

#include "common.h"
#include "buf.h"
#include "error.h"

#define ER_SECRET_KEY_BYTES 32

typedef struct er_secret_key {
    unsigned char k[ER_SECRET_KEY_BYTES];
} er_secret_key;

/* From ERRAND_SECRET_KEY, else the key file in the data directory. */
int er_secret_key_load(er_secret_key *out, er_error *err);
/* From the key file at path, creating it (0600, O_EXCL) when missing.
 * ER_EDENIED for loose permissions or another owner, ER_EINVAL for a file
 * that does not hold 64 hex digits, ER_EIO when it cannot be read or made. */
int er_secret_key_file(er_secret_key *out, const char *path, er_error *err);
/* From 64 hex digits (surrounding whitespace ignored); ER_EINVAL otherwise. */
int er_secret_key_parse(er_secret_key *out, const char *hex, er_error *err);
void er_secret_key_wipe(er_secret_key *k);

/* Appends the sealed form of plain[0..len) to out (fresh random nonce). */
int er_secret_seal(er_buf *out, const er_secret_key *key, const void *plain, size_t len,
                   er_error *err);
/* Appends the plaintext of a sealed secret to out; ER_EAUTH when it was
 * sealed with another key or changed, ER_EPROTO when it is not a sealed
 * secret at all.  Callers wipe out when done (er_secret_buf_wipe). */
int er_secret_open(er_buf *out, const er_secret_key *key, const void *sealed, size_t len,
                   er_error *err);
/* n bytes from the operating system's CSPRNG (state, PKCE verifiers). */
int er_secret_random(void *out, size_t n, er_error *err);
/* Zeroes a buffer's bytes and releases it. */
void er_secret_buf_wipe(er_buf *b);

#endif
