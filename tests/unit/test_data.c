/* test_data.c — the data agent's engine (src/data/): the CSV reader on messy
 * input, loading CSV/TSV/JSON/JSON Lines/xlsx with types and bad rows,
 * encodings, change detection, read-only SQL, statistics against values from
 * Python's statistics module, group-bys, charts (SVG parsed, PNG decoded,
 * terminal text against golden text) and exports. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/chart.h"
#include "errand/csv.h"
#include "errand/data.h"
#include "errand/data_stats.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/xml.h"

#include <cairo.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static er_data *db;

static char *path_of(const char *name)
{
    return er_xasprintf("%s/%s", dir, name);
}

static void write_file(const char *name, const char *data, size_t len)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    free(p);
}

#define WRITE(name, text) write_file(name, text, sizeof text - 1)

static cJSON *load(const char *name, const char *table, er_error *err)
{
    char *p = path_of(name);
    er_data_load_opts o = { .path = p, .display = name, .table = table, .header = -1 };
    cJSON *out = NULL;
    int rc = er_data_load(db, &o, &out, err);
    free(p);
    return rc ? NULL : out;
}

static cJSON *query(const char *sql)
{
    er_error err = { 0 };
    cJSON *out = NULL;
    er_data_query_opts o = { .max_rows = 1000, .max_ms = 5000 };
    if (er_data_query(db, sql, &o, &out, &err) != 0)
        fprintf(stderr, "query failed: %s\n", err.msg);
    return out;
}

/* The one value a query returns, as text. */
static char *scalar(const char *sql)
{
    cJSON *r = query(sql);
    const cJSON *row = r ? cJSON_GetArrayItem(er_json_arr(r, "rows"), 0) : NULL;
    const cJSON *v = row ? cJSON_GetArrayItem(row, 0) : NULL;
    char *s = !v                  ? er_xstrdup("(none)")
              : cJSON_IsString(v) ? er_xstrdup(v->valuestring)
                                  : er_json_print(v);
    cJSON_Delete(r);
    return s;
}

static const char *col_type(const cJSON *res, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(
        c, er_json_arr(res, "columns")) if (er_str_eq(er_json_str(c, "name"),
                                                      name)) return er_json_str(c, "type");
    return "(missing)";
}

/* ---- the reader ---- */

typedef struct mem {
    const char *p;
    size_t n, off, step;
} mem;

