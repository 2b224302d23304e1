/* group.c — group-bys and pivots, as SQL built from checked column names.
 * A group-by of a loaded table's columns is computed from its column file in
 * one scan (colgroup.c); a pivot, or what that cannot do, runs the SQL
 * through the read-only query path (query.c).  Either way the result and
 * the SQL shown are the same. */
#include "errand/data_stats.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"
#include "colgroup.h"
#include "data_db.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PIVOT_VALUES_MAX 50

typedef struct agg {
    char fn[8];   /* SUM AVG COUNT MIN MAX */
    char *column; /* NULL: count(*) */
} agg;

static const char *const functions[][2] = {
    { "sum", "SUM" },     { "avg", "AVG" }, { "mean", "AVG" },
    { "count", "COUNT" }, { "min", "MIN" }, { "max", "MAX" },
};

static bool has_column(const cJSON *cols, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cols) if (er_str_eq(er_json_str(c, "name"), name)) return true;
    return false;
}

static int no_column(const cJSON *cols, const char *table, const char *name, er_error *err)
{
    er_buf names = ER_BUF_INIT;
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
        er_buf_printf(&names, "%s%s", names.len ? ", " : "", er_json_str(c, "name"));
    int rc = er_error_set(err, ER_EINVAL, "table %s has no column '%s' (columns: %s)", table, name,
                          er_buf_cstr(&names));
    er_buf_release(&names);
    return rc;
}

/* "sum(revenue)", "count(*)", "count" → agg. */
static int parse_agg(const char *text, const cJSON *cols, const char *table, agg *out,
                     er_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = strcspn(text, "(");
    for (size_t i = 0; i < ER_ARRAY_LEN(functions); i++)
        if (strlen(functions[i][0]) == n && strncasecmp(text, functions[i][0], n) == 0)
            snprintf(out->fn, sizeof out->fn, "%s", functions[i][1]);
    if (!out->fn[0])
        return er_error_set(err, ER_EINVAL,
                            "aggregate '%s': use sum, avg, count, min or max, "
                            "as in sum(revenue) or count(*)",
                            text);
    if (!text[n] || strcmp(text + n, "(*)") == 0 || strcmp(text + n, "()") == 0) {
        if (strcmp(out->fn, "COUNT") != 0)
            return er_error_set(err, ER_EINVAL, "aggregate '%s' needs a column, as in %.*s(price)",
                                text, (int)n, text);
        return 0;
    }
    const char *close = strrchr(text, ')');
    if (!close || close[1])
        return er_error_set(err, ER_EINVAL, "aggregate '%s': write fn(column)", text);
    char *col = er_xstrndup(text + n + 1, (size_t)(close - text - n - 1));
    er_str_trim(col);
    if (!has_column(cols, col)) {
        int rc = no_column(cols, table, col, err);
        free(col);
        return rc;
    }
    out->column = col;
    return 0;
}

static char *agg_name(const agg *a, const char *prefix)
{
    char fn[8];
    size_t i = 0;
    for (; a->fn[i] && i + 1 < sizeof fn; i++)
        fn[i] = (char)tolower((unsigned char)a->fn[i]);
    fn[i] = '\0';
    return er_xasprintf("%s%s%s%s", prefix ? prefix : "", prefix ? "_" : "", fn,
                        a->column ? "_" : "");
}

/* AGG(col) or, for one pivot value, AGG(CASE WHEN pivot = v THEN col END). */
static void put_agg(er_buf *b, const agg *a, const char *pivot_q, const char *value_sql)
{
    char *c = a->column ? er_data_quote_ident(a->column) : NULL;
    if (!pivot_q)
        er_buf_printf(b, "%s(%s)", a->fn, c ? c : "*");
    else
        er_buf_printf(b, "%s(CASE WHEN %s IS %s THEN %s END)", a->fn, pivot_q, value_sql,
                      c ? c : "1");
    free(c);
}

static void put_alias(er_buf *b, const agg *a, const char *prefix)
{
    char *name = agg_name(a, prefix);
    char *full = er_xasprintf("%s%s", name, a->column ? a->column : "count");
    if (!a->column && strcmp(a->fn, "COUNT") == 0) {
        free(full);
        full = prefix ? er_xasprintf("%s_count", prefix) : er_xstrdup("count");
    }
    char *q = er_data_quote_ident(full);
    er_buf_printf(b, " AS %s", q);
    free(q);
    free(name);
    free(full);
}

