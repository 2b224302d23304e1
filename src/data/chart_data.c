/* chart_data.c — the chart model from a table or a query, and as JSON.
 *
 * From a table, bars, pies and lines aggregate y by x (sum unless told
 * otherwise) — "revenue by region" is a sum per region — and a series column
 * splits them; scatter plots take the points as they are (an even sample past
 * SCATTER_MAX); histograms bin one numeric column.  Dates and datetimes on
 * the x axis of a line or scatter make it a time axis. */
#include "errand/chart.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "data_db.h"
#include "data_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CATS_MAX    60
#define PIE_MAX     10
#define SERIES_MAX  12
#define SCATTER_MAX 5000
#define POINTS_MAX  20000
#define BINS_MAX    60

static const char *const kind_names[] = { "bar",     "grouped_bar", "line",
                                          "scatter", "histogram",   "pie" };

const char *er_chart_kind_name(er_chart_kind k)
{
    return (unsigned)k < ER_CHART_KINDS ? kind_names[k] : "bar";
}

int er_chart_kind_parse(const char *name, er_chart_kind *out)
{
    for (int i = 0; i < ER_CHART_KINDS; i++)
        if (name && (strcasecmp(name, kind_names[i]) == 0 ||
                     (i == ER_CHART_GROUPED_BAR && (strcasecmp(name, "grouped") == 0 ||
                                                    strcasecmp(name, "grouped-bar") == 0)))) {
            *out = (er_chart_kind)i;
            return 0;
        }
    return ER_EINVAL;
}

void er_chart_free(er_chart *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ncats; i++)
        free(c->cats[i]);
    for (size_t i = 0; i < c->nseries; i++) {
        free(c->series[i].name);
        free(c->series[i].x);
        free(c->series[i].y);
    }
    free(c->cats);
    free(c->series);
    free(c->title);
    free(c->xlabel);
    free(c->ylabel);
    free(c);
}

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ISO date or datetime text → unix seconds (UTC offsets applied); false if not one. */
static bool iso_seconds(const char *s, double *out)
{
    int y, m, d, hh = 0, mm = 0, n = 0;
    double ss = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return false;
    const char *p = s + 10;
    if ((*p == 'T' || *p == ' ') && sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) == 2) {
        p += 1 + n;
        if (*p == ':') {
            char *e;
            ss = strtod(p + 1, &e);
            p = e;
        }
        int oh, om;
        if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
            ss -= (*p == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
    }
    *out = (double)days_from_civil(y, m, d) * 86400.0 + hh * 3600.0 + mm * 60.0 + ss;
    return true;
}

/* ---- building ---- */

static er_chart *chart_new(const er_chart_spec *s)
{
    er_chart *c = er_xcalloc(1, sizeof *c);
    c->kind = s->kind;
    c->title = er_xstrdup(s->title);
    return c;
}

static er_chart_series *add_series(er_chart *c, const char *name)
{
    c->series = er_xrealloc(c->series, (c->nseries + 1) * sizeof *c->series);
    er_chart_series *s = &c->series[c->nseries++];
    memset(s, 0, sizeof *s);
    s->name = er_xstrdup(name ? name : "");
    return s;
}

static size_t add_cat(er_chart *c, const char *label)
{
    for (size_t i = 0; i < c->ncats; i++)
        if (strcmp(c->cats[i], label) == 0)
            return i;
    c->cats = er_xrealloc(c->cats, (c->ncats + 1) * sizeof *c->cats);
    c->cats[c->ncats] = er_xstrdup(label);
    return c->ncats++;
}

static bool has_cat(const er_chart *c, const char *label)
{
    for (size_t i = 0; i < c->ncats; i++)
        if (strcmp(c->cats[i], label) == 0)
            return true;
    return false;
}

static void set_y(er_chart_series *s, size_t i, double v)
{
    if (i >= s->n) {
        s->y = er_xrealloc(s->y, (i + 1) * sizeof *s->y);
        for (size_t k = s->n; k <= i; k++)
            s->y[k] = NAN;
        s->n = i + 1;
    }
    s->y[i] = v;
}

static void push_xy(er_chart_series *s, double x, double y)
{
    s->x = er_xrealloc(s->x, (s->n + 1) * sizeof *s->x);
    s->y = er_xrealloc(s->y, (s->n + 1) * sizeof *s->y);
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

static er_chart_series *series_named(er_chart *c, const char *name)
{
    for (size_t i = 0; i < c->nseries; i++)
        if (strcmp(c->series[i].name, name) == 0)
            return &c->series[i];
    return c->nseries < SERIES_MAX ? add_series(c, name) : NULL;
}

static const char *cell_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "(null)";
}

