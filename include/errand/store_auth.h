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
    int64_t revoked_ms; /* 0 while valid */
} er_api_token;

typedef int (*er_api_token_fn)(const er_api_token *t, void *payload); /* nonzero stops */

/* Adds a token of user_id; ER_ENOTFOUND when there is no such user,
 * ER_EEXISTS when a token with that digest exists. */
int er_store_api_token_add(er_store *st, const char *user_id, const char *label, const char *digest,
                           char id_out[ER_ID_LEN], er_error *err);
/* The user a valid (not revoked) token belongs to, and the token's id
 * (token_id_out may be NULL); ER_ENOTFOUND otherwise.  out is released with
 * er_user_release. */
int er_store_api_token_user(er_store *st, const char *digest, er_user *out,
                            char token_id_out[ER_ID_LEN], er_error *err);
/* Tokens of user_id (NULL: everyone's), oldest first, revoked ones included. */
int er_store_api_token_list(er_store *st, const char *user_id, er_api_token_fn fn, void *payload,
                            er_error *err);
/* Revokes the token and the sessions started with it; ER_ENOTFOUND when no
 * valid token has that id. */
int er_store_api_token_revoke(er_store *st, const char *id, er_error *err);

/* Refresh tokens.  add: a token of family_id (a new id starts a family). */
int er_store_refresh_add(er_store *st, const char *user_id, const char *family_id,
                         const char *digest, int64_t expires_ms, er_error *err);
/* Spends a refresh token: marks it used and fills the user and family it
 * belongs to.  ER_EAUTH when it is unknown, expired, was spent before, or its
 * session was revoked or has ended; spending one twice revokes its session
 * (a copy was stolen or replayed). */
int er_store_refresh_use(er_store *st, const char *digest, char user_id_out[ER_ID_LEN],
                         char family_out[ER_ID_LEN], er_error *err);
/* Revokes the session (the family) and spends its tokens (logout). */
int er_store_refresh_revoke(er_store *st, const char *family_id, er_error *err);

/* ---- sessions (sessions.c): a login's family of refresh tokens ---- */

typedef struct er_session {
    char id[ER_ID_LEN]; /* the refresh family's id */
    char user_id[ER_ID_LEN];
    char api_token_id[ER_ID_LEN]; /* the API token it was started with; "" for a login */
    int64_t created_ms;
    int64_t expires_ms;   /* fixed when it starts: refreshing never moves it */
    int64_t refreshed_ms; /* 0: never refreshed */
    int64_t revoked_ms;   /* 0 while valid */
} er_session;

typedef int (*er_session_fn)(const er_session *s, void *payload); /* nonzero stops */

/* api_token_id: NULL for a login (OpenID Connect). */
int er_store_session_start(er_store *st, const char *id, const char *user_id,
                           const char *api_token_id, int64_t expires_ms, er_error *err);
/* ER_ENOTFOUND when there is no such session. */
int er_store_session_get(er_store *st, const char *id, er_session *out, er_error *err);
/* A user's sessions, newest first, ended ones included. */
int er_store_session_list(er_store *st, const char *user_id, er_session_fn fn, void *payload,
                          er_error *err);
/* Revokes a valid session and spends its refresh tokens; ER_ENOTFOUND when
 * no valid session has that id. */
int er_store_session_revoke(er_store *st, const char *id, er_error *err);
/* Records a refresh of the session (refreshed_ms). */
int er_store_session_touch(er_store *st, const char *id, er_error *err);
/* Revokes every API token and session of a user; *count_out (may be NULL)
 * gets how many there were. */
int er_store_user_revoke_all(er_store *st, const char *user_id, int *count_out, er_error *err);

/* ---- the log of auth changes (sessions.c), written by triggers ---- */

typedef struct er_auth_change {
    int64_t seq;         /* increasing (may commit out of order on PostgreSQL) */
    const char *kind;    /* "user" (role, name, deleted), "token", "session" */
    const char *subject; /* the id of that */
    const char *user_id; /* whose */
    int64_t changed_ms;
} er_auth_change;

typedef int (*er_auth_change_fn)(const er_auth_change *c, void *payload); /* BORROWED */

/* Changes with seq > after, oldest first, at most limit. */
int er_store_auth_changes(er_store *st, int64_t after, int limit, er_auth_change_fn fn,
                          void *payload, er_error *err);
/* The highest seq so far (0: none). */
int er_store_auth_changes_last(er_store *st, int64_t *out, er_error *err);
/* Forgets changes older than before_ms. */
int er_store_auth_changes_prune(er_store *st, int64_t before_ms, er_error *err);

/* The user an OpenID Connect identity (issuer, subject) maps to.  The first
 * login creates a user with role "user", named after name (or "user") and made
 * unique with a suffix when taken. */
int er_store_identity_user(er_store *st, const char *issuer, const char *subject, const char *name,
                           const char *email, char id_out[ER_ID_LEN], er_error *err);

void er_api_token_release(er_api_token *t);

#endif