static ssize_t mem_read(void *payload, char *buf, size_t cap)
{
    mem *m = payload;
    size_t n = m->n - m->off;
    n = n < cap ? n : cap;
    n = n < m->step ? n : m->step; /* tiny reads: rows split across refills */
    memcpy(buf, m->p + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static void test_csv_reader(void)
{
    static const char text[] = "a,\"b \"\"q\"\"\",c\r\n1,\"two\nlines\",3\n\n4,,\"x\"y\n\"open";
    for (size_t step = 1; step <= 64; step *= 4) {
        mem m = { text, sizeof text - 1, 0, step };
        er_csv *c;
        er_csv_new(&c, ',', mem_read, &m);
        const er_csv_field *f;
        size_t n;
        er_error err = { 0 };
        CHECK_INT(er_csv_next(c, &f, &n, &err), 1);
        CHECK_INT((long)n, 3);
        CHECK(n == 3 && f[1].n == 5 && memcmp(f[1].p, "b \"q\"", 5) == 0);
        CHECK_INT(er_csv_next(c, &f, &n, &err), 1);
        CHECK_INT(er_csv_row_line(c), 2);
        CHECK(n == 3 && f[1].n == 9 && memcmp(f[1].p, "two\nlines", 9) == 0);
        CHECK_INT(er_csv_next(c, &f, &n, &err), 1);
        CHECK_INT(er_csv_row_line(c), 5); /* the blank line 4 is skipped */
        CHECK(n == 3 && f[1].n == 0 && f[2].n == 2);
        CHECK(er_csv_row_problem(c) != NULL); /* text after a closing quote */
        CHECK_INT(er_csv_next(c, &f, &n, &err), 1);
        CHECK(er_csv_row_problem(c) && strstr(er_csv_row_problem(c), "not closed"));
        CHECK_INT(er_csv_next(c, &f, &n, &err), 0);
        er_csv_free(c);
    }
    CHECK(er_csv_sniff_delimiter("a;b;c\n1;2;3\n", 12) == ';');
    CHECK(er_csv_sniff_delimiter("a\tb\tc,d\n1\t2\t3,4\n", 16) == '\t');
    CHECK(er_csv_sniff_delimiter("a,\"b;c\"\n1,2\n", 12) == ',');
}

/* ---- loading ---- */

static void test_messy_csv(void)
{
    WRITE("messy.csv", "\xEF\xBB\xBFId,Name,Amount,When,Paid,Zip,Note\n"
                       "1,Ann,\"1,234.50\",2024-01-05,true,02134,\"says \"\"hi\"\"\nthere\"\n"
                       "2,Bob,17,2024-01-06,false,10001,\n"
                       "3,Cy,N/A,2024-01-07,yes,90210,x\n"
                       "4,Di,5,2024-13-01,no,00501,y,extra\n"
                       "5,Ed,2.5,2024-02-29,true,12345\n"
                       "6,Flo,-3,2024-03-01,TRUE,54321,z,\n");
    er_error err = { 0 };
    cJSON *r = load("messy.csv", NULL, &err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "load: %s\n", err.msg);
        return;
    }
    CHECK_STR(er_json_str(r, "table"), "messy");
    CHECK_INT((long)er_json_num(r, "rows", 0), 5);
    CHECK_STR(col_type(r, "id"), "integer");
    CHECK_STR(col_type(r, "amount"), "real");
    CHECK_STR(col_type(r, "when"), "date");
    CHECK_STR(col_type(r, "paid"), "boolean");
    CHECK_STR(col_type(r, "zip"), "text"); /* leading zeros stay */
    CHECK_INT((long)er_json_num(r, "bad_rows", 0), 2);
    char *bad = er_json_print(er_json_arr(r, "bad"));
    CHECK(strstr(bad, "messy.csv:6") && strstr(bad, "8 fields where the header has 7"));
    CHECK(strstr(bad, "messy.csv:7") && strstr(bad, "6 fields")); /* short: NULLs */
    free(bad);
    char *s = scalar("SELECT amount FROM messy WHERE id = 1");
    CHECK_STR(s, "1234.5");
    free(s);
    s = scalar("SELECT note FROM messy WHERE id = 1");
    CHECK_STR(s, "says \"hi\"\nthere");
    free(s);
    s = scalar("SELECT count(*) FROM messy WHERE amount IS NULL");
    CHECK_STR(s, "1");
    free(s);
    s = scalar("SELECT sum(paid) FROM messy"); /* true, false, yes, true, TRUE */
    CHECK_STR(s, "4");
    free(s);
    s = scalar("SELECT zip FROM messy WHERE id = 1");
    CHECK_STR(s, "02134");
    free(s);
    cJSON_Delete(r);
}

static void test_mixed_and_edges(void)
{
    er_error err = { 0 };
    /* A column with one word among numbers is text, and says why. */
    WRITE("mixed.csv", "k,v\na,1\nb,2\nc,two\nd,4\n");
    cJSON *r = load("mixed.csv", NULL, &err);
    CHECK(r && strcmp(col_type(r, "v"), "text") == 0);
    char *why = r ? er_json_print(er_json_arr(r, "columns")) : er_xstrdup("");
    CHECK(strstr(why, "'two' at mixed.csv:4") != NULL);
    free(why);
    cJSON_Delete(r);
    /* empty file: refused clearly; header only: a table with no rows */
    WRITE("empty.csv", "");
    CHECK(load("empty.csv", NULL, &err) == NULL && strstr(err.msg, "empty"));
    WRITE("head.csv", "x,y,z\n");
    r = load("head.csv", NULL, &err);
    CHECK(r && er_json_num(r, "rows", -1) == 0 &&
          cJSON_GetArraySize(er_json_arr(r, "columns")) == 3);
    cJSON_Delete(r);
    /* TSV and a semicolon file */
    WRITE("t.tsv", "a\tb\n1\tx y\n2\tz\n");
    r = load("t.tsv", NULL, &err);
    CHECK(r && er_str_eq(er_json_str(r, "format"), "tsv") && er_json_num(r, "rows", 0) == 2);
    cJSON_Delete(r);
    WRITE("semi.csv", "a;b\n1;2,5\n3;4\n");
    r = load("semi.csv", NULL, &err);
    CHECK(r && er_json_num(r, "rows", 0) == 2 && strcmp(col_type(r, "a"), "integer") == 0);
    cJSON_Delete(r);
    /* no header: the first row is data */
    WRITE("nohead.csv", "1,2\n3,4\n");
    r = load("nohead.csv", NULL, &err);
    CHECK(r && er_json_num(r, "rows", 0) == 2 && strcmp(col_type(r, "column_1"), "integer") == 0);
    cJSON_Delete(r);
}

static void test_wide(void)
{
    er_buf b = ER_BUF_INIT;
    for (int row = 0; row < 3; row++) {
        for (int c = 0; c < 10000; c++)
            row == 0 ? er_buf_printf(&b, "%sc%d", c ? "," : "", c)
                     : er_buf_printf(&b, "%s%d", c ? "," : "", c * row);
        er_buf_putc(&b, '\n');
    }
    write_file("wide.csv", b.ptr, b.len);
    er_buf_release(&b);
    er_error err = { 0 };
    cJSON *r = load("wide.csv", NULL, &err);
    /* Past SQLite's 2000 columns the table is long: (row, column, value). */
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "wide: %s\n", err.msg);
        return;
    }
    CHECK_INT((long)er_json_num(r, "rows", 0), 2);
    CHECK_INT((long)er_json_num(r, "wide_columns", 0), 10000);
    cJSON_Delete(r);
    char *s = scalar("SELECT value FROM wide WHERE row = 2 AND \"column\" = 'c9999'");
    CHECK_STR(s, "19998");
    free(s);
    s = scalar("SELECT count(*) FROM wide");
    CHECK_STR(s, "20000");
    free(s);
}

