/* load.c — a file into a table of the data database.
 *
 * One streaming pass over the source: each value narrows its column's type
 * (from every value of the column, not the first rows) and goes into the
 * table's column file (colfile.h) as the type the column has so far; bad
 * rows are reported and skipped as they come.  An integer column that turns
 * real converts what it holds.  Only a column that turns to text after
 * numbers were stored for it needs the file read again, with the types then
 * known.  The new table — a virtual table over the new file (vtab.c) —
 * replaces the old one in one short transaction, so a failed or cancelled
 * load leaves the previous table as it was. */
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "colfile.h"
#include "data_db.h"
#include "data_vtab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Why a column that looked typed ended up text: its first misfit value. */
typedef struct misfit {
    er_dtype was;
    long line;
    char value[48];
} misfit;

typedef struct loader {
    er_data *d;
    const er_data_load_opts *o;
    er_src *src;
    er_infer *infer;
    er_dtype *now; /* each column's type so far */
    bool *numeric; /* numbers (or booleans) were stored for the column */
    misfit *why;
    int64_t *nulls;
    er_dtype *types;
    size_t ncols, ccols;
    int64_t rows, bad;
    cJSON *bad_list;
    char *table;
    struct stat st;
    bool wide; /* over SQLITE_COLUMNS_MAX columns: shown long */
    bool redo; /* a column turned to text after numbers: read again */
    er_colw *w;
    char *tmp; /* the column file being written */
} loader;

/* SQLite's default limit on columns; wider files are shown long:
 * (row, column, value), one row per non-null cell. */
#define SQLITE_COLUMNS_MAX 2000

size_t er_src_add_column(er_src *s, const char *name, size_t len)
{
    s->names = er_xrealloc(s->names, (s->ncols + 1) * sizeof *s->names);
    s->names[s->ncols] = er_xmalloc(len + 1);
    memcpy(s->names[s->ncols], name, len);
    s->names[s->ncols][len] = '\0';
    return s->ncols++;
}

void er_src_release(er_src *s)
{
    for (size_t i = 0; i < s->ncols; i++)
        free(s->names[i]);
    free(s->names);
    free(s->format);
    cJSON_Delete(s->notes);
}

/* ---- formats ---- */

static const struct {
    const char *ext, *format;
} extensions[] = {
    { ".csv", "csv" },   { ".tsv", "tsv" },     { ".tab", "tsv" },      { ".txt", "csv" },
    { ".json", "json" }, { ".jsonl", "jsonl" }, { ".ndjson", "jsonl" }, { ".xlsx", "xlsx" },
};

static const char *format_of(const char *path)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(extensions); i++) {
        size_t n = strlen(extensions[i].ext), m = strlen(path);
        if (m > n && strcasecmp(path + m - n, extensions[i].ext) == 0)
            return extensions[i].format;
    }
    return NULL;
}

/* Without a known extension: the first bytes say JSON, JSON Lines or xlsx (a zip). */
static const char *sniff_format(const char *path)
{
    FILE *f = fopen(path, "rb");
    char buf[512];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    if (n >= 2 && buf[0] == 'P' && buf[1] == 'K')
        return "xlsx";
    size_t i = 0;
    while (i < n && strchr(" \t\r\n\xEF\xBB\xBF", buf[i]))
        i++;
    return i < n && buf[i] == '[' ? "json" : i < n && buf[i] == '{' ? "jsonl" : "csv";
}

static int open_source(er_src **out, const er_data_load_opts *o, er_error *err)
{
    const char *fmt = o->format && *o->format ? o->format : format_of(o->path);
    if (!fmt)
        fmt = sniff_format(o->path);
    if (strcmp(fmt, "csv") == 0 || strcmp(fmt, "tsv") == 0)
        return er_csv_src_open(out, o, fmt, err);
    if (strcmp(fmt, "json") == 0 || strcmp(fmt, "jsonl") == 0)
        return er_json_src_open(out, o, strcmp(fmt, "jsonl") == 0, err);
    if (strcmp(fmt, "xlsx") == 0)
        return er_xlsx_src_open(out, o, err);
    return er_error_set(err, ER_EINVAL, "format '%s' is not one of csv, tsv, json, jsonl, xlsx",
                        fmt);
}

/* ---- the pass: types, bad rows, values ---- */

