/* test_sse.c — the Server-Sent Events parser: events, fields, line endings,
 * chunk boundaries anywhere, caps and callback errors. */
#include "check.h"
#include "errand/buf.h"
#include "errand/sse.h"

#include <string.h>

/* Every event as "name|data;" so a whole stream compares as one string. */
static int collect(const char *event, const char *data, size_t len, er_error *err, void *payload)
{
    (void)err;
    er_buf *out = payload;
    CHECK(strlen(data) == len); /* NUL-terminated, no embedded NULs here */
    er_buf_printf(out, "%s|%.*s;", event, (int)len, data);
    return 0;
}

static int stop_at_second(const char *event, const char *data, size_t len, er_error *err,
                          void *payload)
{
    (void)event, (void)data, (void)len;
    int *count = payload;
    if (++*count == 2)
        return er_error_set(err, ER_EPROTO, "handler refused event %d", *count);
    return 0;
}

/* Parses text fed in pieces split at the given offsets; returns the events. */
static char *parse_split(const char *text, size_t len, const size_t *cuts, size_t ncuts, int *rc)
{
    er_buf out = ER_BUF_INIT;
    er_sse p;
    er_error err = { 0 };
    er_sse_init(&p, 0, collect, &out);
    size_t at = 0;
    *rc = 0;
    for (size_t i = 0; i <= ncuts && !*rc; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        *rc = er_sse_feed(&p, text + at, end - at, &err);
        at = end;
    }
    er_sse_release(&p);
    return er_buf_detach(&out);
}

static const char stream[] = ": keep-alive comment\n"
                             "event: message_start\n"
                             "data: {\"a\":1}\n"
                             "\n"
                             "data: line one\r\n"
                             "data:line two\r\n"
                             "id: 7\r\n"
                             "retry: 100\r\n"
                             "\r\n"
                             "event: ignored-without-data\n"
                             "\n"
                             "data\n"
                             "data:  two spaces\n"
                             "\n"
                             "event: cr\rdata: old mac\r\r"
                             "unknownfield: x\n"
                             "data: [DONE]\n\n";

static const char expected[] = "message_start|{\"a\":1};"
                               "message|line one\nline two;"
                               "message|\n two spaces;"
                               "cr|old mac;"
                               "message|[DONE];";

static void test_whole_stream(void)
{
    int rc;
    char *got = parse_split(stream, sizeof stream - 1, NULL, 0, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, expected);
    free(got);
}

static void test_every_boundary(void)
{
    size_t len = sizeof stream - 1;
    int bad = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        int rc;
        char *got = parse_split(stream, len, &cut, 1, &rc);
        if (rc != 0 || strcmp(got, expected) != 0) {
            if (!bad++)
                fprintf(stderr, "split at %zu: got %s\n", cut, got);
        }
        free(got);
    }
    CHECK_INT(bad, 0);
    /* Two cuts everywhere covers a CR and its LF arriving in different chunks. */
    for (size_t a = 0; a <= len; a += 3)
        for (size_t b = a; b <= len; b += 5) {
            size_t cuts[2] = { a, b };
            int rc;
            char *got = parse_split(stream, len, cuts, 2, &rc);
            if (rc != 0 || strcmp(got, expected) != 0)
                bad++;
            free(got);
        }
    CHECK_INT(bad, 0);
}