static void test_encoding(void)
{
    WRITE("latin.csv", "name,city\nJos\xE9,M\xFCnchen\n");
    er_error err = { 0 };
    CHECK(load("latin.csv", NULL, &err) == NULL);
    CHECK(strstr(err.msg, "latin.csv:2: not UTF-8") && strstr(err.msg, "encoding"));
    char *p = path_of("latin.csv");
    er_data_load_opts o = { .path = p, .display = "latin.csv", .encoding = "latin1", .header = -1 };
    cJSON *r = NULL;
    CHECK_OK(er_data_load(db, &o, &r, &err));
    cJSON_Delete(r);
    free(p);
    char *s = scalar("SELECT city FROM latin");
    CHECK_STR(s, "M\xC3\xBCnchen");
    free(s);
    /* UTF-16 with a BOM is converted without being asked */
    static const char u16[] = "\xFF\xFE"
                              "a\0,\0b\0\n\0"
                              "1\0,\0\xE9\0\n\0";
    write_file("u16.csv", u16, sizeof u16 - 1);
    r = load("u16.csv", NULL, &err);
    CHECK(r && er_json_num(r, "rows", 0) == 1);
    cJSON_Delete(r);
    s = scalar("SELECT b FROM u16");
    CHECK_STR(s, "\xC3\xA9");
    free(s);
}

