/* llm_cases.h — behaviour every network LLM backend must show, run against
 * fake_llm by test_llm_openai.c and test_llm_anthropic.c (each adds the checks
 * of its own wire format).  Script: tests/data/llm/chat.json, whose turns are
 * picked by a "[marker]" in the user message. */
#ifndef ERRAND_TEST_LLM_CASES_H
#define ERRAND_TEST_LLM_CASES_H

#include "check.h"
#include "fakes/fake_llm_proc.h"
#include "errand/buf.h"
#include "errand/http.h"
#include "errand/llm.h"

#include <pthread.h>

#define LLM_TEST_KEY "sk-test-0123456789abcdef"

typedef struct llm_fixture {
    const char *provider;
    const char *key_env;
    fake_llm_proc fake;
    char base[64];
    er_llm *llm;
} llm_fixture;

typedef struct chat_opts {
    const char *messages; /* JSON text */
    const char *tools;    /* JSON text or NULL */
    const char *tool_choice;
    const char *system;
    const char *model;
    bool stream;
    int max_tokens;
    const volatile int *cancel;
} chat_opts;

typedef struct tokens {
    er_buf text;
    int n;
} tokens;

static const char weather_tools[] =
    "[{\"name\":\"get_weather\",\"description\":\"Weather for a city\",\"parameters\":"
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":"
    "{\"type\":\"integer\"}},\"required\":[\"city\"]}},"
    "{\"name\":\"get_time\",\"description\":\"Time in a zone\",\"parameters\":"
    "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}}]";

/* A configuration pointing the fixture's provider at base with key. */
static er_config fixture_config(const llm_fixture *fx, const char *base, const char *key)
{
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (strcmp(fx->provider, "openai") == 0) {
        cfg.openai_base_url = (char *)base;
        cfg.openai_api_key = (char *)key;
    } else {
        cfg.anthropic_base_url = (char *)base;
        cfg.anthropic_api_key = (char *)key;
    }
    cfg.llm_timeout = 10;
    cfg.llm_retries = 3;
    return cfg;
}

/* The base URL of fake_llm (or of port) for the fixture's provider. */
static void fixture_base(const llm_fixture *fx, int port, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", port,
             strcmp(fx->provider, "openai") == 0 ? "/v1" : "");
}

/* Starts fake_llm and opens the provider on it; 77 when the fake is missing. */
static int fixture_setup(llm_fixture *fx, const char *provider, const char *key_env)
{
    er_error err = { 0 };
    memset(fx, 0, sizeof *fx);
    fx->provider = provider;
    fx->key_env = key_env;
    setenv("ERRAND_HTTP_BACKOFF_MS", "5", 1); /* retries without the real 500 ms waits */
    int rc = fake_llm_start(&fx->fake, "llm/chat.json", LLM_TEST_KEY);
    if (rc)
        return rc;
    fixture_base(fx, fx->fake.port, fx->base, sizeof fx->base);
    er_config cfg = fixture_config(fx, fx->base, LLM_TEST_KEY);
    CHECK_OK(er_llm_open_named(&fx->llm, provider, &cfg, NULL, &err));
    return fx->llm ? 0 : -1;
}

static void fixture_teardown(llm_fixture *fx)
{
    er_llm_close(fx->llm);
    /* Closing pooled keep-alive connections lets the fake's threads end at once. */
    er_http_shutdown();
    fake_llm_stop(&fx->fake);
}

/* Opens another handle on the fixture's provider with changed settings. */
static er_llm *open_variant(const llm_fixture *fx, const char *base, const char *key, long timeout,
                            long retries)
{
    er_error err = { 0 };
    er_config cfg = fixture_config(fx, base, key);
    cfg.llm_timeout = timeout;
    cfg.llm_retries = retries;
    er_llm *llm = NULL;
    CHECK_OK(er_llm_open_named(&llm, fx->provider, &cfg, NULL, &err));
    return llm;
}

static void collect_token(const char *s, size_t n, void *payload)
{
    tokens *t = payload;
    er_buf_append(&t->text, s, n);
    t->n++;
}

