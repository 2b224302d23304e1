/* stats.c — per-column summaries (describe) and correlations.
 *
 * One scan of the table feeds every column: numbers go into an array (sorted
 * afterwards for exact quantiles, distinct values and the most frequent
 * ones), text and dates into a hash map of counts. */
#include "errand/data_stats.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "colfile.h"
#include "data_db.h"
#include "data_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorting and quantiles ---- */

static uint64_t key_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x8000000000000000ull ? ~u : u | 0x8000000000000000ull;
}

static double value_of(uint64_t k)
{
    uint64_t u = k & 0x8000000000000000ull ? k & ~0x8000000000000000ull : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define RADIX_BITS 11
#define RADIX      (1u << RADIX_BITS)
#define PASSES     ((64 + RADIX_BITS - 1) / RADIX_BITS)

void er_stats_sort(double *x, size_t n)
{
    if (n < 4096) {
        qsort(x, n, sizeof *x, cmp_double);
        return;
    }
    /* LSD radix sort on the order-preserving bit pattern, 11 bits a pass (a
     * pass's counts stay in the first-level cache); every pass's counts in
     * one read, and a pass where all keys share the digit is skipped. */
    uint64_t *a = (uint64_t *)(void *)x, *b = er_xmalloc(n * sizeof *b); /* keys in place */
    size_t *count = er_xcalloc((size_t)PASSES * RADIX, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(x[i]);
        a[i] = k;
        for (int p = 0; p < PASSES; p++)
            count[(size_t)p * RADIX + ((k >> (p * RADIX_BITS)) & (RADIX - 1))]++;
    }
    for (int p = 0; p < PASSES; p++) {
        size_t *c = count + (size_t)p * RADIX;
        int shift = p * RADIX_BITS;
        if (c[(a[0] >> shift) & (RADIX - 1)] == n)
            continue; /* every key has the same digit here */
        size_t sum = 0;
        for (size_t i = 0; i < RADIX; i++) {
            size_t k = c[i];
            c[i] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            b[c[(a[i] >> shift) & (RADIX - 1)]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (a != (uint64_t *)(void *)x) {
        memcpy(x, a, n * sizeof *a);
        b = a;
    }
    for (size_t i = 0; i < n; i++) {
        double v = value_of(((uint64_t *)(void *)x)[i]);
        x[i] = v;
    }
    free(count);
    free(b);
}

double er_stats_quantile(const double *x, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* ---- describe ---- */

typedef struct colstat {
    char *name;
    er_dtype type;
    int64_t count, nulls;
    /* numbers */
    double *v;
    size_t n, cap;
    double mean, m2; /* Welford */
    /* text and dates */
    er_strmap map;
    int64_t *counts;
    size_t ccounts;
    bool map_full;
    char *min, *max;
} colstat;

static void add_number(colstat *c, double x)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->v = er_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = x;
    double delta = x - c->mean;
    c->mean += delta / (double)c->n;
    c->m2 += delta * (x - c->mean);
}

/* strcmp's order for texts with lengths. */
static int text_cmp(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an > bn) - (an < bn);
}

/* Counts k more of the text s[0..len). */
static void add_text(colstat *c, const char *s, size_t len, int64_t k)
{
    if (!c->min || text_cmp(s, len, c->min) < 0) {
        free(c->min);
        c->min = er_xstrndup(s, len);
    }
    if (!c->max || text_cmp(s, len, c->max) > 0) {
        free(c->max);
        c->max = er_xstrndup(s, len);
    }
    size_t i = er_strmap_get(&c->map, s, len);
    if (i != SIZE_MAX) {
        c->counts[i] += k;
        return;
    }
    if (c->map.n >= ER_STATS_DISTINCT_MAX) {
        c->map_full = true;
        return;
    }
    if (c->map.n == c->ccounts) {
        c->ccounts = c->ccounts ? c->ccounts * 2 : 256;
        c->counts = er_xrealloc(c->counts, c->ccounts * sizeof *c->counts);
    }
    c->counts[c->map.n] = k;
    er_strmap_put(&c->map, s, len, c->map.n);
}

static void add_value(colstat *c, sqlite3_stmt *st, int i)
{
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_NULL) {
        c->nulls++;
        return;
    }
    c->count++;
    if (er_dtype_numeric(c->type) && (t == SQLITE_INTEGER || t == SQLITE_FLOAT))
        add_number(c, sqlite3_column_double(st, i));
    else
        add_text(c, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i),
                 1);
}

typedef struct topv {
    double num;
    const char *text;
    int64_t count;
} topv;

/* Keeps the ER_STATS_TOP most frequent in top (sorted by count, descending;
 * earlier values win ties). */
static void offer_top(topv *top, size_t *ntop, topv cand)
{
    size_t pos = *ntop;
    while (pos > 0 && top[pos - 1].count < cand.count)
        pos--;
    if (pos >= ER_STATS_TOP)
        return;
    size_t last = *ntop < ER_STATS_TOP ? *ntop : ER_STATS_TOP - 1;
    memmove(top + pos + 1, top + pos, (last - pos) * sizeof *top);
    top[pos] = cand;
    if (*ntop < ER_STATS_TOP)
        (*ntop)++;
}

static void add_top(cJSON *o, const topv *top, size_t ntop, bool numeric, bool integral)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < ntop; i++) {
        cJSON *t = cJSON_CreateObject();
        if (numeric && integral)
            er_json_add_num(t, "value", top[i].num);
        else if (numeric)
            er_json_add_num(t, "value", top[i].num);
        else
            er_json_add_str(t, "value", top[i].text);
        er_json_add_num(t, "count", (double)top[i].count);
        er_json_append(arr, t);
    }
    er_json_add(o, "top", arr);
}

