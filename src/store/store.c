/* store.c — the store seam: picks a backend by URL scheme and dispatches to it.
 *
 * This is the only file that dereferences st->be.  Domain modules (users.c,
 * conversations.c, tasks.c, events.c, configs.c, migrate.c) call er_sql_* and
 * never know which engine runs their SQL. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct scheme_entry {
    const char *scheme;
    const er_store_backend *be; /* NULL: compiled out */
    const char *option;         /* the CMake option that brings it */
} scheme_entry;

static const scheme_entry schemes[] = {
    { "sqlite", &er_store_sqlite_backend, NULL },
#ifdef ERRAND_WITH_POSTGRES
    { "postgresql", &er_store_postgres_backend, "ERRAND_WITH_POSTGRES" },
    { "postgres", &er_store_postgres_backend, "ERRAND_WITH_POSTGRES" },
#else
    { "postgresql", NULL, "ERRAND_WITH_POSTGRES" },
    { "postgres", NULL, "ERRAND_WITH_POSTGRES" },
#endif
};

static const scheme_entry *find_scheme(const char *scheme)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(schemes); i++)
        if (strcmp(schemes[i].scheme, scheme) == 0)
            return &schemes[i];
    return NULL;
}

int er_store_open(er_store **out, const char *url, er_error *err)
{
    *out = NULL;
    er_url u;
    int rc = er_url_parse(&u, url, err);
    if (rc) {
        er_error_prefix(err, "DATABASE_URL");
        return rc;
    }
    const scheme_entry *e = find_scheme(u.scheme);
    if (!e) {
        rc = er_error_set(err, ER_EINVAL,
                          "unknown DATABASE_URL scheme '%s' "
                          "(use sqlite:///path or postgresql://…)",
                          u.scheme);
    } else if (!e->be) {
        rc = er_error_set(err, ER_EINVAL,
                          "DATABASE_URL scheme '%s' is not compiled in: rebuild with -D%s=ON",
                          u.scheme, e->option);
    } else {
        assert(e->be->version >= 1);
        rc = e->be->open(out, &u, err);
        assert(rc != 0 || (*out && (*out)->be == e->be));
    }
    if (rc == 0) {
        char *shown = er_url_redacted(url);
        er_log(ER_LOG_DEBUG, "store", "opened %s", shown);
        free(shown);
    }
    er_url_release(&u);
    return rc;
}

void er_store_close(er_store *st)
{
    if (st)
        st->be->close(st);
}

const char *er_store_scheme(const er_store *st)
{
    return st->be->scheme;
}

const char *er_store_dialect(const er_store *st)
{
    return st->be->dialect;
}

int er_store_ping(er_store *st, er_error *err)
{
    return st->be->ping(st, err);
}

int er_sql_exec(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                int64_t *changes, er_error *err)
{
    return st->be->exec(st, sql, params, nparams, changes, err);
}

int er_sql_query(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                 er_sql_row_fn fn, void *payload, er_error *err)
{
    return st->be->query(st, sql, params, nparams, fn, payload, err);
}

int er_sql_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    return st->be->transaction(st, fn, payload, err);
}

int er_store_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    return er_sql_transaction(st, fn, payload, err);
}

int er_store_read(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    if (!st->be->read)
        return fn(st, payload, err);
    return st->be->read(st, fn, payload, err);
}

int er_sql_exec_script(er_store *st, const char *script, er_error *err)
{
    return st->be->exec_script(st, script, err);
}

static int too_old(const er_store *st, const char *what, er_error *err)
{
    return er_error_set(err, ER_EINTERNAL, "the %s store backend (version %d) has no %s",
                        st->be->scheme, st->be->version, what);
}

int er_sql_migration_lock(er_store *st, er_error *err)
{
    if (st->be->version < 2)
        return too_old(st, "migration lock", err);
    return st->be->migration_lock ? st->be->migration_lock(st, err) : 0;
}

int er_sql_table_exists(er_store *st, const char *name, bool *out, er_error *err)
{
    *out = false;
    if (st->be->version < 2 || !st->be->table_exists)
        return too_old(st, "table test", err);
    return st->be->table_exists(st, name, out, err);
}

/* ---- column decoding shared by the domain modules ---- */

char *er_sql_col_text(const er_sql_value *v)
{
    if (v->type == ER_SQL_TEXT)
        return er_xstrdup(v->s);
    if (v->type == ER_SQL_INT)
        return er_xasprintf("%lld", (long long)v->i);
    return NULL;
}

void er_sql_col_id(char out[ER_ID_LEN], const er_sql_value *v)
{
    out[0] = '\0';
    if (v->type == ER_SQL_TEXT && v->s)
        er_strlcpy(out, v->s, ER_ID_LEN);
}

int64_t er_sql_col_int(const er_sql_value *v)
{
    if (v->type == ER_SQL_INT)
        return v->i;
    if (v->type == ER_SQL_TEXT && v->s) {
        long n = 0;
        if (er_str_to_long(v->s, &n) == 0)
            return n;
    }
    return 0;
}

typedef struct get_ctx {
    int ncols;
    er_row_decode decode;
    void *out;
    bool found;
} get_ctx;

static int get_row(const er_sql_value *cols, int ncols, void *payload)
{
    get_ctx *c = payload;
    if (ncols >= c->ncols) {
        c->decode(c->out, cols, true);
        c->found = true;
    }
    return 1;
}

int er_sql_get(er_store *st, const char *sql, const er_sql_value *params, int nparams, int ncols,
               er_row_decode decode, void *out, bool *found, er_error *err)
{
    get_ctx c = { ncols, decode, out, false };
    int rc = er_sql_query(st, sql, params, nparams, get_row, &c, err);
    *found = c.found;
    return rc;
}

typedef struct int_result {
    int64_t value;
    bool found;
} int_result;

static int int_row(const er_sql_value *cols, int ncols, void *payload)
{
    int_result *r = payload;
    if (ncols > 0) {
        r->value = er_sql_col_int(&cols[0]);
        r->found = true;
    }
    return 1; /* the first row is all we want */
}

int er_sql_query_int(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                     int64_t *out, bool *found, er_error *err)
{
    int_result r = { 0, false };
    int rc = er_sql_query(st, sql, params, nparams, int_row, &r, err);
    if (rc)
        return rc;
    if (r.found)
        *out = r.value;
    if (found)
        *found = r.found;
    return 0;
}