static void test_json(void)
{
    WRITE("people.json", "[{\"name\":\"ann\",\"age\":31,\"address\":{\"city\":\"Oslo\",\"geo\":"
                         "{\"lat\":59.9}},\"tags\":[\"a\",\"b\"]},\n"
                         " {\"name\":\"bob\",\"age\":null,\"vip\":true},\n 42,\n"
                         " {\"name\":\"cy\",\"age\":27.5,\"address\":{\"city\":\"Rome\"}}]");
    er_error err = { 0 };
    cJSON *r = load("people.json", NULL, &err);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT((long)er_json_num(r, "rows", 0), 3);
        CHECK_STR(col_type(r, "address_city"), "text");
        CHECK_STR(col_type(r, "address_geo_lat"), "real");
        CHECK_STR(col_type(r, "age"), "real");
        CHECK_STR(col_type(r, "vip"), "boolean");
        char *bad = er_json_print(er_json_arr(r, "bad"));
        CHECK(strstr(bad, "people.json:3") && strstr(bad, "a number, not an object"));
        free(bad);
    }
    cJSON_Delete(r);
    char *s = scalar("SELECT tags FROM people WHERE name = 'ann'");
    CHECK_STR(s, "[\"a\",\"b\"]");
    free(s);
    WRITE("events.jsonl", "{\"t\":\"2024-01-01T10:00:00Z\",\"n\":1}\n\n{\"t\":\"2024-01-02 11:30\","
                          "\"n\":2}\n{broken\n{\"t\":\"2024-01-03T00:00:00+02:00\",\"n\":3}\n");
    r = load("events.jsonl", NULL, &err);
    CHECK(r && er_json_num(r, "rows", 0) == 3 && strcmp(col_type(r, "t"), "datetime") == 0);
    char *bad = r ? er_json_print(er_json_arr(r, "bad")) : er_xstrdup("");
    CHECK(strstr(bad, "events.jsonl:4") && strstr(bad, "not valid JSON"));
    free(bad);
    cJSON_Delete(r);
    WRITE("broken.json", "[{\"a\":1},\n{\"a\":2,}\n");
    CHECK(load("broken.json", NULL, &err) == NULL && strstr(err.msg, "broken.json:2"));
}

static void test_xlsx(void)
{
    char *src = er_xasprintf("%s/../fixtures/data/sales.xlsx", getenv("ERRAND_TEST_DATA"));
    er_data_load_opts o = { .path = src, .display = "sales.xlsx", .sheet = "Sales", .header = -1 };
    cJSON *r = NULL;
    er_error err = { 0 };
    int rc = er_data_load(db, &o, &r, &err);
    if (rc == ER_EUNAVAIL) {
        fprintf(stderr, "skipping xlsx: %s\n", err.msg);
        free(src);
        return;
    }
    CHECK_OK(rc);
    if (r) {
        CHECK_INT((long)er_json_num(r, "rows", 0), 4);
        CHECK_STR(col_type(r, "day"), "date");
        CHECK_STR(col_type(r, "revenue"), "real");
        CHECK_STR(col_type(r, "units"), "integer");
        CHECK_STR(col_type(r, "paid"), "boolean");
        CHECK_INT((long)er_json_num(r, "bad_rows", -1), 0);
    }
    cJSON_Delete(r);
    char *s = scalar("SELECT group_concat(region || '/' || day || '/' || revenue || '/' || "
                     "coalesce(units, 'null') || '/' || paid, ' ') FROM sales");
    CHECK_STR(s, "north/2024-01-15/1200.5/1/1 south/2024-02-15/800.0/2/0 "
                 "north/2024-03-15/950.25/null/1 east/2024-04-15/300.0/4/0");
    free(s);
    o.sheet = "Nope";
    o.table = "nope";
    CHECK(er_data_load(db, &o, &r, &err) == ER_ENOTFOUND && strstr(err.msg, "Notes, Sales"));
    free(src);
}

static void test_reload(void)
{
    WRITE("r.csv", "a\n1\n2\n");
    er_error err = { 0 };
    cJSON *r = load("r.csv", NULL, &err);
    int64_t v1 = er_data_table_version(db, "r");
    cJSON_Delete(r);
    r = load("r.csv", NULL, &err);
    CHECK(r && er_json_bool(r, "unchanged", false));
    cJSON_Delete(r);
    sleep(1); /* a new mtime even on coarse clocks */
    WRITE("r.csv", "a\n1\n2\n3\n");
    cJSON *names = NULL;
    CHECK_OK(er_data_refresh(db, NULL, &names, &err));
    CHECK(cJSON_GetArraySize(names) == 1);
    cJSON_Delete(names);
    CHECK(er_data_table_version(db, "r") > v1);
    char *s = scalar("SELECT count(*) FROM r");
    CHECK_STR(s, "3");
    free(s);
}

/* ---- SQL is read-only ---- */