static void number_summary(cJSON *o, colstat *c)
{
    er_stats_sort(c->v, c->n);
    size_t distinct = 0, ntop = 0;
    topv top[ER_STATS_TOP];
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        while (j < c->n && c->v[j] == c->v[i])
            j++;
        distinct++;
        offer_top(top, &ntop, (topv){ c->v[i], NULL, (int64_t)(j - i) });
        i = j;
    }
    er_json_add_num(o, "distinct", (double)distinct);
    if (!c->n)
        return;
    er_json_add_num(o, "min", c->v[0]);
    er_json_add_num(o, "max", c->v[c->n - 1]);
    er_json_add_num(o, "mean", c->mean);
    if (c->n > 1)
        er_json_add_num(o, "stddev", sqrt(c->m2 / (double)(c->n - 1)));
    static const struct {
        const char *name;
        double p;
    } qs[] = {
        { "median", 0.5 }, { "p5", 0.05 }, { "p25", 0.25 }, { "p75", 0.75 }, { "p95", 0.95 }
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(qs); i++)
        er_json_add_num(o, qs[i].name, er_stats_quantile(c->v, c->n, qs[i].p));
    add_top(o, top, ntop, true, c->type != ER_DT_REAL);
}

static void text_summary(cJSON *o, colstat *c)
{
    er_json_add_num(o, c->map_full ? "distinct_at_least" : "distinct", (double)c->map.n);
    if (c->min) {
        er_json_add_str(o, "min", c->min);
        er_json_add_str(o, "max", c->max);
    }
    topv top[ER_STATS_TOP];
    size_t ntop = 0;
    /* Ties in first-seen order would depend on the hash: break them by text. */
    for (size_t i = 0; i < c->map.cap; i++) {
        if (!c->map.keys[i])
            continue;
        topv cand = { 0, c->map.keys[i], c->counts[c->map.vals[i]] };
        size_t pos = ntop;
        while (pos > 0 &&
               (top[pos - 1].count < cand.count ||
                (top[pos - 1].count == cand.count && strcmp(top[pos - 1].text, cand.text) > 0)))
            pos--;
        if (pos >= ER_STATS_TOP)
            continue;
        size_t last = ntop < ER_STATS_TOP ? ntop : ER_STATS_TOP - 1;
        memmove(top + pos + 1, top + pos, (last - pos) * sizeof *top);
        top[pos] = cand;
        if (ntop < ER_STATS_TOP)
            ntop++;
    }
    add_top(o, top, ntop, false, false);
}

static cJSON *column_summary(colstat *c)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "name", c->name);
    er_json_add_str(o, "type", er_dtype_name(c->type));
    er_json_add_num(o, "count", (double)c->count);
    er_json_add_num(o, "nulls", (double)c->nulls);
    if (er_dtype_numeric(c->type))
        number_summary(o, c);
    else
        text_summary(o, c);
    return o;
}

static void colstat_release(colstat *c)
{
    free(c->name);
    free(c->v);
    er_strmap_release(&c->map);
    free(c->counts);
    free(c->min);
    free(c->max);
}

static bool wanted(const cJSON *columns, const char *name)
{
    if (!columns || cJSON_GetArraySize(columns) == 0)
        return true;
    const cJSON *c;
    cJSON_ArrayForEach(c, columns) if (cJSON_IsString(c) &&
                                       strcmp(c->valuestring, name) == 0) return true;
    return false;
}

