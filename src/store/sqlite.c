/* sqlite.c — the SQLite store backend: the local default (one file, WAL).
 *
 * One connection per store, guarded by a recursive mutex, so that exec/query
 * called from inside transaction() (or from a row callback) on the same thread
 * simply nest.  Other threads wait on the mutex; other processes wait on
 * SQLite's file locks for up to busy_timeout.  Statements are prepared once
 * (SQLITE_PREPARE_PERSISTENT) and cached by their SQL text: store calls are on
 * the hot path.  sqlite3 errors are turned into er_error codes here, once.
 *
 * Row callbacks run with the mutex held: they may call the store again on the
 * same thread, but must not wait for another thread that uses this store.
 *
 * er_store_read is the exception to the one connection: when another thread
 * holds the mutex, the read runs on a reader connection of its own (a small
 * pool, opened on first need, query_only), so that concurrent readers — the
 * server's threads — do not queue behind each other or behind a writer; WAL
 * lets them read their snapshot while the writer writes.  Uncontended reads
 * stay on the main connection, so a one-shot command never opens a second. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define STACK_COLS      32

typedef struct cached_stmt {
    sqlite3_stmt *stmt;
    bool busy; /* in use further up this thread's stack */
} cached_stmt;

/* A connection and its prepared statements. */
typedef struct sq_conn {
    sqlite3 *db;
    er_stmt_cache stmts; /* SQL text → cached_stmt */
} sq_conn;

#define READERS 4

typedef struct sq_reader {
    sq_conn c; /* c.db NULL until first needed */
    bool busy; /* lent to a thread's er_store_read */
} sq_reader;

typedef struct sqlite_store {
    er_store base;
    sq_conn main;
    char *path;
    pthread_mutex_t mu; /* recursive: guards main and tx_depth */
    int tx_depth;
    bool memory;         /* ":memory:": another connection is another database */
    pthread_mutex_t rmu; /* guards readers[].busy */
    sq_reader readers[READERS];
} sqlite_store;

/* The reader connection this thread's er_store_read runs on, if any. */
typedef struct reader_ref {
    sqlite_store *s;
    sq_conn *c;
} reader_ref;

static _Thread_local reader_ref tls_reader;

static sqlite_store *downcast(er_store *st)
{
    assert(st && st->be == &er_store_sqlite_backend);
    return (sqlite_store *)st;
}

/* ---- errors ---- */

typedef struct code_hint {
    int code;
    const char *hint;
} code_hint;

static code_hint classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return (code_hint){ ER_EUNAVAIL, " — another process holds the lock; try again" };
    case SQLITE_FULL: return (code_hint){ ER_EIO, " — free some disk space" };
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN: return (code_hint){ ER_EIO, " — check the file's permissions" };
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL: return (code_hint){ ER_EIO, "" };
    case SQLITE_TOOBIG: return (code_hint){ ER_ETOOBIG, "" };
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return (code_hint){ ER_EINVAL, "" };
    default: break;
    }
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return (code_hint){ ER_EEXISTS, "" };
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return (code_hint){ ER_ENOTFOUND, " (a referenced row does not exist)" };
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return (code_hint){ ER_EINVAL, "" };
    return (code_hint){ ER_EINTERNAL, "" };
}

/* Call with the connection held: sqlite3_errmsg is per connection. */
static int sql_error(sqlite_store *s, sq_conn *c, int rc, er_error *err)
{
    const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    if (strstr(msg, "no such table"))
        return er_error_set(err, ER_EINVAL, "database '%s': %s — run 'errand migrate'", s->path,
                            msg);
    code_hint ch = classify(rc);
    return er_error_set(err, ch.code, "database '%s': %s%s", s->path, msg, ch.hint);
}

/* ---- statements ---- */

