/* load.c — a file into a table of the data database.
 *
 * Two streaming passes over the source: the first infers each column's type
 * from all of its values and finds the bad rows; the second inserts, each
 * value converted to its column's type.  The rows go into a scratch table
 * that replaces the old one in one transaction, so a failed or cancelled load
 * leaves the previous table as it was. */
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "data_db.h"
#include "data_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
    misfit *why;
    int64_t *nulls;
    er_dtype *types;
    size_t ncols, ccols;
    int64_t rows, bad;
    cJSON *bad_list;
    char *table;
    struct stat st;
    bool wide;               /* over SQLITE_COLUMNS_MAX columns: stored long */
    int64_t row;             /* pass 2: the data row being inserted */
} loader;

/* SQLite's default limit on columns; wider files are stored long:
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
    { ".csv", "csv" }, { ".tsv", "tsv" }, { ".tab", "tsv" }, { ".txt", "csv" },
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

/* ---- pass 1: types and bad rows ---- */

static void grow_columns(loader *l, size_t n)
{
    if (n <= l->ccols)
        return;
    size_t c = n * 2;
    l->infer = er_xrealloc(l->infer, c * sizeof *l->infer);
    l->why = er_xrealloc(l->why, c * sizeof *l->why);
    l->nulls = er_xrealloc(l->nulls, c * sizeof *l->nulls);
    for (size_t i = l->ccols; i < c; i++) {
        er_infer_init(&l->infer[i]);
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
        report(l, l->src->line, (snprintf(why, sizeof why, "%zu fields where the header has "
                                          "%zu", n, ncols), why), "loaded, missing fields NULL");
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

static void infer_row(loader *l, const er_cell *cells, size_t n)
{
    size_t ncols = l->src->ncols;
    grow_columns(l, ncols);
    for (size_t i = 0; i < ncols; i++) {
        if (i >= n || !cells[i].p || er_infer_is_null(cells[i].p, cells[i].n)) {
            l->nulls[i]++;
            continue;
        }
        er_infer *in = &l->infer[i];
        er_dtype before = in->values ? er_infer_type(in) : ER_DT_TEXT;
        er_infer_value(in, cells[i].p, cells[i].n);
        if (before != ER_DT_TEXT && er_infer_type(in) == ER_DT_TEXT)
            note_misfit(l, i, cells[i].p, cells[i].n, before);
    }
}

static int pass_one(loader *l, er_error *err)
{
    const er_cell *cells;
    size_t n;
    int rc;
    while ((rc = l->src->ops->next(l->src, &cells, &n, err)) == 1) {
        if ((l->d->cancel && *l->d->cancel))
            return er_error_set(err, ER_ECANCELLED, "loading %s: cancelled", l->o->display);
        if (check_row(l, cells, n, true))
            continue;
        infer_row(l, cells, n);
        l->rows++;
    }
    if (rc < 0)
        return rc;
    l->ncols = l->src->ncols;
    grow_columns(l, l->ncols);
    l->types = er_xcalloc(l->ncols + 1, sizeof *l->types);
    for (size_t i = 0; i < l->ncols; i++)
        l->types[i] = er_infer_type(&l->infer[i]);
    return 0;
}

/* ---- pass 2: insert ---- */

static const char *sql_type(er_dtype t)
{
    static const char *const names[] = { "INTEGER", "REAL", "BOOLEAN", "DATE", "DATETIME",
                                         "TEXT" };
    return (unsigned)t < ER_DT_COUNT ? names[t] : "TEXT";
}

static char *scratch_name(const loader *l)
{
    return er_xasprintf("_errand_loading_%s", l->table);
}

static int exec(er_data *d, const char *sql, er_error *err, const char *what)
{
    return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? 0 : er_data_sqlite_error(d, err, what);
}

static int create_scratch(loader *l, sqlite3_stmt **ins, er_error *err)
{
    char *name = scratch_name(l), *q = er_data_quote_ident(name);
    er_buf sql = ER_BUF_INIT, vals = ER_BUF_INIT;
    er_buf_printf(&sql, "DROP TABLE IF EXISTS %s", q);
    int rc = exec(l->d, sql.ptr, err, "preparing the load");
    er_buf_reset(&sql);
    er_buf_printf(&sql, "CREATE TABLE %s(", q);
    if (l->wide)
        er_buf_puts(&vals, "?,?,?");
    for (size_t i = 0; i < l->ncols && l->wide; i = l->ncols)
        er_buf_puts(&sql, "\"row\" INTEGER, \"column\" TEXT, \"value\"");
    for (size_t i = 0; i < l->ncols && !l->wide; i++) {
        char *c = er_data_quote_ident(l->src->names[i]);
        er_buf_printf(&sql, "%s%s %s", i ? ", " : "", c, sql_type(l->types[i]));
        er_buf_puts(&vals, i ? ",?" : "?");
        free(c);
    }
    er_buf_puts(&sql, ")");
    if (rc == 0)
        rc = exec(l->d, sql.ptr, err, "creating the table");
    er_buf_reset(&sql);
    er_buf_printf(&sql, "INSERT INTO %s VALUES(%s)", q, er_buf_cstr(&vals));
    if (rc == 0 && sqlite3_prepare_v2(l->d->db, sql.ptr, -1, ins, NULL) != SQLITE_OK)
        rc = er_data_sqlite_error(l->d, err, "preparing the insert");
    er_buf_release(&sql);
    er_buf_release(&vals);
    free(name);
    free(q);
    return rc;
}

static void bind_value(loader *l, sqlite3_stmt *ins, int k, size_t col, const char *p,
                       size_t n)
{
    int64_t iv;
    double dv;
    bool bv;
    switch (l->types[col]) {
    case ER_DT_INTEGER:
        if (er_data_parse_int(p, n, l->infer[col].thousands, &iv) == 0) {
            sqlite3_bind_int64(ins, k, iv);
            return;
        }
        break;
    case ER_DT_REAL:
        if (er_data_parse_real(p, n, l->infer[col].thousands, &dv) == 0) {
            sqlite3_bind_double(ins, k, dv);
            return;
        }
        break;
    case ER_DT_BOOLEAN:
        if (er_data_parse_bool(p, n, &bv) == 0) {
            sqlite3_bind_int(ins, k, bv);
            return;
        }
        break;
    case ER_DT_DATE:
    case ER_DT_DATETIME:
        p = er_data_trim(p, &n);
        break;
    default:
        break;
    }
    sqlite3_bind_text(ins, k, p, (int)n, SQLITE_STATIC);
}

/* Long form: one row per non-null cell. */
static int insert_long(loader *l, sqlite3_stmt *ins, const er_cell *cells, size_t n,
                       er_error *err)
{
    l->row++;
    for (size_t i = 0; i < l->ncols && i < n; i++) {
        if (!cells[i].p || er_infer_is_null(cells[i].p, cells[i].n))
            continue;
        sqlite3_bind_int64(ins, 1, l->row);
        sqlite3_bind_text(ins, 2, l->src->names[i], -1, SQLITE_STATIC);
        bind_value(l, ins, 3, i, cells[i].p, cells[i].n);
        int rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc != SQLITE_DONE)
            return er_data_sqlite_error(l->d, err, "inserting a row");
    }
    return 0;
}

static int insert_row(loader *l, sqlite3_stmt *ins, const er_cell *cells, size_t n,
                      er_error *err)
{
    if (l->wide)
        return insert_long(l, ins, cells, n, err);
    for (size_t i = 0; i < l->ncols; i++) {
        int k = (int)i + 1;
        if (i >= n || !cells[i].p || er_infer_is_null(cells[i].p, cells[i].n))
            sqlite3_bind_null(ins, k);
        else
            bind_value(l, ins, k, i, cells[i].p, cells[i].n);
    }
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    return rc == SQLITE_DONE ? 0 : er_data_sqlite_error(l->d, err, "inserting a row");
}

static int pass_two(loader *l, er_error *err)
{
    sqlite3_stmt *ins = NULL;
    int rc = l->src->ops->rewind(l->src, err);
    if (rc == 0)
        rc = create_scratch(l, &ins, err);
    const er_cell *cells;
    size_t n;
    while (rc == 0 && (rc = l->src->ops->next(l->src, &cells, &n, err)) == 1) {
        rc = 0;
        if (check_row(l, cells, n, false) == 0)
            rc = insert_row(l, ins, cells, n, err);
    }
    sqlite3_finalize(ins);
    return rc < 0 ? rc : 0;
}

/* ---- the result and the bookkeeping ---- */

static cJSON *columns_json(const loader *l, char **original, bool detailed)
{
    cJSON *arr = cJSON_CreateArray();
    if (l->wide) {
        static const char *const longcols[][2] = { { "row", "integer" }, { "column", "text" },
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

/* Replaces the table with the scratch one and records it. */
static int commit(loader *l, er_error *err)
{
    char *scratch = scratch_name(l), *qs = er_data_quote_ident(scratch),
         *qt = er_data_quote_ident(l->table);
    char *sql = er_xasprintf("DROP TABLE IF EXISTS %s; ALTER TABLE %s RENAME TO %s", qt, qs, qt);
    int rc = exec(l->d, sql, err, "replacing the table");
    sqlite3_stmt *st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(l->d->db, "INSERT OR REPLACE INTO _errand_tables VALUES("
                                      "?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        rc = er_data_sqlite_error(l->d, err, "recording the table");
    if (rc == 0) {
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
        sqlite3_bind_int64(st, 11, er_data_next_version(l->d));
        sqlite3_bind_int64(st, 12, er_time_ms());
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = er_data_sqlite_error(l->d, err, "recording the table");
        free(cols_text);
        free(opts);
        cJSON_Delete(cols);
    }
    sqlite3_finalize(st);
    free(sql);
    free(scratch);
    free(qs);
    free(qt);
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
        snprintf(note, sizeof note, "%zu columns is over SQLite's %d: stored long, one row per "
                 "value: (row, column, value); e.g. WHERE \"column\" = '%s'", l->ncols,
                 SQLITE_COLUMNS_MAX, l->src->names[0]);
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
    if (sqlite3_prepare_v2(l->d->db, "SELECT rows, bad_rows, columns, format FROM _errand_tables "
                           "WHERE name = ? AND source = ? AND size = ? AND mtime_ns = ?", -1,
                           &st, NULL) != SQLITE_OK)
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
        er_json_add_str(o, "note", "the file has not changed since it was loaded; not read "
                                   "again (force=true reloads it)");
        *out = o;
    }
    sqlite3_finalize(st);
    return same;
}

static int run_load(loader *l, cJSON **out, er_error *err)
{
    int rc = open_source(&l->src, l->o, err);
    if (rc)
        return rc;
    if ((rc = pass_one(l, err)) != 0)
        return rc;
    if (l->ncols == 0)
        return er_error_set(err, ER_EINVAL, "%s has no columns; nothing to load", l->o->display);
    char **original = er_xcalloc(l->ncols, sizeof *original);
    for (size_t i = 0; i < l->ncols; i++)
        original[i] = er_xstrdup(l->src->names[i]);
    bool changed;
    er_data_clean_names(l->src->names, l->ncols, &changed);
    l->wide = l->ncols > SQLITE_COLUMNS_MAX;
    sqlite3_exec(l->d->db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-65536", NULL, NULL, NULL);
    rc = exec(l->d, "BEGIN IMMEDIATE", err, "starting the load");
    if (rc == 0 && (rc = pass_two(l, err)) == 0 && (rc = commit(l, err)) == 0)
        rc = exec(l->d, "COMMIT", err, "committing the load");
    if (rc)
        sqlite3_exec(l->d->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_exec(l->d->db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-2000", NULL, NULL,
                 NULL);
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
    if (l.src)
        l.src->ops->close(l.src);
    cJSON_Delete(l.bad_list);
    free(l.infer);
    free(l.why);
    free(l.nulls);
    free(l.types);
    free(l.table);
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
    if (sqlite3_prepare_v2(d->db, "SELECT name, source, display, options, size, mtime_ns FROM "
                           "_errand_tables WHERE ?1 IS NULL OR name = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct stat sb;
        const char *src = (const char *)sqlite3_column_text(st, 1);
        if (!src || stat(src, &sb) != 0)
            continue;   /* gone: the table stays as it was */
        if ((int64_t)sb.st_size == sqlite3_column_int64(st, 4) &&
            mtime_ns(&sb) == sqlite3_column_int64(st, 5))
            continue;
        *out = er_xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = (stale){ er_xstrdup((const char *)sqlite3_column_text(st, 0)),
                               er_xstrdup(src),
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
        er_data_load_opts o = { .path = v[i].source, .display = v[i].display ? v[i].display
                                                                              : v[i].source,
                                .table = v[i].name, .force = true };
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
