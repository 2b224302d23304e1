/* store_backend.h — for store backend authors only.
 *
 * A store backend is a SQL engine: it runs parameterised statements written in
 * the portable subset both SQLite and PostgreSQL accept ('?' placeholders, which
 * a backend rewrites as it needs; INSERT … ON CONFLICT; RETURNING).  Domain
 * logic (tasks, events, …) lives once, above the seam, in src/store/.
 * Schema differences live in per-dialect migrations; the little SQL the
 * migrator needs that differs by dialect (its lock, whether a table exists) is
 * the backend's own, through the operations appended in version 2. */
#ifndef ERRAND_STORE_BACKEND_H
#define ERRAND_STORE_BACKEND_H

#include "../store.h"
#include "../url.h"

/* Raised whenever fields are appended to er_store_backend: version N has every
 * field up to the "version N" mark below.
 *   1  scheme … read
 *   2  migration_lock, table_exists */
#define ER_STORE_BACKEND_VERSION 2

/* ER_SQL_BLOB: bytes s[0..i) (SQLite BLOB, PostgreSQL bytea); rows carry them
 * the same way, BORROWED for the row callback. */
typedef enum { ER_SQL_NULL = 0, ER_SQL_INT, ER_SQL_TEXT, ER_SQL_BLOB } er_sql_type;

typedef struct er_sql_value {
    er_sql_type type;
    int64_t i;
    const char *s; /* BORROWED: in rows valid during the row callback only */
} er_sql_value;

#define ER_SQL_I(v)    ((er_sql_value){ ER_SQL_INT, (v), NULL })
#define ER_SQL_S(v)    ((er_sql_value){ (v) ? ER_SQL_TEXT : ER_SQL_NULL, 0, (v) })
#define ER_SQL_N       ((er_sql_value){ ER_SQL_NULL, 0, NULL })
#define ER_SQL_B(p, n) ((er_sql_value){ ER_SQL_BLOB, (int64_t)(n), (const char *)(p) })

/* Row callback: nonzero stops the query (and query returns 0). */
typedef int (*er_sql_row_fn)(const er_sql_value *cols, int ncols, void *payload);

typedef struct er_store_backend {
    int version;         /* fields are only ever appended */
    const char *scheme;  /* matched against the URL: "sqlite", "postgresql" */
    const char *dialect; /* migrations to use: "sqlite", "postgres" */
    int (*open)(er_store **out, const er_url *url, er_error *err);
    void (*close)(er_store *st);
    /* *changes (may be NULL) gets the number of rows changed. */
    int (*exec)(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                int64_t *changes, er_error *err);
    int (*query)(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                 er_sql_row_fn fn, void *payload, er_error *err);
    /* Several ';'-separated statements without parameters (migrations). */
    int (*exec_script)(er_store *st, const char *script, er_error *err);
    /* Runs fn inside one transaction; exec/query from fn on the same thread join it.
     * Commits when fn returns 0, rolls back otherwise and returns fn's code. */
    int (*transaction)(er_store *st, er_store_tx_fn fn, void *payload, er_error *err);
    int (*ping)(er_store *st, er_error *err);
    /* Runs fn (which only reads) inside one read transaction; NULL: fn simply runs. */
    int (*read)(er_store *st, er_store_tx_fn fn, void *payload, er_error *err);
    /* ---- version 2: for migrate.c, called inside the migration's transaction ---- */
    /* Serialises migrators until the transaction ends; NULL when the transaction
     * already does (SQLite's transactions begin IMMEDIATE: the write lock). */
    int (*migration_lock)(er_store *st, er_error *err);
    /* *out: whether a table of that name exists in the schema the store works in. */
    int (*table_exists)(er_store *st, const char *name, bool *out, er_error *err);
} er_store_backend;

struct er_store {
    const er_store_backend *be; /* first member of every backend's struct */
};

extern const er_store_backend er_store_sqlite_backend;
#ifdef ERRAND_WITH_POSTGRES
extern const er_store_backend er_store_postgres_backend;
#endif

/* Dispatch helpers used by the domain modules in src/store/. */
int er_sql_exec(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                int64_t *changes, er_error *err);
int er_sql_query(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                 er_sql_row_fn fn, void *payload, er_error *err);
int er_sql_transaction(er_store *st, er_store_tx_fn fn, void *payload, er_error *err);

/* Migrations compiled in (src/store/migrations/<dialect>/NNN_name.sql). */
typedef struct er_migration {
    int version;
    const char *name;
    const char *sql;
} er_migration;
/* BORROWED: static table for the dialect, sorted by version; *n gets its length. */
const er_migration *er_migrations_for(const char *dialect, size_t *n);

#endif