static int stmt_get(sqlite_store *s, sq_conn *c, const char *sql, sqlite3_stmt **out,
                    cached_stmt **owner, er_error *err)
{
    cached_stmt *cs = er_stmt_cache_get(&c->stmts, sql);
    if (cs && !cs->busy) {
        cs->busy = true;
        *out = cs->stmt;
        *owner = cs;
        return 0;
    }
    /* Busy means a row callback re-entered with the same SQL: use a one-off. */
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, cs ? 0 : SQLITE_PREPARE_PERSISTENT, out, &tail);
    if (rc != SQLITE_OK)
        return sql_error(s, c, rc, err);
    assert(*out && (!tail || strspn(tail, " \t\r\n;") == strlen(tail)));
    if (cs) {
        *owner = NULL;
        return 0;
    }
    cs = er_xmalloc(sizeof *cs);
    cs->stmt = *out;
    cs->busy = true;
    er_stmt_cache_put(&c->stmts, sql, cs);
    *owner = cs;
    return 0;
}

static void stmt_put(sqlite3_stmt *stmt, cached_stmt *owner)
{
    if (!owner) {
        sqlite3_finalize(stmt);
        return;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    owner->busy = false;
}

static void free_cached(void *val)
{
    cached_stmt *cs = val;
    sqlite3_finalize(cs->stmt);
    free(cs);
}

/* Text is bound SQLITE_STATIC: params outlive the statement's use. */
static int bind_params(sqlite_store *s, sq_conn *c, sqlite3_stmt *stmt, const er_sql_value *params,
                       int nparams, er_error *err)
{
    if (sqlite3_bind_parameter_count(stmt) != nparams)
        return er_error_set(err, ER_EINTERNAL, "SQL '%s' takes %d parameters, got %d",
                            sqlite3_sql(stmt), sqlite3_bind_parameter_count(stmt), nparams);
    for (int i = 0; i < nparams; i++) {
        int rc;
        if (params[i].type == ER_SQL_INT)
            rc = sqlite3_bind_int64(stmt, i + 1, params[i].i);
        else if (params[i].type == ER_SQL_TEXT && params[i].s)
            rc = sqlite3_bind_text(stmt, i + 1, params[i].s, -1, SQLITE_STATIC);
        else if (params[i].type == ER_SQL_BLOB)
            rc = sqlite3_bind_blob64(stmt, i + 1, params[i].s ? params[i].s : "",
                                     (sqlite3_uint64)params[i].i, SQLITE_STATIC);
        else
            rc = sqlite3_bind_null(stmt, i + 1);
        if (rc != SQLITE_OK)
            return sql_error(s, c, rc, err);
    }
    return 0;
}

static void read_row(sqlite3_stmt *stmt, er_sql_value *vals, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: vals[c] = ER_SQL_N; break;
        case SQLITE_INTEGER: vals[c] = ER_SQL_I(sqlite3_column_int64(stmt, c)); break;
        case SQLITE_BLOB:
            vals[c] = ER_SQL_B(sqlite3_column_blob(stmt, c), sqlite3_column_bytes(stmt, c));
            break;
        default: /* text and real reach the domain as text */
            vals[c] = (er_sql_value){ ER_SQL_TEXT, 0, (const char *)sqlite3_column_text(stmt, c) };
            if (!vals[c].s)
                vals[c] = ER_SQL_N;
            break;
        }
    }
}

/* Steps to the end, handing rows to fn (when not NULL) until it returns nonzero. */
static int run_stmt(sqlite_store *s, sq_conn *c, sqlite3_stmt *stmt, er_sql_row_fn fn,
                    void *payload, er_error *err)
{
    er_sql_value stack_vals[STACK_COLS];
    er_sql_value *vals = stack_vals;
    int ncols = sqlite3_column_count(stmt);
    if (ncols > STACK_COLS)
        vals = er_xcalloc((size_t)ncols, sizeof *vals);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!fn)
            continue;
        read_row(stmt, vals, ncols);
        if (fn(vals, ncols, payload)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (vals != stack_vals)
        free(vals);
    return rc == SQLITE_DONE ? 0 : sql_error(s, c, rc, err);
}