/* The x value of a line or scatter point: a number, or a time. */
static bool x_value(er_chart *c, sqlite3_stmt *st, int i, double *x)
{
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_NULL)
        return false;
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
        *x = sqlite3_column_double(st, i);
        return !c->x_time;
    }
    if (iso_seconds((const char *)sqlite3_column_text(st, i), x)) {
        c->x_time = true;
        return true;
    }
    return false;
}

/* Reads the result: column 0 is x; with `split`, column 1 names the series
 * and column 2 is y; otherwise columns 1… are one series each. */
static int read_rows(er_data *d, er_chart *c, sqlite3_stmt *st, bool split, er_error *err)
{
    int ncol = sqlite3_column_count(st);
    bool categorical =
        c->kind == ER_CHART_BAR || c->kind == ER_CHART_GROUPED_BAR || c->kind == ER_CHART_PIE;
    if (!split)
        for (int i = 1; i < ncol && c->nseries < SERIES_MAX; i++)
            add_series(c, sqlite3_column_name(st, i));
    size_t rows = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (++rows > POINTS_MAX)
            break;
        double x = 0;
        size_t cat = 0;
        if (categorical) {
            if (c->ncats >= CATS_MAX && !has_cat(c, cell_text(st, 0)))
                continue;
            cat = add_cat(c, cell_text(st, 0));
        } else if (!x_value(c, st, 0, &x)) {
            continue;
        }
        for (int i = split ? 2 : 1; i < (split ? 3 : ncol); i++) {
            er_chart_series *se = split                          ? series_named(c, cell_text(st, 1))
                                  : (size_t)(i - 1) < c->nseries ? &c->series[i - 1]
                                                                 : NULL;
            if (!se)
                continue;
            int t = sqlite3_column_type(st, i);
            double y =
                t == SQLITE_INTEGER || t == SQLITE_FLOAT ? sqlite3_column_double(st, i) : NAN;
            if (categorical)
                set_y(se, cat, y);
            else if (!isnan(y))
                push_xy(se, x, y);
        }
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return er_data_sqlite_error(d, err, "chart");
    for (size_t i = 0; categorical && i < c->nseries; i++)
        if (c->ncats && c->series[i].n < c->ncats)
            set_y(&c->series[i], c->ncats - 1, NAN);
    return 0;
}

static const char *agg_fn(const er_chart_spec *s, er_error *err, int *rc)
{
    static const char *const fns[][2] = { { "sum", "SUM" },     { "avg", "AVG" }, { "mean", "AVG" },
                                          { "count", "COUNT" }, { "min", "MIN" }, { "max", "MAX" },
                                          { "none", "" } };
    const char *a = s->agg && *s->agg ? s->agg : "sum";
    for (size_t i = 0; i < ER_ARRAY_LEN(fns); i++)
        if (strcasecmp(a, fns[i][0]) == 0)
            return fns[i][1];
    *rc = er_error_set(err, ER_EINVAL, "agg '%s' is not one of sum, avg, count, min, max, none", a);
    return NULL;
}

