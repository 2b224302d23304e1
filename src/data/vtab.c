/* vtab.c — loaded tables as SQLite virtual tables over their column files.
 *
 *   CREATE VIRTUAL TABLE "sales" USING errand_columns('12.cols', 'columns',
 *                                                     "region" TEXT, "revenue" REAL, …)
 *   CREATE VIRTUAL TABLE "wide" USING errand_columns('13.cols', 'long')
 *
 * The first argument names the column file in the tables directory next to
 * the database (DB-tables/); 'columns' declares the file's columns as they
 * are, 'long' shows a file with more columns than SQLite allows as
 * (row, column, value), one row per value that is not null.  The columns are
 * declared from the arguments, so a table whose file went missing can still
 * be dropped and loaded again; the file is opened on the first scan.  Tables
 * are read-only: only the loader replaces them, with a new file. */
#include "colfile.h"
#include "data_vtab.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <stdlib.h>
#include <string.h>

typedef struct cvtab {
    sqlite3_vtab base;
    char *path;
    bool wide;
    size_t declared; /* columns declared ('columns' mode) */
    er_colr *r;      /* opened on the first scan */
} cvtab;

typedef struct ccur {
    sqlite3_vtab_cursor base;
    size_t g;    /* group */
    uint32_t i;  /* row in the group */
    int64_t row; /* 1-based row of the table */
    size_t wc;   /* long form: the column of the current value */
    int64_t seq; /* long form: rowid */
    bool eof;
    size_t ncols;
    er_chunk *ch;
    er_colbuf *buf;
    bool *have;  /* ch[c] holds group g */
    char *error; /* a chunk that could not be read */
} ccur;

/* Set while a table declares its columns: SQLite parses the declaration as
 * a CREATE TABLE, which the read-only authorizer would refuse when a user's
 * query is what first touches the table. */
static __thread int declaring;

bool er_data_vtab_declaring(void)
{
    return declaring > 0;
}

char *er_data_tables_dir(const char *db_path)
{
    return er_xasprintf("%s-tables", db_path);
}

bool er_data_file_name_ok(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* An SQL string literal's text ('a''b' → a'b); OWNED, or NULL. */
static char *unquote(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[0] != '\'' || s[n - 1] != '\'')
        return NULL;
    char *out = er_xmalloc(n), *o = out;
    for (size_t i = 1; i + 1 < n; i++) {
        *o++ = s[i];
        if (s[i] == '\'' && s[i + 1] == '\'')
            i++;
    }
    *o = '\0';
    return out;
}

static int connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                   char **errmsg)
{
    char *file = argc >= 5 ? unquote(argv[3]) : NULL, *mode = argc >= 5 ? unquote(argv[4]) : NULL;
    bool wide = mode && strcmp(mode, "long") == 0;
    int rc = SQLITE_OK;
    if (!er_data_file_name_ok(file) || !mode || (!wide && strcmp(mode, "columns") != 0) ||
        (!wide && argc < 6)) {
        *errmsg = sqlite3_mprintf("errand_columns: expected ('FILE.cols', 'columns', COLUMN "
                                  "TYPE…) or ('FILE.cols', 'long')");
        rc = SQLITE_ERROR;
    }
    er_buf decl = ER_BUF_INIT;
    er_buf_puts(&decl, "CREATE TABLE x(");
    if (wide)
        er_buf_puts(&decl, "\"row\" INTEGER, \"column\" TEXT, \"value\"");
    for (int i = 5; i < argc && !wide; i++)
        er_buf_printf(&decl, "%s%s", i > 5 ? ", " : "", argv[i]);
    er_buf_puts(&decl, ")");
    declaring++;
    int drc = rc == SQLITE_OK ? sqlite3_declare_vtab(db, er_buf_cstr(&decl)) : SQLITE_OK;
    declaring--;
    if (drc != SQLITE_OK) {
        *errmsg = sqlite3_mprintf("errand_columns: bad column list: %s", sqlite3_errmsg(db));
        rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) {
        cvtab *v = er_xcalloc(1, sizeof *v);
        v->path = er_xasprintf("%s/%s", (const char *)aux, file);
        v->wide = wide;
        v->declared = wide ? 3 : (size_t)(argc - 5);
        *out = &v->base;
    }
    er_buf_release(&decl);
    free(file);
    free(mode);
    return rc;
}

