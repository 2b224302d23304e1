/* postgres.c — the PostgreSQL store backend (libpq), for networked deployments.
 *
 * A small pool of connections (one per concurrent caller, up to POOL_SIZE);
 * a transaction pins its connection to the calling thread so that exec/query
 * from inside it run on that connection.  Statements are prepared once per
 * connection and cached by their SQL text, after '?' placeholders are
 * rewritten to $1..$n.  Results are read whole before row callbacks run, so a
 * callback may call the store again.  A connection found dropped is reset once
 * and a statement that was not inside a transaction is retried.
 * libpq errors become er_error codes here, once. */
#include "store_int.h"
#include "pq_api.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/str.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE         4
#define CONNECT_TIMEOUT_S "5"
#define MAX_PARAMS        32
#define STACK_COLS        32

/* Type OIDs (pg_type.h is a server header). */
#define OID_BOOL  16
#define OID_INT8  20
#define OID_INT2  21
#define OID_INT4  23
#define OID_BYTEA 17

typedef struct pg_conn {
    PGconn *c;    /* NULL until first needed */
    bool busy;    /* handed out to a caller */
    int tx_depth; /* > 0: pinned to owner */
    pthread_t owner;
    unsigned next_stmt;
    er_stmt_cache stmts; /* SQL text → statement number (as a pointer) */
} pg_conn;

typedef struct pg_store {
    er_store base;
    char *conninfo;     /* the URL as given; libpq reads URIs */
    char *where;        /* "host:port", for messages */
    pthread_mutex_t mu; /* guards the pool slots' busy/tx_depth/owner */
    pthread_cond_t freed;
    pg_conn pool[POOL_SIZE];
} pg_store;

static pg_store *downcast(er_store *st)
{
    assert(st && st->be == &er_store_postgres_backend);
    return (pg_store *)st;
}

/* ---- errors ---- */

/* The reason in a libpq message, without the "connection to server … failed:"
 * preamble, the severity and the hint lines. */
