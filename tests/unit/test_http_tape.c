/* test_http_tape.c — the tools' HTTP in the cassette (http_tape.h), against
 * fake_llm: a recorded exchange is played back with the server gone (a
 * streamed one through on_data again), in order per request, a request the
 * cassette lacks fails naming its method and URL, an LLM backend's request
 * is not taped, and no credential (Authorization header, token in the query
 * or the userinfo, request body) reaches the file. */
#include "check.h"
#include "fakes/fake_llm_proc.h"
#include "errand/http_tape.h"
#include "errand/str.h"

#include <unistd.h>

#define KEY "sk-tape-secret-4242"

static const char *const headers[] = { "Content-Type: application/json",
                                       "Authorization: Bearer " KEY, NULL };

static int collect(const char *data, size_t len, er_error *err, void *payload)
{
    (void)err;
    return er_buf_append(payload, data, len);
}

/* POSTs a chat naming marker to url; stream: through on_data into s. */
static int post(const char *url, const char *marker, bool untaped, er_buf *s, er_http_resp *resp,
                er_error *err)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"model\":\"m\",\"stream\":%s,\"api_key\":\"" KEY "\","
             "\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
             s ? "true" : "false", marker);
    er_http_req req = { .configured_endpoint = true,
                        .method = "POST",
                        .url = url,
                        .headers = headers,
                        .body = body,
                        .body_len = strlen(body),
                        .timeout_ms = 10000,
                        .on_data = s ? collect : NULL,
                        .payload = s,
                        .untaped = untaped };
    return er_http_request(resp, &req, err);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    er_buf b = ER_BUF_INIT;
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        er_buf_append(&b, chunk, n);
    if (f)
        fclose(f);
    er_buf_puts(&b, "");
    return er_buf_detach(&b);
}

static void test_url(void)
{
    char *u = er_http_tape_url("https://me:pw@api.example/v1/x?q=tram&access_token=abc&"
                               "api_key=k1&page=2#frag");
    CHECK_STR(u, "https://REDACTED@api.example/v1/x?q=tram&access_token=REDACTED&"
                 "api_key=REDACTED&page=2#frag");
    free(u);
    u = er_http_tape_url("http://127.0.0.1:8080/site/news.html");
    CHECK_STR(u, "http://127.0.0.1:8080/site/news.html");
    free(u);
}

static void test_record_and_play(const char *base, const char *tape, fake_llm_proc *fake)
{
    er_error err = { 0 };
    char url[160], llm_url[160];
    snprintf(url, sizeof url, "%s/v1/chat/completions?token=tok-777&v=1", base);
    snprintf(llm_url, sizeof llm_url, "%s/v1/chat/completions", base);
    CHECK_OK(er_http_tape_start(tape, false, &err));
    er_http_resp r1, r2, r3, r4;
    er_buf streamed = ER_BUF_INIT;
    CHECK_OK(post(url, "[plain]", false, NULL, &r1, &err));
    CHECK_OK(post(url, "[stream]", false, &streamed, &r2, &err));
    CHECK_OK(post(url, "[roundtrip]", false, NULL, &r3, &err));
    CHECK_OK(post(llm_url, "[plain]", true, NULL, &r4, &err)); /* an LLM's: not taped */
    er_http_tape_stop();
    CHECK_INT(r1.status, 200);
    CHECK(strstr(er_buf_cstr(&r1.body), "Hello from the fake.") != NULL);
    CHECK(strstr(er_buf_cstr(&streamed), "six") != NULL);

    char *text = slurp(tape);
    CHECK(strstr(text, "\"kind\":\"http\"") != NULL);
    CHECK(strstr(text, "token=REDACTED&v=1") != NULL);
    CHECK(strstr(text, KEY) == NULL); /* neither the header nor the body's copy */
    CHECK(strstr(text, "Authorization") == NULL);
    CHECK(strstr(text, "tok-777") == NULL);
    CHECK(strstr(text, "[plain]") == NULL); /* request bodies only as their hash */
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 3);
    free(text);

    fake_llm_stop(fake); /* nothing answers any more: the tape does */
    CHECK_OK(er_http_tape_start(tape, true, &err));
    er_http_resp p1, p2, p3;
    er_buf again = ER_BUF_INIT;
    CHECK_OK(post(url, "[plain]", false, NULL, &p1, &err));
    CHECK_INT(p1.status, 200);
    CHECK_STR(er_buf_cstr(&p1.body), er_buf_cstr(&r1.body));
    CHECK(er_str_eq(p1.content_type, r1.content_type));
    CHECK_OK(post(url, "[stream]", false, &again, &p2, &err));
    CHECK(p2.streamed);
    CHECK_STR(er_buf_cstr(&again), er_buf_cstr(&streamed));
    er_http_resp_release(&p1);
    CHECK_OK(post(url, "[plain]", false, NULL, &p1, &err)); /* the last one again */
    CHECK_STR(er_buf_cstr(&p1.body), er_buf_cstr(&r1.body));

    int rc = post(url, "[never recorded]", false, NULL, &p3, &err);
    CHECK_INT(rc, ER_ENOTFOUND);
    CHECK(strstr(err.msg, "has no answer for POST") != NULL);
    CHECK(strstr(err.msg, "/v1/chat/completions?token=REDACTED&v=1") != NULL);
    char missed[320];
    CHECK(er_http_tape_missed(missed, sizeof missed));
    CHECK(strstr(missed, "POST http://127.0.0.1:") == missed);
    er_http_resp_release(&p3);
    rc = post(llm_url, "[plain]", true, NULL, &p3, &err); /* an LLM's goes out: no one there */
    CHECK_INT(rc, ER_EUNAVAIL);
    er_http_tape_stop();

    er_http_resp *all[] = { &r1, &r2, &r3, &r4, &p1, &p2, &p3 };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        er_http_resp_release(all[i]);
    er_buf_release(&streamed);
    er_buf_release(&again);
}

int main(void)
{
    test_url();
    er_error err = { 0 };
    CHECK_INT(er_http_tape_start("/nonexistent/dir/x.cassette", true, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "cannot read the cassette") != NULL);
    fake_llm_proc fake;
    int rc = fake_llm_start(&fake, "llm/chat.json", NULL);
    if (rc == 77) {
        fprintf(stderr, "fake_llm not found (ERRAND_TEST_BIN/ERRAND_TEST_DATA): skipped\n");
        return 77;
    }
    CHECK_INT(rc, 0);
    if (rc == 0) {
        char base[64], tape[] = "/tmp/errand-tape-XXXXXX";
        int fd = mkstemp(tape);
        close(fd);
        unlink(tape);
        snprintf(base, sizeof base, "http://127.0.0.1:%d", fake.port);
        test_record_and_play(base, tape, &fake);
        unlink(tape);
    }
    er_http_shutdown();
    fake_llm_stop(&fake);
    return check_done();
}
