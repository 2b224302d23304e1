/* json_src.c — JSON (an array of objects) and JSON Lines (one object a
 * line) as a row source.  Keys become columns in the order they first
 * appear; nested objects are flattened ("address.city"), arrays are kept as
 * their JSON text, null is null.  A line or element that is not an object is
 * a bad row. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "data_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLATTEN_DEPTH  8
#define LINE_MAX_BYTES (64u * 1024 * 1024)

typedef struct json_src {
    er_src base;
    bool lines;
    er_stream *st;
    er_strmap keys; /* column name → index */
    /* JSON Lines: the read buffer */
    char *buf;
    size_t cap, len, pos;
    bool eof;
    long lineno;
    /* JSON: the parsed document and the next element */
    cJSON *doc;
    const cJSON *elem;
    long index;
    /* the current row */
    cJSON *obj;           /* OWNED for JSON Lines */
    er_buf text;          /* cell texts, back to back */
    size_t *off, *len_of; /* per column: offset into text, SIZE_MAX = null */
    er_cell *cells;
    size_t ccols;
    char problem[160];
} json_src;

static void ensure_cols(json_src *j, size_t n)
{
    if (n <= j->ccols)
        return;
    size_t c = n * 2;
    j->off = er_xrealloc(j->off, c * sizeof *j->off);
    j->len_of = er_xrealloc(j->len_of, c * sizeof *j->len_of);
    j->cells = er_xrealloc(j->cells, c * sizeof *j->cells);
    for (size_t i = j->ccols; i < c; i++)
        j->off[i] = SIZE_MAX;
    j->ccols = c;
}

static size_t column_for(json_src *j, const char *name, size_t len)
{
    size_t i = er_strmap_get(&j->keys, name, len);
    if (i != SIZE_MAX)
        return i;
    i = er_src_add_column(&j->base, name, len);
    er_strmap_put(&j->keys, name, len, i);
    ensure_cols(j, j->base.ncols);
    return i;
}

static void put_number(er_buf *b, double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        er_buf_printf(b, "%.0f", v);
    else
        er_buf_printf(b, "%.17g", v);
}

/* The text of a scalar or array value; false for null. */
static bool value_text(const cJSON *v, er_buf *b)
{
    if (cJSON_IsNull(v))
        return false;
    if (cJSON_IsString(v))
        er_buf_puts(b, v->valuestring);
    else if (cJSON_IsBool(v))
        er_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        put_number(b, v->valuedouble);
    else {
        char *s = cJSON_PrintUnformatted(v);
        er_buf_puts(b, s ? s : "");
        free(s);
    }
    return true;
}

static void flatten(json_src *j, const cJSON *obj, er_buf *prefix, int depth)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        size_t mark = prefix->len;
        if (mark)
            er_buf_putc(prefix, '.');
        er_buf_puts(prefix, v->string ? v->string : "");
        if (cJSON_IsObject(v) && depth < FLATTEN_DEPTH && v->child) {
            flatten(j, v, prefix, depth + 1);
        } else {
            size_t col = column_for(j, prefix->ptr ? prefix->ptr : "", prefix->len);
            size_t start = j->text.len;
            if (value_text(v, &j->text)) {
                j->off[col] = start;
                j->len_of[col] = j->text.len - start;
            }
        }
        prefix->len = mark;
        if (prefix->ptr)
            prefix->ptr[mark] = '\0';
    }
}

/* Fills the row's cells from obj (an object). */
static void fill_row(json_src *j, const cJSON *obj)
{
    er_buf_reset(&j->text);
    for (size_t i = 0; i < j->ccols; i++)
        j->off[i] = SIZE_MAX;
    er_buf prefix = ER_BUF_INIT;
    flatten(j, obj, &prefix, 0);
    er_buf_release(&prefix);
    for (size_t i = 0; i < j->base.ncols; i++)
        j->cells[i] = j->off[i] == SIZE_MAX ? (er_cell){ NULL, 0 }
                                            : (er_cell){ j->text.ptr + j->off[i], j->len_of[i] };
}

static const char *kind_of(const cJSON *v)
{
    return cJSON_IsArray(v)    ? "an array"
           : cJSON_IsString(v) ? "a string"
           : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsBool(v)   ? "a boolean"
           : cJSON_IsNull(v)   ? "null"
                               : "not an object";
}

/* A row that is not an object: no cells, a problem that makes it bad. */
static int bad_row(json_src *j, const cJSON *v, const er_cell **cells, size_t *n)
{
    snprintf(j->problem, sizeof j->problem, "%s, not an object", kind_of(v));
    j->base.problem = j->problem;
    *cells = j->cells;
    *n = 0;
    return 1;
}

/* ---- JSON Lines ---- */

/* The next non-blank line, NUL-terminated in place; 0 at the end. */
static int next_line(json_src *j, char **line, size_t *len, er_error *err)
{
    for (;;) {
        char *nl = j->pos < j->len ? memchr(j->buf + j->pos, '\n', j->len - j->pos) : NULL;
        if (nl || (j->eof && j->pos < j->len)) {
            size_t end = nl ? (size_t)(nl - j->buf) : j->len;
            *line = j->buf + j->pos;
            *len = end - j->pos;
            j->pos = nl ? end + 1 : end;
            j->lineno++;
            if (*len && (*line)[*len - 1] == '\r')
                (*len)--;
            size_t k = 0;
            while (k < *len && ((*line)[k] == ' ' || (*line)[k] == '\t'))
                k++;
            if (k == *len)
                continue;
            return 1;
        }
        if (j->eof)
            return 0;
        memmove(j->buf, j->buf + j->pos, j->len - j->pos);
        j->len -= j->pos;
        j->pos = 0;
        if (j->len + 1 >= j->cap) {
            if (j->cap >= LINE_MAX_BYTES)
                return er_error_set(err, ER_ETOOBIG, "%s:%ld: a line is over %u MB",
                                    j->base.display, j->lineno + 1, LINE_MAX_BYTES >> 20);
            j->cap *= 2;
            j->buf = er_xrealloc(j->buf, j->cap);
        }
        ssize_t r = er_stream_read(j->st, j->buf + j->len, j->cap - j->len - 1);
        if (r < 0) {
            *err = *er_stream_error(j->st);
            return (int)r;
        }
        j->eof = r == 0;
        j->len += (size_t)r;
    }
}