static void reason_of(const char *msg, char *out, size_t outsize)
{
    const char *p = strstr(msg, " failed: ");
    if (p)
        msg = p + strlen(" failed: ");
    if (strncmp(msg, "FATAL:  ", 8) == 0 || strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    size_t n = strcspn(msg, "\n");
    if (n >= outsize)
        n = outsize - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

static int connect_error(pg_store *s, PGconn *c, er_error *err)
{
    char why[160];
    reason_of(c ? PQerrorMessage(c) : "out of memory", why, sizeof why);
    if ((c && PQconnectionNeedsPassword(c)) || strstr(why, "authentication failed") ||
        strstr(why, "no pg_hba.conf entry") || strstr(why, "role \""))
        return er_error_set(err, ER_EAUTH,
                            "PostgreSQL at '%s' refused the login: %s — check the user and "
                            "password in DATABASE_URL",
                            s->where, why);
    if (strstr(why, "database \"") && strstr(why, "does not exist"))
        return er_error_set(err, ER_EINVAL,
                            "PostgreSQL at '%s': %s — create it or fix DATABASE_URL", s->where,
                            why);
    return er_error_set(err, ER_EUNAVAIL,
                        "cannot connect to PostgreSQL at '%s': %s — is it running?", s->where, why);
}

typedef struct state_code {
    const char *prefix; /* SQLSTATE or its class */
    int code;
    const char *hint;
} state_code;

static const state_code state_codes[] = {
    { "23505", ER_EEXISTS, "" },
    { "23503", ER_ENOTFOUND, " (a referenced row does not exist)" },
    { "42P01", ER_EINVAL, " — run 'errand migrate'" },
    { "53100", ER_EIO, " — free some disk space on the database server" },
    { "40001", ER_EUNAVAIL, " — try again" },
    { "40P01", ER_EUNAVAIL, " — try again" },
    { "42501", ER_EAUTH, " — grant the DATABASE_URL user access" },
    { "08", ER_EUNAVAIL, "" },
    { "57P", ER_EUNAVAIL, " — the server is shutting down or restarting" },
    { "53", ER_EUNAVAIL, "" },
    { "54", ER_ETOOBIG, "" },
    { "23", ER_EINVAL, "" },
    { "22", ER_EINVAL, "" },
    { "28", ER_EAUTH, "" },
};

static int result_error(pg_store *s, pg_conn *pc, const PGresult *res, er_error *err)
{
    char why[200];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    reason_of(primary ? primary : PQerrorMessage(pc->c), why, sizeof why);
    if (PQstatus(pc->c) == CONNECTION_BAD)
        return er_error_set(err, ER_EUNAVAIL,
                            "lost the connection to PostgreSQL at '%s': %s — is it running?",
                            s->where, why);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    for (size_t i = 0; state && i < ER_ARRAY_LEN(state_codes); i++)
        if (er_str_starts(state, state_codes[i].prefix))
            return er_error_set(err, state_codes[i].code, "PostgreSQL: %s%s", why,
                                state_codes[i].hint);
    return er_error_set(err, ER_EINTERNAL, "PostgreSQL: %s", why);
}

/* ---- connections ---- */

static void quiet_notices(void *payload, const char *message)
{
    (void)payload;
    (void)message; /* "relation already exists, skipping" and the like */
}

static int conn_open(pg_store *s, PGconn **out, er_error *err)
{
    /* Keywords after dbname override the URI's, so the default timeout goes first. */
    const char *const keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
    const char *const vals[] = { CONNECT_TIMEOUT_S, "errand", s->conninfo, NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int rc = connect_error(s, c, err);
        PQfinish(c);
        return rc;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    *out = c;
    return 0;
}

/* Prepared statements die with their session. */
static void conn_forget_session(pg_conn *pc)
{
    er_stmt_cache_clear(&pc->stmts, NULL);
    pc->next_stmt = 0;
}

static int conn_reset(pg_store *s, pg_conn *pc, er_error *err)
{
    conn_forget_session(pc);
    PQreset(pc->c);
    if (PQstatus(pc->c) != CONNECTION_OK)
        return connect_error(s, pc->c, err);
    return 0;
}

/* Makes a taken slot usable: connects it the first time, revives it if dropped. */
static int conn_ready(pg_store *s, pg_conn *pc, er_error *err)
{
    if (!pc->c)
        return conn_open(s, &pc->c, err);
    if (PQstatus(pc->c) == CONNECTION_BAD)
        return conn_reset(s, pc, err);
    return 0;
}

static pg_conn *take_slot(pg_store *s, pthread_t self)
{
    for (int i = 0; i < POOL_SIZE; i++)
        if (s->pool[i].tx_depth > 0 && pthread_equal(s->pool[i].owner, self))
            return &s->pool[i]; /* this thread's open transaction */
    pg_conn *unconnected = NULL;
    for (int i = 0; i < POOL_SIZE; i++) {
        if (s->pool[i].busy)
            continue;
        if (s->pool[i].c) {
            s->pool[i].busy = true;
            return &s->pool[i];
        }
        if (!unconnected)
            unconnected = &s->pool[i];
    }
    if (unconnected)
        unconnected->busy = true;
    return unconnected;
}

static int conn_acquire(pg_store *s, pg_conn **out, er_error *err)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&s->mu);
    pg_conn *pc;
    while (!(pc = take_slot(s, self)))
        pthread_cond_wait(&s->freed, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (pc->tx_depth > 0) {
        *out = pc;
        return 0;
    }
    int rc = conn_ready(s, pc, err);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        pc->busy = false;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    *out = pc;
    return 0;
}

static void conn_release(pg_store *s, pg_conn *pc)
{
    pthread_mutex_lock(&s->mu);
    if (pc->tx_depth == 0) {
        pc->busy = false;
        pthread_cond_signal(&s->freed);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- statements ---- */

/* Copies a quoted run ('…', "…") or a comment starting at sql[i]; returns the
 * index after it, or i when nothing special starts there. */
static size_t skip_literal(const char *sql, size_t i, er_buf *out)
{
    size_t j = i;
    if (sql[i] == '\'' || sql[i] == '"') {
        char q = sql[i];
        for (j = i + 1; sql[j]; j++) {
            if (sql[j] == q && sql[j + 1] == q)
                j++; /* doubled quote: still inside */
            else if (sql[j] == q)
                break;
        }
        j = sql[j] ? j + 1 : j;
    } else if (sql[i] == '-' && sql[i + 1] == '-') {
        j = i + strcspn(sql + i, "\n");
    } else if (sql[i] == '/' && sql[i + 1] == '*') {
        const char *end = strstr(sql + i + 2, "*/");
        j = end ? (size_t)(end - sql) + 2 : strlen(sql);
    }
    er_buf_append(out, sql + i, j - i);
    return j;
}

/* '?' → $1..$n outside quotes and comments.  OWNED result; *n gets the count. */
static char *rewrite_placeholders(const char *sql, int *n)
{
    er_buf out = ER_BUF_INIT;
    *n = 0;
    for (size_t i = 0; sql[i];) {
        size_t next = skip_literal(sql, i, &out);
        if (next != i) {
            i = next;
        } else if (sql[i] == '?') {
            er_buf_printf(&out, "$%d", ++*n);
            i++;
        } else {
            er_buf_putc(&out, sql[i++]);
        }
    }
    return er_buf_detach(&out);
}

static int prepare(pg_store *s, pg_conn *pc, const char *sql, const er_sql_value *params,
                   int nparams, uintptr_t *num, er_error *err)
{
    int count;
    char *text = rewrite_placeholders(sql, &count);
    if (count != nparams) {
        free(text);
        return er_error_set(err, ER_EINTERNAL, "SQL '%s' takes %d parameters, got %d", sql, count,
                            nparams);
    }
    Oid types[MAX_PARAMS];
    for (int i = 0; i < nparams; i++)
        types[i] = params[i].type == ER_SQL_INT    ? OID_INT8
                   : params[i].type == ER_SQL_BLOB ? OID_BYTEA
                                                   : 0; /* 0: the server infers */
    char name[32];
    *num = ++pc->next_stmt;
    snprintf(name, sizeof name, "er_%lu", (unsigned long)*num);
    PGresult *res = PQprepare(pc->c, name, text, nparams, types);
    free(text);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = result_error(s, pc, res, err);
    else
        er_stmt_cache_put(&pc->stmts, sql, (void *)*num);
    PQclear(res);
    return rc;
}

/* One attempt: prepares (once per connection) and runs. */
static int exec_once(pg_store *s, pg_conn *pc, const char *sql, const er_sql_value *params,
                     int nparams, PGresult **out, er_error *err)
{
    *out = NULL;
    if (nparams > MAX_PARAMS)
        return er_error_set(err, ER_EINTERNAL, "SQL '%s' has more than %d parameters", sql,
                            MAX_PARAMS);
    uintptr_t num = (uintptr_t)er_stmt_cache_get(&pc->stmts, sql);
    int rc = num ? 0 : prepare(s, pc, sql, params, nparams, &num, err);
    if (rc)
        return rc;
    const char *values[MAX_PARAMS];
    char ints[MAX_PARAMS][24];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    for (int i = 0; i < nparams; i++) {
        values[i] = params[i].type == ER_SQL_TEXT ? params[i].s : NULL;
        lengths[i] = 0;
        formats[i] = 0;
        if (params[i].type == ER_SQL_INT) {
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)params[i].i);
            values[i] = ints[i];
        } else if (params[i].type == ER_SQL_BLOB) { /* bytes as they are: binary format */
            values[i] = params[i].s ? params[i].s : "";
            lengths[i] = (int)params[i].i;
            formats[i] = 1;
        }
    }
    char name[32];
    snprintf(name, sizeof name, "er_%lu", (unsigned long)num);
    PGresult *res = PQexecPrepared(pc->c, name, nparams, values, lengths, formats, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        *out = res;
        return 0;
    }
    rc = result_error(s, pc, res, err);
    PQclear(res);
    return rc;
}

/* Retries once on a fresh session when the connection had dropped — but never
 * inside a transaction, whose earlier statements died with the session. */
static int exec_on(pg_store *s, pg_conn *pc, const char *sql, const er_sql_value *params,
                   int nparams, PGresult **out, er_error *err)
{
    int rc = exec_once(s, pc, sql, params, nparams, out, err);
    if (rc == ER_EUNAVAIL && pc->tx_depth == 0 && PQstatus(pc->c) == CONNECTION_BAD &&
        conn_reset(s, pc, err) == 0)
        rc = exec_once(s, pc, sql, params, nparams, out, err);
    return rc;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* bytea in the text output format "\x0a1b…" (bytea_output = hex, the default
 * since 9.0) as bytes: OWNED, *n its length. */
static char *bytea_decode(const char *text, size_t *n)
{
    size_t len = strlen(text);
    if (len < 2 || text[0] != '\\' || text[1] != 'x') { /* escape format: keep the text */
        *n = len;
        char *copy = er_xmalloc(len + 1);
        memcpy(copy, text, len + 1);
        return copy;
    }
    size_t out_len = (len - 2) / 2;
    char *out = er_xmalloc(out_len + 1);
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_nibble(text[2 + 2 * i]), lo = hex_nibble(text[3 + 2 * i]);
        out[i] = (char)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
    }
    *n = out_len;
    return out;
}

static void deliver_rows(const PGresult *res, er_sql_row_fn fn, void *payload)
{
    int nrows = PQntuples(res), ncols = PQnfields(res);
    er_sql_value stack_vals[STACK_COLS];
    er_sql_value *vals = ncols > STACK_COLS ? er_xcalloc((size_t)ncols, sizeof *vals) : stack_vals;
    for (int r = 0; r < nrows; r++) {
        for (int c = 0; c < ncols; c++) {
            const char *text = PQgetvalue(res, r, c);
            Oid type = PQftype(res, c);
            if (PQgetisnull(res, r, c))
                vals[c] = ER_SQL_N;
            else if (type == OID_INT8 || type == OID_INT4 || type == OID_INT2)
                vals[c] = ER_SQL_I(strtoll(text, NULL, 10));
            else if (type == OID_BOOL)
                vals[c] = ER_SQL_I(text[0] == 't');
            else if (type == OID_BYTEA) {
                size_t n;
                char *bytes = bytea_decode(text, &n);
                vals[c] = ER_SQL_B(bytes, n);
            } else
                vals[c] = (er_sql_value){ ER_SQL_TEXT, 0, text };
        }
        int stop = fn(vals, ncols, payload);
        for (int c = 0; c < ncols; c++)
            if (vals[c].type == ER_SQL_BLOB)
                free((char *)vals[c].s);
        if (stop)
            break;
    }
    if (vals != stack_vals)
        free(vals);
}

static int run_sql(pg_store *s, const char *sql, const er_sql_value *params, int nparams,
                   er_sql_row_fn fn, void *payload, int64_t *changes, er_error *err)
{
    pg_conn *pc;
    int rc = conn_acquire(s, &pc, err);
    if (rc)
        return rc;
    PGresult *res = NULL;
    rc = exec_on(s, pc, sql, params, nparams, &res, err);
    conn_release(s, pc); /* the rows live in res: callbacks may use the store */
    if (rc)
        return rc;
    if (changes)
        *changes = strtoll(PQcmdTuples(res), NULL, 10);
    if (fn)
        deliver_rows(res, fn, payload);
    PQclear(res);
    return 0;
}

static int pg_exec(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                   int64_t *changes, er_error *err)
{
    return run_sql(downcast(st), sql, params, nparams, NULL, NULL, changes, err);
}

static int pg_query(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                    er_sql_row_fn fn, void *payload, er_error *err)
{
    return run_sql(downcast(st), sql, params, nparams, fn, payload, NULL, err);
}

static int script_once(pg_store *s, pg_conn *pc, const char *script, er_error *err)
{
    PGresult *res = PQexec(pc->c, script);
    ExecStatusType status = PQresultStatus(res);
    int rc = 0;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        rc = result_error(s, pc, res, err);
    PQclear(res);
    return rc;
}

static int pg_exec_script(er_store *st, const char *script, er_error *err)
{
    pg_store *s = downcast(st);
    pg_conn *pc;
    int rc = conn_acquire(s, &pc, err);
    if (rc)
        return rc;
    rc = script_once(s, pc, script, err);
    if (rc == ER_EUNAVAIL && pc->tx_depth == 0 && PQstatus(pc->c) == CONNECTION_BAD &&
        conn_reset(s, pc, err) == 0)
        rc = script_once(s, pc, script, err);
    conn_release(s, pc);
    return rc;
}

static int simple(pg_store *s, pg_conn *pc, const char *sql, er_error *err)
{
    PGresult *res = NULL;
    int rc = exec_on(s, pc, sql, NULL, 0, &res, err);
    PQclear(res);
    return rc;
}

static void set_depth(pg_store *s, pg_conn *pc, int delta)
{
    pthread_mutex_lock(&s->mu);
    pc->owner = pthread_self();
    pc->tx_depth += delta;
    pthread_mutex_unlock(&s->mu);
}

/* A nested transaction() on the same thread becomes a savepoint.  COMMIT and
 * ROLLBACK run while the connection is still pinned (tx_depth > 0), so they
 * are never retried on a fresh session, where they would "succeed" vacuously. */
static int pg_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    pg_store *s = downcast(st);
    pg_conn *pc;
    int rc = conn_acquire(s, &pc, err);
    if (rc)
        return rc;
    bool outer = pc->tx_depth == 0;
    rc = simple(s, pc, outer ? "BEGIN" : "SAVEPOINT er_tx", err);
    if (rc == 0) {
        set_depth(s, pc, +1);
        rc = fn(st, payload, err);
        if (rc == 0)
            rc = simple(s, pc, outer ? "COMMIT" : "RELEASE SAVEPOINT er_tx", err);
        if (rc != 0) {
            er_error ignored;
            simple(s, pc, outer ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT er_tx", &ignored);
            if (!outer)
                simple(s, pc, "RELEASE SAVEPOINT er_tx", &ignored);
        }
        set_depth(s, pc, -1);
    }
    conn_release(s, pc);
    return rc;
}

static int pg_ping(er_store *st, er_error *err)
{
    return run_sql(downcast(st), "SELECT 1", NULL, 0, NULL, NULL, NULL, err);
}

/* ---- open / close ---- */

static void pg_close(er_store *st)
{
    pg_store *s = downcast(st);
    for (int i = 0; i < POOL_SIZE; i++) {
        assert(!s->pool[i].busy);
        er_stmt_cache_clear(&s->pool[i].stmts, NULL);
        if (s->pool[i].c)
            PQfinish(s->pool[i].c);
    }
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s->where);
    free(s);
}

static int check_conninfo(const er_url *url, er_error *err)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url->raw, &msg);
    if (opts) {
        PQconninfoFree(opts);
        return 0;
    }
    char why[160];
    reason_of(msg ? msg : "cannot parse it", why, sizeof why);
    PQfreemem(msg);
    return er_error_set(err, ER_EINVAL, "DATABASE_URL is not a valid PostgreSQL URL: %s", why);
}

