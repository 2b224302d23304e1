/* csv_src.c — CSV and TSV files as a row source for the loader: the stream
 * (encoding), the reader (csv.h), delimiter and header detection. */
#include "errand/alloc.h"
#include "errand/csv.h"
#include "errand/str.h"
#include "data_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNIFF_BYTES (64u * 1024)

typedef struct csv_src {
    er_src base;
    er_stream *st;
    er_csv *csv;
    char delim;
    bool header;
    er_cell *cells;
    size_t ccells;
} csv_src;

static int src_next(er_src *s, const er_cell **cells, size_t *n, er_error *err)
{
    csv_src *c = (csv_src *)s;
    const er_csv_field *f;
    size_t nf;
    int rc = er_csv_next(c->csv, &f, &nf, err);
    if (rc < 0 && er_stream_error(c->st)->code)
        *err = *er_stream_error(c->st);
    if (rc <= 0)
        return rc;
    if (nf > c->ccells) {
        c->ccells = nf * 2;
        c->cells = er_xrealloc(c->cells, c->ccells * sizeof *c->cells);
    }
    for (size_t i = 0; i < nf; i++)
        c->cells[i] = (er_cell){ f[i].p, f[i].n };
    s->line = er_csv_row_line(c->csv);
    s->problem = er_csv_row_problem(c->csv);
    *cells = c->cells;
    *n = nf;
    return 1;
}

/* A fresh reader at the start of the data (the header skipped). */
static int restart(csv_src *c, er_error *err)
{
    er_csv_free(c->csv);
    c->csv = NULL;
    int rc = er_stream_rewind(c->st, err);
    if (rc)
        return rc;
    er_csv_new(&c->csv, c->delim, er_stream_read, c->st);
    if (!c->header)
        return 0;
    const er_csv_field *f;
    size_t nf;
    rc = er_csv_next(c->csv, &f, &nf, err);
    if (rc < 0 && er_stream_error(c->st)->code)
        *err = *er_stream_error(c->st);
    return rc < 0 ? rc : 0;
}

static int src_rewind(er_src *s, er_error *err)
{
    return restart((csv_src *)s, err);
}

static void src_close(er_src *s)
{
    csv_src *c = (csv_src *)s;
    er_csv_free(c->csv);
    er_stream_close(c->st);
    free(c->cells);
    er_src_release(s);
    free(c);
}

static const er_src_ops csv_ops = { src_next, src_rewind, src_close };

/* Is a first row a header?  Yes unless one of its values reads as a number,
 * a boolean or a date: names are text. */
static bool looks_like_header(const er_csv_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (er_infer_is_null(f[i].p, f[i].n))
            continue;
        er_infer in;
        er_infer_init(&in);
        er_infer_value(&in, f[i].p, f[i].n);
        if (er_infer_type(&in) != ER_DT_TEXT)
            return false;
    }
    return true;
}

/* Reads the first row: the column names (from it, or column_1…). */
static int read_columns(csv_src *c, int header, er_error *err)
{
    er_csv *r;
    er_csv_new(&r, c->delim, er_stream_read, c->st);
    const er_csv_field *f;
    size_t nf = 0;
    int rc = er_csv_next(r, &f, &nf, err);
    if (rc < 0 && er_stream_error(c->st)->code)
        *err = *er_stream_error(c->st);
    if (rc == 0)
        rc = er_error_set(err, ER_EINVAL, "%s is empty: no rows, no header; nothing to load",
                          c->base.display);
    if (rc > 0) {
        c->header = header < 0 ? looks_like_header(f, nf) : header == 1;
        for (size_t i = 0; i < nf; i++) {
            char name[32];
            snprintf(name, sizeof name, "column_%zu", i + 1);
            if (c->header)
                er_src_add_column(&c->base, f[i].p, f[i].n);
            else
                er_src_add_column(&c->base, name, strlen(name));
        }
        rc = 0;
    }
    er_csv_free(r);
    return rc;
}

int er_csv_src_open(er_src **out, const er_data_load_opts *o, const char *format, er_error *err)
{
    csv_src *c = er_xcalloc(1, sizeof *c);
    c->base.ops = &csv_ops;
    c->base.display = o->display;
    c->base.notes = cJSON_CreateArray();
    int rc = er_stream_open(&c->st, o->path, o->display, o->encoding, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->delim = o->delimiter;
    if (!c->delim && er_str_eq(format, "tsv"))
        c->delim = '\t';
    if (!c->delim) {
        size_t got = 0;
        char *sample = er_stream_peek(c->st, SNIFF_BYTES, &got, err);
        rc = sample ? 0 : err->code;
        c->delim = sample ? er_csv_sniff_delimiter(sample, got) : ',';
        free(sample);
    }
    c->base.format = er_xstrdup(c->delim == '\t' ? "tsv" : "csv");
    if (rc == 0)
        rc = read_columns(c, o->header, err);
    if (rc == 0)
        rc = restart(c, err);
    if (rc) {
        src_close(&c->base);
        return rc;
    }
    if (c->delim != ',' && c->delim != '\t') {
        char note[64];
        snprintf(note, sizeof note, "delimiter '%c' detected", c->delim);
        cJSON_AddItemToArray(c->base.notes, cJSON_CreateString(note));
    }
    if (!c->header)
        cJSON_AddItemToArray(
            c->base.notes,
            cJSON_CreateString("the first row holds values, not names: columns are named "
                               "column_1, column_2, …"));
    *out = &c->base;
    return 0;
}