static int lines_next(json_src *j, const er_cell **cells, size_t *n, er_error *err)
{
    char *line = NULL;
    size_t len = 0;
    int rc = next_line(j, &line, &len, err);
    if (rc <= 0)
        return rc;
    cJSON_Delete(j->obj);
    j->obj = NULL;
    j->base.line = j->lineno;
    j->base.problem = NULL;
    er_error perr = { 0 };
    if (er_json_parse(&j->obj, line, len, &perr) != 0) {
        snprintf(j->problem, sizeof j->problem, "not valid JSON (%s)", perr.msg);
        j->base.problem = j->problem;
        *cells = j->cells;
        *n = 0;
        return 1;
    }
    if (!cJSON_IsObject(j->obj))
        return bad_row(j, j->obj, cells, n);
    fill_row(j, j->obj);
    *cells = j->cells;
    *n = j->base.ncols;
    return 1;
}

/* ---- JSON ---- */

/* The line of byte offset off in text, for the parse error. */
static long line_at(const char *text, size_t off)
{
    long line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

static int read_document(json_src *j, er_error *err)
{
    er_buf all;
    er_buf_init(&all, ER_DATA_JSON_MAX);
    char chunk[1 << 16];
    ssize_t r;
    int rc = 0;
    while ((r = er_stream_read(j->st, chunk, sizeof chunk)) > 0)
        if (er_buf_append(&all, chunk, (size_t)r) != 0) {
            rc = er_error_set(err, ER_ETOOBIG,
                              "%s is over %u MB; JSON arrays are read whole — "
                              "convert it to JSON Lines (one object a line) to load it",
                              j->base.display, ER_DATA_JSON_MAX >> 20);
            break;
        }
    if (r < 0 && !rc)
        rc = (*err = *er_stream_error(j->st)).code;
    if (!rc) {
        const char *end = NULL;
        j->doc = cJSON_ParseWithLengthOpts(all.ptr ? all.ptr : "", all.len, &end, 0);
        if (!j->doc) {
            size_t off = end && all.ptr ? (size_t)(end - all.ptr) : 0;
            rc = er_error_set(err, ER_EINVAL,
                              "%s:%ld: not valid JSON near byte %zu; fix the "
                              "file or give format=jsonl for JSON Lines",
                              j->base.display, line_at(all.ptr ? all.ptr : "", off), off);
        } else if (!cJSON_IsArray(j->doc)) {
            rc = er_error_set(err, ER_EINVAL, "%s: the JSON is %s, not an array of objects",
                              j->base.display, kind_of(j->doc));
        }
    }
    er_buf_release(&all);
    return rc;
}

static int array_next(json_src *j, const er_cell **cells, size_t *n)
{
    if (!j->elem)
        return 0;
    const cJSON *e = j->elem;
    j->elem = e->next;
    j->base.line = ++j->index;
    j->base.problem = NULL;
    if (!cJSON_IsObject(e))
        return bad_row(j, e, cells, n);
    fill_row(j, e);
    *cells = j->cells;
    *n = j->base.ncols;
    return 1;
}

/* ---- the source ---- */

static int src_next(er_src *s, const er_cell **cells, size_t *n, er_error *err)
{
    json_src *j = (json_src *)s;
    return j->lines ? lines_next(j, cells, n, err) : array_next(j, cells, n);
}

static int src_rewind(er_src *s, er_error *err)
{
    json_src *j = (json_src *)s;
    if (!j->lines) {
        j->elem = j->doc ? j->doc->child : NULL;
        j->index = 0;
        return 0;
    }
    j->len = j->pos = 0;
    j->eof = false;
    j->lineno = 0;
    return er_stream_rewind(j->st, err);
}

static void src_close(er_src *s)
{
    json_src *j = (json_src *)s;
    er_stream_close(j->st);
    er_strmap_release(&j->keys);
    cJSON_Delete(j->doc);
    cJSON_Delete(j->obj);
    er_buf_release(&j->text);
    free(j->buf);
    free(j->off);
    free(j->len_of);
    free(j->cells);
    er_src_release(s);
    free(j);
}

static const er_src_ops json_ops = { src_next, src_rewind, src_close };

int er_json_src_open(er_src **out, const er_data_load_opts *o, bool lines, er_error *err)
{
    json_src *j = er_xcalloc(1, sizeof *j);
    j->base.ops = &json_ops;
    j->base.display = o->display;
    j->base.format = er_xstrdup(lines ? "jsonl" : "json");
    j->base.notes = cJSON_CreateArray();
    j->lines = lines;
    er_strmap_init(&j->keys);
    ensure_cols(j, 16);
    int rc = er_stream_open(&j->st, o->path, o->display, o->encoding, err);
    if (rc == 0 && lines) {
        j->cap = 1u << 20;
        j->buf = er_xmalloc(j->cap);
    }
    if (rc == 0 && !lines)
        rc = read_document(j, err);
    if (rc == 0)
        rc = src_rewind(&j->base, err);
    if (rc) {
        src_close(&j->base);
        return rc;
    }
    *out = &j->base;
    return 0;
}