static void test_read_only(void)
{
    static const char *const bad[] = {
        "DROP TABLE messy",
        "DELETE FROM messy",
        "INSERT INTO messy(id) VALUES (9)",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "PRAGMA writable_schema = 1",
        "SELECT load_extension('/tmp/evil')",
        "CREATE TABLE z(a)",
        "UPDATE messy SET id = 0",
        "SELECT 1; DROP TABLE messy",
        "VACUUM",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(bad); i++) {
        er_error err = { 0 };
        cJSON *out = NULL;
        er_data_query_opts o = { 10, 1000 };
        CHECK(er_data_query(db, bad[i], &o, &out, &err) != 0);
        CHECK(out == NULL);
    }
    char *s = scalar("SELECT count(*) FROM messy");
    CHECK_STR(s, "5");
    free(s);
    /* row cap: shown rows capped, count exact, truncation said */
    cJSON *r = NULL;
    er_error err = { 0 };
    er_data_query_opts o = { 3, 5000 };
    CHECK_OK(er_data_query(db,
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n "
                           "WHERE i < 500) SELECT i FROM n",
                           &o, &r, &err));
    CHECK(r && cJSON_GetArraySize(er_json_arr(r, "rows")) == 3 &&
          er_json_num(r, "row_count", 0) == 500 && er_json_bool(r, "truncated", false));
    cJSON_Delete(r);
    /* time cap */
    o.max_ms = 200;
    int rc = er_data_query(db,
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) "
                           "SELECT count(*) FROM n",
                           &o, &r, &err);
    CHECK(rc == ER_ETIMEDOUT && strstr(err.msg, "time cap"));
}

/* ---- statistics ---- */

#define NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) <= 1e-9 * fmax(1, fabs((double)(b))))

static const cJSON *column(const cJSON *r, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(
        c, er_json_arr(r, "columns")) if (er_str_eq(er_json_str(c, "name"), name)) return c;
    return NULL;
}

static void test_stats(void)
{
    /* Expected values from Python's statistics module (mean, stdev, median,
     * quantiles(n=20, method="inclusive"), correlation on values and on
     * average ranks), computed once and written here; tolerance 1e-9 relative. */
    WRITE("st.csv", "x,y,g\n12,1,a\n7.5,2,b\n3,3,a\n3,4,b\n19.25,5,a\n8,6,b\n10,7,a\n3,8,b\n"
                    "25,9,a\n14.5,10,b\n-2,11,a\n6,12,b\n,13,a\n");
    er_error err = { 0 };
    cJSON *r = load("st.csv", NULL, &err);
    cJSON_Delete(r);
    r = NULL;
    CHECK_OK(er_stats_describe(db, "st", NULL, &r, &err));
    const cJSON *x = column(r, "x");
    CHECK(x != NULL);
    CHECK_INT((long)er_json_num(x, "count", 0), 12);
    CHECK_INT((long)er_json_num(x, "nulls", 0), 1);
    CHECK_INT((long)er_json_num(x, "distinct", 0), 10);
    NEAR(er_json_num(x, "mean", 0), 9.104166666666666);
    NEAR(er_json_num(x, "stddev", 0), 7.642181338208392);
    NEAR(er_json_num(x, "median", 0), 7.75);
    NEAR(er_json_num(x, "p5", 0), 0.75);
    NEAR(er_json_num(x, "p25", 0), 3.0);
    NEAR(er_json_num(x, "p75", 0), 12.625);
    NEAR(er_json_num(x, "p95", 0), 21.8375);
    NEAR(er_json_num(x, "min", 0), -2);
    NEAR(er_json_num(x, "max", 0), 25);
    const cJSON *top = cJSON_GetArrayItem(er_json_arr(x, "top"), 0);
    CHECK(er_json_num(top, "value", 0) == 3 && er_json_num(top, "count", 0) == 3);
    const cJSON *g = column(r, "g");
    CHECK(g && er_json_num(g, "distinct", 0) == 2);
    cJSON_Delete(r);
    r = NULL;
    cJSON *cols = cJSON_Parse("[\"x\",\"y\"]");
    CHECK_OK(er_stats_correlate(db, "st", cols, &r, &err));
    const cJSON *s = cJSON_GetArrayItem(er_json_arr(r, "strongest"), 0);
    NEAR(er_json_num(s, "pearson", 0), -0.012784684260632112);
    NEAR(er_json_num(s, "spearman", 0), -0.06338185336835987);
    CHECK_INT((long)er_json_num(s, "n", 0), 12);
    cJSON_Delete(r);
    cJSON_Delete(cols);
    /* radix sort and quantiles on many values */
    size_t n = 100000;
    double *v = er_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (double)((i * 7919) % n) - 50000.5;
    er_stats_sort(v, n);
    bool sorted = true;
    for (size_t i = 1; i < n; i++)
        sorted &= v[i - 1] <= v[i];
    CHECK(sorted);
    NEAR(er_stats_quantile(v, n, 0.5), -1); /* (49999 + 50000) / 2 - 50000.5 */
    free(v);
}

