/* test_http.c — the HTTP client against fake_llm: statuses come back to the
 * caller, "try later" answers and dropped connections are retried but never
 * once bytes were streamed, bodies are capped, callbacks can abort, cancel
 * works, failures map to the documented codes, and retry waits are bounded
 * exponential backoff with full jitter. */
#include "check.h"
#include "fakes/fake_llm_proc.h"
#include "errand/http.h"

typedef struct sink {
    er_buf data;
    int calls;
    int fail_with; /* nonzero: the callback refuses the first chunk */
} sink;

static int on_data(const char *data, size_t len, er_error *err, void *payload)
{
    sink *s = payload;
    s->calls++;
    if (s->fail_with)
        return er_error_set(err, s->fail_with, "sink refused %zu bytes", len);
    er_buf_append(&s->data, data, len);
    return 0;
}

static const char *const json_headers[] = { "Content-Type: application/json",
                                            "Authorization: Bearer sk-test-http-123456", NULL };

/* POSTs a chat naming marker to the fake; stream asks for SSE. */
static int post(const char *base, const char *marker, bool stream, int retries, sink *s,
                er_http_resp *resp, er_error *err)
{
    char url[128], body[256];
    snprintf(url, sizeof url, "%s/v1/chat/completions", base);
    snprintf(body, sizeof body,
             "{\"model\":\"m\",\"stream\":%s,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
             stream ? "true" : "false", marker);
    er_http_req req = { .configured_endpoint = true,
                        .method = "POST",
                        .url = url,
                        .headers = json_headers,
                        .body = body,
                        .body_len = strlen(body),
                        .timeout_ms = 10000,
                        .retries = retries,
                        .on_data = s ? on_data : NULL,
                        .payload = s };
    return er_http_request(resp, &req, err);
}

static void test_get_and_cap(const char *base)
{
    er_error err = { 0 };
    er_http_resp resp;
    char url[128];
    snprintf(url, sizeof url, "%s/v1/models", base);
    er_http_req req = { .url = url, .headers = json_headers, .configured_endpoint = true };
    CHECK_OK(er_http_request(&resp, &req, &err));
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.attempts, 1);
    CHECK(strstr(er_buf_cstr(&resp.body), "fake-model") != NULL);
    er_http_resp_release(&resp);

    req.max_body = 10;
    CHECK_INT(er_http_request(&resp, &req, &err), ER_ETOOBIG);
    CHECK(strstr(err.msg, "larger than 10 bytes") != NULL);
    er_http_resp_release(&resp);
}

static void test_statuses_and_retries(const char *base)
{
    er_error err = { 0 };
    er_http_resp resp;
    sink s = { ER_BUF_INIT, 0, 0 };
    /* A 503 after every try: returned to the caller with its body. */
    CHECK_OK(post(base, "[down]", false, 2, NULL, &resp, &err));
    CHECK_INT(resp.status, 503);
    CHECK_INT(resp.attempts, 3);
    CHECK(strstr(er_buf_cstr(&resp.body), "upstream overloaded") != NULL);
    er_http_resp_release(&resp);

    /* 500 then 200: the error body never reaches on_data, the answer does. */
    CHECK_OK(post(base, "[retry500]", false, 3, &s, &resp, &err));
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.attempts, 2);
    CHECK(resp.streamed);
    CHECK(strstr(er_buf_cstr(&s.data), "recovered") != NULL);
    CHECK(strstr(er_buf_cstr(&s.data), "transient failure") == NULL);
    CHECK_INT(resp.body.len, 0);
    er_http_resp_release(&resp);
    er_buf_release(&s.data);

    /* 404 is an answer, not a failure to retry. */
    CHECK_OK(post(base, "[notfound]", false, 3, NULL, &resp, &err));
    CHECK_INT(resp.status, 404);
    CHECK_INT(resp.attempts, 1);
    er_http_resp_release(&resp);
}

