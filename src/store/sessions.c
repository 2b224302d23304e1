/* sessions.c — login sessions (a refresh-token family with a fixed end) and
 * the log of auth changes that servers poll (see store_auth.h).
 *
 * Revoking is one transaction: the session is marked, and its unspent
 * refresh tokens are spent, so neither an access token nor a refresh of the
 * session works afterwards.  The auth_changes rows are written by triggers
 * (migration 005), whatever made the change. */
#include "store_int.h"
#include "errand/store_auth.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define SESSION_COLS "id, user_id, api_token_id, created_ms, expires_ms, refreshed_ms, revoked_ms"

static void session_row(void *out, const er_sql_value *c, bool copy)
{
    (void)copy;
    er_session *s = out;
    er_sql_col_id(s->id, &c[0]);
    er_sql_col_id(s->user_id, &c[1]);
    er_sql_col_id(s->api_token_id, &c[2]);
    s->created_ms = er_sql_col_int(&c[3]);
    s->expires_ms = er_sql_col_int(&c[4]);
    s->refreshed_ms = er_sql_col_int(&c[5]);
    s->revoked_ms = er_sql_col_int(&c[6]);
}

int er_store_session_start(er_store *st, const char *id, const char *user_id,
                           const char *api_token_id, int64_t expires_ms, er_error *err)
{
    if (er_str_empty(id) || er_str_empty(user_id))
        return er_error_set(err, ER_EINVAL, "a session needs an id and a user");
    er_sql_value p[] = { ER_SQL_S(id), ER_SQL_S(user_id), er_sql_opt(api_token_id),
                         ER_SQL_I(er_time_ms()), ER_SQL_I(expires_ms) };
    int rc = er_sql_exec(st,
                         "INSERT INTO auth_sessions (id, user_id, api_token_id, created_ms, "
                         "expires_ms) VALUES (?, ?, ?, ?, ?)",
                         p, 5, NULL, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no user '%s' to own a session", user_id);
    return rc;
}

int er_store_session_get(er_store *st, const char *id, er_session *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "session id is empty");
    bool found = false;
    er_sql_value p = ER_SQL_S(id);
    int rc = er_sql_get(st, "SELECT " SESSION_COLS " FROM auth_sessions WHERE id = ?", &p, 1, 7,
                        session_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no session '%s'", id);
    return rc;
}

typedef struct session_list_ctx {
    er_session_fn fn;
    void *payload;
} session_list_ctx;

static int session_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    session_list_ctx *c = payload;
    if (ncols < 7)
        return 1;
    er_session s;
    session_row(&s, cols, false);
    return c->fn(&s, c->payload);
}

int er_store_session_list(er_store *st, const char *user_id, er_session_fn fn, void *payload,
                          er_error *err)
{
    session_list_ctx c = { fn, payload };
    er_sql_value p = ER_SQL_S(user_id);
    return er_sql_query(st,
                        "SELECT " SESSION_COLS " FROM auth_sessions WHERE user_id = ? "
                        "ORDER BY created_ms DESC, id",
                        &p, 1, session_list_row, &c, err);
}

typedef struct revoke_ctx {
    const char *id;      /* a session, or NULL */
    const char *user_id; /* every session and token of a user, or NULL */
    int64_t count;
} revoke_ctx;

static int session_revoke_tx(er_store *st, void *payload, er_error *err)
{
    revoke_ctx *r = payload;
    er_sql_value p[] = { ER_SQL_I(er_time_ms()), ER_SQL_S(r->id) };
    int rc = er_sql_exec(
        st, "UPDATE auth_sessions SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", p, 2,
        &r->count, err);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "UPDATE refresh_tokens SET used_ms = ? WHERE family_id = ? "
                         "AND used_ms IS NULL",
                         p, 2, NULL, err);
    return rc;
}

int er_store_session_revoke(er_store *st, const char *id, er_error *err)
{
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "which session? (an id from `errand user sessions`)");
    revoke_ctx r = { id, NULL, 0 };
    int rc = er_sql_transaction(st, session_revoke_tx, &r, err);
    if (rc == 0 && r.count == 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no valid session '%s'", id);
    return rc;
}

int er_store_session_touch(er_store *st, const char *id, er_error *err)
{
    er_sql_value p[] = { ER_SQL_I(er_time_ms()), ER_SQL_S(id) };
    return er_sql_exec(st, "UPDATE auth_sessions SET refreshed_ms = ? WHERE id = ?", p, 2, NULL,
                       err);
}

static int revoke_all_tx(er_store *st, void *payload, er_error *err)
{
    revoke_ctx *r = payload;
    er_sql_value p[] = { ER_SQL_I(er_time_ms()), ER_SQL_S(r->user_id) };
    int64_t tokens = 0, sessions = 0;
    int rc = er_sql_exec(st,
                         "UPDATE api_tokens SET revoked_ms = ? WHERE user_id = ? "
                         "AND revoked_ms IS NULL",
                         p, 2, &tokens, err);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "UPDATE auth_sessions SET revoked_ms = ? WHERE user_id = ? "
                         "AND revoked_ms IS NULL",
                         p, 2, &sessions, err);
    if (rc == 0)
        rc = er_sql_exec(st,
                         "UPDATE refresh_tokens SET used_ms = ? WHERE user_id = ? "
                         "AND used_ms IS NULL",
                         p, 2, NULL, err);
    r->count = tokens + sessions;
    return rc;
}

int er_store_user_revoke_all(er_store *st, const char *user_id, int *count_out, er_error *err)
{
    if (er_str_empty(user_id))
        return er_error_set(err, ER_EINVAL, "whose tokens and sessions? (a user id)");
    revoke_ctx r = { NULL, user_id, 0 };
    int rc = er_sql_transaction(st, revoke_all_tx, &r, err);
    if (rc == 0 && count_out)
        *count_out = (int)r.count;
    return rc;
}

/* ---- auth changes ---- */

typedef struct change_ctx {
    er_auth_change_fn fn;
    void *payload;
} change_ctx;

static int change_row(const er_sql_value *c, int ncols, void *payload)
{
    change_ctx *x = payload;
    if (ncols < 5)
        return 1;
    er_auth_change ch = { er_sql_col_int(&c[0]), er_sql_col_borrow(&c[1]), er_sql_col_borrow(&c[2]),
                          er_sql_col_borrow(&c[3]), er_sql_col_int(&c[4]) };
    if (!ch.kind || !ch.subject)
        return 0;
    return x->fn(&ch, x->payload);
}

int er_store_auth_changes(er_store *st, int64_t after, int limit, er_auth_change_fn fn,
                          void *payload, er_error *err)
{
    change_ctx x = { fn, payload };
    er_sql_value p[] = { ER_SQL_I(after), ER_SQL_I(limit > 0 ? limit : 1000) };
    return er_sql_query(st,
                        "SELECT seq, kind, subject, user_id, changed_ms FROM auth_changes "
                        "WHERE seq > ? ORDER BY seq LIMIT ?",
                        p, 2, change_row, &x, err);
}

int er_store_auth_changes_last(er_store *st, int64_t *out, er_error *err)
{
    *out = 0;
    return er_sql_query_int(st, "SELECT COALESCE(MAX(seq), 0) FROM auth_changes", NULL, 0, out,
                            NULL, err);
}

int er_store_auth_changes_prune(er_store *st, int64_t before_ms, er_error *err)
{
    er_sql_value p = ER_SQL_I(before_ms);
    return er_sql_exec(st, "DELETE FROM auth_changes WHERE changed_ms < ?", &p, 1, NULL, err);
}
