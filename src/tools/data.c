/* data.c — the data agent's tools: data_load, data_tables, data_sql,
 * data_describe, data_correlate, data_group, data_export (data_chart is in
 * data_chart.c).  Each opens the workspace's data database (data.h), loads
 * again the tables whose files changed, and answers with one JSON object.
 * Query and describe results are cached through the cache seam under a key
 * that includes every table's version, so a reload makes them stale. */
#include "errand/tool_families.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/data.h"
#include "errand/data_stats.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/str.h"
#include "data_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_TTL_MS (3600 * 1000)

/* ---- shared by the data tools ---- */

int er_data_tool_open(const er_tool_ctx *ctx, er_data **out, er_error *err)
{
    const er_config *cfg = ctx->env ? er_env_config(ctx->env) : NULL;
    if (!ctx->workspace)
        return er_error_set(err, ER_EINVAL, "the data tools need a workspace");
    char *path = er_data_path(cfg, ctx->workspace);
    int rc = er_data_open(out, path, err);
    free(path);
    if (rc == 0)
        er_data_set_cancel(*out, ctx->cancel);
    return rc;
}

/* Loads again what changed; notes the reloaded tables in o. */
int er_data_tool_refresh(er_data *d, const char *table, cJSON *o, er_error *err)
{
    cJSON *reloaded = NULL;
    int rc = er_data_refresh(d, table, &reloaded, err);
    if (rc == 0 && cJSON_GetArraySize(reloaded) > 0 && o)
        er_json_add(o, "reloaded", reloaded);
    else
        cJSON_Delete(reloaded);
    return rc;
}

/* The cache key of a result of tool with args over the database's tables. */
static char *cache_key(er_data *d, const char *tool, const cJSON *args)
{
    char *versions = er_data_versions_key(d), *a = er_json_print(args);
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "%s|%s|%s", tool, versions, a);
    char *key = er_xasprintf("cache:data:%s:%016llx%08zx", tool,
                             (unsigned long long)er_data_hash(b.ptr, b.len), b.len);
    er_buf_release(&b);
    free(versions);
    free(a);
    return key;
}

static bool cache_get(const er_tool_ctx *ctx, const char *key, er_buf *out)
{
    er_cache *c;
    char *v = NULL;
    size_t len = 0;
    if (!ctx->env || er_env_cache(ctx->env, &c, NULL) != 0 ||
        er_cache_get(c, key, &v, &len, NULL) != 0)
        return false;
    bool ok = er_buf_append(out, v, len) == 0;
    free(v);
    return ok;
}

static void cache_put(const er_tool_ctx *ctx, const char *key, const er_buf *text)
{
    er_cache *c;
    if (ctx->env && er_env_cache(ctx->env, &c, NULL) == 0)
        er_cache_set(c, key, text->ptr, text->len, CACHE_TTL_MS, NULL);
}

/* Emits o; when it is too big, asks shrink to make it smaller (up to 4 times). */
int er_data_tool_emit(er_buf *out, cJSON *o, bool (*shrink)(cJSON *o), er_error *err)
{
    for (int i = 0;; i++) {
        size_t mark = out->len;
        int rc = er_tools_emit(out, o, i < 4 && shrink ? NULL : err);
        if (rc != ER_ETOOBIG || i >= 4 || !shrink || !shrink(o))
            return rc == ER_ETOOBIG && i < 4 && shrink ? er_tools_emit(out, o, err) : rc;
        out->len = mark;
    }
}

/* Keeps half of the rows of a query result. */
static bool halve_rows(cJSON *o)
{
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(o, "rows");
    int n = cJSON_GetArraySize(rows);
    if (n < 2)
        return false;
    for (int i = n - 1; i >= n / 2; i--)
        cJSON_DeleteItemFromArray(rows, i);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "note");
    er_json_add_str(o, "note", "rows cut to fit the output cap; aggregate or add LIMIT");
    cJSON_ReplaceItemInObjectCaseSensitive(o, "truncated", cJSON_CreateBool(1));
    return true;
}

typedef int (*data_body)(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                         er_error *err);

