/* test_util.c — buf, str, id, url, json, log redaction, error. */
#include "check.h"
#include "errand/price.h"
#include "errand/buf.h"
#include "errand/base64.h"
#include "errand/error.h"
#include "errand/id.h"
#include "errand/glob.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/proc.h"
#include "errand/str.h"
#include "errand/url.h"
#include "errand/alloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_buf(void)
{
    er_buf b;
    er_buf_init(&b, 8);
    CHECK_STR(er_buf_cstr(&b), "");
    CHECK(er_buf_puts(&b, "abcd") == 0);
    CHECK(er_buf_printf(&b, "%d", 123) == 0);
    CHECK_STR(er_buf_cstr(&b), "abcd123");
    CHECK(er_buf_puts(&b, "xy") == ER_ETOOBIG);
    CHECK_STR(er_buf_cstr(&b), "abcd123");
    er_buf_consume(&b, 2);
    CHECK_STR(er_buf_cstr(&b), "cd123");
    char *s = er_buf_detach(&b);
    CHECK_STR(s, "cd123");
    free(s);
    er_buf big = ER_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        er_buf_printf(&big, "%0300d", i);
    CHECK(big.len == 300000);
    er_buf_release(&big);
}

static void test_id(void)
{
    char a[ER_ID_LEN], b[ER_ID_LEN];
    er_id_new(a);
    er_id_new(b);
    CHECK(er_id_valid(a));
    CHECK(strcmp(a, b) < 0);
    CHECK(a[14] == '7');
    CHECK(!er_id_valid("not-an-id"));
    char prev[ER_ID_LEN];
    er_id_new(prev);
    int sorted = 1;
    for (int i = 0; i < 10000; i++) {
        er_id_new(a);
        if (strcmp(prev, a) >= 0)
            sorted = 0;
        memcpy(prev, a, sizeof a);
    }
    CHECK(sorted);
}

static void test_url(void)
{
    er_error err = { 0 };
    er_url u;
    CHECK_OK(
        er_url_parse(&u, "postgresql://bob:p%40ss@127.0.0.1:5432/errand?sslmode=disable", &err));
    CHECK_STR(u.scheme, "postgresql");
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "p@ss");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 5432);
    CHECK_STR(u.path, "/errand");
    char *mode = er_url_query_get(&u, "sslmode");
    CHECK_STR(mode, "disable");
    free(mode);
    er_url_release(&u);

    CHECK_OK(er_url_parse(&u, "sqlite:///tmp/x.db", &err));
    CHECK_STR(u.scheme, "sqlite");
    CHECK(u.host == NULL);
    CHECK_STR(u.path, "/tmp/x.db");
    er_url_release(&u);

    CHECK_OK(er_url_parse(&u, "sqlite::memory:", &err));
    CHECK_STR(u.path, ":memory:");
    er_url_release(&u);

    CHECK(er_url_parse(&u, "nonsense", &err) == ER_EINVAL);
    CHECK(er_url_parse(&u, "amqp://h:99999/", &err) == ER_EINVAL);

    char *r = er_url_redacted("amqp://guest:secret@127.0.0.1:5672/");
    CHECK_STR(r, "amqp://guest:***@127.0.0.1:5672/");
    free(r);

    /* An option added to a URL's query; one the URL has already wins. */
    static const char *const with[][2] = {
        { "amqp://h/", "amqp://h/?queue_type=quorum" },
        { "amqp://h/?heartbeat=5", "amqp://h/?heartbeat=5&queue_type=quorum" },
        { "amqp://h/?", "amqp://h/?queue_type=quorum" },
        { "amqp://h/?heartbeat=5&", "amqp://h/?heartbeat=5&queue_type=quorum" },
        { "amqp://h/?queue_type=classic", "amqp://h/?queue_type=classic" },
        { "amqp://h/?a=1&queue_type=", "amqp://h/?a=1&queue_type=" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(with); i++) {
        r = er_url_with_query(with[i][0], "queue_type", "quorum");
        CHECK_STR(r, with[i][1]);
        free(r);
    }
    r = er_url_redacted("postgresql://u:a@b@db/x?sslmode=require");
    CHECK_STR(r, "postgresql://u:***@db/x?sslmode=require");
    free(r);
    r = er_url_redacted("sqlite:///var/lib/errand/e.db");
    CHECK_STR(r, "sqlite:///var/lib/errand/e.db");
    free(r);
}