static int do_chat(er_llm *llm, const chat_opts *o, tokens *tok, er_llm_response *out,
                   er_error *err)
{
    cJSON *msgs = cJSON_Parse(o->messages);
    cJSON *tools = o->tools ? cJSON_Parse(o->tools) : NULL;
    CHECK(msgs != NULL);
    er_llm_request req = {
        .model = o->model,
        .system = o->system,
        .messages = msgs,
        .tools = tools,
        .tool_choice = o->tool_choice,
        .max_tokens = o->max_tokens,
        .stream = o->stream,
        .on_token = tok ? collect_token : NULL,
        .payload = tok,
        .cancel = o->cancel,
    };
    int rc = er_llm_chat(llm, &req, out, err);
    cJSON_Delete(msgs);
    cJSON_Delete(tools);
    return rc;
}

/* One user message; returns the chat's result code, out released by the caller. */
static int ask(er_llm *llm, const char *text, bool stream, er_llm_response *out, er_error *err)
{
    cJSON *m = cJSON_CreateArray(), *u = cJSON_CreateObject();
    er_json_add_str(u, "role", "user");
    er_json_add_str(u, "content", text);
    er_json_append(m, u);
    char *msgs = er_json_print(m);
    cJSON_Delete(m);
    chat_opts o = { .messages = msgs, .stream = stream };
    int rc = do_chat(llm, &o, NULL, out, err);
    free(msgs);
    return rc;
}

static void case_plain(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    CHECK_OK(ask(fx->llm, "[plain] say hello", false, &r, &err));
    CHECK_STR(r.text, "Hello from the fake.");
    CHECK_STR(r.stop_reason, "stop");
    CHECK_STR(r.model, er_llm_model(fx->llm)); /* the fake echoes the model asked for */
    CHECK_INT(r.ncalls, 0);
    CHECK_INT(r.usage.input_tokens, 11);
    CHECK_INT(r.usage.output_tokens, 7);
    er_llm_response_release(&r);
}

/* Cached prompt tokens as each provider reports them: OpenAI inside
 * prompt_tokens (prompt_tokens_details.cached_tokens, no writes), Anthropic
 * beside input_tokens (cache_read_input_tokens, cache_creation_input_tokens,
 * the stream's in message_start).  Either way input counts them all. */
static void case_cached(llm_fixture *fx, bool stream)
{
    er_error err = { 0 };
    er_llm_response r;
    CHECK_OK(ask(fx->llm, "[cached] again", stream, &r, &err));
    CHECK_STR(r.text, "from the cache");
    CHECK_INT(r.usage.input_tokens, 3000);
    CHECK_INT(r.usage.cached_tokens, 2048);
    CHECK_INT(r.usage.cache_write_tokens, strcmp(fx->provider, "anthropic") == 0 ? 512 : 0);
    CHECK_INT(r.usage.output_tokens, 20);
    er_llm_response_release(&r);
    CHECK_OK(ask(fx->llm, "[plain] say hello", stream, &r, &err));
    CHECK_INT(r.usage.cached_tokens, 0); /* a request with none reports none */
    CHECK_INT(r.usage.cache_write_tokens, 0);
    er_llm_response_release(&r);
}

static void case_stream(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    tokens tok = { ER_BUF_INIT, 0 };
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[stream] count\"}]",
                    .stream = true };
    CHECK_OK(do_chat(fx->llm, &o, &tok, &r, &err));
    CHECK_STR(r.text, "one two three four five six");
    CHECK_STR(er_buf_cstr(&tok.text), "one two three four five six");
    CHECK(tok.n >= 6); /* word by word, in order */
    CHECK(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
    CHECK_STR(r.stop_reason, "stop");
    er_llm_response_release(&r);
    er_buf_release(&tok.text);
}

/* A server that ignores "stream": true still gives the answer, and the text
 * still reaches on_token. */
static void case_stream_ignored(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    tokens tok = { ER_BUF_INIT, 0 };
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[nostream]\"}]",
                    .stream = true };
    CHECK_OK(do_chat(fx->llm, &o, &tok, &r, &err));
    CHECK_STR(r.text, "plain despite stream");
    CHECK_STR(er_buf_cstr(&tok.text), "plain despite stream");
    er_llm_response_release(&r);
    er_buf_release(&tok.text);
}

