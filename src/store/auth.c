/* auth.c — API tokens, rotating refresh tokens and OpenID Connect identities
 * (see store_auth.h).  Only token digests are stored.
 *
 * A refresh token is spent by one conditional UPDATE (WHERE used_ms IS NULL), so
 * two servers racing with the same token cannot both win; the loser sees a spent
 * token, which revokes the family, as a replayed token must. */
#include "store_int.h"
#include "errand/id.h"
#include "errand/store_auth.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_COLS "id, user_id, label, created_ms, revoked_ms"

static void token_from_row(void *out, const er_sql_value *c, bool copy)
{
    er_api_token *t = out;
    er_sql_col_id(t->id, &c[0]);
    er_sql_col_id(t->user_id, &c[1]);
    t->label = er_sql_col_str(&c[2], copy);
    t->created_ms = er_sql_col_int(&c[3]);
    t->revoked_ms = er_sql_col_int(&c[4]);
}

void er_api_token_release(er_api_token *t)
{
    if (!t)
        return;
    free(t->label);
    memset(t, 0, sizeof *t);
}

static int check_digest(const char *digest, er_error *err)
{
    if (er_str_empty(digest) || strlen(digest) > 128)
        return er_error_set(err, ER_EINVAL, "token digest is empty or too long");
    return 0;
}

int er_store_api_token_add(er_store *st, const char *user_id, const char *label, const char *digest,
                           char id_out[ER_ID_LEN], er_error *err)
{
    int rc = check_digest(digest, err);
    if (rc)
        return rc;
    if (er_str_empty(user_id))
        return er_error_set(err, ER_EINVAL, "an API token needs a user id");
    char id[ER_ID_LEN];
    er_id_new(id);
    er_sql_value p[] = { er_sql_str(id), ER_SQL_S(user_id), ER_SQL_S(label ? label : ""),
                         ER_SQL_S(digest), ER_SQL_I(er_time_ms()) };
    rc = er_sql_exec(st,
                     "INSERT INTO api_tokens (id, user_id, label, token_hash, created_ms) "
                     "VALUES (?, ?, ?, ?, ?)",
                     p, 5, NULL, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no user '%s' to own an API token", user_id);
    if (rc == ER_EEXISTS)
        return er_error_set(err, rc, "an API token with that digest exists");
    if (rc == 0)
        memcpy(id_out, id, ER_ID_LEN);
    return rc;
}

static void user_row(void *out, const er_sql_value *c, bool copy)
{
    er_user *u = out;
    er_sql_col_id(u->id, &c[0]);
    u->name = er_sql_col_str(&c[1], copy);
    u->role = er_sql_col_str(&c[2], copy);
    u->created_ms = er_sql_col_int(&c[3]);
}

typedef struct token_user {
    er_user u;
    char token_id[ER_ID_LEN];
} token_user;

static void token_user_row(void *out, const er_sql_value *c, bool copy)
{
    token_user *t = out;
    user_row(&t->u, c, copy);
    er_sql_col_id(t->token_id, &c[4]);
}

int er_store_api_token_user(er_store *st, const char *digest, er_user *out,
                            char token_id_out[ER_ID_LEN], er_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_digest(digest, err);
    if (rc)
        return rc;
    bool found = false;
    er_sql_value p = ER_SQL_S(digest);
    token_user t = { { .name = NULL }, "" };
    rc = er_sql_get(st,
                    "SELECT u.id, u.name, u.role, u.created_ms, t.id FROM api_tokens t "
                    "JOIN users u ON u.id = t.user_id "
                    "WHERE t.token_hash = ? AND t.revoked_ms IS NULL",
                    &p, 1, 5, token_user_row, &t, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no valid API token with that digest");
    *out = t.u;
    if (rc == 0 && token_id_out)
        memcpy(token_id_out, t.token_id, ER_ID_LEN);
    return rc;
}

typedef struct token_list_ctx {
    er_api_token_fn fn;
    void *payload;
} token_list_ctx;

static int token_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    token_list_ctx *c = payload;
    if (ncols < 5)
        return 1;
    er_api_token t;
    token_from_row(&t, cols, false);
    return c->fn(&t, c->payload);
}

int er_store_api_token_list(er_store *st, const char *user_id, er_api_token_fn fn, void *payload,
                            er_error *err)
{
    token_list_ctx c = { fn, payload };
    er_sql_value p = ER_SQL_S(user_id);
    if (user_id)
        return er_sql_query(st,
                            "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ? "
                            "ORDER BY created_ms, id",
                            &p, 1, token_list_row, &c, err);
    return er_sql_query(st, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY created_ms, id", NULL,
                        0, token_list_row, &c, err);
}

/* The sessions an API token was exchanged for go with it. */
static int token_revoke_tx(er_store *st, void *payload, er_error *err)
{
    const char *id = payload;
    int64_t now = er_time_ms(), changed = 0;
    er_sql_value p[] = { ER_SQL_I(now), ER_SQL_S(id) };
    int rc =
        er_sql_exec(st, "UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                    p, 2, &changed, err);
    if (rc == 0 && changed == 0)
        return er_error_set(err, ER_ENOTFOUND, "no valid API token '%s'", id);
    if (rc == 0)
        rc = er_sql_exec(
            st,
            "UPDATE refresh_tokens SET used_ms = ? WHERE used_ms IS NULL AND family_id "
            "IN (SELECT id FROM auth_sessions WHERE api_token_id = ? AND revoked_ms IS NULL)",
            p, 2, NULL, err);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "UPDATE auth_sessions SET revoked_ms = ? WHERE api_token_id = ? "
                         "AND revoked_ms IS NULL",
                         p, 2, NULL, err);
    return rc;
}

int er_store_api_token_revoke(er_store *st, const char *id, er_error *err)
{
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "which API token? (an id from `errand user list`)");
    return er_sql_transaction(st, token_revoke_tx, (void *)id, err);
}