/* The SQL that gives the chart's rows from a table. */
static int table_sql(er_data *d, const er_chart_spec *s, bool *split, er_buf *b, er_error *err)
{
    cJSON *cols;
    int rc = er_data_columns(d, s->table, &cols, err);
    if (rc)
        return rc;
    char *qt = er_data_quote_ident(s->table), *qx = er_data_quote_ident(s->x ? s->x : "");
    const char *fn = agg_fn(s, err, &rc);
    bool raw = s->kind == ER_CHART_SCATTER || (fn && !*fn);
    *split = s->series && *s->series;
    if (rc == 0 && !s->x)
        rc = er_error_set(err, ER_EINVAL, "say which column goes on the x axis (x)");
    er_buf ys = ER_BUF_INIT;
    if (rc == 0 && *split) {
        char *qs = er_data_quote_ident(s->series), *qy = er_data_quote_ident(s->y ? s->y : "");
        er_buf_printf(&ys, "%s, %s%s%s%s", qs, raw ? "" : fn, raw ? "" : "(",
                      s->y  ? qy
                      : raw ? "1"
                            : "*",
                      raw ? "" : ")");
        free(qs);
        free(qy);
    } else if (rc == 0) {
        char *list = er_xstrdup(s->y ? s->y : "");
        size_t k = 0;
        for (char *save = NULL, *w = strtok_r(list, ",", &save); w;
             w = strtok_r(NULL, ",", &save)) {
            char *qy = er_data_quote_ident(er_str_trim(w));
            er_buf_printf(&ys, "%s%s%s%s%s AS %s", k++ ? ", " : "", raw ? "" : fn, raw ? "" : "(",
                          qy, raw ? "" : ")", qy);
            free(qy);
        }
        if (!k)
            er_buf_puts(&ys, raw ? "1" : "COUNT(*) AS count");
        free(list);
    }
    if (rc == 0 && raw)
        er_buf_printf(b, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL", qx, ys.ptr, qt, qx);
    else if (rc == 0)
        er_buf_printf(b, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL GROUP BY 1%s ORDER BY 1%s", qx,
                      ys.ptr, qt, qx, *split ? ", 2" : "", *split ? ", 2" : "");
    if (rc == 0 && s->kind == ER_CHART_SCATTER) {
        int64_t rows = 0;
        sqlite3_stmt *st;
        char *count = er_xasprintf("SELECT count(*) FROM %s", qt);
        if (sqlite3_prepare_v2(d->db, count, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                rows = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        free(count);
        if (rows > SCATTER_MAX)
            er_buf_printf(b, " AND rowid %% %lld = 0", (long long)(rows / SCATTER_MAX + 1));
    }
    er_buf_release(&ys);
    free(qt);
    free(qx);
    cJSON_Delete(cols);
    return rc;
}

/* ---- histograms ---- */

static int histogram(er_data *d, const er_chart_spec *s, er_chart *c, er_error *err)
{
    char *sql;
    if (s->sql) {
        sql = er_xstrdup(s->sql);
    } else {
        char *qt = er_data_quote_ident(s->table), *qx = er_data_quote_ident(s->y ? s->y : s->x);
        sql = er_xasprintf("SELECT %s FROM %s", qx, qt);
        free(qt);
        free(qx);
    }
    sqlite3_stmt *st;
    int rc = er_data_prepare_ro(d, sql, &st, err);
    free(sql);
    if (rc)
        return rc;
    double *v = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int t = sqlite3_column_type(st, 0);
        if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = er_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = sqlite3_column_double(st, 0);
    }
    c->xlabel = er_xstrdup(sqlite3_column_name(st, 0));
    sqlite3_finalize(st);
    if (n == 0) {
        free(v);
        return er_error_set(err, ER_EINVAL, "a histogram needs numbers; the column has none");
    }
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    int bins = s->bins > 0 ? s->bins : (int)ceil(log2((double)n)) + 1;
    bins = bins > BINS_MAX ? BINS_MAX : bins;
    double width = hi > lo ? (hi - lo) / bins : 1;
    er_chart_series *se = add_series(c, "count");
    for (int b = 0; b < bins; b++) {
        char label[64];
        snprintf(label, sizeof label, "%.4g–%.4g", lo + b * width, lo + (b + 1) * width);
        add_cat(c, label);
        set_y(se, (size_t)b, 0);
    }
    for (size_t i = 0; i < n; i++) {
        int b = (int)((v[i] - lo) / width);
        se->y[b >= bins ? bins - 1 : b < 0 ? 0 : b] += 1;
    }
    c->ylabel = er_xstrdup("count");
    free(v);
    return 0;
}

/* Pies keep the largest slices; the rest become "other". */
static void pie_other(er_chart *c)
{
    if (c->kind != ER_CHART_PIE || c->nseries == 0 || c->ncats <= PIE_MAX)
        return;
    er_chart_series *s = &c->series[0];
    double other = 0;
    for (size_t keep = c->ncats; keep > PIE_MAX - 1; keep--) {
        size_t min = 0;
        for (size_t i = 1; i < c->ncats; i++)
            if (!(s->y[i] >= s->y[min]))
                min = i;
        other += isnan(s->y[min]) ? 0 : s->y[min];
        free(c->cats[min]);
        memmove(c->cats + min, c->cats + min + 1, (c->ncats - min - 1) * sizeof *c->cats);
        memmove(s->y + min, s->y + min + 1, (c->ncats - min - 1) * sizeof *s->y);
        c->ncats--;
        s->n--;
    }
    c->cats[c->ncats] = er_xstrdup("other");
    s->y[c->ncats] = other;
    c->ncats++;
    s->n++;
}

static void default_labels(er_chart *c, const er_chart_spec *s)
{
    if (!c->xlabel)
        c->xlabel = er_xstrdup(s->x ? s->x : "");
    if (!c->ylabel) {
        const char *fn = s->agg && *s->agg ? s->agg : "sum";
        bool agg = s->table && c->kind != ER_CHART_SCATTER && strcasecmp(fn, "none") != 0;
        c->ylabel = s->y && !strchr(s->y, ',')
                        ? (agg ? er_xasprintf("%s of %s", fn, s->y) : er_xstrdup(s->y))
                        : er_xstrdup(s->y || !s->table ? "" : "count");
    }
    if (!c->title || !*c->title) {
        free(c->title);
        c->title = s->y ? er_xasprintf("%s by %s", s->y, s->x ? s->x : "x")
                        : er_xasprintf("%s", s->table ? s->table : "query");
    }
}

int er_chart_build(er_data *d, const er_chart_spec *s, er_chart **out, er_error *err)
{
    if (!s->table == !s->sql)
        return er_error_set(err, ER_EINVAL, "chart: give a table (with x, y) or a query");
    er_chart *c = chart_new(s);
    int rc = 0;
    if (s->kind == ER_CHART_HISTOGRAM) {
        rc = histogram(d, s, c, err);
    } else {
        er_buf sql = ER_BUF_INIT;
        bool split = false;
        if (s->table)
            rc = table_sql(d, s, &split, &sql, err);
        else
            er_buf_puts(&sql, s->sql);
        sqlite3_stmt *st = NULL;
        if (rc == 0)
            rc = er_data_prepare_ro(d, sql.ptr, &st, err);
        if (rc == 0 && sqlite3_column_count(st) < 2 && !split)
            rc = er_error_set(err, ER_EINVAL,
                              "chart: the query gives %d column; x and y need "
                              "two",
                              sqlite3_column_count(st));
        if (rc == 0) {
            if (!s->x)
                c->xlabel = er_xstrdup(sqlite3_column_name(st, 0));
            rc = read_rows(d, c, st, split, err);
        }
        sqlite3_finalize(st);
        er_buf_release(&sql);
    }
    if (rc == 0 && c->nseries == 0)
        rc = er_error_set(err, ER_EINVAL, "chart: nothing to draw (no y values)");
    if (rc) {
        er_chart_free(c);
        return rc;
    }
    pie_other(c);
    default_labels(c, s);
    *out = c;
    return 0;
}

/* ---- JSON ---- */

static cJSON *numbers(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        er_json_append(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

cJSON *er_chart_json(const er_chart *c)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "kind", er_chart_kind_name(c->kind));
    er_json_add_str(o, "title", c->title);
    er_json_add_str(o, "xlabel", c->xlabel);
    er_json_add_str(o, "ylabel", c->ylabel);
    if (c->x_time)
        er_json_add_bool(o, "x_time", true);
    if (c->ncats) {
        cJSON *cats = cJSON_CreateArray();
        for (size_t i = 0; i < c->ncats; i++)
            er_json_append(cats, cJSON_CreateString(c->cats[i]));
        er_json_add(o, "categories", cats);
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->nseries; i++) {
        cJSON *s = cJSON_CreateObject();
        er_json_add_str(s, "name", c->series[i].name);
        if (c->series[i].x)
            er_json_add(s, "x", numbers(c->series[i].x, c->series[i].n));
        er_json_add(s, "y", numbers(c->series[i].y, c->series[i].n));
        er_json_append(arr, s);
    }
    er_json_add(o, "series", arr);
    return o;
}

static double *array_of(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = er_xcalloc(*n + 1, sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    return v;
}

int er_chart_from_json(const cJSON *j, er_chart **out, er_error *err)
{
    er_chart_kind kind;
    if (!cJSON_IsObject(j) || er_chart_kind_parse(er_json_str(j, "kind"), &kind) != 0)
        return er_error_set(err, ER_EINVAL, "not a chart");
    er_chart *c = er_xcalloc(1, sizeof *c);
    c->kind = kind;
    c->title = er_xstrdup(er_json_str(j, "title"));
    c->xlabel = er_xstrdup(er_json_str(j, "xlabel"));
    c->ylabel = er_xstrdup(er_json_str(j, "ylabel"));
    c->x_time = er_json_bool(j, "x_time", false);
    const cJSON *e;
    cJSON_ArrayForEach(e, er_json_arr(j, "categories"))
        add_cat(c, cJSON_IsString(e) ? e->valuestring : "");
    cJSON_ArrayForEach(e, er_json_arr(j, "series"))
    {
        er_chart_series *s = add_series(c, er_json_str(e, "name"));
        size_t nx = 0;
        s->y = array_of(er_json_arr(e, "y"), &s->n);
        if (er_json_arr(e, "x")) {
            s->x = array_of(er_json_arr(e, "x"), &nx);
            if (nx != s->n) {
                er_chart_free(c);
                return er_error_set(err, ER_EINVAL, "chart series with %zu x and %zu y", nx, s->n);
            }
        }
    }
    *out = c;
    return 0;
}