/* Opens the database, refreshes, runs body and emits; cached when key_tool. */
static int with_data(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, const char *table,
                     const char *key_tool, data_body body, er_error *err)
{
    er_data *d;
    int rc = er_data_tool_open(ctx, &d, err);
    if (rc)
        return rc;
    cJSON *reloaded = cJSON_CreateObject();
    rc = er_data_tool_refresh(d, table, reloaded, err);
    char *key = rc == 0 && key_tool ? cache_key(d, key_tool, args) : NULL;
    if (key && !cJSON_GetObjectItem(reloaded, "reloaded") && cache_get(ctx, key, out)) {
        free(key);
        cJSON_Delete(reloaded);
        er_data_close(d);
        return 0;
    }
    cJSON *o = NULL;
    if (rc == 0)
        rc = body(d, ctx, args, &o, err);
    if (rc == 0) {
        cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(reloaded, "reloaded");
        if (r)
            er_json_add(o, "reloaded", r);
        size_t mark = out->len;
        rc = er_data_tool_emit(out, o, halve_rows, err);
        if (rc == 0 && key) {
            er_buf text = { out->ptr + mark, out->len - mark, 0, 0 };
            cache_put(ctx, key, &text);
        }
    }
    cJSON_Delete(o);
    cJSON_Delete(reloaded);
    free(key);
    er_data_close(d);
    return rc;
}

int er_data_tool_create(const er_workspace *ws, const char *abs, int *fd, er_error *err)
{
    *fd = -1;
    int rc = er_workspace_mkdirs(ws, abs, err);
    const char *slash = strrchr(abs, '/');
    char *dir = slash == abs ? er_xstrdup("/") : er_xstrndup(abs, (size_t)(slash - abs));
    int dfd = -1;
    if (rc == 0)
        rc = er_workspace_open(&dfd, ws, dir, O_RDONLY | O_DIRECTORY, err);
    free(dir);
    if (rc)
        return rc;
    /* By name inside the directory opened beneath the root, never through a symlink. */
    *fd = openat(dfd, slash + 1, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (*fd < 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", er_workspace_rel(ws, abs),
                          strerror(errno));
    close(dfd);
    return rc;
}

/* ---- data_load ---- */

static int load_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                     er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    char *abs = NULL;
    rc = er_workspace_resolve(&abs, &ws, er_json_str(args, "path"), err);
    const char *dl = er_json_str(args, "delimiter");
    if (rc == 0 && dl && strlen(dl) != 1 && strcmp(dl, "\\t") != 0 && strcmp(dl, "tab") != 0)
        rc = er_error_set(err, ER_EINVAL, "data_load: delimiter is one character (or \"tab\")");
    if (rc == 0) {
        cJSON *h = cJSON_GetObjectItemCaseSensitive(args, "header");
        er_data_load_opts lo = {
            .path = abs,
            .display = er_workspace_rel(&ws, abs),
            .table = er_json_str(args, "table"),
            .format = er_json_str(args, "format"),
            .sheet = er_json_str(args, "sheet"),
            .encoding = er_json_str(args, "encoding"),
            .header = cJSON_IsBool(h) ? cJSON_IsTrue(h) : -1,
            .delimiter = !dl               ? 0
                         : strlen(dl) == 1 ? dl[0]
                                           : '\t',
            .force = er_json_bool(args, "force", false),
        };
        rc = er_data_load(d, &lo, o, err);
    }
    free(abs);
    er_workspace_release(&ws);
    return rc;
}

static int run_load(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, NULL, NULL, load_body, err);
}

/* ---- data_tables ---- */

static int tables_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                       er_error *err)
{
    (void)ctx;
    (void)args;
    cJSON *t;
    int rc = er_data_tables(d, &t, err);
    if (rc == 0) {
        *o = cJSON_CreateObject();
        er_json_add(*o, "tables", t);
        if (cJSON_GetArraySize(t) == 0)
            er_json_add_str(*o, "note",
                            "no tables yet; load a CSV, JSON or .xlsx file with "
                            "data_load");
    }
    return rc;
}

static int run_tables(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, NULL, NULL, tables_body, err);
}

/* ---- data_sql ---- */

static int sql_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o, er_error *err)
{
    (void)ctx;
    er_data_query_opts q = { .max_rows = er_json_int(args, "max_rows", 50, 1, 1000),
                             .max_ms = er_json_int(args, "max_ms", 10000, 100, 120000) };
    int rc = er_data_query(d, er_json_str(args, "query"), &q, o, err);
    if (rc == 0)
        er_json_add_str(*o, "query", er_json_str(args, "query"));
    return rc;
}

static int run_sql(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, NULL, "sql", sql_body, err);
}

/* ---- data_describe, data_correlate ---- */

static int describe_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                         er_error *err)
{
    (void)ctx;
    return er_stats_describe(d, er_json_str(args, "table"), er_json_arr(args, "columns"), o, err);
}

static int run_describe(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, er_json_str(args, "table"), "describe", describe_body, err);
}