static void grow_columns(loader *l, size_t n)
{
    if (n <= l->ccols)
        return;
    size_t c = n * 2;
    l->infer = er_xrealloc(l->infer, c * sizeof *l->infer);
    l->now = er_xrealloc(l->now, c * sizeof *l->now);
    l->numeric = er_xrealloc(l->numeric, c * sizeof *l->numeric);
    l->why = er_xrealloc(l->why, c * sizeof *l->why);
    l->nulls = er_xrealloc(l->nulls, c * sizeof *l->nulls);
    for (size_t i = l->ccols; i < c; i++) {
        er_infer_init(&l->infer[i]);
        l->now[i] = ER_DT_TEXT;
        l->numeric[i] = false;
        memset(&l->why[i], 0, sizeof l->why[i]);
        l->nulls[i] = 0;
    }
    l->ccols = c;
}

static void report(loader *l, long line, const char *reason, const char *action)
{
    l->bad++;
    if (cJSON_GetArraySize(l->bad_list) >= ER_DATA_BAD_LIST_MAX)
        return;
    cJSON *b = cJSON_CreateObject();
    char *at = er_xasprintf("%s:%ld", l->o->display, line);
    er_json_add_str(b, "at", at);
    er_json_add_num(b, "line", (double)line);
    er_json_add_str(b, "reason", reason);
    er_json_add_str(b, "action", action);
    er_json_append(l->bad_list, b);
    free(at);
}

/* Are the fields past the columns all empty (a trailing delimiter)? */
static bool extra_empty(const er_cell *cells, size_t n, size_t ncols)
{
    for (size_t i = ncols; i < n; i++)
        if (cells[i].p && !er_infer_is_null(cells[i].p, cells[i].n))
            return false;
    return true;
}

/* What to do with a row: 0 load it, 1 skip it (reported). */
static int check_row(loader *l, const er_cell *cells, size_t n, bool report_it)
{
    size_t ncols = l->src->ncols;
    char why[160];
    if (n == 0 && l->src->problem) {
        if (report_it)
            report(l, l->src->line, l->src->problem, "skipped");
        return 1;
    }
    if (n > ncols && !extra_empty(cells, n, ncols)) {
        snprintf(why, sizeof why, "%zu fields where the header has %zu", n, ncols);
        if (report_it)
            report(l, l->src->line, why, "skipped");
        return 1;
    }
    if (!report_it)
        return 0;
    if (l->src->problem)
        report(l, l->src->line, l->src->problem, "loaded as read");
    else if (n < ncols && strcmp(l->src->format, "csv") == 0)
        report(l, l->src->line,
               (snprintf(why, sizeof why,
                         "%zu fields where the header has "
                         "%zu",
                         n, ncols),
                why),
               "loaded, missing fields NULL");
    return 0;
}

static void note_misfit(loader *l, size_t col, const char *p, size_t n, er_dtype was)
{
    misfit *m = &l->why[col];
    if (m->line)
        return;
    m->was = was;
    m->line = l->src->line;
    snprintf(m->value, sizeof m->value, "%.*s", (int)(n < 40 ? n : 40), p);
}

/* A value into the column file as its column's type so far.  Text after
 * numbers cannot go there: the file is read again (redo). */
static void store(loader *l, size_t i, er_dtype t, const er_num *v, const char *p, size_t n)
{
    switch (t) {
    case ER_DT_INTEGER: er_colw_i64(l->w, i, v->i); break;
    case ER_DT_REAL: er_colw_f64(l->w, i, v->f); break;
    case ER_DT_BOOLEAN: er_colw_u8(l->w, i, v->b); break;
    default:
        if (l->numeric[i])
            l->redo = true;
        else
            er_colw_text(l->w, i, p, n);
        return;
    }
    l->numeric[i] = true;
}

static bool is_null(const er_cell *c)
{
    return !c->p || er_infer_is_null(c->p, c->n);
}

static void infer_row(loader *l, const er_cell *cells, size_t n)
{
    size_t ncols = l->src->ncols;
    grow_columns(l, ncols);
    for (size_t i = 0; i < ncols; i++) {
        if (i >= n || is_null(&cells[i])) {
            l->nulls[i]++;
            if (!l->redo)
                er_colw_null(l->w, i);
            continue;
        }
        er_dtype before = l->now[i];
        er_num v;
        er_dtype t = er_infer_scan(&l->infer[i], cells[i].p, cells[i].n, &v);
        l->now[i] = t;
        if (before != ER_DT_TEXT && t == ER_DT_TEXT)
            note_misfit(l, i, cells[i].p, cells[i].n, before);
        if (!l->redo)
            store(l, i, t, &v, cells[i].p, cells[i].n);
    }
}