/* Issue 22: globs as fnmatch(3) within a segment, and globstars across them,
 * without exponential backtracking. */
static void test_glob(void)
{
    static const struct {
        const char *pat, *path;
        bool want;
    } cases[] = {
        { "*.c", "a.c", true },
        { "*.c", "src/a.c", false },
        { "**/*.c", "a.c", true },
        { "**/*.c", "src/deep/a.c", true },
        { "src/**", "src", false },
        { "src/**", "src/a/b", true },
        { "src/**/x", "src/x", true },
        { "src/**/**/x", "src/a/b/x", true },
        { "**", "anything/at/all", true },
        { "a/*/c", "a/b/c", true },
        { "a/*/c", "a/b/d/c", false },
        { "?.[ch]", "x.h", true },
        { "[!a]*", "abc", false },
        { "[^a]*", "bcd", true },
        { "[]x]", "]", true },
        { "[a-c]x", "bx", true },
        { "[[:digit:]]*", "7up", true },
        { "[[:digit:]]*", "up", false },
        { "\\*", "*", true },
        { "\\*", "x", false },
        { "*", ".hidden", false },
        { ".*", ".hidden", true },
        { "**/*.c", ".git/a.c", true },
        { "[.]x", ".x", false },
        { "[abc", "[abc", true },
        { "a*b*c", "aXbYc", true },
        { "a*b*c", "aXbY", false },
        { "*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(cases); i++) {
        bool got = er_glob_match(cases[i].pat, cases[i].path);
        if (got != cases[i].want)
            fprintf(stderr, "glob %s vs %s: got %d\n", cases[i].pat, cases[i].path, got);
        CHECK(got == cases[i].want);
    }
    CHECK(er_glob_segment("*.c", 3, ".x.c", 4, false));
    CHECK(!er_glob_segment("*.c", 3, ".x.c", 4, true));
    /* 40 directories deep and 30 globstars: decided at once either way. */
    er_buf path = ER_BUF_INIT, pat = ER_BUF_INIT;
    for (int i = 0; i < 40; i++)
        er_buf_puts(&path, "d/");
    er_buf_puts(&path, "x.c");
    for (int i = 0; i < 30; i++)
        er_buf_puts(&pat, "**/x*/");
    er_buf_puts(&pat, "y.c");
    CHECK(!er_glob_match(pat.ptr, path.ptr));
    er_buf_reset(&pat);
    for (int i = 0; i < 30; i++)
        er_buf_puts(&pat, "**/");
    er_buf_puts(&pat, "d/x.c");
    CHECK(er_glob_match(pat.ptr, path.ptr));
    er_buf_release(&path);
    er_buf_release(&pat);
}

static void test_json(void)
{
    er_error err = { 0 };
    cJSON *j;
    CHECK_OK(er_json_parse(&j, "{\"a\":\"x\",\"n\":3,\"b\":true}", 24, &err));
    CHECK_STR(er_json_str(j, "a"), "x");
    CHECK(er_json_num(j, "n", 0) == 3);
    CHECK(er_json_bool(j, "b", false));
    CHECK(er_json_str(j, "n") == NULL);
    cJSON_Delete(j);
    CHECK(er_json_parse(&j, "{\"a\":", 5, &err) == ER_EPROTO);
    CHECK(er_json_parse(&j, "{} x", 4, &err) == ER_EPROTO);
    CHECK(er_json_parse(&j, "{}\0x", 4, &err) == ER_EPROTO); /* found by fuzz_json */
    CHECK_OK(er_json_parse(&j, "{\"i\":-7.9,\"big\":1e300,\"neg\":-1e300,\"s\":\"1\"}", 43, &err));
    CHECK(er_json_int(j, "i", 0, INT64_MIN, INT64_MAX) == -7);
    CHECK(er_json_int(j, "big", 0, INT_MIN, INT_MAX) == INT_MAX);
    CHECK(er_json_int(j, "big", 0, INT64_MIN, INT64_MAX) == INT64_MAX);
    CHECK(er_json_int(j, "neg", 0, INT64_MIN, INT64_MAX) == INT64_MIN);
    CHECK(er_json_int(j, "i", 5, 0, 10) == 0);
    CHECK(er_json_int(j, "s", 5, 0, 10) == 5);
    CHECK(er_json_int(j, "none", -2, -5, 10) == -2);
    cJSON_Delete(j);
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "k", NULL);
    char *s = er_json_print(o);
    CHECK_STR(s, "{\"k\":null}");
    free(s);
    cJSON_Delete(o);
}