static int correlate_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                          er_error *err)
{
    (void)ctx;
    return er_stats_correlate(d, er_json_str(args, "table"), er_json_arr(args, "columns"), o, err);
}

static int run_correlate(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, er_json_str(args, "table"), "correlate", correlate_body, err);
}

/* ---- data_group ---- */

static int group_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                      er_error *err)
{
    (void)ctx;
    cJSON *empty = cJSON_CreateArray();
    const cJSON *by = er_json_arr(args, "by");
    er_group_opts g = { .by = by ? by : empty,
                        .aggregates = er_json_arr(args, "aggregates"),
                        .pivot = er_json_str(args, "pivot"),
                        .order = er_json_str(args, "order"),
                        .limit = er_json_int(args, "limit", 100, 1, 1000) };
    if (!g.aggregates)
        g.aggregates = empty;
    int rc = er_stats_group(d, er_json_str(args, "table"), &g, o, err);
    cJSON_Delete(empty);
    return rc;
}

static int run_group(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_data(ctx, args, out, er_json_str(args, "table"), "group", group_body, err);
}

/* ---- data_export ---- */

/* A bare table name becomes SELECT * FROM it. */
static char *export_sql(er_data *d, const char *q)
{
    if (q && er_data_table_version(d, q) > 0) {
        char *t = er_data_quote_ident(q), *s = er_xasprintf("SELECT * FROM %s", t);
        free(t);
        return s;
    }
    return er_xstrdup(q ? q : "");
}

static const char *export_format(const cJSON *args, const char *file)
{
    const char *f = er_json_str(args, "format");
    if (f)
        return f;
    return er_str_ends(file, ".jsonl") || er_str_ends(file, ".ndjson") ? "jsonl"
           : er_str_ends(file, ".json")                                ? "json"
                                                                       : "csv";
}

static int export_body(er_data *d, const er_tool_ctx *ctx, const cJSON *args, cJSON **o,
                       er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, ctx, err);
    if (rc)
        return rc;
    const char *file = er_json_str(args, "file");
    char *abs = NULL, *sql = export_sql(d, er_json_str(args, "query"));
    int fd = -1;
    int64_t rows = 0;
    rc = er_workspace_resolve(&abs, &ws, file, err);
    if (rc == 0)
        rc = er_data_tool_create(&ws, abs, &fd, err);
    if (rc == 0)
        rc = er_data_export(d, sql, export_format(args, file), fd, &rows, err);
    if (fd >= 0)
        close(fd);
    if (rc == 0) {
        *o = cJSON_CreateObject();
        er_json_add_str(*o, "file", er_workspace_rel(&ws, abs));
        er_json_add_str(*o, "format", export_format(args, file));
        er_json_add_num(*o, "rows", (double)rows);
        er_json_add_str(*o, "query", sql);
    }
    free(abs);
    free(sql);
    er_workspace_release(&ws);
    return rc;
}

static int run_export(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    int rc = er_tools_need_writable(ctx, err);
    return rc ? rc : with_data(ctx, args, out, NULL, NULL, export_body, err);
}

/* ---- the table ---- */

/* The schemas are JSON built from string macros and laid out as JSON. */
/* clang-format off */
#define OBJ(props, req) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" req \
                        "],\"additionalProperties\":false}"
#define STR(name, desc) "\"" name "\":{\"type\":\"string\",\"description\":\"" desc "\"}"
#define TABLE_PROP STR("table", "a loaded table (data_tables lists them)")
#define COLUMNS_PROP "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}," \
                     "\"description\":\"column names (default: all)\"}"