/* The second reading: every value as its column's final type. */
static void typed_row(loader *l, const er_cell *cells, size_t n)
{
    for (size_t i = 0; i < l->ncols && i < n; i++) {
        if (is_null(&cells[i]))
            continue;
        er_infer in;
        er_num v;
        er_infer_init(&in);
        er_dtype t = er_infer_scan(&in, cells[i].p, cells[i].n, &v);
        bool num = t == ER_DT_INTEGER || t == ER_DT_REAL;
        if (l->types[i] == ER_DT_INTEGER && t == ER_DT_INTEGER)
            er_colw_i64(l->w, i, v.i);
        else if (l->types[i] == ER_DT_REAL && num)
            er_colw_f64(l->w, i, v.f);
        else if (l->types[i] == ER_DT_BOOLEAN && t == ER_DT_BOOLEAN)
            er_colw_u8(l->w, i, v.b);
        else if (!er_dtype_numeric(l->types[i]))
            er_colw_text(l->w, i, cells[i].p, cells[i].n);
        /* else: the file changed under the load (caught after the pass) */
    }
}

/* Reads the source through; first: inferring, reporting and counting. */
static int scan(loader *l, bool first, er_error *err)
{
    const er_cell *cells;
    size_t n;
    int rc;
    while ((rc = l->src->ops->next(l->src, &cells, &n, err)) == 1) {
        if (l->d->cancel && *l->d->cancel)
            return er_error_set(err, ER_ECANCELLED, "loading %s: cancelled", l->o->display);
        if (check_row(l, cells, n, first))
            continue;
        if (first) {
            infer_row(l, cells, n);
            l->rows++;
        } else {
            typed_row(l, cells, n);
        }
        if (!l->redo && (rc = er_colw_end_row(l->w, err)) != 0)
            return rc;
    }
    return rc < 0 ? rc : 0;
}

/* The column file, written beside the database under a name no other load uses. */
static int start_file(loader *l, er_error *err)
{
    static unsigned counter;
    char *dir = er_data_tables_dir(l->d->path);
    int rc = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        rc = er_error_set(err, ER_EIO, "cannot create %s: %s", dir, strerror(errno));
    free(l->tmp);
    l->tmp = er_xasprintf("%s/load-%ld-%u.tmp", dir, (long)getpid(),
                          __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    free(dir);
    return rc ? rc : er_colw_open(&l->w, l->tmp, err);
}

/* A column turned to text after numbers were stored: the file again, types known. */
static int read_again(loader *l, er_error *err)
{
    er_colw_abort(l->w);
    l->w = NULL;
    l->redo = false;
    int rc = l->src->ops->rewind(l->src, err);
    if (rc == 0)
        rc = start_file(l, err);
    if (rc == 0)
        rc = scan(l, false, err);
    struct stat now;
    if (rc == 0 && (stat(l->o->path, &now) != 0 || now.st_size != l->st.st_size ||
                    now.st_mtim.tv_sec != l->st.st_mtim.tv_sec ||
                    now.st_mtim.tv_nsec != l->st.st_mtim.tv_nsec))
        rc = er_error_set(err, ER_EUNAVAIL, "%s changed while it was loaded; load it again",
                          l->o->display);
    return rc;
}

static int run_pass(loader *l, er_error *err)
{
    int rc = start_file(l, err);
    if (rc == 0)
        rc = scan(l, true, err);
    if (rc)
        return rc;
    l->ncols = l->src->ncols;
    grow_columns(l, l->ncols);
    l->types = er_xcalloc(l->ncols + 1, sizeof *l->types);
    for (size_t i = 0; i < l->ncols; i++)
        l->types[i] = er_infer_type(&l->infer[i]);
    return l->redo ? read_again(l, err) : 0;
}

static const char *sql_type(er_dtype t)
{
    static const char *const names[] = { "INTEGER", "REAL", "BOOLEAN", "DATE", "DATETIME", "TEXT" };
    return (unsigned)t < ER_DT_COUNT ? names[t] : "TEXT";
}

static int exec(er_data *d, const char *sql, er_error *err, const char *what)
{
    return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : er_data_sqlite_error(d, err, what);
}

/* DROP the old table and CREATE the virtual table over file. */
static char *create_sql(const loader *l, const char *file)
{
    char *qt = er_data_quote_ident(l->table);
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b,
                  "DROP TABLE IF EXISTS %s; CREATE VIRTUAL TABLE %s USING "
                  "errand_columns('%s', '%s'",
                  qt, qt, file, l->wide ? "long" : "columns");
    for (size_t i = 0; i < l->ncols && !l->wide; i++) {
        char *c = er_data_quote_ident(l->src->names[i]);
        er_buf_printf(&b, ", %s %s", c, sql_type(l->types[i]));
        free(c);
    }
    er_buf_puts(&b, ")");
    free(qt);
    return er_buf_detach(&b);
}