/* Connects one connection at once, so a wrong URL or a server that is down
 * shows up at start-up rather than at the first query. */
static int pg_open(er_store **out, const er_url *url, er_error *err)
{
    int rc = er_pq_load(err);
    if (rc)
        return rc;
    rc = check_conninfo(url, err);
    if (rc)
        return rc;
    pg_store *s = er_xcalloc(1, sizeof *s);
    s->base.be = &er_store_postgres_backend;
    s->conninfo = er_xstrdup(url->raw);
    s->where =
        er_xasprintf("%s:%d", url->host ? url->host : "localhost", url->port ? url->port : 5432);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    pg_conn *pc;
    rc = conn_acquire(s, &pc, err);
    if (rc) {
        pg_close(&s->base);
        return rc;
    }
    conn_release(s, pc);
    *out = &s->base;
    return 0;
}

/* A transaction-scoped advisory lock: held until the migration commits. */
static int pg_migration_lock(er_store *st, er_error *err)
{
    /* The key is "errand.m" as 8 bytes. */
    return er_sql_exec(st, "SELECT pg_advisory_xact_lock(7310030907965189741)", NULL, 0, NULL, err);
}

static int pg_table_exists(er_store *st, const char *name, bool *out, er_error *err)
{
    er_sql_value p = ER_SQL_S(name);
    int64_t one;
    return er_sql_query_int(st,
                            "SELECT 1 FROM information_schema.tables "
                            "WHERE table_schema = current_schema() AND table_name = ?",
                            &p, 1, &one, out, err);
}

const er_store_backend er_store_postgres_backend = {
    .version = ER_STORE_BACKEND_VERSION,
    .scheme = "postgresql",
    .dialect = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .exec_script = pg_exec_script,
    .transaction = pg_transaction,
    .ping = pg_ping,
    .migration_lock = pg_migration_lock,
    .table_exists = pg_table_exists,
};