/* Checks that every name in columns is a column of the table. */
static int check_names(const cJSON *cols, const cJSON *columns, const char *table, er_error *err)
{
    const cJSON *w, *c;
    cJSON_ArrayForEach(w, columns)
    {
        bool found = false;
        cJSON_ArrayForEach(c, cols) found |=
            cJSON_IsString(w) && er_str_eq(er_json_str(c, "name"), w->valuestring);
        if (!found) {
            er_buf names = ER_BUF_INIT;
            cJSON_ArrayForEach(c, cols)
                er_buf_printf(&names, "%s%s", names.len ? ", " : "", er_json_str(c, "name"));
            int rc =
                er_error_set(err, ER_EINVAL, "table %s has no column '%s' (columns: %s)", table,
                             cJSON_IsString(w) ? w->valuestring : "?", er_buf_cstr(&names));
            er_buf_release(&names);
            return rc;
        }
    }
    return 0;
}

/* The chosen columns of table, with their types; a SELECT of them. */
static int pick_columns(er_data *d, const char *table, const cJSON *columns, bool numeric_only,
                        colstat **out, size_t *n, char **sql, er_error *err)
{
    cJSON *cols;
    int rc = er_data_columns(d, table, &cols, err);
    if (rc == 0)
        rc = check_names(cols, columns, table, err);
    if (rc) {
        if (rc != ER_ENOTFOUND)
            cJSON_Delete(cols);
        return rc;
    }
    colstat *v = er_xcalloc((size_t)cJSON_GetArraySize(cols) + 1, sizeof *v);
    er_buf b = ER_BUF_INIT;
    const cJSON *c;
    size_t k = 0;
    er_buf_puts(&b, "SELECT ");
    cJSON_ArrayForEach(c, cols)
    {
        const char *name = er_json_str(c, "name"), *type = er_json_str(c, "type");
        er_dtype t = ER_DT_TEXT;
        for (int i = 0; i < ER_DT_COUNT; i++)
            if (er_str_eq(type, er_dtype_name((er_dtype)i)))
                t = (er_dtype)i;
        if (!name || !wanted(columns, name) || (numeric_only && !er_dtype_numeric(t)))
            continue;
        char *q = er_data_quote_ident(name);
        er_buf_printf(&b, "%s%s", k ? ", " : "", q);
        free(q);
        v[k].name = er_xstrdup(name);
        v[k].type = t;
        er_strmap_init(&v[k].map);
        k++;
    }
    char *qt = er_data_quote_ident(table);
    er_buf_printf(&b, " FROM %s", qt);
    free(qt);
    cJSON_Delete(cols);
    *out = v;
    *n = k;
    *sql = er_buf_detach(&b);
    return 0;
}

/* ---- describe from the column file ---- */

/* The values of one chunk into c: numbers one by one; text counted per
 * dictionary entry first when the chunk has one. */
static void add_chunk(colstat *c, const er_chunk *k, int64_t *dcount)
{
    bool numeric = er_dtype_numeric(c->type), date = !numeric && c->type != ER_DT_TEXT;
    if (k->enc == ER_ENC_DICT)
        memset(dcount, 0, k->ndict * sizeof *dcount);
    for (uint32_t i = 0; i < k->n; i++) {
        if (er_chunk_null(k, i)) {
            c->nulls++;
            continue;
        }
        c->count++;
        if (k->enc == ER_ENC_DICT) {
            dcount[k->codes[i]]++;
        } else if (k->enc == ER_ENC_TEXT) {
            size_t n;
            const char *p = er_chunk_text(k, i, &n);
            p = date ? er_data_trim(p, &n) : p;
            add_text(c, p, n, 1);
        } else if (numeric) {
            add_number(c, er_chunk_num(k, i));
        }
    }
    for (uint32_t e = 0; k->enc == ER_ENC_DICT && e < k->ndict; e++) {
        size_t n = k->off[e + 1] - k->off[e];
        const char *p = k->text + k->off[e];
        p = date ? er_data_trim(p, &n) : p;
        if (dcount[e])
            add_text(c, p, n, dcount[e]);
    }
}

/* values: room for every row's number, reused from column to column. */
static int describe_column(er_colr *r, size_t col, colstat *c, double *values, er_error *err)
{
    er_colbuf b = { 0 };
    er_chunk k;
    int64_t *dcount = er_xmalloc(65536 * sizeof *dcount);
    int rc = 0;
    if (er_dtype_numeric(c->type)) {
        c->cap = (size_t)er_colr_rows(r) + 1;
        c->v = values;
    }
    for (size_t g = 0; rc == 0 && g < er_colr_groups(r); g++) {
        rc = er_colr_chunk(r, g, col, &b, &k, err);
        if (rc == 0)
            add_chunk(c, &k, dcount);
    }
    free(dcount);
    er_colr_buf_release(&b);
    return rc;
}