/* The distinct values of the pivot column, as SQL literals (at most PIVOT_VALUES_MAX). */
static int pivot_values(er_data *d, const char *table, const char *pivot, char ***out, size_t *n,
                        er_error *err)
{
    char *qt = er_data_quote_ident(table), *qp = er_data_quote_ident(pivot);
    char *sql = er_xasprintf("SELECT DISTINCT %s FROM %s ORDER BY 1 LIMIT %d", qp, qt,
                             PIVOT_VALUES_MAX + 1);
    sqlite3_stmt *st = NULL;
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        rc = er_data_sqlite_error(d, err, "pivot");
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == PIVOT_VALUES_MAX) {
            rc = er_error_set(err, ER_EINVAL,
                              "pivot column %s has over %d values; pivot on a "
                              "column with fewer",
                              pivot, PIVOT_VALUES_MAX);
            break;
        }
        char *lit = sqlite3_mprintf("%Q", sqlite3_column_text(st, 0));
        *out = er_xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = er_xstrdup(sqlite3_column_type(st, 0) == SQLITE_NULL ? "NULL" : lit);
        sqlite3_free(lit);
    }
    sqlite3_finalize(st);
    free(sql);
    free(qt);
    free(qp);
    return rc;
}

static int build(er_data *d, const char *table, const er_group_opts *o, const cJSON *cols,
                 er_buf *b, er_error *err)
{
    size_t nagg = (size_t)cJSON_GetArraySize(o->aggregates);
    agg *aggs = er_xcalloc(nagg + 1, sizeof *aggs);
    int rc = 0;
    size_t k = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, o->aggregates)
    {
        if (rc == 0)
            rc = cJSON_IsString(a) ? parse_agg(a->valuestring, cols, table, &aggs[k++], err)
                                   : er_error_set(err, ER_EINVAL,
                                                  "aggregates are strings "
                                                  "like \"sum(revenue)\"");
    }
    if (nagg == 0)
        aggs[k++] = (agg){ "COUNT", NULL };
    const cJSON *g;
    cJSON_ArrayForEach(g, o->by)
    {
        if (rc == 0 && (!cJSON_IsString(g) || !has_column(cols, g->valuestring)))
            rc = no_column(cols, table, cJSON_IsString(g) ? g->valuestring : "?", err);
    }
    if (rc == 0 && o->pivot && !has_column(cols, o->pivot))
        rc = no_column(cols, table, o->pivot, err);
    char **values = NULL;
    size_t nvalues = 0;
    if (rc == 0 && o->pivot)
        rc = pivot_values(d, table, o->pivot, &values, &nvalues, err);
    if (rc == 0) {
        er_buf_puts(b, "SELECT ");
        size_t nby = 0;
        cJSON_ArrayForEach(g, o->by)
        {
            char *q = er_data_quote_ident(g->valuestring);
            er_buf_printf(b, "%s%s", nby++ ? ", " : "", q);
            free(q);
        }
        char *qp = o->pivot ? er_data_quote_ident(o->pivot) : NULL;
        size_t nout = nby;
        for (size_t v = 0; v < (o->pivot ? nvalues : 1); v++)
            for (size_t i = 0; i < k; i++) {
                er_buf_puts(b, nout++ ? ", " : "");
                put_agg(b, &aggs[i], qp, o->pivot ? values[v] : NULL);
                char *label = NULL;
                if (o->pivot) {
                    label = er_xstrdup(values[v]);
                    if (label[0] == '\'') { /* the literal's text, unquoted */
                        memmove(label, label + 1, strlen(label));
                        label[strlen(label) - 1] = '\0';
                    }
                }
                if (o->pivot && k == 1) {
                    char *q = er_data_quote_ident(label);
                    er_buf_printf(b, " AS %s", q);
                    free(q);
                } else {
                    put_alias(b, &aggs[i], label);
                }
                free(label);
            }
        free(qp);
        char *qt = er_data_quote_ident(table);
        er_buf_printf(b, " FROM %s", qt);
        free(qt);
        if (nby) {
            er_buf_puts(b, " GROUP BY ");
            for (size_t i = 1; i <= nby; i++)
                er_buf_printf(b, "%s%zu", i > 1 ? ", " : "", i);
        }
        const char *order = o->order;
        if (order && *order && strcmp(order, "group") != 0) {
            bool desc = order[0] == '-';
            char *q = er_data_quote_ident(order + desc);
            er_buf_printf(b, " ORDER BY %s%s", q, desc ? " DESC" : "");
            free(q);
        } else if (nby) {
            er_buf_puts(b, " ORDER BY ");
            for (size_t i = 1; i <= nby; i++)
                er_buf_printf(b, "%s%zu", i > 1 ? ", " : "", i);
        }
    }
    for (size_t i = 0; i < nvalues; i++)
        free(values[i]);
    free(values);
    for (size_t i = 0; i < k; i++)
        free(aggs[i].column);
    free(aggs);
    return rc;
}

