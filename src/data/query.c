/* query.c — read-only SQL over the data database, and exports.
 *
 * An authorizer is the gate: while a user's statement is prepared, only
 * reading is allowed (SELECT, reads of columns, ordinary functions, WITH
 * RECURSIVE); writes, DDL, ATTACH, PRAGMA and load_extension are refused, and
 * the statement must also be one SQLite itself calls read-only.  A progress
 * handler (db.c) enforces the time cap and cancellation. */
#include "errand/csv.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "data_db.h"
#include "data_vtab.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TEXT_CELL_MAX 2000 /* characters of one text value in a result */

static const char *const refused_functions[] = { "load_extension", "readfile", "writefile", "edit",
                                                 "fts3_tokenizer" };

static int authorize(void *payload, int action, const char *a, const char *b, const char *db,
                     const char *trigger)
{
    (void)payload;
    (void)b;
    (void)db;
    (void)trigger;
    if (er_data_vtab_declaring())
        return SQLITE_OK;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_FUNCTION:
        for (size_t i = 0; i < ER_ARRAY_LEN(refused_functions); i++)
            if (a && strcasecmp(a, refused_functions[i]) == 0)
                return SQLITE_DENY;
        return SQLITE_OK;
    default: return SQLITE_DENY;
    }
}

/* The first word of the statement, for the refusal message. */
static void first_word(const char *sql, char *out, size_t n)
{
    while (*sql && (isspace((unsigned char)*sql) || *sql == '('))
        sql++;
    size_t k = 0;
    while (sql[k] && isalpha((unsigned char)sql[k]) && k + 1 < n) {
        out[k] = (char)toupper((unsigned char)sql[k]);
        k++;
    }
    out[k] = '\0';
}

static bool only_blanks(const char *s)
{
    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (s[0] == '-' && s[1] == '-') {
            s += strcspn(s, "\n");
            continue;
        }
        if (s[0] == ';') {
            s++;
            continue;
        }
        return *s == '\0';
    }
}

static int refused(er_error *err, const char *sql)
{
    char w[16];
    first_word(sql, w, sizeof w);
    return er_error_set(err, ER_EDENIED,
                        "%s%srefused: data_sql is read-only (one SELECT or "
                        "WITH query; no writes, ATTACH, PRAGMA or extensions)",
                        w, *w ? " is " : "");
}

int er_data_prepare_ro(er_data *d, const char *sql, sqlite3_stmt **out, er_error *err)
{
    *out = NULL;
    if (er_str_empty(sql) || only_blanks(sql))
        return er_error_set(err, ER_EINVAL, "no query given; write one SELECT statement");
    const char *tail = NULL;
    sqlite3_set_authorizer(d->db, authorize, NULL);
    int rc = sqlite3_prepare_v2(d->db, sql, -1, out, &tail);
    sqlite3_set_authorizer(d->db, NULL, NULL);
    /* Loaded tables are read-only virtual tables: a write to one fails before
     * the authorizer is asked. */
    if (rc == SQLITE_AUTH || (rc != SQLITE_OK && strstr(sqlite3_errmsg(d->db), "may not be "
                                                                               "modified")))
        return refused(err, sql);
    if (rc != SQLITE_OK)
        return er_error_set(err, ER_EINVAL, "SQL error: %s", sqlite3_errmsg(d->db));
    if (!*out)
        return er_error_set(err, ER_EINVAL, "no query given; write one SELECT statement");
    if (!sqlite3_stmt_readonly(*out)) {
        sqlite3_finalize(*out);
        *out = NULL;
        return refused(err, sql);
    }
    if (tail && !only_blanks(tail)) {
        sqlite3_finalize(*out);
        *out = NULL;
        return er_error_set(err, ER_EINVAL,
                            "one statement at a time: remove what follows the "
                            "first ';'");
    }
    return 0;
}

cJSON *er_data_text_json(const char *t, size_t n)
{
    if (n <= TEXT_CELL_MAX) {
        char *c = er_xstrndup(t ? t : "", n);
        cJSON *s = cJSON_CreateString(c);
        free(c);
        return s;
    }
    char *c = er_xasprintf("%.*s… [%zu bytes]", TEXT_CELL_MAX, t, n);
    cJSON *s = cJSON_CreateString(c);
    free(c);
    return s;
}

cJSON *er_data_result_json(cJSON *names, cJSON *rows, int64_t count, long max_rows, bool cut)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add(o, "columns", names);
    er_json_add(o, "rows", rows);
    er_json_add_num(o, cut ? "row_count_at_least" : "row_count", (double)count);
    er_json_add_bool(o, "truncated", count > max_rows);
    if (count > max_rows) {
        char note[160];
        snprintf(note, sizeof note,
                 "showing the first %ld of %s%lld rows; aggregate or "
                 "add LIMIT/WHERE for the rest",
                 max_rows, cut ? "at least " : "", (long long)count);
        er_json_add_str(o, "note", note);
    }
    return o;
}

/* A value as JSON: integers and reals as numbers, text clipped, blobs described. */
static cJSON *value_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
    }
    case SQLITE_TEXT:
        return er_data_text_json((const char *)sqlite3_column_text(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
    case SQLITE_BLOB: {
        char desc[48];
        snprintf(desc, sizeof desc, "[blob, %d bytes]", sqlite3_column_bytes(st, i));
        return cJSON_CreateString(desc);
    }
    default: return cJSON_CreateNull();
    }
}