/* describe read from the table's column file; ER_ENOTFOUND when the table
 * has none (or shows it long), so that SQL reads it. */
static int describe_file(er_data *d, const char *table, colstat *v, size_t n, cJSON *arr,
                         int64_t *rows, er_error *err)
{
    er_colr *r;
    size_t *idx = er_xcalloc(n + 1, sizeof *idx);
    int rc = er_data_open_columns(d, table, &r, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (idx[i] = 0; idx[i] < er_colr_ncols(r); idx[i]++)
            if (strcmp(er_colr_name(r, idx[i]), v[i].name) == 0)
                break;
        if (idx[i] == er_colr_ncols(r))
            rc = ER_ENOTFOUND; /* shown long: (row, column, value) */
    }
    double *values = rc == 0 ? er_xmalloc(((size_t)er_colr_rows(r) + 1) * sizeof *values) : NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = describe_column(r, idx[i], &v[i], values, err);
        if (rc == 0)
            er_json_append(arr, column_summary(&v[i]));
        v[i].v = NULL;          /* values is reused */
        colstat_release(&v[i]); /* one column's values at a time */
        memset(&v[i], 0, sizeof v[i]);
    }
    free(values);
    if (rc == 0)
        *rows = (int64_t)er_colr_rows(r);
    er_colr_close(r);
    free(idx);
    return rc;
}

int er_stats_describe(er_data *d, const char *table, const cJSON *columns, cJSON **out,
                      er_error *err)
{
    colstat *v;
    size_t n;
    char *sql;
    int rc = pick_columns(d, table, columns, false, &v, &n, &sql, err);
    if (rc)
        return rc;
    int64_t rows = 0;
    cJSON *summaries = cJSON_CreateArray();
    rc = describe_file(d, table, v, n, summaries, &rows, err);
    if (rc != ER_ENOTFOUND) {
        if (rc == 0) {
            *out = cJSON_CreateObject();
            er_json_add_str(*out, "table", table);
            er_json_add_num(*out, "rows", (double)rows);
            er_json_add(*out, "columns", summaries);
        } else {
            cJSON_Delete(summaries);
        }
        for (size_t i = 0; i < n; i++)
            colstat_release(&v[i]);
        free(v);
        free(sql);
        return rc;
    }
    cJSON_Delete(summaries);
    sqlite3_stmt *st = NULL;
    if (n && sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        rc = er_data_sqlite_error(d, err, "describe");
    int s = SQLITE_DONE;
    while (rc == 0 && st && (s = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        for (size_t i = 0; i < n; i++)
            add_value(&v[i], st, (int)i);
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = er_data_sqlite_error(d, err, "describe");
    sqlite3_finalize(st);
    if (rc == 0) {
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
        er_json_add_str(o, "table", table);
        er_json_add_num(o, "rows", (double)rows);
        for (size_t i = 0; i < n; i++)
            er_json_append(arr, column_summary(&v[i]));
        er_json_add(o, "columns", arr);
        *out = o;
    }
    for (size_t i = 0; i < n; i++)
        colstat_release(&v[i]);
    free(v);
    free(sql);
    return rc;
}

/* ---- correlate ---- */

#define CORR_COLUMNS_MAX 30

static double pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* Ranks of x[0..n) (1-based, ties get their average rank) into r. */
static void ranks(const double *x, size_t n, double *r)
{
    ranked *v = er_xmalloc((n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (ranked){ x[i], i };
    qsort(v, n, sizeof *v, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].v == v[i].v)
            j++;
        double avg = ((double)i + 1 + (double)j) / 2;
        for (size_t k = i; k < j; k++)
            r[v[k].i] = avg;
        i = j;
    }
    free(v);
}

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(round(v * 1e12) / 1e12) : cJSON_CreateNull();
}

/* Pearson, Spearman and n of columns a and b over the rows where both are set. */
static void pair(double **cols, size_t rows, size_t a, size_t b, double *p, double *s, size_t *n)
{
    double *x = er_xmalloc((rows + 1) * sizeof *x), *y = er_xmalloc((rows + 1) * sizeof *y);
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (!isnan(cols[a][i]) && !isnan(cols[b][i])) {
            x[k] = cols[a][i];
            y[k++] = cols[b][i];
        }
    *n = k;
    *p = pearson(x, y, k);
    double *rx = er_xmalloc((k + 1) * sizeof *rx), *ry = er_xmalloc((k + 1) * sizeof *ry);
    ranks(x, k, rx);
    ranks(y, k, ry);
    *s = pearson(rx, ry, k);
    free(x);
    free(y);
    free(rx);
    free(ry);
}

static int read_numbers(er_data *d, const char *sql, size_t ncols, double ***out, size_t *rows,
                        er_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        return er_data_sqlite_error(d, err, "correlate");
    double **cols = er_xcalloc(ncols, sizeof *cols);
    size_t n = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            for (size_t c = 0; c < ncols; c++)
                cols[c] = er_xrealloc(cols[c], cap * sizeof **cols);
        }
        for (size_t c = 0; c < ncols; c++)
            cols[c][n] = sqlite3_column_type(st, (int)c) == SQLITE_NULL
                             ? NAN
                             : sqlite3_column_double(st, (int)c);
        n++;
    }
    int rc = s == SQLITE_DONE ? 0 : er_data_sqlite_error(d, err, "correlate");
    sqlite3_finalize(st);
    *out = cols;
    *rows = n;
    return rc;
}

