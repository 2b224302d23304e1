/* test_trends.c — the trend finder's comparison of two snapshots (trends.h):
 * new and gone items, numbers rising and falling (read from text), moves,
 * word frequencies, the key chosen, list rows, the window parser, the text
 * form without the pages' control characters, and the newest-against-window
 * choice over a real SQLite store. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/store.h"
#include "errand/str.h"
#include "errand/trends.h"
#include "tools_util.h"

#include <stdlib.h>
#include <string.h>

static er_snapshot snap(const char *rows, int64_t ms)
{
    return (er_snapshot){
        .source = "hn", .url = "http://x.test/", .taken_ms = ms, .rows = (char *)rows
    };
}

static const cJSON *nth(const cJSON *r, const char *list, int i)
{
    return cJSON_GetArrayItem(er_json_arr(r, list), i);
}

static void test_compare(void)
{
    er_error err = { 0 };
    er_snapshot a = snap("[{\"title\":\"Rust in the kernel\",\"points\":\"120 points\"},"
                         "{\"title\":\"Old news\",\"points\":\"50 points\"},"
                         "{\"title\":\"SQLite tricks\",\"points\":\"1,000 points\"}]",
                         1000);
    er_snapshot b = snap("[{\"title\":\"SQLite tricks\",\"points\":\"900 points\"},"
                         "{\"title\":\"Rust in the kernel\",\"points\":\"300 points\"},"
                         "{\"title\":\"Rust async book\",\"points\":\"10 points\"}]",
                         2000);
    cJSON *r = NULL;
    CHECK_OK(er_trends_compare(&a, &b, NULL, &r, &err));
    CHECK_STR(er_json_str(r, "key"), "title");
    CHECK(er_json_num(r, "new_count", 0) == 1 && er_json_num(r, "gone_count", 0) == 1);
    CHECK_STR(cJSON_GetStringValue(nth(r, "new", 0)), "Rust async book");
    CHECK_STR(cJSON_GetStringValue(nth(r, "gone", 0)), "Old news");
    CHECK(cJSON_GetArraySize(er_json_arr(r, "rising")) == 1);
    CHECK_STR(er_json_str(nth(r, "rising", 0), "item"), "Rust in the kernel");
    CHECK(er_json_num(nth(r, "rising", 0), "change", 0) == 180);
    CHECK(er_json_num(nth(r, "rising", 0), "percent", 0) == 150);
    CHECK_STR(er_json_str(nth(r, "falling", 0), "item"), "SQLite tricks");
    CHECK(er_json_num(nth(r, "falling", 0), "from", 0) == 1000); /* "1,000" read as a number */
    CHECK(er_json_num(nth(r, "falling", 0), "to", 0) == 900);
    /* SQLite tricks #3 → #1, Rust in the kernel #1 → #2: the bigger move first */
    CHECK_STR(er_json_str(nth(r, "moved", 0), "item"), "SQLite tricks");
    CHECK(er_json_num(nth(r, "moved", 0), "from_rank", 0) == 3);
    CHECK(er_json_num(nth(r, "moved", 0), "to_rank", 0) == 1);
    const cJSON *w = er_json_obj(r, "words");
    const cJSON *f;
    bool rust_rose = false;
    cJSON_ArrayForEach(f, er_json_arr(w, "rising")) rust_rose =
        rust_rose || (er_str_eq(er_json_str(f, "word"), "rust") && er_json_num(f, "from", 0) == 1 &&
                      er_json_num(f, "to", 0) == 2);
    CHECK(rust_rose);
    bool news_fell = false, the_counted = false;
    cJSON_ArrayForEach(f, er_json_arr(w, "falling"))
    {
        news_fell = news_fell || er_str_eq(er_json_str(f, "word"), "news");
        the_counted = the_counted || er_str_eq(er_json_str(f, "word"), "the");
    }
    CHECK(news_fell && !the_counted); /* "the" is a stop word */

    er_buf t = ER_BUF_INIT;
    er_trends_text(r, &t);
    CHECK(strstr(er_buf_cstr(&t), "new (1):\n  - Rust async book"));
    CHECK(strstr(er_buf_cstr(&t), "Rust in the kernel: points 120 → 300 (+180, +150%)"));
    CHECK(strstr(er_buf_cstr(&t), "SQLite tricks: #3 → #1"));
    er_buf_release(&t);
    cJSON_Delete(r);

    /* A named key, list rows, a page's escape sequence, nothing changed. */
    a = snap("[[\"x\\u001b[31m\",\"1\"]]", 1000);
    b = snap("[[\"x\\u001b[31m\",\"1\"]]", 2000);
    er_trends_opts o = { "col1", 5 };
    CHECK_OK(er_trends_compare(&a, &b, &o, &r, &err));
    CHECK(er_json_num(r, "new_count", -1) == 0 &&
          cJSON_GetArraySize(er_json_arr(r, "rising")) == 0);
    er_trends_text(r, &t);
    CHECK(strstr(er_buf_cstr(&t), "no change"));
    CHECK(!strchr(er_buf_cstr(&t), '\x1b'));
    er_buf_release(&t);
    cJSON_Delete(r);

    CHECK_OK(er_trends_compare(NULL, &b, NULL, &r, &err));
    er_trends_text(r, &t);
    CHECK(strstr(er_buf_cstr(&t), "one snapshot so far"));
    CHECK(strstr(er_buf_cstr(&t), "items (1):\n  - x[31m")); /* listed, ESC dropped */
    er_buf_release(&t);
    cJSON_Delete(r);
}

