/* test_data_columns.c — the column files under loaded tables (src/data/
 * colfile.c, vtab.c, colgroup.c): a table of several row groups whose
 * columns change type on the way (integers turning real, numbers turning
 * text late, text repeating into dictionaries), group-bys and describe
 * computed from the file checked against SQLite running the same SQL over
 * the virtual table, a fresh connection under the read-only authorizer,
 * replaced files cleaned up, a damaged file reported. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/data.h"
#include "errand/data_stats.h"
#include "errand/json.h"
#include "errand/str.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS     150000 /* three row groups */
#define LATE_ROW 120000 /* where "late" stops being a number */

static char dir[256];
static er_data *db;

static char *path_of(const char *name)
{
    return er_xasprintf("%s/%s", dir, name);
}

static cJSON *query(const char *sql)
{
    er_error err = { 0 };
    cJSON *out = NULL;
    er_data_query_opts o = { .max_rows = 1000, .max_ms = 60000 };
    if (er_data_query(db, sql, &o, &out, &err) != 0)
        fprintf(stderr, "query failed: %s\n", err.msg);
    return out;
}

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

#define CHECK_SCALAR(sql, want) \
    do {                        \
        char *s_ = scalar(sql); \
        CHECK_STR(s_, want);    \
        free(s_);               \
    } while (0)

static const char *const groups[] = { "north", "south", "east", "west", "alps" };

static void write_big(void)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "id,g,x,t,d,late\n");
    for (long i = 1; i <= ROWS; i++) {
        er_buf_printf(&b, "%ld,%s,", i, i % 7 == 0 ? "" : groups[i % 5]);
        if (i < 70000)
            er_buf_printf(&b, "%ld,", i % 1000 - 500); /* integers… */
        else
            er_buf_printf(&b, "%ld.25,", i % 1000 - 500); /* …then reals */
        er_buf_printf(&b, "t%ld,2024-%02ld-%02ld,", i, i % 12 + 1, i % 28 + 1);
        er_buf_puts(&b, i == LATE_ROW ? "x\n" : i % 3 ? "1.50\n" : "\n");
    }
    char *p = path_of("big.csv");
    FILE *f = fopen(p, "wb");
    fwrite(b.ptr, 1, b.len, f);
    fclose(f);
    free(p);
    er_buf_release(&b);
}

static const char *col_type(const cJSON *res, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(
        c, er_json_arr(res, "columns")) if (er_str_eq(er_json_str(c, "name"),
                                                      name)) return er_json_str(c, "type");
    return "(missing)";
}

static void test_load(void)
{
    write_big();
    char *p = path_of("big.csv");
    er_data_load_opts o = { .path = p, .display = "big.csv", .header = -1 };
    cJSON *r = NULL;
    er_error err = { 0 };
    CHECK_OK(er_data_load(db, &o, &r, &err));
    free(p);
    CHECK_INT((long)er_json_num(r, "rows", 0), ROWS);
    CHECK_STR(col_type(r, "id"), "integer");
    CHECK_STR(col_type(r, "g"), "text");
    CHECK_STR(col_type(r, "x"), "real"); /* integers in the first group, reals later */
    CHECK_STR(col_type(r, "d"), "date");
    CHECK_STR(col_type(r, "late"), "text"); /* read again: the numbers keep their text */
    char *cols = er_json_print(er_json_arr(r, "columns"));
    CHECK(strstr(cols, "'x' at big.csv:120001") != NULL);
    free(cols);
    cJSON_Delete(r);
    CHECK_SCALAR("SELECT typeof(x) || ' ' || x FROM big WHERE id = 10", "real -490.0");
    CHECK_SCALAR("SELECT x FROM big WHERE id = 70001", "-499.25");
    CHECK_SCALAR("SELECT late FROM big WHERE id = 4", "1.50");
    CHECK_SCALAR("SELECT count(*) FROM big WHERE late IS NULL", "49999"); /* one is the x */
    CHECK_SCALAR("SELECT count(*) FROM big WHERE g IS NULL", "21428");
    CHECK_SCALAR("SELECT t FROM big WHERE id = 149999", "t149999");
    CHECK_SCALAR("SELECT max(rowid) FROM big", "150000");
}