static cJSON *strongest(const colstat *v, size_t n, double *p, double *s, size_t *cnt)
{
    cJSON *arr = cJSON_CreateArray();
    bool *used = er_xcalloc(n * n + 1, sizeof *used);
    for (int pick = 0; pick < 10; pick++) {
        size_t best = SIZE_MAX;
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (!used[a * n + b] && isfinite(p[a * n + b]) &&
                    (best == SIZE_MAX || fabs(p[a * n + b]) > fabs(p[best])))
                    best = a * n + b;
        if (best == SIZE_MAX)
            break;
        used[best] = true;
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "a", v[best / n].name);
        er_json_add_str(o, "b", v[best % n].name);
        er_json_add(o, "pearson", number_or_null(p[best]));
        er_json_add(o, "spearman", number_or_null(s[best]));
        er_json_add_num(o, "n", (double)cnt[best]);
        er_json_append(arr, o);
    }
    free(used);
    return arr;
}

static cJSON *matrix(const double *m, size_t n)
{
    cJSON *rows = cJSON_CreateArray();
    for (size_t a = 0; a < n; a++) {
        cJSON *r = cJSON_CreateArray();
        for (size_t b = 0; b < n; b++)
            er_json_append(r, number_or_null(m[a * n + b]));
        er_json_append(rows, r);
    }
    return rows;
}

int er_stats_correlate(er_data *d, const char *table, const cJSON *columns, cJSON **out,
                       er_error *err)
{
    colstat *v;
    size_t n;
    char *sql;
    int rc = pick_columns(d, table, columns, true, &v, &n, &sql, err);
    if (rc)
        return rc;
    if (n < 2)
        rc = er_error_set(err, ER_EINVAL, "correlate needs two numeric columns; %s has %zu%s",
                          table, n, columns ? " among those named" : "");
    else if (n > CORR_COLUMNS_MAX)
        rc = er_error_set(err, ER_EINVAL,
                          "correlate takes at most %d columns; name the ones "
                          "you want",
                          CORR_COLUMNS_MAX);
    double **cols = NULL;
    size_t rows = 0;
    if (rc == 0)
        rc = read_numbers(d, sql, n, &cols, &rows, err);
    if (rc == 0) {
        double *p = er_xcalloc(n * n, sizeof *p), *s = er_xcalloc(n * n, sizeof *s);
        size_t *cnt = er_xcalloc(n * n, sizeof *cnt);
        for (size_t a = 0; a < n; a++)
            for (size_t b = a; b < n; b++) {
                pair(cols, rows, a, b, &p[a * n + b], &s[a * n + b], &cnt[a * n + b]);
                p[b * n + a] = p[a * n + b];
                s[b * n + a] = s[a * n + b];
                cnt[b * n + a] = cnt[a * n + b];
            }
        cJSON *o = cJSON_CreateObject(), *names = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            er_json_append(names, cJSON_CreateString(v[i].name));
        er_json_add_str(o, "table", table);
        er_json_add(o, "columns", names);
        er_json_add(o, "pearson", matrix(p, n));
        er_json_add(o, "spearman", matrix(s, n));
        er_json_add(o, "strongest", strongest(v, n, p, s, cnt));
        *out = o;
        free(p);
        free(s);
        free(cnt);
    }
    for (size_t i = 0; i < n; i++) {
        if (cols)
            free(cols[i]);
        colstat_release(&v[i]);
    }
    free(cols);
    free(v);
    free(sql);
    return rc;
}