static cJSON *column_names(sqlite3_stmt *st)
{
    cJSON *cols = cJSON_CreateArray();
    for (int i = 0; i < sqlite3_column_count(st); i++)
        er_json_append(cols, cJSON_CreateString(sqlite3_column_name(st, i)));
    return cols;
}

int er_data_query(er_data *d, const char *sql, const er_data_query_opts *o, cJSON **out,
                  er_error *err)
{
    sqlite3_stmt *st;
    int rc = er_data_prepare_ro(d, sql, &st, err);
    if (rc)
        return rc;
    long max_rows = o && o->max_rows > 0 ? o->max_rows : 100;
    er_data_deadline(d, o && o->max_ms > 0 ? o->max_ms : 30000);
    cJSON *rows = cJSON_CreateArray();
    int64_t count = 0;
    int s;
    bool cut = false;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (count++ >= max_rows)
            continue; /* counted, not kept */
        cJSON *row = cJSON_CreateArray();
        for (int i = 0; i < sqlite3_column_count(st); i++)
            er_json_append(row, value_json(st, i));
        er_json_append(rows, row);
    }
    if (s == SQLITE_INTERRUPT && count > max_rows && !(d->cancel && *d->cancel))
        cut = true; /* the rows shown are complete; only the count ran out of time */
    else if (s != SQLITE_DONE)
        rc = er_data_sqlite_error(d, err, "query");
    er_data_deadline(d, 0);
    if (rc == 0) {
        *out = er_data_result_json(column_names(st), rows, count, max_rows, cut);
        rows = NULL;
    }
    cJSON_Delete(rows);
    sqlite3_finalize(st);
    return rc;
}

/* ---- export ---- */

typedef struct sink {
    int fd;
    er_buf b;
    int err;
} sink;

static void flush(sink *s, bool all)
{
    if (s->b.len < (all ? 1 : 1u << 20) || s->err)
        return;
    size_t off = 0;
    while (off < s->b.len) {
        ssize_t w = write(s->fd, s->b.ptr + off, s->b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = errno ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    er_buf_reset(&s->b);
}

static void put_real(er_buf *b, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    double back = strtod(tmp, NULL);
    if (back != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    er_buf_puts(b, tmp);
}

static void csv_cell(er_buf *b, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return;
    case SQLITE_INTEGER: er_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i)); return;
    case SQLITE_FLOAT: put_real(b, sqlite3_column_double(st, i)); return;
    default:
        er_csv_put_field(b, (const char *)sqlite3_column_text(st, i),
                         (size_t)sqlite3_column_bytes(st, i));
    }
}

static void json_cell(er_buf *b, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: er_buf_puts(b, "null"); return;
    case SQLITE_INTEGER: er_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i)); return;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (isfinite(v))
            put_real(b, v);
        else
            er_buf_puts(b, "null");
        return;
    }
    default:
        er_json_escape(b, (const char *)sqlite3_column_text(st, i),
                       (size_t)sqlite3_column_bytes(st, i));
    }
}

static void put_row(sink *s, sqlite3_stmt *st, const char *format, int64_t index)
{
    int n = sqlite3_column_count(st);
    bool csv = strcmp(format, "csv") == 0;
    if (!csv)
        er_buf_puts(&s->b, strcmp(format, "json") == 0 ? (index ? ",\n{" : "{") : "{");
    for (int i = 0; i < n; i++) {
        if (i)
            er_buf_putc(&s->b, ',');
        if (csv) {
            csv_cell(&s->b, st, i);
            continue;
        }
        const char *name = sqlite3_column_name(st, i);
        er_json_escape(&s->b, name, strlen(name));
        er_buf_putc(&s->b, ':');
        json_cell(&s->b, st, i);
    }
    er_buf_puts(&s->b, csv ? "\r\n" : strcmp(format, "json") == 0 ? "}" : "}\n");
}

int er_data_export(er_data *d, const char *sql, const char *format, int fd, int64_t *rows,
                   er_error *err)
{
    if (!er_str_eq(format, "csv") && !er_str_eq(format, "json") && !er_str_eq(format, "jsonl"))
        return er_error_set(err, ER_EINVAL, "export format '%s' is not one of csv, json, jsonl",
                            format ? format : "");
    sqlite3_stmt *st;
    int rc = er_data_prepare_ro(d, sql, &st, err);
    if (rc)
        return rc;
    sink s = { .fd = fd };
    if (strcmp(format, "csv") == 0) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (i)
                er_buf_putc(&s.b, ',');
            const char *name = sqlite3_column_name(st, i);
            er_csv_put_field(&s.b, name, strlen(name));
        }
        er_buf_puts(&s.b, "\r\n");
    } else if (strcmp(format, "json") == 0) {
        er_buf_puts(&s.b, "[");
    }
    int64_t n = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !s.err) {
        put_row(&s, st, format, n++);
        flush(&s, false);
    }
    if (strcmp(format, "json") == 0)
        er_buf_puts(&s.b, "]\n");
    flush(&s, true);
    if (step != SQLITE_DONE && !s.err)
        rc = er_data_sqlite_error(d, err, "export");
    else if (s.err)
        rc = er_error_set(err, ER_EIO, "cannot write the export: %s", strerror(s.err));
    er_buf_release(&s.b);
    sqlite3_finalize(st);
    *rows = n;
    return rc;
}