int er_stats_group_sql(er_data *d, const char *table, const er_group_opts *o, char **sql,
                       er_error *err)
{
    cJSON *cols;
    int rc = er_data_columns(d, table, &cols, err);
    if (rc)
        return rc;
    er_buf b = ER_BUF_INIT;
    rc = build(d, table, o, cols, &b, err);
    cJSON_Delete(cols);
    if (rc) {
        er_buf_release(&b);
        return rc;
    }
    *sql = er_buf_detach(&b);
    return 0;
}

/* ---- from the column file ---- */

/* The query's output column names (prepared, never run). */
static int output_names(er_data *d, const char *sql, cJSON **names, er_error *err)
{
    sqlite3_stmt *st;
    int rc = er_data_prepare_ro(d, sql, &st, err);
    if (rc)
        return rc;
    *names = cJSON_CreateArray();
    for (int i = 0; i < sqlite3_column_count(st); i++)
        er_json_append(*names, cJSON_CreateString(sqlite3_column_name(st, i)));
    sqlite3_finalize(st);
    return 0;
}

static size_t file_column(er_colr *r, const char *name)
{
    for (size_t c = 0; name && c < er_colr_ncols(r); c++)
        if (strcmp(er_colr_name(r, c), name) == 0)
            return c;
    return SIZE_MAX;
}

/* The aggregates as colgroup's; false when one names no column of the file. */
static bool file_aggs(er_colr *r, const cJSON *list, const cJSON *cols, const char *table,
                      er_colagg *out, size_t *n, er_error *err)
{
    static const struct {
        const char *fn;
        er_aggfn agg;
    } map[] = { { "SUM", ER_AGG_SUM },
                { "AVG", ER_AGG_AVG },
                { "COUNT", ER_AGG_COUNT },
                { "MIN", ER_AGG_MIN },
                { "MAX", ER_AGG_MAX } };
    const cJSON *a;
    *n = 0;
    cJSON_ArrayForEach(a, list)
    {
        agg g;
        if (parse_agg(a->valuestring, cols, table, &g, err) != 0)
            return false;
        for (size_t i = 0; i < ER_ARRAY_LEN(map); i++)
            if (strcmp(g.fn, map[i].fn) == 0)
                out[*n].fn = map[i].agg;
        out[*n].col = g.column ? file_column(r, g.column) : 0;
        if (!g.column)
            out[*n].fn = ER_AGG_ROWS;
        bool found = !g.column || out[*n].col != SIZE_MAX;
        free(g.column);
        if (!found)
            return false;
        (*n)++;
    }
    if (*n == 0)
        out[(*n)++] = (er_colagg){ ER_AGG_ROWS, 0 };
    return true;
}

static cJSON *val_json(const er_val *v)
{
    switch (v->kind) {
    case ER_VAL_INT: return cJSON_CreateNumber((double)v->i);
    case ER_VAL_REAL: return isfinite(v->f) ? cJSON_CreateNumber(v->f) : cJSON_CreateNull();
    case ER_VAL_TEXT: return er_data_text_json(v->s, v->n);
    default: return cJSON_CreateNull();
    }
}

typedef struct order_by {
    const er_colgroups *g;
    long col; /* output column to sort by; -1: the groups */
    bool desc;
} order_by;

static int by_keys(const er_colgroups *g, size_t a, size_t b)
{
    for (size_t j = 0; j < g->nby; j++) {
        int c = er_val_cmp(&g->keys[a * g->nby + j], &g->keys[b * g->nby + j]);
        if (c)
            return c;
    }
    return 0;
}

static const er_val *out_val(const er_colgroups *g, size_t row, size_t col)
{
    return col < g->nby ? &g->keys[row * g->nby + col] : &g->vals[row * g->naggs + col - g->nby];
}

