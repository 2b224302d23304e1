/* store_auth.h — the store's part of authentication (errand serve, `errand user`):
 * API tokens, rotating refresh tokens, and OpenID Connect identities.
 *
 * Tokens are never stored: callers pass a digest (SHA-256 hex of the token) and
 * look tokens up by digest.  Same thread-safety and list rules as store.h. */
#ifndef ERRAND_STORE_AUTH_H
#define ERRAND_STORE_AUTH_H

#include "store.h"

typedef struct er_api_token {
    char id[ER_ID_LEN];
    char user_id[ER_ID_LEN];
    char *label;
    int64_t created_ms;
    int64_t revoked_ms;          /* 0 while valid */
} er_api_token;

typedef int (*er_api_token_fn)(const er_api_token *t, void *payload);   /* nonzero stops */

/* Adds a token of user_id; ER_ENOTFOUND when there is no such user,
 * ER_EEXISTS when a token with that digest exists. */
int er_store_api_token_add(er_store *st, const char *user_id, const char *label,
                           const char *digest, char id_out[ER_ID_LEN], er_error *err);
/* The user a valid (not revoked) token belongs to; ER_ENOTFOUND otherwise.
 * out is released with er_user_release. */
int er_store_api_token_user(er_store *st, const char *digest, er_user *out, er_error *err);
/* Tokens of user_id (NULL: everyone's), oldest first, revoked ones included. */
int er_store_api_token_list(er_store *st, const char *user_id, er_api_token_fn fn,
                            void *payload, er_error *err);
/* ER_ENOTFOUND when no valid token has that id. */
int er_store_api_token_revoke(er_store *st, const char *id, er_error *err);

/* Refresh tokens.  add: a token of family_id (a new id starts a family). */
int er_store_refresh_add(er_store *st, const char *user_id, const char *family_id,
                         const char *digest, int64_t expires_ms, er_error *err);
/* Spends a refresh token: marks it used and fills the user and family it
 * belongs to.  ER_EAUTH when it is unknown, expired or was spent before; spending
 * one twice revokes every token of its family (a copy was stolen or replayed). */
int er_store_refresh_use(er_store *st, const char *digest, char user_id_out[ER_ID_LEN],
                         char family_out[ER_ID_LEN], er_error *err);
/* Spends every token of the family (logout). */
int er_store_refresh_revoke(er_store *st, const char *family_id, er_error *err);

/* The user an OpenID Connect identity (issuer, subject) maps to.  The first
 * login creates a user with role "user", named after name (or "user") and made
 * unique with a suffix when taken. */
int er_store_identity_user(er_store *st, const char *issuer, const char *subject,
                           const char *name, const char *email, char id_out[ER_ID_LEN],
                           er_error *err);

void er_api_token_release(er_api_token *t);

#endif
