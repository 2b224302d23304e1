/* migrate.c — versioned schema migrations, compiled into the binary.
 *
 * Each dialect has its own numbered scripts, src/store/migrations/<dialect>/NNN_name.sql,
 * embedded by CMake (embed.h).  One table, schema_migrations, records what was
 * applied.  Each migration runs in its own transaction together with its
 * version row, after taking a lock, so that two processes starting at once
 * (`errand serve` and a worker) apply each migration exactly once. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/embed.h"
#include "errand/log.h"
#include "errand/str.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATIONS_DIR "store/migrations/"
#define MAX_DIALECTS 8

/* What differs between dialects outside the migration scripts themselves. */
typedef struct dialect_sql {
    const char *dialect;
    const char *lock;          /* serialises migrators inside the transaction; NULL: BEGIN does */
    const char *has_versions;  /* one integer: > 0 when schema_migrations exists */
} dialect_sql;

static const dialect_sql dialect_sqls[] = {
    { "sqlite", NULL,   /* the backend's transactions are BEGIN IMMEDIATE: the write lock */
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'" },
    { "postgres", "SELECT pg_advisory_xact_lock(7310030907965189741)",   /* "errand.m" as 8 bytes */
      "SELECT COUNT(*) FROM information_schema.tables "
      "WHERE table_schema = current_schema() AND table_name = 'schema_migrations'" },
};

static const char create_versions[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_ms BIGINT NOT NULL)";

typedef struct dialect_migrations {
    char *dialect;
    er_migration *list;
    size_t n;
} dialect_migrations;

/* Built once from the embedded files and never freed (static for the process). */
static dialect_migrations loaded[MAX_DIALECTS];
static size_t nloaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static dialect_migrations *dialect_slot(const char *name, size_t len)
{
    for (size_t i = 0; i < nloaded; i++)
        if (strlen(loaded[i].dialect) == len && memcmp(loaded[i].dialect, name, len) == 0)
            return &loaded[i];
    if (nloaded == MAX_DIALECTS)
        return NULL;
    loaded[nloaded].dialect = er_xstrndup(name, len);
    return &loaded[nloaded++];
}

/* "001_init.sql" → version 1, name "init"; false for anything else. */
static bool parse_file_name(const char *file, int *version, char **name)
{
    const char *p = file;
    long v = 0;
    while (isdigit((unsigned char)*p) && v < 100000)
        v = v * 10 + (*p++ - '0');
    if (p == file || *p != '_' || v <= 0 || !er_str_ends(p, ".sql"))
        return false;
    *version = (int)v;
    *name = er_xstrndup(p + 1, strlen(p + 1) - 4);
    return true;
}

static int by_version(const void *a, const void *b)
{
    const er_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static void add_file(const er_embedded_file *f)
{
    const char *rest = f->path + strlen(MIGRATIONS_DIR);
    const char *slash = strchr(rest, '/');
    int version;
    char *name;
    if (!slash || !parse_file_name(slash + 1, &version, &name)) {
        er_log(ER_LOG_WARN, "store", "ignoring embedded file '%s' (expected NNN_name.sql)",
               f->path);
        return;
    }
    dialect_migrations *d = dialect_slot(rest, (size_t)(slash - rest));
    if (!d) {
        free(name);
        return;
    }
    d->list = er_xrealloc(d->list, (d->n + 1) * sizeof *d->list);
    d->list[d->n++] = (er_migration){ version, name, f->data };
}

static void load_all(void)
{
    for (size_t i = 0; i < er_embedded_nfiles; i++)
        if (er_str_starts(er_embedded_files[i].path, MIGRATIONS_DIR))
            add_file(&er_embedded_files[i]);
    for (size_t i = 0; i < nloaded; i++) {
        qsort(loaded[i].list, loaded[i].n, sizeof *loaded[i].list, by_version);
        for (size_t j = 1; j < loaded[i].n; j++)
            if (loaded[i].list[j].version == loaded[i].list[j - 1].version)
                er_log(ER_LOG_ERROR, "store", "two %s migrations have version %d",
                       loaded[i].dialect, loaded[i].list[j].version);
    }
}

const er_migration *er_migrations_for(const char *dialect, size_t *n)
{
    pthread_once(&load_once, load_all);
    for (size_t i = 0; i < nloaded; i++) {
        if (strcmp(loaded[i].dialect, dialect) == 0) {
            *n = loaded[i].n;
            return loaded[i].list;
        }
    }
    *n = 0;
    return NULL;
}

int er_store_latest_version(const er_store *st)
{
    size_t n;
    const er_migration *m = er_migrations_for(er_store_dialect(st), &n);
    return n ? m[n - 1].version : 0;
}

static const dialect_sql *dialect_of(const er_store *st)
{
    const char *name = er_store_dialect(st);
    for (size_t i = 0; i < ER_ARRAY_LEN(dialect_sqls); i++)
        if (strcmp(dialect_sqls[i].dialect, name) == 0)
            return &dialect_sqls[i];
    return NULL;
}

static int read_version(er_store *st, const dialect_sql *d, int *out, er_error *err)
{
    int64_t has = 0, v = 0;
    int rc = er_sql_query_int(st, d->has_versions, NULL, 0, &has, NULL, err);
    if (rc == 0 && has > 0)
        rc = er_sql_query_int(st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                              NULL, 0, &v, NULL, err);
    *out = (int)v;
    return rc;
}

int er_store_schema_version(er_store *st, int *out, er_error *err)
{
    *out = 0;
    const dialect_sql *d = dialect_of(st);
    if (!d)
        return er_error_set(err, ER_EINTERNAL, "no migration support for dialect '%s'",
                            er_store_dialect(st));
    return read_version(st, d, out, err);
}

typedef struct migrate_step {
    const dialect_sql *d;
    const er_migration *list;
    size_t n;
    const er_migration *applied;   /* set when this step applied one */
} migrate_step;

static const er_migration *next_after(const migrate_step *m, int version)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->list[i].version > version)
            return &m->list[i];
    return NULL;
}

