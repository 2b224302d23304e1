/* data_int.h — what the modules of src/data/ share: type inference, value
 * conversion, and the row sources the loader reads (CSV, JSON, JSON Lines,
 * xlsx).  Not for use outside src/data/. */
#ifndef ERRAND_DATA_INT_H
#define ERRAND_DATA_INT_H

#include "errand/data.h"
#include "errand/buf.h"

#include <sys/types.h>

/* ---- type inference (infer.c) ---- */

/* What one column's values allow so far. */
typedef struct er_infer {
    unsigned possible; /* bit (1 << er_dtype) for each type still possible */
    uint64_t values;   /* non-null values seen */
    bool thousands;    /* some integer or real had "1,234" separators */
} er_infer;

void er_infer_init(er_infer *in);
bool er_infer_is_null_mark(const char *p, size_t n);
/* Is the (trimmed) text a null marker: "", NA, N/A, #N/A, null, NULL, NaN?
 * Most values are long or start with something else: decided at once. */
static inline bool er_infer_is_null(const char *p, size_t n)
{
    if (n > 4 && p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t')
        return false;
    if (n && p[0] != 'N' && p[0] != 'n' && p[0] != '#' && p[0] != ' ' && p[0] != '\t')
        return false;
    return er_infer_is_null_mark(p, n);
}
/* Narrows in by one non-null value. */
void er_infer_value(er_infer *in, const char *p, size_t n);

/* A value converted while it is inferred. */
typedef struct er_num {
    int64_t i; /* an integer's value */
    double f;  /* a number's value (an integer's too) */
    bool b;    /* a boolean's */
} er_num;

/* er_infer_value, returning the column's type after the value (as
 * er_infer_type); when that is integer, real or boolean, *v holds the
 * value in it.  One reading of the text does both. */
er_dtype er_infer_scan(er_infer *in, const char *p, size_t n, er_num *v);
/* The narrowest type every value fits: boolean, integer, real, date, datetime,
 * else text (also when there were no values). */
er_dtype er_infer_type(const er_infer *in);

/* Trims blanks (space, tab) from both ends of p[0..*n); returns the new start. */
static inline const char *er_data_trim(const char *p, size_t *n)
{
    size_t len = *n;
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    *n = len;
    return p;
}
/* Conversions of values the column's type was inferred from (so they fit). */
int er_data_parse_int(const char *p, size_t n, bool thousands, int64_t *out);
int er_data_parse_real(const char *p, size_t n, bool thousands, double *out);
int er_data_parse_bool(const char *p, size_t n, bool *out);

/* Column names fit for SQL: lower-case letters, digits and _, never empty,
 * unique (a suffix _2, _3…).  names[i] is replaced (OWNED); *changed says
 * whether any differed from what the file said. */
void er_data_clean_names(char **names, size_t n, bool *changed);

/* ---- a string → index map (strmap.c) ---- */

typedef struct er_strmap {
    char **keys; /* OWNED copies; NULL: empty slot */
    size_t *lens;
    size_t *vals;
    size_t cap, n;
} er_strmap;

void er_strmap_init(er_strmap *m);
void er_strmap_release(er_strmap *m);
/* The value of key, or SIZE_MAX. */
size_t er_strmap_get(const er_strmap *m, const char *key, size_t len);
/* Sets key to val (a copy of key is kept). */
void er_strmap_put(er_strmap *m, const char *key, size_t len, size_t val);
uint64_t er_hash(const void *p, size_t n);

/* ---- row sources (csv_src.c, json_src.c, xlsx.c) ---- */

typedef struct er_cell {
    const char *p; /* BORROWED until the next row; NULL: null */
    size_t n;
} er_cell;

typedef struct er_src er_src;

typedef struct er_src_ops {
    /* 1: a row (cells[0..n) in the source's column order; a row may be
     * shorter than the column list), 0: end, <0: error in err. */
    int (*next)(er_src *s, const er_cell **cells, size_t *n, er_error *err);
    /* Back to the first data row (after the header). */
    int (*rewind)(er_src *s, er_error *err);
    void (*close)(er_src *s);
} er_src_ops;

struct er_src {
    const er_src_ops *ops;
    const char *display; /* the file as users see it */
    char **names;        /* column names so far (a JSON source adds keys) */
    size_t ncols;
    long line;           /* line (or row, for xlsx) of the last row */
    const char *problem; /* of the last row: read anyway, but reported */
    char *format;        /* "csv", "tsv", "json", "jsonl", "xlsx" */
    cJSON *notes;        /* OWNED array of strings for the result */
};

/* Appends a column name (a copy) to s; returns its index. */
size_t er_src_add_column(er_src *s, const char *name, size_t len);
void er_src_release(er_src *s);

/* The byte stream of a file: BOM dropped, UTF-16 (by BOM) or `encoding`
 * converted to UTF-8 with iconv, UTF-8 checked when not converted. */
typedef struct er_stream er_stream;
int er_stream_open(er_stream **out, const char *path, const char *display, const char *encoding,
                   er_error *err);
ssize_t er_stream_read(void *stream, char *buf, size_t cap);
int er_stream_rewind(er_stream *st, er_error *err);
/* The error a read returned (its message names the file and the line). */
const er_error *er_stream_error(const er_stream *st);
void er_stream_close(er_stream *st);
/* Peeks at the first n bytes after the BOM (for sniffing), OWNED copy. */
char *er_stream_peek(er_stream *st, size_t want, size_t *got, er_error *err);

int er_csv_src_open(er_src **out, const er_data_load_opts *o, const char *format, er_error *err);
int er_json_src_open(er_src **out, const er_data_load_opts *o, bool lines, er_error *err);
int er_xlsx_src_open(er_src **out, const er_data_load_opts *o, er_error *err);

#endif