/* Escaping: the short forms, \u00XX for other control bytes, the rest (UTF-8
 * included) as it is; long strings cross the escaper's chunks and still
 * decode to the same bytes. */
static void test_json_escape(void)
{
    er_buf b = ER_BUF_INIT;
    static const char in[] = "a\"b\\c\n\r\t\x01\x1f\x7f/\xc3\xa9";
    CHECK(er_json_escape(&b, in, sizeof in - 1) == 0);
    CHECK_STR(er_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\x7f/\xc3\xa9\"");
    er_buf_reset(&b);
    char big[3000];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = (char)(i % 7 == 0 ? '"' : i % 11 == 0 ? 1 : 'a' + (char)(i % 26));
    big[sizeof big - 1] = '\0';
    CHECK(er_json_escape(&b, big, strlen(big)) == 0);
    cJSON *j = cJSON_ParseWithLength(b.ptr, b.len);
    CHECK(cJSON_IsString(j) && strcmp(j->valuestring, big) == 0);
    cJSON_Delete(j);
    /* The cap holds. */
    er_buf small;
    er_buf_init(&small, 100);
    CHECK(er_json_escape(&small, big, strlen(big)) == ER_ETOOBIG);
    er_buf_release(&small);
    er_buf_release(&b);
}

static void test_redact(void)
{
    char out[256];
    er_log_add_secret("hunter2-secret");
    er_log_redact("key hunter2-secret here", out, sizeof out);
    CHECK_STR(out, "key *** here");
    er_log_redact("Authorization: Bearer abc.def-ghi", out, sizeof out);
    CHECK_STR(out, "Authorization: Bearer ***");
    er_log_redact("using sk-proj-ABCDEFGHIJKLMNOP now", out, sizeof out);
    CHECK_STR(out, "using *** now");
    er_log_redact("plain text", out, sizeof out);
    CHECK_STR(out, "plain text");
    /* Issue 22: a URL's password, from any setting, in any message. */
    er_log_redact("POST http://proxy:pw@127.0.0.1:9/v1/chat -> 401", out, sizeof out);
    CHECK_STR(out, "POST http://proxy:***@127.0.0.1:9/v1/chat -> 401");
    er_log_redact("'redis://:s3cret@h:6379/0' and amqp://g:x@y/", out, sizeof out);
    CHECK_STR(out, "'redis://:***@h:6379/0' and amqp://g:***@y/");
    er_log_redact("mailto://user@host and http://a@b:c/", out, sizeof out);
    CHECK_STR(out, "mailto://user@host and http://a@b:c/");
    er_error err;
    er_error_set(&err, ER_ENOTFOUND, "wrong base URL '%s'", "http://u:p4ss@h/v1");
    CHECK_STR(err.msg, "wrong base URL 'http://u:***@h/v1'");
    er_error_prefix(&err, "via %s", "https://k:p@x");
    CHECK(strstr(err.msg, "https://k:***@x: wrong base URL") != NULL);
}

/* Every line is one JSON object with level, task_id and trace_id (null outside a
 * task), secrets masked. */