static void check_weather_calls(const er_llm_response *r)
{
    CHECK_INT(r->ncalls, 2);
    if (r->ncalls != 2)
        return;
    CHECK_STR(r->calls[0].id, "call_w1");
    CHECK_STR(r->calls[0].name, "get_weather");
    cJSON *args = cJSON_Parse(r->calls[0].arguments);
    CHECK_STR(er_json_str(args, "city"), "Paris");
    CHECK_INT(er_json_num(args, "days", 0), 3);
    cJSON_Delete(args);
    CHECK_STR(r->calls[1].id, "call_t1");
    CHECK_STR(r->calls[1].name, "get_time");
    CHECK_STR(r->calls[1].arguments, "{\"tz\":\"CET\"}");
    CHECK_STR(r->stop_reason, "tool_calls");
}

static void case_tool_calls(llm_fixture *fx, bool stream)
{
    er_error err = { 0 };
    er_llm_response r;
    tokens tok = { ER_BUF_INIT, 0 };
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[calls] weather and time\"}]",
                    .tools = weather_tools,
                    .tool_choice = "required",
                    .stream = stream };
    CHECK_OK(do_chat(fx->llm, &o, &tok, &r, &err));
    check_weather_calls(&r);
    CHECK_STR(r.text, "Let me check.");
    CHECK_STR(er_buf_cstr(&tok.text), stream ? "Let me check." : "");
    er_llm_response_release(&r);
    er_buf_release(&tok.text);
}

static void case_bad_arguments(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    CHECK_OK(ask(fx->llm, "[badargs]", true, &r, &err));
    CHECK_INT(r.ncalls, 1);
    if (r.ncalls == 1)
        CHECK_STR(r.calls[0].arguments, "{\"city\": \"Par"); /* passed through as text */
    er_llm_response_release(&r);
}

static void case_retries(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    CHECK_OK(ask(fx->llm, "[retry500]", false, &r, &err));
    CHECK_STR(r.text, "recovered");
    er_llm_response_release(&r);
    cJSON *recs = fake_llm_records(&fx->fake, "[retry500]", 2);
    CHECK_INT(cJSON_GetArraySize(recs), 2);
    cJSON_Delete(recs);

    CHECK_OK(ask(fx->llm, "[retry429]", true, &r, &err)); /* waits Retry-After: 1 */
    CHECK_STR(r.text, "after the wait");
    er_llm_response_release(&r);
    recs = fake_llm_records(&fx->fake, "[retry429]", 2);
    CHECK_INT(cJSON_GetArraySize(recs), 2);
    cJSON_Delete(recs);

    er_llm *once = open_variant(fx, fx->base, LLM_TEST_KEY, 10, 1);
    CHECK_INT(ask(once, "[down]", false, &r, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "HTTP 503") && strstr(err.msg, "upstream overloaded"));
    CHECK(r.text == NULL);
    recs = fake_llm_records(&fx->fake, "[down]", 2);
    CHECK_INT(cJSON_GetArraySize(recs), 2); /* the first try and one retry */
    cJSON_Delete(recs);
    er_llm_close(once);
}

static void case_http_errors(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    er_llm *bad = open_variant(fx, fx->base, "sk-wrong-key-000000", 10, 3);
    CHECK_INT(ask(bad, "[plain]", false, &r, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "rejected the API key (HTTP 401)") != NULL);
    CHECK(strstr(err.msg, fx->key_env) != NULL);
    CHECK_INT(er_llm_ping(bad, &err), ER_EAUTH);
    er_llm_close(bad);

    cJSON *recs = fake_llm_records(&fx->fake, "[notfound]", 0);
    int before = cJSON_GetArraySize(recs);
    cJSON_Delete(recs);
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[notfound]\"}]",
                    .model = "no-such-model" };
    CHECK_INT(do_chat(fx->llm, &o, NULL, &r, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "model 'no-such-model' not found or wrong base URL") != NULL);
    recs = fake_llm_records(&fx->fake, "[notfound]", before + 1);
    CHECK_INT(cJSON_GetArraySize(recs), before + 1); /* 404 is not retried */
    cJSON_Delete(recs);

    CHECK_INT(ask(fx->llm, "[badreq]", false, &r, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "messages: field required") != NULL);
    CHECK_OK(er_llm_ping(fx->llm, &err));
}

