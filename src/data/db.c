/* db.c — the data database: where it lives, opening it, what it knows
 * about its tables (`_errand_tables`), and the column files beside it
 * (DB-tables/: one per table, colfile.h) that no table reads any more. */
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "colfile.h"
#include "data_db.h"
#include "data_vtab.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS _errand_tables("
    " name TEXT PRIMARY KEY, source TEXT NOT NULL, display TEXT, format TEXT,"
    " options TEXT, size INTEGER, mtime_ns INTEGER, rows INTEGER, bad_rows INTEGER,"
    " columns TEXT, version INTEGER, loaded_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS _errand_meta(key TEXT PRIMARY KEY, value INTEGER);";

char *er_data_path(const er_config *cfg, const char *workspace)
{
    const char *ws = workspace && *workspace ? workspace : ".";
    const char *set = cfg ? cfg->data_db : NULL;
    if (set && *set)
        return set[0] == '/' ? er_xstrdup(set) : er_xasprintf("%s/%s", ws, set);
    return er_xasprintf("%s/.errand/data.sqlite", ws);
}

/* The directory of path, created when missing (one level, like .errand/). */
static int make_parent(const char *path, er_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = er_xstrndup(path, (size_t)(slash - path));
    int rc = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        rc = er_error_set(err, ER_EIO, "cannot create %s for the data database: %s", dir,
                          strerror(errno));
    free(dir);
    return rc;
}

static int progress(void *payload)
{
    er_data *d = payload;
    if (d->cancel && *d->cancel)
        return 1;
    return d->deadline_ms && er_mono_ms() > d->deadline_ms;
}

int er_data_sqlite_error(er_data *d, er_error *err, const char *what)
{
    int code = sqlite3_errcode(d->db);
    if (code == SQLITE_INTERRUPT) {
        if (d->cancel && *d->cancel)
            return er_error_set(err, ER_ECANCELLED, "%s: cancelled", what);
        return er_error_set(err, ER_ETIMEDOUT,
                            "%s: stopped after %ld ms (the time cap); "
                            "narrow it down (WHERE, LIMIT) or raise max_ms",
                            what, d->cap_ms);
    }
    int rc = code == SQLITE_BUSY || code == SQLITE_LOCKED                             ? ER_EUNAVAIL
             : code == SQLITE_AUTH || code == SQLITE_READONLY                         ? ER_EDENIED
             : code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_CANTOPEN ? ER_EIO
                                                                                      : ER_EINVAL;
    return er_error_set(err, rc, "%s: %s", what, sqlite3_errmsg(d->db));
}