static void test_log_lines(void)
{
    char path[] = "/tmp/errand-test-log.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    CHECK(er_log_set_file(path) == 0);
    er_log_set_level(ER_LOG_INFO);
    er_log_add_secret("log-secret-42");
    er_log(ER_LOG_INFO, "test", "outside a task, key log-secret-42");
    er_log_set_context("task-1", "trace-1");
    er_log(ER_LOG_WARN, "test", "inside a task");
    char task[40], trace[40];
    er_log_get_context(task, trace);
    CHECK_STR(task, "task-1");
    CHECK_STR(trace, "trace-1");
    er_log_set_context(NULL, NULL);
    er_log(ER_LOG_DEBUG, "test", "below the level: not written");
    er_log_set_file(NULL);
    er_log_set_level(ER_LOG_WARN);
    FILE *f = fopen(path, "r");
    char line[1024];
    const char *want_task[] = { NULL, "task-1" }, *want_level[] = { "info", "warn" };
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        CHECK(j != NULL);
        if (j && n < 2) {
            CHECK_STR(er_json_str(j, "level"), want_level[n]);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "task_id");
            const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "trace_id");
            CHECK(t != NULL && tr != NULL);
            if (want_task[n]) {
                CHECK_STR(er_json_str(j, "task_id"), want_task[n]);
                CHECK_STR(er_json_str(j, "trace_id"), "trace-1");
            } else {
                CHECK(cJSON_IsNull(t) && cJSON_IsNull(tr));
                CHECK_STR(er_json_str(j, "msg"), "outside a task, key ***");
            }
        }
        cJSON_Delete(j);
        n++;
    }
    CHECK_INT(n, 2);
    if (f)
        fclose(f);
    unlink(path);
}

static void test_error_str(void)
{
    er_error err = { 0 };
    CHECK(er_error_set(&err, ER_EINVAL, "bad %s", "thing") == ER_EINVAL);
    er_error_prefix(&err, "ctx");
    CHECK_STR(err.msg, "ctx: bad thing");
    CHECK_STR(er_error_name(ER_ETIMEDOUT), "ETIMEDOUT");
    CHECK(er_error_retryable(ER_EUNAVAIL));
    CHECK(!er_error_retryable(ER_EINVAL));
    long v;
    CHECK(er_str_to_long("42", &v) == 0 && v == 42);
    CHECK(er_str_to_long("4x", &v) == ER_EINVAL);
    char t[] = "  hi \n";
    CHECK_STR(er_str_trim(t), "hi");
    char *p = er_xasprintf("%s-%d", "a", 1);
    CHECK_STR(p, "a-1");
    free(p);
}

/* /proc/PID/stat fields, checked against what the kernel says otherwise. */
static void test_proc_stat(void)
{
    unsigned long long v = 0;
    CHECK(er_proc_stat_field((long)getpid(), 4, &v));
    CHECK_INT((long)v, (long)getppid());
    unsigned long long mine = 0, parents = 0;
    CHECK(er_proc_stat_field((long)getpid(), 22, &mine));
    CHECK(er_proc_stat_field((long)getppid(), 22, &parents));
    CHECK(mine >= parents);                            /* start ticks: the parent came first */
    CHECK(!er_proc_stat_field((long)getpid(), 3, &v)); /* the state is a letter */
    CHECK(!er_proc_stat_field(0, 4, &v));
    CHECK(!er_proc_stat_field(999999999L, 4, &v)); /* above any pid_max */
}