static void case_malformed(llm_fixture *fx)
{
    static const struct {
        const char *marker;
        bool stream;
    } cases[] = {
        { "[badjson]", false }, { "[badjson]", true }, { "[badsse]", true },
        { "[cut]", false },     { "[cut]", true },     { "[nodone]", true },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(cases); i++) {
        er_error err = { 0 };
        er_llm_response r;
        int rc = ask(fx->llm, cases[i].marker, cases[i].stream, &r, &err);
        if (rc != ER_EPROTO)
            fprintf(stderr, "%s stream=%d: rc %d: %s\n", cases[i].marker, cases[i].stream, rc,
                    err.msg);
        CHECK_INT(rc, ER_EPROTO);
        CHECK(strstr(err.msg, fx->provider) == err.msg); /* the message names the provider */
        CHECK(r.text == NULL && r.calls == NULL);
    }
}

typedef struct canceller {
    volatile int flag;
    long after_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    fake_llm_nap(c->after_ms);
    c->flag = 1;
    return NULL;
}

static void case_cancel_and_timeout(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    canceller c = { 0, 100 };
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    chat_opts o = { .messages = "[{\"role\":\"user\",\"content\":\"[stall]\"}]",
                    .stream = true,
                    .cancel = &c.flag };
    CHECK_INT(do_chat(fx->llm, &o, NULL, &r, &err), ER_ECANCELLED);
    pthread_join(t, NULL);
    CHECK_INT(do_chat(fx->llm, &o, NULL, &r, &err), ER_ECANCELLED); /* flag already up */

    er_llm *quick = open_variant(fx, fx->base, LLM_TEST_KEY, 1, 0);
    CHECK_INT(ask(quick, "[stall]", false, &r, &err), ER_ETIMEDOUT);
    er_llm_close(quick);
}

static void case_refused(llm_fixture *fx)
{
    er_error err = { 0 };
    er_llm_response r;
    char base[64], want[64];
    int port = fake_llm_dead_port();
    fixture_base(fx, port, base, sizeof base);
    snprintf(want, sizeof want, "cannot connect to '127.0.0.1:%d'", port);
    er_llm *dead = open_variant(fx, base, LLM_TEST_KEY, 10, 2);
    CHECK_INT(ask(dead, "[plain]", false, &r, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK_INT(er_llm_ping(dead, &err), ER_EUNAVAIL);
    er_llm_close(dead);
}

typedef struct worker {
    er_llm *llm;
    int ok;
    bool stream;
} worker;

static void *chat_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 5; i++) {
        er_error err = { 0 };
        er_llm_response r;
        if (ask(w->llm, "[parallel]", w->stream, &r, &err) == 0 &&
            strcmp(r.text, "parallel answer") == 0)
            w->ok++;
        er_llm_response_release(&r);
    }
    return NULL;
}

/* One handle, several threads at once (the handle is documented thread-safe). */
static void case_parallel(llm_fixture *fx)
{
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ fx->llm, 0, i % 2 == 1 };
        pthread_create(&t[i], NULL, chat_worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].ok, 5);
    }
}

static void run_common_cases(llm_fixture *fx)
{
    case_plain(fx);
    case_stream(fx);
    case_stream_ignored(fx);
    case_cached(fx, false);
    case_cached(fx, true);
    case_tool_calls(fx, false);
    case_tool_calls(fx, true);
    case_bad_arguments(fx);
    case_retries(fx);
    case_http_errors(fx);
    case_malformed(fx);
    case_cancel_and_timeout(fx);
    case_refused(fx);
    case_parallel(fx);
}

/* main() of a backend test: the common cases, then the backend's own. */
static int llm_test_main(const char *provider, const char *key_env,
                         void (*specific)(llm_fixture *fx))
{
    llm_fixture fx;
    int rc = fixture_setup(&fx, provider, key_env);
    if (rc == 77) {
        fprintf(stderr, "fake_llm not found (ERRAND_TEST_BIN/ERRAND_TEST_DATA): skipped\n");
        return 77;
    }
    CHECK_INT(rc, 0);
    if (rc == 0) {
        run_common_cases(&fx);
        specific(&fx);
    }
    fixture_teardown(&fx);
    return check_done();
}

#endif