static int run_on(sqlite_store *s, sq_conn *c, const char *sql, const er_sql_value *params,
                  int nparams, er_sql_row_fn fn, void *payload, int64_t *changes, er_error *err)
{
    sqlite3_stmt *stmt = NULL;
    cached_stmt *owner = NULL;
    int rc = stmt_get(s, c, sql, &stmt, &owner, err);
    if (rc == 0) {
        rc = bind_params(s, c, stmt, params, nparams, err);
        if (rc == 0)
            rc = run_stmt(s, c, stmt, fn, payload, err);
        if (rc == 0 && changes)
            *changes = sqlite3_changes64(c->db);
        stmt_put(stmt, owner);
    }
    return rc;
}

static int run_sql(sqlite_store *s, const char *sql, const er_sql_value *params, int nparams,
                   er_sql_row_fn fn, void *payload, int64_t *changes, er_error *err)
{
    if (tls_reader.s == s) /* inside this thread's er_store_read: its own connection */
        return run_on(s, tls_reader.c, sql, params, nparams, fn, payload, changes, err);
    pthread_mutex_lock(&s->mu);
    int rc = run_on(s, &s->main, sql, params, nparams, fn, payload, changes, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_exec(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                   int64_t *changes, er_error *err)
{
    return run_sql(downcast(st), sql, params, nparams, NULL, NULL, changes, err);
}

static int sq_query(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                    er_sql_row_fn fn, void *payload, er_error *err)
{
    return run_sql(downcast(st), sql, params, nparams, fn, payload, NULL, err);
}

static int sq_exec_script(er_store *st, const char *script, er_error *err)
{
    sqlite_store *s = downcast(st);
    pthread_mutex_lock(&s->mu);
    char *msg = NULL;
    int rc = sqlite3_exec(s->main.db, script, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        code_hint ch = classify(rc);
        rc = er_error_set(err, ch.code, "database '%s': %s%s", s->path,
                          msg ? msg : sqlite3_errstr(rc), ch.hint);
    }
    sqlite3_free(msg);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A nested transaction() on the same thread becomes a savepoint, so the inner
 * function's failure undoes only its own work. */
static int sq_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    sqlite_store *s = downcast(st);
    /* Reads must not write, but a write begun inside one must not land on the
     * reader connection either: it runs on the main one, outside the snapshot. */
    reader_ref saved = tls_reader;
    if (saved.s == s)
        tls_reader = (reader_ref){ NULL, NULL };
    pthread_mutex_lock(&s->mu);
    bool outer = s->tx_depth == 0;
    int rc =
        run_sql(s, outer ? "BEGIN IMMEDIATE" : "SAVEPOINT er_tx", NULL, 0, NULL, NULL, NULL, err);
    if (rc == 0) {
        s->tx_depth++;
        rc = fn(st, payload, err);
        s->tx_depth--;
        if (rc == 0)
            rc = run_sql(s, outer ? "COMMIT" : "RELEASE er_tx", NULL, 0, NULL, NULL, NULL, err);
        if (rc != 0) {
            er_error ignored;
            run_sql(s, outer ? "ROLLBACK" : "ROLLBACK TO er_tx", NULL, 0, NULL, NULL, NULL,
                    &ignored);
            if (!outer)
                run_sql(s, "RELEASE er_tx", NULL, 0, NULL, NULL, NULL, &ignored);
        }
    }
    pthread_mutex_unlock(&s->mu);
    tls_reader = saved;
    return rc;
}

/* A deferred BEGIN: the first query takes the WAL read lock and the snapshot,
 * COMMIT lets them go.  The connection is run_sql's: the thread's reader when
 * tls_reader points at one, the main connection otherwise. */
static int read_snapshot(sqlite_store *s, er_store_tx_fn fn, void *payload, er_error *err)
{
    int rc = run_sql(s, "BEGIN", NULL, 0, NULL, NULL, NULL, err);
    if (rc == 0) {
        rc = fn(&s->base, payload, err);
        er_error ignored;
        if (run_sql(s, "COMMIT", NULL, 0, NULL, NULL, NULL, &ignored) != 0)
            run_sql(s, "ROLLBACK", NULL, 0, NULL, NULL, NULL, &ignored);
    }
    return rc;
}

static int reader_open(sqlite_store *s, sq_conn *c)
{
    if (c->db)
        return 0;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->path, &c->db, flags, NULL) == SQLITE_OK &&
        sqlite3_exec(c->db, "PRAGMA query_only=1", NULL, NULL, NULL) == SQLITE_OK) {
        sqlite3_extended_result_codes(c->db, 1);
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        return 0;
    }
    sqlite3_close_v2(c->db);
    c->db = NULL;
    return -1;
}