static void test_group(void)
{
    cJSON *by = cJSON_Parse("[\"g\"]"), *aggs = cJSON_Parse("[\"sum(x)\",\"count(*)\"]");
    er_group_opts o = { .by = by, .aggregates = aggs };
    cJSON *r = NULL;
    er_error err = { 0 };
    CHECK_OK(er_stats_group(db, "st", &o, &r, &err));
    char *rows = r ? er_json_print(er_json_arr(r, "rows")) : er_xstrdup("");
    CHECK_STR(rows, "[[\"a\",67.25,7],[\"b\",42,6]]");
    free(rows);
    cJSON_Delete(r);
    cJSON *bad = cJSON_Parse("[\"sum(nope)\"]");
    o.aggregates = bad;
    CHECK(er_stats_group(db, "st", &o, &r, &err) == ER_EINVAL && strstr(err.msg, "no column"));
    cJSON_Delete(bad);
    /* pivot: g's values become columns */
    cJSON *none = cJSON_CreateArray(), *sum = cJSON_Parse("[\"sum(y)\"]");
    er_group_opts p = { .by = none, .aggregates = sum, .pivot = "g" };
    CHECK_OK(er_stats_group(db, "st", &p, &r, &err));
    char *pr = r ? er_json_print(r) : er_xstrdup("");
    CHECK(strstr(pr, "\"columns\":[\"a\",\"b\"]") && strstr(pr, "[[49,42]]"));
    free(pr);
    cJSON_Delete(r);
    cJSON_Delete(none);
    cJSON_Delete(sum);
    cJSON_Delete(by);
    cJSON_Delete(aggs);
}

/* ---- charts ---- */

static int count_elements(xmlNodePtr n, const char *name, const char *fill)
{
    int k = 0;
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
            bool match = !fill;
            for (xmlAttrPtr a = n->properties; a && !match; a = a->next)
                match = strcmp((const char *)a->name, "fill") == 0 && a->children &&
                        strcmp((const char *)a->children->content, fill) == 0;
            k += match;
        }
        k += count_elements(n->children, name, fill);
    }
    return k;
}

static void test_chart_files(void)
{
    er_chart_spec s = { .kind = ER_CHART_BAR, .table = "st", .x = "g", .y = "x" };
    er_chart *c = NULL;
    er_error err = { 0 };
    CHECK_OK(er_chart_build(db, &s, &c, &err));
    if (!c)
        return;
    CHECK(c->ncats == 2 && c->nseries == 1 && c->series[0].y[0] == 67.25);
    char *svg = er_chart_svg(c, 800, 500);
    if (er_xml_load(NULL) == 0) {
        xmlDocPtr doc = xmlReadMemory(svg, (int)strlen(svg), "chart.svg", NULL, XML_PARSE_NONET);
        CHECK(doc != NULL);
        if (doc) {
            xmlNodePtr root = xmlDocGetRootElement(doc);
            CHECK_STR((const char *)root->name, "svg");
            CHECK_INT(count_elements(root, "rect", "#4e79a7"), 2); /* the two bars */
            CHECK(count_elements(root, "text", NULL) >= 8);        /* title, ticks, labels */
            xmlFreeDoc(doc);
        }
    }
    CHECK(strstr(svg, ">x by g</text>") != NULL);
    free(svg);
    er_buf png = ER_BUF_INIT;
    if (er_chart_png(c, 800, 500, &png, &err) == 0) {
        CHECK(png.len > 1000 && memcmp(png.ptr, "\x89PNG", 4) == 0);
        /* decode it again with cairo: a real PNG of the right size */
        void *lib = dlopen("libcairo.so.2", RTLD_NOW);
        cairo_surface_t *(*from_png)(const char *) =
            lib ? (cairo_surface_t * (*)(const char *))
                      dlsym(lib, "cairo_image_surface_create_from_png")
                : NULL;
        int (*width)(cairo_surface_t *) =
            lib ? (int (*)(cairo_surface_t *))dlsym(lib, "cairo_image_surface_get_width") : NULL;
        void (*destroy)(cairo_surface_t *) =
            lib ? (void (*)(cairo_surface_t *))dlsym(lib, "cairo_surface_destroy") : NULL;
        if (from_png && width && destroy) {
            char *p = path_of("chart.png");
            write_file("chart.png", png.ptr, png.len);
            cairo_surface_t *img = from_png(p);
            CHECK_INT(width(img), 800);
            destroy(img);
            free(p);
        }
        if (lib)
            dlclose(lib);
    }
    er_buf_release(&png);
    er_chart_free(c);
    /* a line over dates: a time axis */
    er_chart_spec l = { .kind = ER_CHART_LINE, .table = "events", .x = "t", .y = "n" };
    CHECK_OK(er_chart_build(db, &l, &c, &err));
    CHECK(c && c->x_time && c->series[0].n == 3);
    svg = c ? er_chart_svg(c, 800, 500) : er_xstrdup("");
    CHECK(strstr(svg, "<polyline") && strstr(svg, ">01-02 00:00</text>"));
    free(svg);
    er_chart_free(c);
}