/* ---- the result and the bookkeeping ---- */

static cJSON *columns_json(const loader *l, char **original, bool detailed)
{
    cJSON *arr = cJSON_CreateArray();
    if (l->wide) {
        static const char *const longcols[][2] = { { "row", "integer" },
                                                   { "column", "text" },
                                                   { "value", "mixed" } };
        for (size_t i = 0; i < 3; i++) {
            cJSON *c = cJSON_CreateObject();
            er_json_add_str(c, "name", longcols[i][0]);
            er_json_add_str(c, "type", longcols[i][1]);
            er_json_append(arr, c);
        }
        return arr;
    }
    for (size_t i = 0; i < l->ncols; i++) {
        cJSON *c = cJSON_CreateObject();
        er_json_add_str(c, "name", l->src->names[i]);
        er_json_add_str(c, "type", er_dtype_name(l->types[i]));
        if (detailed) {
            er_json_add_num(c, "nulls", (double)l->nulls[i]);
            if (original && strcmp(original[i], l->src->names[i]) != 0)
                er_json_add_str(c, "source_name", original[i]);
            if (l->why[i].line && l->types[i] == ER_DT_TEXT) {
                char *why = er_xasprintf("text, not %s, because of '%s' at %s:%ld",
                                         er_dtype_name(l->why[i].was), l->why[i].value,
                                         l->o->display, l->why[i].line);
                er_json_add_str(c, "why_text", why);
                free(why);
            }
        }
        er_json_append(arr, c);
    }
    return arr;
}

static char *options_json(const er_data_load_opts *o, const char *format)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "format", format);
    if (o->sheet)
        er_json_add_str(j, "sheet", o->sheet);
    if (o->encoding)
        er_json_add_str(j, "encoding", o->encoding);
    er_json_add_num(j, "header", o->header);
    if (o->delimiter) {
        char dl[2] = { o->delimiter, 0 };
        er_json_add_str(j, "delimiter", dl);
    }
    char *s = er_json_print(j);
    cJSON_Delete(j);
    return s;
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int record(loader *l, int64_t version, er_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->d->db,
                           "INSERT OR REPLACE INTO _errand_tables VALUES("
                           "?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return er_data_sqlite_error(l->d, err, "recording the table");
    cJSON *cols = columns_json(l, NULL, false);
    char *cols_text = er_json_print(cols), *opts = options_json(l->o, l->src->format);
    sqlite3_bind_text(st, 1, l->table, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, l->o->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, l->o->display, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, l->src->format, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, opts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (int64_t)l->st.st_size);
    sqlite3_bind_int64(st, 7, mtime_ns(&l->st));
    sqlite3_bind_int64(st, 8, l->rows);
    sqlite3_bind_int64(st, 9, l->bad);
    sqlite3_bind_text(st, 10, cols_text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, version);
    sqlite3_bind_int64(st, 12, er_time_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : er_data_sqlite_error(l->d, err, "recording the table");
    free(cols_text);
    free(opts);
    cJSON_Delete(cols);
    sqlite3_finalize(st);
    return rc;
}

/* The column file becomes the table: renamed to its version, the virtual
 * table created over it and recorded, in one transaction. */
static int commit(loader *l, er_error *err)
{
    int rc = exec(l->d, "BEGIN IMMEDIATE", err, "recording the table");
    if (rc)
        return rc;
    int64_t version = er_data_next_version(l->d);
    char *dir = er_data_tables_dir(l->d->path),
         *file = er_xasprintf("%lld.cols", (long long)version);
    char *final = er_xasprintf("%s/%s", dir, file), *sql = create_sql(l, file);
    if (rename(l->tmp, final) != 0)
        rc = er_error_set(err, ER_EIO, "cannot rename %s: %s", l->tmp, strerror(errno));
    if (rc == 0)
        rc = exec(l->d, sql, err, "creating the table");
    if (rc == 0)
        rc = record(l, version, err);
    if (rc == 0)
        rc = exec(l->d, "COMMIT", err, "committing the load");
    if (rc) {
        sqlite3_exec(l->d->db, "ROLLBACK", NULL, NULL, NULL);
        unlink(final);
    }
    free(dir);
    free(file);
    free(final);
    free(sql);
    return rc;
}

static cJSON *result_json(loader *l, char **original)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "table", l->table);
    er_json_add_str(o, "source", l->o->display);
    er_json_add_str(o, "format", l->src->format);
    er_json_add_num(o, "rows", (double)l->rows);
    er_json_add(o, "columns", columns_json(l, original, true));
    if (l->wide) {
        char note[200];
        snprintf(note, sizeof note,
                 "%zu columns is over SQLite's %d: shown long, one row per "
                 "value: (row, column, value); e.g. WHERE \"column\" = '%s'",
                 l->ncols, SQLITE_COLUMNS_MAX, l->src->names[0]);
        er_json_add_num(o, "wide_columns", (double)l->ncols);
        er_json_add_str(o, "wide_note", note);
    }
    er_json_add_num(o, "bad_rows", (double)l->bad);
    if (l->bad) {
        er_json_add(o, "bad", l->bad_list);
        l->bad_list = NULL;
        if (l->bad > ER_DATA_BAD_LIST_MAX)
            er_json_add_str(o, "bad_note", "only the first 50 bad rows are listed");
    }
    if (cJSON_GetArraySize(l->src->notes) > 0) {
        er_json_add(o, "notes", l->src->notes);
        l->src->notes = NULL;
    }
    return o;
}