/* RFC 4648's test vectors, both alphabets. */
static void test_base64(void)
{
    static const char *const vec[][3] = {
        { "", "", "" },
        { "f", "Zg==", "Zg" },
        { "fo", "Zm8=", "Zm8" },
        { "foo", "Zm9v", "Zm9v" },
        { "foob", "Zm9vYg==", "Zm9vYg" },
        { "fooba", "Zm9vYmE=", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        for (int url = 0; url <= 1; url++) {
            er_buf b = ER_BUF_INIT;
            er_base64_encode(&b, vec[i][0], strlen(vec[i][0]), url);
            CHECK_STR(er_buf_cstr(&b), vec[i][1 + url]);
            er_buf_release(&b);
        }
    }
    er_buf b = ER_BUF_INIT; /* the two alphabets differ at 62 and 63 */
    er_base64_encode(&b, "\xfb\xff", 2, false);
    CHECK_STR(er_buf_cstr(&b), "+/8=");
    er_buf_reset(&b);
    er_base64_encode(&b, "\xfb\xff", 2, true);
    CHECK_STR(er_buf_cstr(&b), "-_8");
    er_buf_release(&b);
}

static void test_price(void)
{
    er_error err;
    const char *table = " gpt-4o-mini=0.15/0.60, gpt-4o*=2.5/10 ,gpt-4o-2024*=5/15, m=2/10,";
    CHECK_OK(er_price_check(table, &err));
    int64_t c = -1;
    CHECK_OK(er_price_cost(table, "m", 1000, 200, &c, &err));
    CHECK(c == 4000); /* 1000 x $2 + 200 x $10 per million: micro-dollars */
    CHECK_OK(er_price_cost(table, "gpt-4o-mini", 1000000, 0, &c, &err));
    CHECK(c == 150000); /* the exact name beats the prefix gpt-4o* */
    CHECK_OK(er_price_cost(table, "gpt-4o-2024-08-06", 0, 1000, &c, &err));
    CHECK(c == 15000); /* the longest prefix */
    CHECK_OK(er_price_cost(table, "gpt-4o-x", 2, 0, &c, &err));
    CHECK(c == 5);
    CHECK(er_price_cost(table, "claude", 1, 1, &c, &err) == ER_ENOTFOUND);
    CHECK(strstr(err.msg, "no price for model 'claude'") != NULL);
    CHECK(er_price_cost(NULL, "m", 1, 1, &c, &err) == ER_ENOTFOUND);
    CHECK(er_price_check("m=1", &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "'m=1'") != NULL);
    CHECK(er_price_check("m=a/1", &err) == ER_EINVAL);
    CHECK(er_price_check("m=-1/1", &err) == ER_EINVAL);
    CHECK(er_price_check("=1/1", &err) == ER_EINVAL);
    CHECK(er_price_cost("x=1/1, bad", "x", 1, 1, &c, &err) == ER_EINVAL);
    /* Cached input: 1000 in of which 600 read from the cache and 100 written
     * to it, 50 out, at $2 in, $10 out, $0.5 cached, $2.5 written. */
    const char *cached = "c=2/10/0.5/2.5, r=2/10/0.5, plain=2/10";
    CHECK_OK(er_price_check(cached, &err));
    er_price_tokens tk = { .input = 1000, .output = 50, .cached = 600, .cache_write = 100 };
    CHECK_OK(er_price_cost_tokens(cached, "c", &tk, &c, &err));
    CHECK(c == 300 * 2 + 600 / 2 + 100 * 5 / 2 + 50 * 10); /* 1650 micro-dollars */
    CHECK_OK(er_price_cost_tokens(cached, "r", &tk, &c, &err));
    CHECK(c == 400 * 2 + 300 + 50 * 10); /* writes at the input price */
    CHECK_OK(er_price_cost_tokens(cached, "plain", &tk, &c, &err));
    CHECK(c == 1000 * 2 + 50 * 10); /* no cached price: all input at the input price */
    er_price_tokens liar = { .input = 10, .cached = 50 };
    CHECK_OK(er_price_cost_tokens(cached, "c", &liar, &c, &err));
    CHECK(c == 5); /* no more cached tokens than input */
    CHECK(er_price_check("m=1/2/3/4/5", &err) == ER_EINVAL);
    CHECK(strstr(err.msg, "two to four amounts") != NULL);
    CHECK(er_price_check("m=1/2/x", &err) == ER_EINVAL);
    CHECK_OK(er_price_parse_money("0.50", &c));
    CHECK(c == 500000);
    CHECK_OK(er_price_parse_money("$2", &c));
    CHECK(c == 2000000);
    CHECK(er_price_parse_money("-1", &c) == ER_EINVAL);
    CHECK(er_price_parse_money("1.5x", &c) == ER_EINVAL);
    char out[32];
    er_price_format(12000, out, sizeof out);
    CHECK_STR(out, "$0.01");
    er_price_format(4000, out, sizeof out);
    CHECK_STR(out, "$0.004000");
    er_price_format(0, out, sizeof out);
    CHECK_STR(out, "$0.00");
}

int main(void)
{
    test_buf();
    test_price();
    test_base64();
    test_id();
    test_url();
    test_glob();
    test_json();
    test_json_escape();
    test_redact();
    test_log_lines();
    test_error_str();
    test_proc_stat();
    return check_done();
}