static void test_chart_terminal(void)
{
    cJSON *j = cJSON_Parse("{\"kind\":\"bar\",\"title\":\"revenue by region\",\"categories\":"
                           "[\"north\",\"south\",\"east\"],\"series\":[{\"name\":\"revenue\","
                           "\"y\":[300,150,75.5]}]}");
    er_chart *c = NULL;
    er_error err = { 0 };
    CHECK_OK(er_chart_from_json(j, &c, &err));
    char *t = er_chart_term(c, 40, 10, false);
    CHECK_STR(t, "revenue by region\n"
                 "north █████████████████████ 300\n"
                 "south ██████████▌ 150\n"
                 "east  █████▎ 75.5\n");
    free(t);
    er_chart_free(c);
    cJSON_Delete(j);
    j = cJSON_Parse(
        "{\"kind\":\"scatter\",\"title\":\"s\",\"series\":[{\"name\":\"a\",\"x\":[0,1,2,3],"
        "\"y\":[0,1,2,3]}]}");
    CHECK_OK(er_chart_from_json(j, &c, &err));
    t = er_chart_term(c, 30, 3, false);
    CHECK_STR(t, "s\n"
                 "       3 ┤⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠈\n"
                 "     1.5 ┤⠀⠀⠀⠀⠀⠀⢀⠀⠀⠀⠀⠀⠀⠁⠀⠀⠀⠀⠀⠀\n"
                 "       0 ┤⡀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀⠀\n"
                 "         └────────────────────\n"
                 "         0                   3\n");
    free(t);
    er_chart_free(c);
    cJSON_Delete(j);
}

static void test_export(void)
{
    char *p = path_of("out.csv");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int64_t rows = 0;
    er_error err = { 0 };
    CHECK_OK(er_data_export(db, "SELECT id, note FROM messy ORDER BY id LIMIT 2", "csv", fd, &rows,
                            &err));
    close(fd);
    CHECK_INT((long)rows, 2);
    FILE *f = fopen(p, "rb");
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CHECK_STR(buf, "id,note\r\n1,\"says \"\"hi\"\"\nthere\"\r\n2,\r\n");
    free(p);
    CHECK(er_data_export(db, "DELETE FROM messy", "csv", 1, &rows, &err) == ER_EDENIED);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/errand-data-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    char *dbp = path_of(".errand/data.sqlite");
    er_error err = { 0 };
    CHECK_OK(er_data_open(&db, dbp, &err));
    free(dbp);
    test_csv_reader();
    test_messy_csv();
    test_mixed_and_edges();
    test_wide();
    test_encoding();
    test_json();
    test_xlsx();
    test_reload();
    test_read_only();
    test_stats();
    test_group();
    test_chart_files();
    test_chart_terminal();
    test_export();
    er_data_close(db);
    char *cmd = er_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    return check_done();
}
