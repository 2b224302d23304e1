/* store_credential.h — credentials for outside services (OAuth tokens), kept
 * in the store only in sealed form (secret.h seals and opens them; the store
 * never sees a key or a plaintext token).  Same thread-safety as store.h.
 *
 * A credential is named by the user ("gmail", "work"); kind says what it is
 * ("gmail"), account whose it is (an address), and generation counts its
 * writes so that a rotation can replace exactly the version it read. */
#ifndef ERRAND_STORE_CREDENTIAL_H
#define ERRAND_STORE_CREDENTIAL_H

#include "store.h"

#define ER_CREDENTIAL_MAX_SEALED (64 * 1024)

typedef struct er_credential {
    char *name, *kind, *account;
    unsigned char *sealed; /* OWNED by er_credential_release, except in list callbacks */
    size_t sealed_len;
    int64_t generation;
    int64_t created_ms, updated_ms;
} er_credential;

typedef int (*er_credential_fn)(const er_credential *c, void *payload); /* nonzero stops */

/* Creates or overwrites the credential name (a new login); its generation
 * becomes 1 or the old one plus one, given in *generation_out (may be NULL). */
int er_store_credential_put(er_store *st, const char *name, const char *kind, const char *account,
                            const void *sealed, size_t len, int64_t *generation_out, er_error *err);
/* ER_ENOTFOUND when there is none.  out is released with er_credential_release. */
int er_store_credential_get(er_store *st, const char *name, er_credential *out, er_error *err);
/* Replaces the sealed value only if the row is still at generation expect
 * (one conditional UPDATE: atomic on every backend).  ER_ECONFLICT when
 * another writer got there first, ER_ENOTFOUND when the row is gone. */
int er_store_credential_replace(er_store *st, const char *name, int64_t expect, const void *sealed,
                                size_t len, er_error *err);
/* Every credential, by name; the sealed bytes are BORROWED for the callback. */
int er_store_credential_list(er_store *st, er_credential_fn fn, void *payload, er_error *err);
/* ER_ENOTFOUND when there is none. */
int er_store_credential_delete(er_store *st, const char *name, er_error *err);

void er_credential_release(er_credential *c);

#endif