static int disconnect(sqlite3_vtab *vt)
{
    cvtab *v = (cvtab *)vt;
    er_colr_close(v->r);
    free(v->path);
    free(v);
    return SQLITE_OK;
}

static int best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    cvtab *v = (cvtab *)vt;
    double rows = v->r ? (double)er_colr_rows(v->r) : 1e6;
    info->estimatedCost = rows;
    info->estimatedRows = (sqlite3_int64)rows;
    return SQLITE_OK;
}

static int open_file(cvtab *v)
{
    if (v->r)
        return SQLITE_OK;
    er_error err = { 0 };
    int rc = er_colr_open(&v->r, v->path, &err);
    if (rc == 0 && !v->wide && er_colr_ncols(v->r) != v->declared) {
        er_error_set(&err, ER_EIO, "%s has %zu columns where the table has %zu", v->path,
                     er_colr_ncols(v->r), v->declared);
        er_colr_close(v->r);
        v->r = NULL;
        rc = ER_EIO;
    }
    if (rc) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg = sqlite3_mprintf("%s", err.msg);
        return SQLITE_ERROR;
    }
    return SQLITE_OK;
}

static int cur_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    cvtab *v = (cvtab *)vt;
    int rc = open_file(v);
    if (rc != SQLITE_OK)
        return rc;
    ccur *c = er_xcalloc(1, sizeof *c);
    c->ncols = er_colr_ncols(v->r);
    c->ch = er_xcalloc(c->ncols + 1, sizeof *c->ch);
    c->buf = er_xcalloc(c->ncols + 1, sizeof *c->buf);
    c->have = er_xcalloc(c->ncols + 1, sizeof *c->have);
    c->eof = true;
    *out = &c->base;
    return SQLITE_OK;
}

static int cur_close(sqlite3_vtab_cursor *vc)
{
    ccur *c = (ccur *)vc;
    for (size_t i = 0; i < c->ncols; i++)
        er_colr_buf_release(&c->buf[i]);
    free(c->ch);
    free(c->buf);
    free(c->have);
    free(c->error);
    free(c);
    return SQLITE_OK;
}

static er_colr *reader(const ccur *c)
{
    return ((const cvtab *)c->base.pVtab)->r;
}

/* The chunk of column col in the current group; NULL when it cannot be read. */
static const er_chunk *chunk(ccur *c, size_t col)
{
    if (c->have[col])
        return &c->ch[col];
    er_error err = { 0 };
    if (er_colr_chunk(reader(c), c->g, col, &c->buf[col], &c->ch[col], &err) != 0) {
        free(c->error);
        c->error = er_xstrdup(err.msg);
        return NULL;
    }
    c->have[col] = true;
    return &c->ch[col];
}

static void next_group(ccur *c)
{
    er_colr *r = reader(c);
    c->i = 0;
    c->g++;
    while (c->g < er_colr_groups(r) && er_colr_group_rows(r, c->g) == 0)
        c->g++;
    memset(c->have, 0, c->ncols * sizeof *c->have);
    c->eof = c->g >= er_colr_groups(r);
}

static void next_row(ccur *c)
{
    c->row++;
    if (++c->i >= er_colr_group_rows(reader(c), c->g))
        next_group(c);
}

/* Long form: moves to the next value that is not null, from column wc on. */
static void seek_value(ccur *c)
{
    while (!c->eof) {
        for (; c->wc < c->ncols; c->wc++) {
            const er_chunk *k = chunk(c, c->wc);
            if (!k || !er_chunk_null(k, c->i))
                return; /* a read error shows in xColumn */
        }
        c->wc = 0;
        next_row(c);
    }
}