/* One transaction: lock, look at the version, apply the next migration if any. */
static int migrate_one(er_store *st, void *payload, er_error *err)
{
    migrate_step *m = payload;
    m->applied = NULL;
    int rc = m->d->lock ? er_sql_exec(st, m->d->lock, NULL, 0, NULL, err) : 0;
    if (rc == 0)
        rc = er_sql_exec_script(st, create_versions, err);
    int current = 0;
    if (rc == 0)
        rc = read_version(st, m->d, &current, err);
    if (rc)
        return rc;
    int latest = m->n ? m->list[m->n - 1].version : 0;
    if (current > latest)
        return er_error_set(err, ER_EINVAL,
                            "the database is at schema version %d but this errand knows only "
                            "up to %d: upgrade errand (or point DATABASE_URL elsewhere)",
                            current, latest);
    const er_migration *next = next_after(m, current);
    if (!next)
        return 0;
    rc = er_sql_exec_script(st, next->sql, err);
    if (rc) {
        er_error_prefix(err, "migration %03d_%s", next->version, next->name);
        return rc;
    }
    er_sql_value params[] = { ER_SQL_I(next->version), ER_SQL_S(next->name),
                              ER_SQL_I(er_time_ms()) };
    rc = er_sql_exec(st,
                     "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
                     params, 3, NULL, err);
    if (rc == 0)
        m->applied = next;
    return rc;
}

int er_store_migrate(er_store *st, int *applied, er_error *err)
{
    if (applied)
        *applied = 0;
    migrate_step m = { dialect_of(st), NULL, 0, NULL };
    if (!m.d)
        return er_error_set(err, ER_EINTERNAL, "no migration support for dialect '%s'",
                            er_store_dialect(st));
    m.list = er_migrations_for(m.d->dialect, &m.n);
    for (;;) {
        int rc = er_sql_transaction(st, migrate_one, &m, err);
        if (rc)
            return rc;
        if (!m.applied)
            return 0;
        er_log(ER_LOG_INFO, "store", "applied migration %03d_%s", m.applied->version,
               m.applied->name);
        if (applied)
            (*applied)++;
    }
}
