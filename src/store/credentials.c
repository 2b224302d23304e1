/* credentials.c — sealed credentials of outside services (store_credential.h).
 * The bytes are opaque here: sealing is secret.h's job, above the store. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/store_credential.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define COLS "name, kind, account, sealed, generation, created_ms, updated_ms"

static int check_args(const char *name, size_t len, er_error *err)
{
    if (er_str_empty(name) || strlen(name) > 128)
        return er_error_set(err, ER_EINVAL, "a credential name is 1 to 128 characters");
    if (len == 0 || len > ER_CREDENTIAL_MAX_SEALED)
        return er_error_set(err, ER_ETOOBIG, "sealed credential of %zu bytes (max %d)", len,
                            ER_CREDENTIAL_MAX_SEALED);
    return 0;
}

static void from_row(er_credential *c, const er_sql_value *v, bool copy)
{
    c->name = er_sql_col_str(&v[0], copy);
    c->kind = er_sql_col_str(&v[1], copy);
    c->account = er_sql_col_str(&v[2], copy);
    c->sealed_len = v[3].type == ER_SQL_BLOB ? (size_t)v[3].i : 0;
    if (copy) {
        c->sealed = er_xmalloc(c->sealed_len + 1);
        if (c->sealed_len)
            memcpy(c->sealed, v[3].s, c->sealed_len);
    } else {
        c->sealed = (unsigned char *)v[3].s;
    }
    c->generation = er_sql_col_int(&v[4]);
    c->created_ms = er_sql_col_int(&v[5]);
    c->updated_ms = er_sql_col_int(&v[6]);
}

static void decode_copy(void *out, const er_sql_value *v, bool copy)
{
    from_row(out, v, copy);
}

int er_store_credential_put(er_store *st, const char *name, const char *kind, const char *account,
                            const void *sealed, size_t len, int64_t *generation_out, er_error *err)
{
    int rc = check_args(name, len, err);
    if (rc)
        return rc;
    if (er_str_empty(kind))
        return er_error_set(err, ER_EINVAL, "credential '%s' needs a kind", name);
    int64_t now = er_time_ms(), gen = 0;
    er_sql_value p[] = { ER_SQL_S(name),        ER_SQL_S(kind), ER_SQL_S(account ? account : ""),
                         ER_SQL_B(sealed, len), ER_SQL_I(now),  ER_SQL_I(now) };
    rc = er_sql_query_int(st,
                          "INSERT INTO credentials (name, kind, account, sealed, generation, "
                          "created_ms, updated_ms) VALUES (?, ?, ?, ?, 1, ?, ?) "
                          "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                          "account = excluded.account, sealed = excluded.sealed, "
                          "generation = credentials.generation + 1, "
                          "updated_ms = excluded.updated_ms RETURNING generation",
                          p, 6, &gen, NULL, err);
    if (!rc && generation_out)
        *generation_out = gen;
    return rc;
}

int er_store_credential_get(er_store *st, const char *name, er_credential *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    bool found = false;
    er_sql_value p = ER_SQL_S(name);
    int rc = er_sql_get(st, "SELECT " COLS " FROM credentials WHERE name = ?", &p, 1, 7,
                        decode_copy, out, &found, err);
    if (!rc && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no credential named '%s'", name ? name : "");
    return rc;
}

int er_store_credential_replace(er_store *st, const char *name, int64_t expect, const void *sealed,
                                size_t len, er_error *err)
{
    int rc = check_args(name, len, err);
    if (rc)
        return rc;
    int64_t changes = 0;
    er_sql_value p[] = { ER_SQL_B(sealed, len), ER_SQL_I(er_time_ms()), ER_SQL_S(name),
                         ER_SQL_I(expect) };
    rc = er_sql_exec(st,
                     "UPDATE credentials SET sealed = ?, generation = generation + 1, "
                     "updated_ms = ? WHERE name = ? AND generation = ?",
                     p, 4, &changes, err);
    if (rc || changes)
        return rc;
    int64_t gen = 0;
    bool found = false;
    er_sql_value q = ER_SQL_S(name);
    rc = er_sql_query_int(st, "SELECT generation FROM credentials WHERE name = ?", &q, 1, &gen,
                          &found, err);
    if (rc)
        return rc;
    if (!found)
        return er_error_set(err, ER_ENOTFOUND, "no credential named '%s'", name);
    return er_error_set(err, ER_ECONFLICT,
                        "credential '%s' was rewritten meanwhile (generation %lld, not %lld)", name,
                        (long long)gen, (long long)expect);
}

typedef struct list_ctx {
    er_credential_fn fn;
    void *payload;
} list_ctx;

static int list_row(const er_sql_value *v, int ncols, void *payload)
{
    list_ctx *l = payload;
    if (ncols < 7)
        return 1;
    er_credential c;
    from_row(&c, v, false);
    return l->fn(&c, l->payload);
}

int er_store_credential_list(er_store *st, er_credential_fn fn, void *payload, er_error *err)
{
    list_ctx l = { fn, payload };
    return er_sql_query(st, "SELECT " COLS " FROM credentials ORDER BY name", NULL, 0, list_row, &l,
                        err);
}

int er_store_credential_delete(er_store *st, const char *name, er_error *err)
{
    int64_t changes = 0;
    er_sql_value p = ER_SQL_S(name);
    int rc = er_sql_exec(st, "DELETE FROM credentials WHERE name = ?", &p, 1, &changes, err);
    if (!rc && !changes)
        rc = er_error_set(err, ER_ENOTFOUND, "no credential named '%s'", name ? name : "");
    return rc;
}

void er_credential_release(er_credential *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->kind);
    free(c->account);
    if (c->sealed)
        memset(c->sealed, 0, c->sealed_len);
    free(c->sealed);
    memset(c, 0, sizeof *c);
}