static int cur_filter(sqlite3_vtab_cursor *vc, int idx, const char *idxs, int argc,
                      sqlite3_value **argv)
{
    (void)idx;
    (void)idxs;
    (void)argc;
    (void)argv;
    ccur *c = (ccur *)vc;
    c->g = (size_t)-1;
    c->row = 1;
    c->wc = 0;
    c->seq = 1;
    next_group(c);
    if (((cvtab *)vc->pVtab)->wide)
        seek_value(c);
    return SQLITE_OK;
}

static int cur_next(sqlite3_vtab_cursor *vc)
{
    ccur *c = (ccur *)vc;
    if (((cvtab *)vc->pVtab)->wide) {
        c->wc++;
        c->seq++;
        seek_value(c);
    } else {
        next_row(c);
    }
    return SQLITE_OK;
}

static int cur_eof(sqlite3_vtab_cursor *vc)
{
    return ((ccur *)vc)->eof;
}

/* The value of column col of the current row, as its column's type says. */
static void result(ccur *c, sqlite3_context *ctx, size_t col)
{
    const er_chunk *k = chunk(c, col);
    if (!k) {
        sqlite3_result_error(ctx, c->error, -1);
        return;
    }
    if (er_chunk_null(k, c->i)) {
        sqlite3_result_null(ctx);
        return;
    }
    er_dtype t = er_colr_type(reader(c), col);
    size_t n;
    const char *p;
    switch (k->enc) {
    case ER_ENC_I64:
        if (t == ER_DT_REAL)
            sqlite3_result_double(ctx, (double)k->i64[c->i]);
        else
            sqlite3_result_int64(ctx, k->i64[c->i]);
        return;
    case ER_ENC_F64: sqlite3_result_double(ctx, k->f64[c->i]); return;
    case ER_ENC_U8: sqlite3_result_int(ctx, k->u8[c->i]); return;
    default:
        p = er_chunk_text(k, c->i, &n);
        if (t == ER_DT_DATE || t == ER_DT_DATETIME)
            p = er_data_trim(p, &n);
        sqlite3_result_text(ctx, p, (int)n, SQLITE_TRANSIENT);
    }
}

static int cur_column(sqlite3_vtab_cursor *vc, sqlite3_context *ctx, int i)
{
    ccur *c = (ccur *)vc;
    if (!((cvtab *)vc->pVtab)->wide) {
        result(c, ctx, (size_t)i);
    } else if (i == 0) {
        sqlite3_result_int64(ctx, c->row);
    } else if (i == 1) {
        sqlite3_result_text(ctx, er_colr_name(reader(c), c->wc), -1, SQLITE_STATIC);
    } else {
        result(c, ctx, c->wc);
    }
    return SQLITE_OK;
}

static int cur_rowid(sqlite3_vtab_cursor *vc, sqlite3_int64 *out)
{
    ccur *c = (ccur *)vc;
    *out = ((cvtab *)vc->pVtab)->wide ? c->seq : c->row;
    return SQLITE_OK;
}

static const sqlite3_module module = {
    .iVersion = 1,
    .xCreate = connect,
    .xConnect = connect,
    .xBestIndex = best_index,
    .xDisconnect = disconnect,
    .xDestroy = disconnect, /* the file goes when no table names it (er_data_gc) */
    .xOpen = cur_open,
    .xClose = cur_close,
    .xFilter = cur_filter,
    .xNext = cur_next,
    .xEof = cur_eof,
    .xColumn = cur_column,
    .xRowid = cur_rowid,
};

int er_data_vtab_register(sqlite3 *db, const char *db_path)
{
    return sqlite3_create_module_v2(db, "errand_columns", &module, er_data_tables_dir(db_path),
                                    free);
}

char *er_data_vtab_file(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st;
    char *file = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT sql FROM sqlite_schema WHERE type = 'table' AND "
                           "name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        file = er_data_vtab_sql_file((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return file;
}

char *er_data_vtab_sql_file(const char *sql)
{
    const char *p = sql ? strstr(sql, "errand_columns(") : NULL;
    if (!p)
        return NULL;
    p += strlen("errand_columns(");
    const char *q = p[0] == '\'' ? strchr(p + 1, '\'') : NULL;
    char *name = q ? er_xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
    if (!er_data_file_name_ok(name)) {
        free(name);
        return NULL;
    }
    return name;
}