/* qsort has no payload: the order of the sort running on this thread. */
static __thread const order_by *sorting;

static int cmp_rows(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    const order_by *o = sorting;
    int c = 0;
    if (o->col >= 0)
        c = er_val_cmp(out_val(o->g, a, (size_t)o->col), out_val(o->g, b, (size_t)o->col)) *
            (o->desc ? -1 : 1);
    return c ? c : by_keys(o->g, a, b);
}

static cJSON *rows_json(const er_colgroups *g, const order_by *o, long limit)
{
    size_t *idx = er_xmalloc((g->ngroups + 1) * sizeof *idx);
    for (size_t i = 0; i < g->ngroups; i++)
        idx[i] = i;
    sorting = o;
    qsort(idx, g->ngroups, sizeof *idx, cmp_rows);
    cJSON *rows = cJSON_CreateArray();
    for (size_t i = 0; i < g->ngroups && (long)i < limit; i++) {
        cJSON *row = cJSON_CreateArray();
        for (size_t c = 0; c < g->nby + g->naggs; c++)
            er_json_append(row, val_json(out_val(g, idx[i], c)));
        er_json_append(rows, row);
    }
    free(idx);
    return rows;
}

/* Which output column o->order names (-1: the groups); false when none. */
static bool order_column(const er_group_opts *o, const cJSON *names, order_by *ob)
{
    ob->col = -1;
    ob->desc = false;
    if (!o->order || !*o->order || strcmp(o->order, "group") == 0)
        return true;
    ob->desc = o->order[0] == '-';
    long i = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (strcmp(n->valuestring, o->order + ob->desc) == 0) {
            ob->col = i;
            return true;
        }
        i++;
    }
    return false;
}

/* The group-by from the table's column file; ER_ENOTFOUND when the SQL must run. */
static int group_file(er_data *d, const char *table, const er_group_opts *o, const char *sql,
                      cJSON **out, er_error *err)
{
    cJSON *names = NULL, *cols = NULL;
    er_colr *r = NULL;
    int rc = o->pivot ? ER_ENOTFOUND : output_names(d, sql, &names, err);
    if (rc == 0)
        rc = er_data_open_columns(d, table, &r, err);
    if (rc == 0)
        rc = er_data_columns(d, table, &cols, err);
    size_t nby = (size_t)cJSON_GetArraySize(o->by), naggs = 0;
    size_t *by = er_xcalloc(nby + 1, sizeof *by);
    er_colagg *aggs = er_xcalloc((size_t)cJSON_GetArraySize(o->aggregates) + 1, sizeof *aggs);
    for (size_t j = 0; rc == 0 && j < nby; j++) {
        by[j] = file_column(r, cJSON_GetArrayItem(o->by, (int)j)->valuestring);
        rc = by[j] == SIZE_MAX ? ER_ENOTFOUND : 0; /* a table shown long */
    }
    order_by ob = { 0 };
    if (rc == 0 && (!file_aggs(r, o->aggregates, cols, table, aggs, &naggs, err) ||
                    !order_column(o, names, &ob)))
        rc = ER_ENOTFOUND;
    er_colgroups g;
    if (rc == 0)
        rc = er_colgroup_run(r, by, nby, aggs, naggs, &g, err);
    if (rc == 0) {
        ob.g = &g;
        long limit = o->limit > 0 ? o->limit : 100;
        *out =
            er_data_result_json(names, rows_json(&g, &ob, limit), (int64_t)g.ngroups, limit, false);
        names = NULL;
        er_colgroups_release(&g);
    }
    cJSON_Delete(names);
    cJSON_Delete(cols);
    er_colr_close(r);
    free(by);
    free(aggs);
    return rc;
}

int er_stats_group(er_data *d, const char *table, const er_group_opts *o, cJSON **out,
                   er_error *err)
{
    char *sql;
    int rc = er_stats_group_sql(d, table, o, &sql, err);
    if (rc)
        return rc;
    er_data_query_opts q = { .max_rows = o->limit > 0 ? o->limit : 100, .max_ms = 60000 };
    rc = group_file(d, table, o, sql, out, err);
    if (rc == ER_ENOTFOUND)
        rc = er_data_query(d, sql, &q, out, err);
    if (rc == 0)
        er_json_add_str(*out, "sql", sql);
    free(sql);
    return rc;
}
