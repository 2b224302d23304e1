/* migrate.c — versioned schema migrations, compiled into the binary.
 *
 * Each dialect has its own numbered scripts, src/store/migrations/<dialect>/NNN_name.sql,
 * embedded by CMake (embed.h).  One table, schema_migrations, records what was
 * applied.  Each migration runs in its own transaction together with its
 * version row, after taking the backend's migration lock, so that two
 * processes starting at once (`errand serve` and a worker) apply each
 * migration exactly once.  What SQL the lock and the table test take is the
 * backend's business (store_backend.h, version 2): no dialect is named here. */
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
#define MAX_DIALECTS   8

static const char create_versions[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
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

int er_store_schema_version(er_store *st, int *out, er_error *err)
{
    bool has = false;
    int64_t v = 0;
    int rc = er_sql_table_exists(st, "schema_migrations", &has, err);
    if (rc == 0 && has)
        rc = er_sql_query_int(st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL,
                              0, &v, NULL, err);
    *out = (int)v;
    return rc;
}

typedef struct migrate_step {
    const er_migration *list;
    size_t n;
    const er_migration *applied; /* set when this step applied one */
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
    int rc = er_sql_migration_lock(st, err);
    if (rc == 0)
        rc = er_sql_exec_script(st, create_versions, err);
    int current = 0;
    if (rc == 0)
        rc = er_store_schema_version(st, &current, err);
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
    migrate_step m = { NULL, 0, NULL };
    m.list = er_migrations_for(er_store_dialect(st), &m.n);
    if (!m.n)
        return er_error_set(err, ER_EINTERNAL, "no migrations for dialect '%s'",
                            er_store_dialect(st));
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