int er_data_open(er_data **out, const char *path, er_error *err)
{
    int rc = make_parent(path, err);
    if (rc)
        return rc;
    er_data *d = er_xcalloc(1, sizeof *d);
    d->path = er_xstrdup(path);
    if (sqlite3_open_v2(path, &d->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = er_error_set(err, ER_EIO, "cannot open the data database %s: %s", path,
                          d->db ? sqlite3_errmsg(d->db) : "out of memory");
        er_data_close(d);
        return rc;
    }
    sqlite3_busy_timeout(d->db, 10000);
    er_data_vtab_register(d->db, path);
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_progress_handler(d->db, 10000, progress, d);
    char *msg = NULL;
    if (sqlite3_exec(d->db, "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(d->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        rc = er_error_set(err, ER_EIO, "data database %s: %s", path,
                          msg ? msg : sqlite3_errmsg(d->db));
        sqlite3_free(msg);
        er_data_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

void er_data_close(er_data *d)
{
    if (!d)
        return;
    sqlite3_close_v2(d->db);
    free(d->path);
    free(d);
}

sqlite3 *er_data_db(er_data *d)
{
    return d->db;
}

void er_data_set_cancel(er_data *d, const volatile int *flag)
{
    d->cancel = flag;
}

char *er_data_quote_ident(const char *name)
{
    er_buf b = ER_BUF_INIT;
    er_buf_putc(&b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            er_buf_putc(&b, '"');
        er_buf_putc(&b, *p);
    }
    er_buf_putc(&b, '"');
    return er_buf_detach(&b);
}

/* ---- the tables ---- */

static cJSON *column_json(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    cJSON *c = text ? cJSON_Parse(text) : NULL;
    return c ? c : cJSON_CreateArray();
}

int er_data_tables(er_data *d, cJSON **out, er_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT name, display, format, rows, bad_rows, columns, "
                           "version, loaded_ms FROM _errand_tables ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return er_data_sqlite_error(d, err, "listing the tables");
    cJSON *arr = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *t = cJSON_CreateObject();
        er_json_add_str(t, "table", (const char *)sqlite3_column_text(st, 0));
        er_json_add_str(t, "source", (const char *)sqlite3_column_text(st, 1));
        er_json_add_str(t, "format", (const char *)sqlite3_column_text(st, 2));
        er_json_add_num(t, "rows", (double)sqlite3_column_int64(st, 3));
        if (sqlite3_column_int64(st, 4))
            er_json_add_num(t, "bad_rows", (double)sqlite3_column_int64(st, 4));
        cJSON *cols = column_json(st, 5), *brief = cJSON_CreateArray(), *c;
        cJSON_ArrayForEach(c, cols)
        {
            char *s = er_xasprintf("%s %s", er_json_str(c, "name"), er_json_str(c, "type"));
            er_json_append(brief, cJSON_CreateString(s));
            free(s);
        }
        cJSON_Delete(cols);
        er_json_add(t, "columns", brief);
        er_json_add_num(t, "version", (double)sqlite3_column_int64(st, 6));
        char ts[32];
        er_time_iso(sqlite3_column_int64(st, 7), ts, sizeof ts);
        er_json_add_str(t, "loaded", ts);
        er_json_append(arr, t);
    }
    sqlite3_finalize(st);
    *out = arr;
    return 0;
}

/* "a, b, c": the loaded tables, for messages. */
static char *table_names(er_data *d)
{
    sqlite3_stmt *st;
    er_buf b = ER_BUF_INIT;
    if (sqlite3_prepare_v2(d->db, "SELECT name FROM _errand_tables ORDER BY name", -1, &st, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            er_buf_printf(&b, "%s%s", b.len ? ", " : "", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (!b.len)
        er_buf_puts(&b, "none yet; load a file first");
    return er_buf_detach(&b);
}

int er_data_no_table(er_data *d, const char *table, er_error *err)
{
    char *names = table_names(d);
    int rc = er_error_set(err, ER_ENOTFOUND, "no table '%s' (loaded tables: %s)", table, names);
    free(names);
    return rc;
}

int er_data_columns(er_data *d, const char *table, cJSON **out, er_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "SELECT columns FROM _errand_tables WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return er_data_sqlite_error(d, err, "reading the columns");
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = column_json(st, 0);
    else
        rc = er_data_no_table(d, table, err);
    sqlite3_finalize(st);
    return rc;
}

int64_t er_data_table_version(er_data *d, const char *table)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(d->db, "SELECT version FROM _errand_tables WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

char *er_data_versions_key(er_data *d)
{
    sqlite3_stmt *st;
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, d->path);
    if (sqlite3_prepare_v2(d->db, "SELECT name, version FROM _errand_tables ORDER BY name", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            er_buf_printf(&b, "|%s=%lld", sqlite3_column_text(st, 0),
                          (long long)sqlite3_column_int64(st, 1));
        sqlite3_finalize(st);
    }
    return er_buf_detach(&b);
}

int64_t er_data_next_version(er_data *d)
{
    sqlite3_exec(d->db,
                 "INSERT INTO _errand_meta VALUES('version', 1) ON CONFLICT(key) DO "
                 "UPDATE SET value = value + 1",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    int64_t v = 1;
    if (sqlite3_prepare_v2(d->db, "SELECT value FROM _errand_meta WHERE key = 'version'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

void er_data_deadline(er_data *d, long ms)
{
    d->cap_ms = ms;
    d->deadline_ms = ms > 0 ? er_mono_ms() + ms : 0;
}

int er_data_open_columns(er_data *d, const char *table, er_colr **out, er_error *err)
{
    *out = NULL;
    char *file = er_data_vtab_file(d->db, table);
    if (!file)
        return ER_ENOTFOUND;
    char *dir = er_data_tables_dir(d->path), *path = er_xasprintf("%s/%s", dir, file);
    int rc = er_colr_open(out, path, err);
    free(dir);
    free(path);
    free(file);
    return rc;
}

/* ---- column files no table reads ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A load's file whose process is gone ("load-PID-N.tmp"). */
static bool orphan_load(const char *name)
{
    if (strncmp(name, "load-", 5) != 0 || !ends_with(name, ".tmp"))
        return false;
    long pid = strtol(name + 5, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void er_data_gc(er_data *d)
{
    /* Under the write lock: a load renames its file and creates its table in
     * one transaction, so every file named by a committed table is seen. */
    if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return;
    er_strmap used;
    er_strmap_init(&used);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT sql FROM sqlite_schema WHERE sql LIKE "
                           "'%errand_columns(%'",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            char *f = er_data_vtab_sql_file((const char *)sqlite3_column_text(st, 0));
            if (f)
                er_strmap_put(&used, f, strlen(f), 1);
            free(f);
        }
        sqlite3_finalize(st);
    }
    char *dir = er_data_tables_dir(d->path);
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL) {
        bool stale = ends_with(e->d_name, ".cols") &&
                     er_strmap_get(&used, e->d_name, strlen(e->d_name)) == SIZE_MAX;
        if (stale || orphan_load(e->d_name)) {
            char *p = er_xasprintf("%s/%s", dir, e->d_name);
            unlink(p);
            free(p);
        }
    }
    if (dh)
        closedir(dh);
    free(dir);
    er_strmap_release(&used);
    sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL);
}