static void test_window(void)
{
    er_error err = { 0 };
    int64_t ms = 0;
    CHECK_OK(er_trends_parse_window("90", &ms, &err));
    CHECK(ms == 90000);
    CHECK_OK(er_trends_parse_window("6h", &ms, &err));
    CHECK(ms == 6 * 3600000LL);
    CHECK_OK(er_trends_parse_window("2w", &ms, &err));
    CHECK(ms == 14 * 86400000LL);
    CHECK(er_trends_parse_window("6 hours", &ms, &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "30m"));
    CHECK(er_trends_parse_window("-1d", &ms, &err) == ER_EINVAL);
    CHECK(er_trends_parse_window("", &ms, &err) == ER_EINVAL);
}

static void test_latest(void)
{
    er_error err = { 0 };
    char *dir = tu_tempdir("trends");
    char *url = er_xasprintf("sqlite://%s/t.db", dir);
    er_store *st = NULL;
    CHECK_OK(er_store_open(&st, url, &err));
    CHECK_OK(er_store_migrate(st, NULL, &err));
    cJSON *r = NULL;
    CHECK(er_trends_latest(st, "hn", 0, NULL, &r, &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "browser_record"));
    const char *rows[] = { "[{\"title\":\"a\",\"n\":1}]", "[{\"title\":\"a\",\"n\":2}]",
                           "[{\"title\":\"a\",\"n\":4}]" };
    int64_t at[] = { 1000000, 2000000, 2060000 };
    for (int i = 0; i < 3; i++) {
        er_snapshot s = snap(rows[i], at[i]);
        CHECK_OK(er_store_snapshot_add(st, &s, &err));
    }
    CHECK_OK(er_trends_latest(st, "hn", 0, NULL, &r, &err)); /* against the one before */
    CHECK(er_json_num(nth(r, "rising", 0), "from", 0) == 2);
    CHECK(er_json_num(r, "from_ms", 0) == 2000000);
    cJSON_Delete(r);
    CHECK_OK(er_trends_latest(st, "hn", 600000, NULL, &r, &err)); /* 10 minutes back */
    CHECK(er_json_num(nth(r, "rising", 0), "from", 0) == 1);
    CHECK(er_json_num(r, "to", 0) == 0 && er_json_num(r, "to_ms", 0) == 2060000);
    cJSON_Delete(r);
    CHECK_OK(er_trends_latest(st, "hn", 7 * 86400000LL, NULL, &r, &err)); /* none so old */
    CHECK(!cJSON_GetObjectItem(r, "from_ms"));
    cJSON_Delete(r);
    er_store_close(st);
    tu_rmrf(dir);
    free(dir);
    free(url);
}

int main(void)
{
    test_compare();
    test_window();
    test_latest();
    return check_done();
}
