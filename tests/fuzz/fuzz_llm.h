/* fuzz_llm.h — the answer parsing of a network LLM backend, on arbitrary
 * bodies, shared by fuzz_openai.c and fuzz_anthropic.c.
 *
 * One input is parsed as a buffered answer (JSON) and as a streamed one (SSE,
 * or JSON from a server that ignores "stream": true): whole, byte by byte and
 * in pieces of a size taken from the input.  Invariants: the same outcome
 * however the stream is cut; the streamed tokens add up to the answer text;
 * a response is complete (text, ids, names, arguments and stop reason set,
 * NUL-terminated, within the call cap); errors are known codes with messages.
 * The input is also taken as the body of a failed request, whose message
 * must stay one line. */
#ifndef ERRAND_TEST_FUZZ_LLM_H
#define ERRAND_TEST_FUZZ_LLM_H

#include "fuzz.h"
#include "provider.h"
#include "errand/buf.h"
#include "errand/llm.h"

static void fuzz_llm_token(const char *text, size_t len, void *payload)
{
    FUZZ_CHECK(len > 0);
    er_buf_append(payload, text, len);
}

static void fuzz_llm_check_response(const er_llm_response *r)
{
    FUZZ_CHECK(r->text != NULL);
    FUZZ_CHECK(r->stop_reason != NULL);
    FUZZ_CHECK(r->ncalls <= ER_LLM_MAX_CALLS);
    FUZZ_CHECK(r->ncalls == 0 || r->calls != NULL);
    for (size_t i = 0; i < r->ncalls; i++) {
        FUZZ_CHECK(r->calls[i].id && r->calls[i].id[0]);
        FUZZ_CHECK(r->calls[i].name != NULL);
        FUZZ_CHECK(r->calls[i].arguments && r->calls[i].arguments[0]);
    }
}

/* Byte-for-byte equal responses. */
static void fuzz_llm_same(const er_llm_response *a, const er_llm_response *b)
{
    FUZZ_CHECK(strcmp(a->text, b->text) == 0);
    FUZZ_CHECK(strcmp(a->stop_reason, b->stop_reason) == 0);
    FUZZ_CHECK((a->model == NULL) == (b->model == NULL));
    FUZZ_CHECK(!a->model || strcmp(a->model, b->model) == 0);
    FUZZ_CHECK(a->usage.input_tokens == b->usage.input_tokens);
    FUZZ_CHECK(a->usage.output_tokens == b->usage.output_tokens);
    FUZZ_CHECK(a->ncalls == b->ncalls);
    for (size_t i = 0; i < a->ncalls; i++) {
        FUZZ_CHECK(strcmp(a->calls[i].id, b->calls[i].id) == 0);
        FUZZ_CHECK(strcmp(a->calls[i].name, b->calls[i].name) == 0);
        FUZZ_CHECK(strcmp(a->calls[i].arguments, b->calls[i].arguments) == 0);
    }
}

/* One parse; returns its result code, fills *out on success. */
static int fuzz_llm_parse(const er_llm_wire *w, const er_llm_net *net, bool stream, size_t chunk,
                          const uint8_t *data, size_t size, er_llm_response *out)
{
    er_buf tokens;
    er_buf_init(&tokens, 0);
    er_llm_request req = {
        .model = "fuzz", .stream = stream, .on_token = fuzz_llm_token, .payload = &tokens
    };
    er_error err = { 0 };
    memset(out, 0, sizeof *out);
    int rc = er_llm_remote_parse(w, net, &req, (const char *)data, size, chunk, out, &err);
    fuzz_check_result(rc, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EPROTO || rc == ER_EUNAVAIL || rc == ER_EINVAL ||
               rc == ER_ETOOBIG);
    if (rc == 0) {
        fuzz_llm_check_response(out);
        /* Streamed text arrives as tokens, all of it; a buffered answer sends none. */
        FUZZ_CHECK(stream ? strcmp(out->text, er_buf_cstr(&tokens)) == 0 : tokens.len == 0);
    }
    er_buf_release(&tokens);
    return rc;
}

/* The input as the body of a failed request: the message quotes the
 * provider's words on one line, without control characters. */
static void fuzz_llm_status(const er_llm_net *net, const uint8_t *data, size_t size)
{
    static const long statuses[] = { 400, 401, 404, 413, 429, 500, 302 };
    er_buf body;
    er_buf_init(&body, 0);
    er_buf_append(&body, data, size);
    for (size_t i = 0; i < ER_ARRAY_LEN(statuses); i++) {
        er_error err = { 0 };
        const char *location = i % 3 ? NULL : er_buf_cstr(&body);
        int rc = er_llm_net_status_error(net, i % 2 ? "fuzz-model" : NULL, statuses[i], &body,
                                         location, 2, &err);
        fuzz_check_result(rc, &err);
        FUZZ_CHECK(rc < 0);
        for (const char *p = err.msg; *p; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    er_buf_release(&body);
}

static int fuzz_llm(const er_llm_wire *w, const char *provider, const uint8_t *data, size_t size)
{
    er_llm_net net;
    er_llm_net_init(&net, provider, "FUZZ_API_KEY", NULL, "http://127.0.0.1:9", NULL, NULL);
    er_llm_response buffered, whole, cut;
    fuzz_llm_parse(w, &net, false, 0, data, size, &buffered);
    er_llm_response_release(&buffered);

    int rc = fuzz_llm_parse(w, &net, true, 0, data, size, &whole);
    size_t chunks[] = { 1, size ? 1 + data[size / 2] % 32 : 1 };
    for (size_t i = 0; i < ER_ARRAY_LEN(chunks); i++) {
        int rc2 = fuzz_llm_parse(w, &net, true, chunks[i], data, size, &cut);
        FUZZ_CHECK(rc2 == rc);
        if (rc == 0)
            fuzz_llm_same(&whole, &cut);
        er_llm_response_release(&cut);
    }
    er_llm_response_release(&whole);
    fuzz_llm_status(&net, data, size);
    er_llm_net_release(&net);
    return 0;
}

#endif