static void test_byte_at_a_time(void)
{
    size_t len = sizeof stream - 1;
    size_t cuts[sizeof stream];
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    int rc;
    char *got = parse_split(stream, len, cuts, len - 1, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(got, expected);
    free(got);
}

static void test_bom(void)
{
    static const char text[] = "\xEF\xBB\xBF"
                               "data: x\n\n";
    for (size_t cut = 0; cut <= sizeof text - 1; cut++) {
        int rc;
        char *got = parse_split(text, sizeof text - 1, &cut, 1, &rc);
        CHECK_STR(got, "message|x;");
        free(got);
    }
    /* Bytes that only start like a BOM are kept. */
    static const char nobom[] = "\xEF"
                                "data: y\n\n";
    int rc;
    char *got = parse_split(nobom, sizeof nobom - 1, NULL, 0, &rc);
    CHECK_STR(got, "");
    free(got);
}

static void test_pending(void)
{
    er_buf out = ER_BUF_INIT;
    er_sse p;
    er_error err = { 0 };
    er_sse_init(&p, 0, collect, &out);
    CHECK(!er_sse_pending(&p));
    CHECK_OK(er_sse_feed(&p, "data: a\n", 8, &err));
    CHECK(er_sse_pending(&p)); /* no blank line yet: the event is not complete */
    CHECK_STR(er_buf_cstr(&out), "");
    CHECK_OK(er_sse_feed(&p, "\nda", 3, &err));
    CHECK_STR(er_buf_cstr(&out), "message|a;");
    CHECK(er_sse_pending(&p));
    er_sse_release(&p);
    er_buf_release(&out);
}

static void test_caps(void)
{
    er_buf out = ER_BUF_INIT;
    er_sse p;
    er_error err = { 0 };
    char big[200];
    memset(big, 'x', sizeof big);

    /* A line longer than the cap, arriving in pieces. */
    er_sse_init(&p, 64, collect, &out);
    CHECK_OK(er_sse_feed(&p, "data: ", 6, &err));
    CHECK_INT(er_sse_feed(&p, big, sizeof big, &err), ER_ETOOBIG);
    CHECK(strstr(err.msg, "64 bytes") != NULL);
    er_sse_release(&p);

    /* The same line whole in one chunk (a comment, parsed in place): the
     * cap holds all the same (found by fuzz_sse). */
    er_sse_init(&p, 64, collect, &out);
    big[0] = ':';
    big[sizeof big - 1] = '\n';
    CHECK_INT(er_sse_feed(&p, big, sizeof big, &err), ER_ETOOBIG);
    er_sse_release(&p);

    /* Many short data lines that add up past the cap. */
    er_sse_init(&p, 64, collect, &out);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = er_sse_feed(&p, "data: 0123456789\n", 17, &err);
    CHECK_INT(rc, ER_ETOOBIG);
    er_sse_release(&p);

    /* Just under the cap is fine. */
    er_sse_init(&p, 64, collect, &out);
    CHECK_OK(er_sse_feed(&p, "data: 0123456789012345678901234567890123456789\n\n", 48, &err));
    CHECK_STR(er_buf_cstr(&out), "message|0123456789012345678901234567890123456789;");
    er_sse_release(&p);
    er_buf_release(&out);
}

static void test_handler_error(void)
{
    int count = 0;
    er_sse p;
    er_error err = { 0 };
    er_sse_init(&p, 0, stop_at_second, &count);
    static const char text[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    CHECK_INT(er_sse_feed(&p, text, sizeof text - 1, &err), ER_EPROTO);
    CHECK_INT(count, 2);
    CHECK_STR(err.msg, "handler refused event 2");
    er_sse_release(&p);
}

static void test_garbage(void)
{
    /* Binary junk must not crash; lines without a known field are skipped. */
    char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    er_buf out = ER_BUF_INIT;
    er_sse p;
    er_error err = { 0 };
    er_sse_init(&p, 1024, collect, &out);
    int rc = 0;
    for (size_t i = 0; i < sizeof junk && rc == 0; i += 97)
        rc = er_sse_feed(&p, junk + i, sizeof junk - i < 97 ? sizeof junk - i : 97, &err);
    CHECK(rc == 0 || rc == ER_ETOOBIG);
    er_sse_release(&p);
    er_buf_release(&out);
}

int main(void)
{
    test_whole_stream();
    test_every_boundary();
    test_byte_at_a_time();
    test_bom();
    test_pending();
    test_caps();
    test_handler_error();
    test_garbage();
    return check_done();
}