static void test_cut_off(const char *base)
{
    er_error err = { 0 };
    er_http_resp resp;
    /* Buffered and cut: a dropped connection is retried, then reported. */
    CHECK_INT(post(base, "[cut]", false, 2, NULL, &resp, &err), ER_EPROTO);
    CHECK_INT(resp.attempts, 3);
    CHECK(strstr(err.msg, "cut off") != NULL);
    er_http_resp_release(&resp);

    /* Streamed and cut: the caller already has bytes, so no retry. */
    sink s = { ER_BUF_INIT, 0, 0 };
    CHECK_INT(post(base, "[cut]", true, 2, &s, &resp, &err), ER_EPROTO);
    CHECK_INT(resp.attempts, 1);
    CHECK(resp.streamed && s.data.len > 0);
    er_http_resp_release(&resp);
    er_buf_release(&s.data);

    /* A callback that refuses aborts with its own code and message. */
    sink refuse = { ER_BUF_INIT, 0, ER_EPROTO };
    CHECK_INT(post(base, "[plain]", true, 2, &refuse, &resp, &err), ER_EPROTO);
    CHECK_INT(refuse.calls, 1);
    CHECK_INT(resp.attempts, 1);
    CHECK(strstr(err.msg, "sink refused") != NULL);
    er_http_resp_release(&resp);
}

static void test_failures(void)
{
    er_error err = { 0 };
    er_http_resp resp;
    char base[64], want[64];
    int port = fake_llm_dead_port();
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    snprintf(want, sizeof want, "cannot connect to '127.0.0.1:%d': ", port);
    CHECK_INT(post(base, "[plain]", false, 2, NULL, &resp, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK_INT(resp.attempts, 3);
    er_http_resp_release(&resp);

    er_http_req req = { .url = "ftp://127.0.0.1/file", .configured_endpoint = true };
    CHECK_INT(er_http_request(&resp, &req, &err), ER_EINVAL);
    er_http_resp_release(&resp);
    req.url = "";
    CHECK_INT(er_http_request(&resp, &req, &err), ER_EINVAL);
    er_http_resp_release(&resp);

    volatile int cancel = 1;
    req =
        (er_http_req){ .url = base, .retries = 3, .cancel = &cancel, .configured_endpoint = true };
    CHECK_INT(er_http_request(&resp, &req, &err), ER_ECANCELLED);
    er_http_resp_release(&resp);
}

/* Retry waits: what the server said (Retry-After), else full jitter under an
 * exponentially growing ceiling (base 5 ms here) that stops at 30 s. */
static void test_backoff(void)
{
    CHECK_INT(er_http_backoff_ms(0, 1500), 1500);
    CHECK_INT(er_http_backoff_ms(7, 0), 0);
    for (int n = 0; n <= 24; n++) {
        long ceiling = 5L << (n < 20 ? n : 20);
        if (ceiling > 30000)
            ceiling = 30000;
        long lo = ceiling, hi = 0, sum = 0;
        for (int k = 0; k < 64; k++) {
            long w = er_http_backoff_ms(n, -1);
            CHECK(w >= 0 && w <= ceiling);
            lo = w < lo ? w : lo;
            hi = w > hi ? w : hi;
            sum += w;
        }
        if (n >= 6) { /* spread over the range: jitter, not a fixed wait */
            CHECK(hi > ceiling / 2 && lo < ceiling / 2);
            CHECK(sum / 64 > ceiling / 5 && sum / 64 < ceiling * 4 / 5);
        }
    }
}

int main(void)
{
    setenv("ERRAND_HTTP_BACKOFF_MS", "5", 1);
    test_backoff();
    test_failures();
    fake_llm_proc fake;
    int rc = fake_llm_start(&fake, "llm/chat.json", NULL);
    if (rc == 77) {
        fprintf(stderr, "fake_llm not found (ERRAND_TEST_BIN/ERRAND_TEST_DATA): skipped\n");
        return 77;
    }
    CHECK_INT(rc, 0);
    if (rc == 0) {
        char base[64];
        snprintf(base, sizeof base, "http://127.0.0.1:%d", fake.port);
        test_get_and_cap(base);
        test_statuses_and_retries(base);
        test_cut_off(base);
    }
    er_http_shutdown();
    fake_llm_stop(&fake);
    return check_done();
}