/* Numbers equal to 1e-9 relative, everything else exactly. */
static bool same_json(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return fabs(a->valuedouble - b->valuedouble) <= 1e-9 * fmax(1, fabs(b->valuedouble));
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        for (const cJSON *x = a->child, *y = b->child; x; x = x->next, y = y->next)
            if (!same_json(x, y))
                return false;
        return true;
    }
    return cJSON_Compare(a, b, true);
}

/* The group-by from the file against SQLite running its SQL. */
static void check_group(const char *by, const char *aggs, const char *order, long limit)
{
    cJSON *b = cJSON_Parse(by), *a = cJSON_Parse(aggs);
    er_group_opts o = { .by = b, .aggregates = a, .order = order, .limit = limit };
    cJSON *fast = NULL, *slow = NULL;
    char *sql = NULL;
    er_error err = { 0 };
    CHECK_OK(er_stats_group(db, "big", &o, &fast, &err));
    CHECK_OK(er_stats_group_sql(db, "big", &o, &sql, &err));
    er_data_query_opts q = { .max_rows = limit, .max_ms = 60000 };
    CHECK_OK(er_data_query(db, sql, &q, &slow, &err));
    bool same = fast && slow && same_json(er_json_arr(fast, "rows"), er_json_arr(slow, "rows")) &&
                same_json(er_json_arr(fast, "columns"), er_json_arr(slow, "columns")) &&
                er_json_num(fast, "row_count", -1) == er_json_num(slow, "row_count", -2);
    if (!same) {
        char *f = fast ? er_json_print(fast) : NULL, *s = slow ? er_json_print(slow) : NULL;
        fprintf(stderr, "group %s %s %s:\n file: %s\n  sql: %s\n", by, aggs, order ? order : "",
                f ? f : "-", s ? s : "-");
        free(f);
        free(s);
    }
    CHECK(same);
    free(sql);
    cJSON_Delete(fast);
    cJSON_Delete(slow);
    cJSON_Delete(b);
    cJSON_Delete(a);
}

static void test_group(void)
{
    check_group("[\"g\"]",
                "[\"count(*)\",\"sum(x)\",\"avg(x)\",\"min(t)\",\"max(d)\","
                "\"count(g)\",\"sum(id)\",\"min(x)\",\"max(id)\"]",
                NULL, 100);
    check_group("[\"g\",\"d\"]", "[\"sum(id)\"]", "-sum_id", 7);
    check_group("[]", "[\"sum(id)\",\"min(x)\",\"max(x)\",\"count(late)\"]", NULL, 10);
    check_group("[\"d\"]", "[]", "count", 5);
    check_group("[\"x\"]", "[\"count(*)\"]", "-x", 3);
    check_group("[\"late\",\"g\"]", "[\"max(t)\"]", NULL, 50);
    /* SUM of text is SQLite's own business: the SQL runs */
    check_group("[\"g\"]", "[\"sum(late)\"]", NULL, 10);
}

static const cJSON *column(const cJSON *r, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(
        c, er_json_arr(r, "columns")) if (er_str_eq(er_json_str(c, "name"), name)) return c;
    return NULL;
}

static void test_describe(void)
{
    cJSON *r = NULL;
    er_error err = { 0 };
    CHECK_OK(er_stats_describe(db, "big", NULL, &r, &err));
    CHECK_INT((long)er_json_num(r, "rows", 0), ROWS);
    const cJSON *g = column(r, "g"), *x = column(r, "x"), *d = column(r, "d");
    CHECK_INT((long)er_json_num(g, "nulls", 0), 21428);
    CHECK_INT((long)er_json_num(g, "distinct", 0), 5);
    CHECK_STR(er_json_str(g, "min"), "alps");
    CHECK_STR(er_json_str(g, "max"), "west");
    CHECK_INT((long)er_json_num(d, "distinct", 0), 84); /* lcm(12, 28) month-day pairs */
    CHECK_STR(er_json_str(d, "min"), "2024-01-01");
    char *mean = scalar("SELECT avg(x) FROM big"),
         *sd = scalar("SELECT sqrt(sum((x - m) * (x - m)) / (count(x) - 1)) FROM big, "
                      "(SELECT avg(x) AS m FROM big)");
    CHECK(fabs(er_json_num(x, "mean", 0) - strtod(mean, NULL)) < 1e-9);
    CHECK(fabs(er_json_num(x, "stddev", 0) - strtod(sd, NULL)) < 1e-9);
    free(mean);
    free(sd);
    /* "-500.25" is written for -500 and .25 */
    CHECK(er_json_num(x, "min", 0) == -500.25 && er_json_num(x, "max", 0) == 499.25);
    cJSON_Delete(r);
}