/* ---- refresh tokens ---- */

int er_store_refresh_add(er_store *st, const char *user_id, const char *family_id,
                         const char *digest, int64_t expires_ms, er_error *err)
{
    int rc = check_digest(digest, err);
    if (rc)
        return rc;
    if (er_str_empty(user_id) || er_str_empty(family_id))
        return er_error_set(err, ER_EINVAL, "a refresh token needs a user and a family");
    er_sql_value p[] = { ER_SQL_S(digest), ER_SQL_S(family_id), ER_SQL_S(user_id),
                         ER_SQL_I(er_time_ms()), ER_SQL_I(expires_ms) };
    rc = er_sql_exec(st,
                     "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_ms, "
                     "expires_ms) VALUES (?, ?, ?, ?, ?)",
                     p, 5, NULL, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no user '%s' to own a refresh token", user_id);
    return rc;
}

typedef struct spent {
    char user_id[ER_ID_LEN];
    char family[ER_ID_LEN];
    int64_t used_ms;
    int64_t expires_ms;
    bool found;
} spent;

static int spent_row(const er_sql_value *cols, int ncols, void *payload)
{
    spent *s = payload;
    if (ncols >= 2) {
        er_sql_col_id(s->user_id, &cols[0]);
        er_sql_col_id(s->family, &cols[1]);
        s->found = true;
    }
    if (ncols >= 4) {
        s->used_ms = er_sql_col_int(&cols[2]);
        s->expires_ms = er_sql_col_int(&cols[3]);
    }
    return 1;
}

int er_store_refresh_use(er_store *st, const char *digest, char user_id_out[ER_ID_LEN],
                         char family_out[ER_ID_LEN], er_error *err)
{
    int rc = check_digest(digest, err);
    if (rc)
        return rc;
    int64_t now = er_time_ms();
    spent s = { .found = false };
    /* Only while its session lives: revoked or past the session's own end,
     * no token of the family refreshes any more. */
    er_sql_value p[] = { ER_SQL_I(now), ER_SQL_S(digest), ER_SQL_I(now), ER_SQL_I(now) };
    rc = er_sql_query(st,
                      "UPDATE refresh_tokens SET used_ms = ? WHERE token_hash = ? "
                      "AND used_ms IS NULL AND expires_ms > ? AND family_id IN (SELECT id FROM "
                      "auth_sessions WHERE revoked_ms IS NULL AND expires_ms > ?) "
                      "RETURNING user_id, family_id",
                      p, 4, spent_row, &s, err);
    if (rc)
        return rc;
    if (s.found) {
        memcpy(user_id_out, s.user_id, ER_ID_LEN);
        memcpy(family_out, s.family, ER_ID_LEN);
        return 0;
    }
    rc = er_sql_query(st,
                      "SELECT user_id, family_id, used_ms, expires_ms FROM refresh_tokens "
                      "WHERE token_hash = ?",
                      &p[1], 1, spent_row, &s, err);
    if (rc)
        return rc;
    if (!s.found)
        return er_error_set(err, ER_EAUTH, "unknown refresh token");
    er_session ses;
    bool known = er_store_session_get(st, s.family, &ses, NULL) == 0;
    if (known && ses.revoked_ms)
        return er_error_set(err, ER_EAUTH, "the session was revoked (log in again)");
    if (s.used_ms && known && ses.expires_ms > now) {
        er_store_refresh_revoke(st, s.family, NULL);
        return er_error_set(
            err, ER_EAUTH, "refresh token was already used; its session is revoked (log in again)");
    }
    return er_error_set(err, ER_EAUTH, "refresh token expired (log in again)");
}

int er_store_refresh_revoke(er_store *st, const char *family_id, er_error *err)
{
    int rc = er_store_session_revoke(st, family_id, err);
    return rc == ER_ENOTFOUND ? 0 : rc; /* ended already: nothing to do */
}

/* ---- identities ---- */

typedef struct identity_ctx {
    const char *issuer, *subject, *name, *email;
    char id[ER_ID_LEN];
} identity_ctx;

static int id_row(const er_sql_value *cols, int ncols, void *payload)
{
    if (ncols > 0)
        er_sql_col_id(payload, &cols[0]);
    return 1;
}

/* A new user named base, or base-N when that name is taken. */
static int create_user(er_store *st, const char *base, char id_out[ER_ID_LEN], er_error *err)
{
    char id[ER_ID_LEN], name[160];
    er_id_new(id);
    for (int n = 1; n < 100; n++) {
        if (n == 1)
            snprintf(name, sizeof name, "%s", base);
        else
            snprintf(name, sizeof name, "%s-%d", base, n);
        er_sql_value p[] = { er_sql_str(id), er_sql_str(name), ER_SQL_I(er_time_ms()) };
        id_out[0] = '\0';
        int rc = er_sql_query(st,
                              "INSERT INTO users (id, name, role, created_ms) "
                              "VALUES (?, ?, 'user', ?) ON CONFLICT (name) DO NOTHING RETURNING id",
                              p, 3, id_row, id_out, err);
        if (rc || id_out[0])
            return rc;
    }
    return er_error_set(err, ER_ECONFLICT, "no free user name like '%s'", base);
}

static int identity_tx(er_store *st, void *payload, er_error *err)
{
    identity_ctx *c = payload;
    er_sql_value key[] = { ER_SQL_S(c->issuer), ER_SQL_S(c->subject) };
    c->id[0] = '\0';
    int rc =
        er_sql_query(st, "SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?",
                     key, 2, id_row, c->id, err);
    if (rc || c->id[0])
        return rc;
    rc = create_user(st, er_str_empty(c->name) ? "user" : c->name, c->id, err);
    if (rc)
        return rc;
    er_sql_value p[] = { ER_SQL_S(c->issuer), ER_SQL_S(c->subject), er_sql_str(c->id),
                         er_sql_opt(c->email), ER_SQL_I(er_time_ms()) };
    return er_sql_exec(st,
                       "INSERT INTO user_identities (issuer, subject, user_id, email, created_ms) "
                       "VALUES (?, ?, ?, ?, ?)",
                       p, 5, NULL, err);
}

int er_store_identity_user(er_store *st, const char *issuer, const char *subject, const char *name,
                           const char *email, char id_out[ER_ID_LEN], er_error *err)
{
    if (er_str_empty(issuer) || er_str_empty(subject))
        return er_error_set(err, ER_EINVAL, "an identity needs an issuer and a subject");
    identity_ctx c = { issuer, subject, name, email, "" };
    int rc = er_sql_transaction(st, identity_tx, &c, err);
    if (rc == ER_EEXISTS) {
        /* Another server created it first: it is there now. */
        er_sql_value key[] = { ER_SQL_S(issuer), ER_SQL_S(subject) };
        c.id[0] = '\0';
        rc =
            er_sql_query(st, "SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?",
                         key, 2, id_row, c.id, err);
        if (rc == 0 && !c.id[0])
            rc = er_error_set(err, ER_ECONFLICT, "identity of '%s' vanished while logging in",
                              subject);
    }
    if (rc == 0)
        memcpy(id_out, c.id, ER_ID_LEN);
    return rc;
}