/* A free reader connection, opened if need be; NULL when all are lent out. */
static sq_reader *reader_take(sqlite_store *s)
{
    sq_reader *r = NULL;
    pthread_mutex_lock(&s->rmu);
    for (int i = 0; i < READERS && !r; i++)
        if (!s->readers[i].busy)
            r = &s->readers[i];
    if (r)
        r->busy = true;
    pthread_mutex_unlock(&s->rmu);
    if (r && reader_open(s, &r->c) != 0) {
        pthread_mutex_lock(&s->rmu);
        r->busy = false;
        pthread_mutex_unlock(&s->rmu);
        r = NULL;
    }
    return r;
}

static int sq_read(er_store *st, er_store_tx_fn fn, void *payload, er_error *err)
{
    sqlite_store *s = downcast(st);
    if (tls_reader.s == s) /* nested: join the snapshot */
        return fn(st, payload, err);
    /* The main connection when it is free (or this thread's own); a reader when
     * another thread holds it and one is free; otherwise wait for the main. */
    bool on_main = pthread_mutex_trylock(&s->mu) == 0;
    sq_reader *r = on_main || s->memory ? NULL : reader_take(s);
    if (!r) {
        if (!on_main)
            pthread_mutex_lock(&s->mu);
        int rc;
        if (s->tx_depth > 0) {
            rc = fn(st, payload, err); /* this thread's transaction: join it */
        } else {
            s->tx_depth++;
            rc = read_snapshot(s, fn, payload, err);
            s->tx_depth--;
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    tls_reader = (reader_ref){ s, &r->c };
    int rc = read_snapshot(s, fn, payload, err);
    tls_reader = (reader_ref){ NULL, NULL };
    pthread_mutex_lock(&s->rmu);
    r->busy = false;
    pthread_mutex_unlock(&s->rmu);
    return rc;
}

static int sq_ping(er_store *st, er_error *err)
{
    return run_sql(downcast(st), "SELECT 1", NULL, 0, NULL, NULL, NULL, err);
}

/* ---- open / close ---- */

/* mkdir -p of path's directory; on failure writes the reason into why. */
static int make_parent_dirs(const char *path, char *why, size_t whysize)
{
    char *dir = er_xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        struct stat sb;
        if (stat(dir, &sb) != 0 && mkdir(dir, 0700) != 0 && errno != EEXIST) {
            char ebuf[128];
            snprintf(why, whysize, "cannot create directory '%s': %s", dir,
                     strerror_r(errno, ebuf, sizeof ebuf));
            rc = -1;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

/* The database holds token digests, conversations and encrypted OAuth tokens:
 * only its owner may read it.  SQLite gives the -wal and -shm files the mode
 * of the database file, so creating that one 0600 (and taking group and other
 * access off one an older errand created 0644) covers all three. */
static int private_file(const char *path, char *why, size_t whysize)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) /* SQLite's own open says why, with its own words */
        return 0;
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 077) &&
        fchmod(fd, sb.st_mode & 0700) != 0) {
        char ebuf[128];
        snprintf(why, whysize, "cannot make '%s' private (mode 0600): %s", path,
                 strerror_r(errno, ebuf, sizeof ebuf));
        rc = -1;
    }
    close(fd);
    static const char *const sides[] = { "-wal", "-shm", "-journal" };
    for (size_t i = 0; rc == 0 && i < sizeof sides / sizeof *sides; i++) {
        char *side = er_xasprintf("%s%s", path, sides[i]);
        if (stat(side, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 077))
            chmod(side, sb.st_mode & 0700);
        free(side);
    }
    return rc;
}

static int open_error(sqlite_store *s, const char *reason, er_error *err)
{
    return er_error_set(err, ER_EIO,
                        "cannot open database '%s': %s — check DATABASE_URL and permissions",
                        s->path, reason);
}