static const er_tool data_tools[] = {
    { "data_load",
      "Load a CSV, TSV, JSON (array of objects), JSON Lines or .xlsx file of the workspace into "
      "a table of the data database. Column types (integer, real, boolean, date, datetime, "
      "text) are inferred from every value; bad rows are reported with file:line. An "
      "unchanged file is not read again.",
      OBJ(STR("path", "the file, relative to the workspace") ","
          STR("table", "table name (default: from the file name)") ","
          "\"format\":{\"type\":\"string\",\"enum\":[\"csv\",\"tsv\",\"json\",\"jsonl\","
          "\"xlsx\"],\"description\":\"default: by extension\"},"
          STR("sheet", "xlsx: the sheet (default: the first)") ","
          STR("encoding", "the file's encoding when not UTF-8, e.g. latin1, cp1252") ","
          "\"header\":{\"type\":\"boolean\",\"description\":\"CSV: is the first row names? "
          "(default: detected)\"},"
          STR("delimiter", "CSV: one character or tab (default: detected)") ","
          "\"force\":{\"type\":\"boolean\",\"description\":\"load even if unchanged\"}",
          "\"path\""),
      ER_PERM_READ, "load FILE [TABLE]", run_load, true },
    { "data_tables", "List the loaded tables: source file, rows, columns and their types.",
      OBJ("", ""), ER_PERM_READ, "tables", run_tables, true },
    { "data_sql",
      "Run one read-only SQL query (SQLite dialect: SELECT or WITH) on the loaded tables. "
      "Results are capped (max_rows) and say when they were cut.",
      OBJ(STR("query", "one SELECT or WITH statement") ","
          "\"max_rows\":{\"type\":\"integer\",\"description\":\"rows to return (default 50, "
          "at most 1000)\"},"
          "\"max_ms\":{\"type\":\"integer\",\"description\":\"time cap in ms (default "
          "10000)\"}", "\"query\""),
      ER_PERM_READ, "sql QUERY...", run_sql, true },
    { "data_describe",
      "Summarise a table's columns: count, nulls, distinct, min, max, mean, stddev, median, "
      "p5/p25/p75/p95 (exact) and the most frequent values.",
      OBJ(TABLE_PROP "," COLUMNS_PROP, "\"table\""), ER_PERM_READ, "describe TABLE [COLUMNS]",
      run_describe, true },
    { "data_correlate",
      "Pearson and Spearman correlations between numeric columns of a table (pairwise "
      "complete rows), with the strongest pairs first.",
      OBJ(TABLE_PROP "," COLUMNS_PROP, "\"table\""), ER_PERM_READ,
      "correlate TABLE [COLUMNS]", run_correlate, true },
    { "data_group",
      "Group a table by columns with aggregates (sum, avg, count, min, max), optionally "
      "pivoting a column's values into columns. Returns the rows and the SQL it ran.",
      OBJ(TABLE_PROP ","
          "\"by\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
          "\"columns to group by\"},"
          "\"aggregates\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
          "\"e.g. [\\\"sum(revenue)\\\",\\\"count(*)\\\"] (default count(*))\"},"
          STR("pivot", "a column whose values become columns") ","
          STR("order", "output column to sort by, '-name' for descending (default: the "
              "groups)") ","
          "\"limit\":{\"type\":\"integer\",\"description\":\"rows (default 100)\"}",
          "\"table\""),
      ER_PERM_READ, "group TABLE BY [AGGREGATES]", run_group, true },
    { "data_export",
      "Write a query's result or a whole table to a CSV, JSON (array) or JSON Lines file in "
      "the workspace.",
      OBJ(STR("query", "a SELECT statement or a table name") ","
          STR("file", "output file, relative to the workspace") ","
          "\"format\":{\"type\":\"string\",\"enum\":[\"csv\",\"json\",\"jsonl\"],"
          "\"description\":\"default: by the file's extension\"}", "\"query\",\"file\""),
      ER_PERM_WRITE, "export QUERY FILE", run_export, true },
    { "data_chart",
      "Draw a chart (bar, grouped_bar, line, scatter, histogram, pie) from a table — y "
      "aggregated by x (sum by default) — or from a query (first column x, the others y). "
      "Writes an SVG (and a PNG) in the workspace and shows it in the terminal.",
      OBJ("\"kind\":{\"type\":\"string\",\"enum\":[\"bar\",\"grouped_bar\",\"line\","
          "\"scatter\",\"histogram\",\"pie\"]}," TABLE_PROP ","
          STR("query", "instead of a table: a SELECT whose first column is x") ","
          STR("x", "column for the x axis or the categories") ","
          STR("y", "column(s) for the values, comma-separated for several series") ","
          STR("series", "a column whose values split y into series (grouped bars, lines)") ","
          "\"agg\":{\"type\":\"string\",\"enum\":[\"sum\",\"avg\",\"count\",\"min\",\"max\","
          "\"none\"],\"description\":\"how y is combined per x (default sum)\"},"
          "\"bins\":{\"type\":\"integer\",\"description\":\"histogram bins\"},"
          STR("title", "chart title") ","
          STR("file", "SVG file to write (default charts/NAME-KIND.svg)") ","
          "\"png\":{\"type\":\"boolean\",\"description\":\"also write a PNG (default "
          "true)\"}", "\"kind\""),
      ER_PERM_WRITE, "chart KIND TABLE X [Y]", er_data_tool_chart, true },
};
/* clang-format on */

const er_tool_family er_tools_data = { "data", data_tools, ER_ARRAY_LEN(data_tools) };