/* Column files in the tables directory. */
static int count_files(const char *suffix)
{
    char *p = path_of(".errand/data.sqlite-tables");
    DIR *dh = opendir(p);
    int n = 0;
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL)
        n += er_str_ends(e->d_name, suffix);
    if (dh)
        closedir(dh);
    free(p);
    return n;
}

static void test_fresh_and_clean(void)
{
    /* A new connection: the table declares itself under the read-only authorizer. */
    char *dbp = path_of(".errand/data.sqlite");
    er_error err = { 0 };
    er_data_close(db);
    CHECK_OK(er_data_open(&db, dbp, &err));
    CHECK_SCALAR("SELECT count(*) FROM big", "150000");
    CHECK_SCALAR("SELECT count(*) FROM small", "2");
    /* Loading again replaces the file; the old one goes. */
    char *p = path_of("big.csv");
    er_data_load_opts o = { .path = p, .display = "big.csv", .header = -1, .force = true };
    cJSON *r = NULL;
    CHECK_OK(er_data_load(db, &o, &r, &err));
    cJSON_Delete(r);
    CHECK_INT(count_files(".cols"), 2);
    CHECK_INT(count_files(".tmp"), 0);
    free(p);
    free(dbp);
}

static void test_damaged(void)
{
    /* Cut every column file short: queries fail with the cause, nothing crashes. */
    char *tdir = path_of(".errand/data.sqlite-tables");
    DIR *dh = opendir(tdir);
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL) {
        if (!er_str_ends(e->d_name, ".cols"))
            continue;
        char *f = er_xasprintf("%s/%s", tdir, e->d_name);
        CHECK(truncate(f, 1000) == 0);
        free(f);
    }
    if (dh)
        closedir(dh);
    free(tdir);
    char *dbp = path_of(".errand/data.sqlite");
    er_error err = { 0 };
    er_data_close(db);
    CHECK_OK(er_data_open(&db, dbp, &err));
    free(dbp);
    cJSON *out = NULL;
    er_data_query_opts q = { .max_rows = 10, .max_ms = 5000 };
    CHECK(er_data_query(db, "SELECT count(*) FROM big", &q, &out, &err) != 0);
    CHECK(strstr(err.msg, "damaged") != NULL);
    CHECK(er_stats_describe(db, "big", NULL, &out, &err) != 0 && strstr(err.msg, "damaged"));
    /* Loading it again mends it. */
    char *p = path_of("big.csv");
    er_data_load_opts o = { .path = p, .display = "big.csv", .header = -1, .force = true };
    CHECK_OK(er_data_load(db, &o, &out, &err));
    cJSON_Delete(out);
    free(p);
    CHECK_SCALAR("SELECT count(*) FROM big", "150000");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/errand-cols-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    char *dbp = path_of(".errand/data.sqlite");
    er_error err = { 0 };
    CHECK_OK(er_data_open(&db, dbp, &err));
    free(dbp);
    char *sp = path_of("small.csv");
    FILE *f = fopen(sp, "wb");
    fputs("a,b\n1,x\n2,y\n", f);
    fclose(f);
    er_data_load_opts so = { .path = sp, .display = "small.csv", .header = -1 };
    cJSON *r = NULL;
    CHECK_OK(er_data_load(db, &so, &r, &err));
    cJSON_Delete(r);
    free(sp);
    test_load();
    test_group();
    test_describe();
    test_fresh_and_clean();
    test_damaged();
    er_data_close(db);
    char *cmd = er_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    return check_done();
}