/* Switching a new file to WAL needs an exclusive lock, and two connections
 * doing it at once can deadlock, which SQLite reports as BUSY at once without
 * calling the busy handler: so retry, within the same overall patience. */
static int run_pragmas(sqlite_store *s, char **msg)
{
    int rc = SQLITE_BUSY;
    for (int waited = 0; waited <= BUSY_TIMEOUT_MS; waited += 10) {
        sqlite3_free(*msg);
        *msg = NULL;
        rc = sqlite3_exec(s->main.db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON;",
                          NULL, NULL, msg);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        usleep(10 * 1000);
    }
    return rc;
}

static int configure(sqlite_store *s, er_error *err)
{
    sqlite3_extended_result_codes(s->main.db, 1);
    sqlite3_busy_timeout(s->main.db, BUSY_TIMEOUT_MS);
    char *msg = NULL;
    /* journal_mode touches the file, so a bad file fails here and not later. */
    int rc = run_pragmas(s, &msg);
    if (rc != SQLITE_OK) {
        code_hint ch = classify(rc);
        if (ch.code == ER_EUNAVAIL)
            rc = er_error_set(err, ch.code, "database '%s': %s%s", s->path,
                              msg ? msg : sqlite3_errstr(rc), ch.hint);
        else
            rc = open_error(s, msg ? msg : sqlite3_errstr(rc), err);
    }
    sqlite3_free(msg);
    return rc;
}

static int sq_open(er_store **out, const er_url *url, er_error *err)
{
    if (url->host)
        return er_error_set(err, ER_EINVAL,
                            "DATABASE_URL '%s' has a host part: use sqlite:///absolute/path.db, "
                            "sqlite:relative.db or sqlite::memory:",
                            url->raw);
    if (er_str_empty(url->path))
        return er_error_set(err, ER_EINVAL,
                            "DATABASE_URL '%s' names no database file: use sqlite:///path.db",
                            url->raw);
    sqlite_store *s = er_xcalloc(1, sizeof *s);
    s->base.be = &er_store_sqlite_backend;
    s->path = er_xstrdup(url->path);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&s->rmu, NULL);
    s->memory = strcmp(s->path, ":memory:") == 0;

    char why[200] = "";
    int rc = 0;
    if (strcmp(s->path, ":memory:") != 0 && (make_parent_dirs(s->path, why, sizeof why) != 0 ||
                                             private_file(s->path, why, sizeof why) != 0))
        rc = open_error(s, why, err);
    if (rc == 0) {
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
        int src = sqlite3_open_v2(s->path, &s->main.db, flags, NULL);
        if (src != SQLITE_OK)
            rc = open_error(s, s->main.db ? sqlite3_errmsg(s->main.db) : sqlite3_errstr(src), err);
        else
            rc = configure(s, err);
    }
    if (rc) {
        er_store_sqlite_backend.close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static void sq_close(er_store *st)
{
    sqlite_store *s = downcast(st);
    assert(s->tx_depth == 0);
    for (int i = 0; i < READERS; i++) {
        assert(!s->readers[i].busy);
        er_stmt_cache_clear(&s->readers[i].c.stmts, free_cached);
        if (s->readers[i].c.db)
            sqlite3_close_v2(s->readers[i].c.db);
    }
    er_stmt_cache_clear(&s->main.stmts, free_cached);
    if (s->main.db)
        sqlite3_close_v2(s->main.db);
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static int sq_table_exists(er_store *st, const char *name, bool *out, er_error *err)
{
    er_sql_value p = ER_SQL_S(name);
    int64_t one;
    return er_sql_query_int(st, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &p,
                            1, &one, out, err);
}

const er_store_backend er_store_sqlite_backend = {
    .version = ER_STORE_BACKEND_VERSION,
    .scheme = "sqlite",
    .dialect = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .exec_script = sq_exec_script,
    .transaction = sq_transaction,
    .read = sq_read,
    .ping = sq_ping,
    .migration_lock = NULL, /* transactions begin IMMEDIATE: the write lock */
    .table_exists = sq_table_exists,
};