/* The table name: given, else the file's base name without its extension. */
static char *table_name(const er_data_load_opts *o)
{
    if (o->table && *o->table)
        return er_xstrdup(o->table);
    const char *base = strrchr(o->path, '/');
    base = base ? base + 1 : o->path;
    const char *dot = strrchr(base, '.');
    char *raw = er_xstrndup(base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
    char *names[1] = { raw };
    bool changed;
    er_data_clean_names(names, 1, &changed);
    return names[0];
}

/* Has the file changed since the table was loaded (or is it a new table)? */
static bool unchanged(loader *l, cJSON **out)
{
    sqlite3_stmt *st;
    bool same = false;
    if (sqlite3_prepare_v2(l->d->db,
                           "SELECT rows, bad_rows, columns, format FROM _errand_tables "
                           "WHERE name = ? AND source = ? AND size = ? AND mtime_ns = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, l->table, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, l->o->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)l->st.st_size);
    sqlite3_bind_int64(st, 4, mtime_ns(&l->st));
    if (sqlite3_step(st) == SQLITE_ROW) {
        same = true;
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "table", l->table);
        er_json_add_str(o, "source", l->o->display);
        er_json_add_str(o, "format", (const char *)sqlite3_column_text(st, 3));
        er_json_add_num(o, "rows", (double)sqlite3_column_int64(st, 0));
        const char *cols = (const char *)sqlite3_column_text(st, 2);
        cJSON *c = cols ? cJSON_Parse(cols) : NULL;
        er_json_add(o, "columns", c ? c : cJSON_CreateArray());
        er_json_add_num(o, "bad_rows", (double)sqlite3_column_int64(st, 1));
        er_json_add_bool(o, "unchanged", true);
        er_json_add_str(o, "note",
                        "the file has not changed since it was loaded; not read "
                        "again (force=true reloads it)");
        *out = o;
    }
    sqlite3_finalize(st);
    return same;
}

static int run_load(loader *l, cJSON **out, er_error *err)
{
    int rc = open_source(&l->src, l->o, err);
    if (rc == 0)
        rc = run_pass(l, err);
    if (rc == 0 && l->ncols == 0)
        rc = er_error_set(err, ER_EINVAL, "%s has no columns; nothing to load", l->o->display);
    if (rc)
        return rc;
    char **original = er_xcalloc(l->ncols, sizeof *original);
    for (size_t i = 0; i < l->ncols; i++)
        original[i] = er_xstrdup(l->src->names[i]);
    bool changed;
    er_data_clean_names(l->src->names, l->ncols, &changed);
    l->wide = l->ncols > SQLITE_COLUMNS_MAX;
    er_colw *w = l->w;
    l->w = NULL;
    rc = er_colw_finish(w, l->src->names, l->types, l->ncols, err);
    if (rc == 0 && (rc = commit(l, err)) == 0)
        er_data_gc(l->d);
    if (rc == 0)
        *out = result_json(l, original);
    for (size_t i = 0; i < l->ncols; i++)
        free(original[i]);
    free(original);
    return rc;
}

int er_data_load(er_data *d, const er_data_load_opts *o, cJSON **out, er_error *err)
{
    loader l = { .d = d, .o = o, .bad_list = cJSON_CreateArray(), .table = table_name(o) };
    int rc = 0;
    if (stat(o->path, &l.st) != 0)
        rc = er_error_set(err, ER_ENOTFOUND, "no file %s", o->display);
    else if (!S_ISREG(l.st.st_mode))
        rc = er_error_set(err, ER_EINVAL, "%s is not a regular file", o->display);
    else if (strncmp(l.table, "_errand_", 8) == 0)
        rc = er_error_set(err, ER_EINVAL, "table names starting with _errand_ are errand's own");
    if (rc == 0 && (o->force || !unchanged(&l, out)))
        rc = run_load(&l, out, err);
    er_colw_abort(l.w); /* a load that failed on the way */
    if (l.tmp)
        unlink(l.tmp);
    if (l.src)
        l.src->ops->close(l.src);
    cJSON_Delete(l.bad_list);
    free(l.infer);
    free(l.now);
    free(l.numeric);
    free(l.why);
    free(l.nulls);
    free(l.types);
    free(l.table);
    free(l.tmp);
    return rc;
}

/* ---- refreshing tables whose files changed ---- */

typedef struct stale {
    char *name, *source, *display, *options;
} stale;

static void options_from(er_data_load_opts *o, const cJSON *j, char *delim)
{
    o->format = er_json_str(j, "format");
    o->sheet = er_json_str(j, "sheet");
    o->encoding = er_json_str(j, "encoding");
    o->header = (int)er_json_int(j, "header", -1, -1, 1);
    const char *dl = er_json_str(j, "delimiter");
    *delim = dl && *dl ? dl[0] : 0;
    o->delimiter = *delim;
}

/* The tables (all, or one) whose source's size or mtime differ from the record. */
static size_t find_stale(er_data *d, const char *table, stale **out)
{
    sqlite3_stmt *st;
    size_t n = 0;
    *out = NULL;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT name, source, display, options, size, mtime_ns FROM "
                           "_errand_tables WHERE ?1 IS NULL OR name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct stat sb;
        const char *src = (const char *)sqlite3_column_text(st, 1);
        if (!src || stat(src, &sb) != 0)
            continue; /* gone: the table stays as it was */
        if ((int64_t)sb.st_size == sqlite3_column_int64(st, 4) &&
            mtime_ns(&sb) == sqlite3_column_int64(st, 5))
            continue;
        *out = er_xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] =
            (stale){ er_xstrdup((const char *)sqlite3_column_text(st, 0)), er_xstrdup(src),
                     er_xstrdup((const char *)sqlite3_column_text(st, 2)),
                     er_xstrdup((const char *)sqlite3_column_text(st, 3)) };
    }
    sqlite3_finalize(st);
    return n;
}

int er_data_refresh(er_data *d, const char *table, cJSON **reloaded, er_error *err)
{
    stale *v;
    size_t n = find_stale(d, table, &v);
    int rc = 0;
    if (reloaded)
        *reloaded = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *opts = cJSON_Parse(v[i].options ? v[i].options : "{}");
        char delim;
        er_data_load_opts o = { .path = v[i].source,
                                .display = v[i].display ? v[i].display : v[i].source,
                                .table = v[i].name,
                                .force = true };
        options_from(&o, opts, &delim);
        cJSON *res = NULL;
        if (rc == 0)
            rc = er_data_load(d, &o, &res, err);
        if (rc == 0 && reloaded)
            er_json_append(*reloaded, cJSON_CreateString(v[i].name));
        if (rc)
            er_error_prefix(err, "%s changed and could not be loaded again", o.display);
        cJSON_Delete(res);
        cJSON_Delete(opts);
        free(v[i].name);
        free(v[i].source);
        free(v[i].display);
        free(v[i].options);
    }
    free(v);
    return rc;
}
