/* provider.c — the HTTP half shared by the OpenAI and Anthropic backends:
 * settings from the configuration, streamed (SSE) and buffered answers, the
 * accumulator that assembles text and tool-call fragments, and the mapping of
 * HTTP statuses to error codes with messages that say what to check. */
#include "provider.h"
#include "errand/alloc.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BODY        ((size_t)16 << 20)
#define MAX_EVENT       ((size_t)4 << 20)
#define MAX_ARGS        ((size_t)4 << 20)
#define PING_TIMEOUT_MS 10000L
#define MAX_RETRIES     10

void er_llm_net_init(er_llm_net *n, const char *provider, const char *key_env, const char *base_url,
                     const char *def_base, const er_config *cfg, const char *const *extra)
{
    memset(n, 0, sizeof *n);
    n->provider = provider;
    n->key_env = key_env;
    n->base_url = er_xstrdup(er_str_empty(base_url) ? def_base : base_url);
    size_t len = strlen(n->base_url);
    while (len > 0 && n->base_url[len - 1] == '/')
        n->base_url[--len] = '\0';
    size_t i = 0;
    n->headers[i++] = er_xstrdup("Content-Type: application/json");
    for (; extra && *extra && i + 1 < ER_ARRAY_LEN(n->headers); extra++)
        n->headers[i++] = er_xstrdup(*extra);
    n->timeout_ms = (cfg && cfg->llm_timeout > 0 ? cfg->llm_timeout : 120) * 1000L;
    n->retries = cfg && cfg->llm_retries >= 0 ? (int)cfg->llm_retries : 3;
    if (n->retries > MAX_RETRIES)
        n->retries = MAX_RETRIES;
}

void er_llm_net_release(er_llm_net *n)
{
    free(n->base_url);
    for (size_t i = 0; i < ER_ARRAY_LEN(n->headers); i++)
        free(n->headers[i]);
    memset(n, 0, sizeof *n);
}

static int on_sse_event(const char *event, const char *data, size_t len, er_error *err,
                        void *payload);

void er_llm_acc_init(er_llm_acc *a, const er_llm_net *net, const er_llm_request *req,
                     er_llm_event_fn on_event)
{
    memset(a, 0, sizeof *a);
    a->net = net;
    a->req = req;
    a->on_event = on_event;
    er_buf_init(&a->text, MAX_BODY);
    er_buf_init(&a->json, MAX_BODY);
    er_sse_init(&a->sse, MAX_EVENT, on_sse_event, a);
}

void er_llm_acc_release(er_llm_acc *a)
{
    er_sse_release(&a->sse);
    er_buf_release(&a->text);
    er_buf_release(&a->json);
    for (size_t i = 0; i < a->ncalls; i++) {
        er_buf_release(&a->calls[i].id);
        er_buf_release(&a->calls[i].name);
        er_buf_release(&a->calls[i].args);
    }
    free(a->calls);
    free(a->stop_reason);
    free(a->model);
    memset(a, 0, sizeof *a);
}

int er_llm_acc_text(er_llm_acc *a, const char *s, size_t n, er_error *err)
{
    if (!n)
        return 0;
    if (er_buf_append(&a->text, s, n))
        return er_error_set(err, ER_ETOOBIG, "%s answer is longer than %zu bytes", a->net->provider,
                            a->text.max);
    if (a->req->stream && a->req->on_token) {
        a->passed_tokens = true;
        a->req->on_token(s, n, a->req->payload);
    }
    return 0;
}

er_llm_acc_call *er_llm_acc_get_call(er_llm_acc *a, int key, er_error *err)
{
    for (size_t i = a->ncalls; i > 0; i--)
        if (a->calls[i - 1].key == key)
            return &a->calls[i - 1];
    if (key < 0 || key >= ER_LLM_MAX_CALL_INDEX || a->ncalls >= ER_LLM_MAX_CALLS) {
        er_error_set(err, ER_EPROTO, "%s sent a tool call with index %d (at most %d calls)",
                     a->net->provider, key, ER_LLM_MAX_CALLS);
        return NULL;
    }
    if (a->ncalls == a->capcalls) {
        a->capcalls = a->capcalls ? a->capcalls * 2 : 4;
        a->calls = er_xrealloc(a->calls, a->capcalls * sizeof *a->calls);
    }
    er_llm_acc_call *c = &a->calls[a->ncalls++];
    c->key = key;
    er_buf_init(&c->id, 1024);
    er_buf_init(&c->name, 1024);
    er_buf_init(&c->args, MAX_ARGS);
    return c;
}

int er_llm_acc_append(er_llm_acc *a, er_buf *b, const char *s, er_error *err)
{
    if (s && er_buf_puts(b, s))
        return er_error_set(err, ER_ETOOBIG, "%s sent a tool call field longer than %zu bytes",
                            a->net->provider, b->max);
    return 0;
}

void er_llm_acc_set(char **field, const char *s)
{
    if (!s)
        return;
    free(*field);
    *field = er_xstrdup(s);
}

void er_llm_acc_finish(er_llm_acc *a, er_llm_response *out)
{
    memset(out, 0, sizeof *out);
    out->text = er_buf_detach(&a->text);
    out->ncalls = a->ncalls;
    out->calls = a->ncalls ? er_xcalloc(a->ncalls, sizeof *out->calls) : NULL;
    for (size_t i = 0; i < a->ncalls; i++) {
        er_llm_acc_call *c = &a->calls[i];
        out->calls[i].id = c->id.len ? er_buf_detach(&c->id) : er_xasprintf("call_%zu", i);
        out->calls[i].name = er_buf_detach(&c->name);
        /* A call without arguments means "no arguments", which is an object. */
        out->calls[i].arguments = c->args.len ? er_buf_detach(&c->args) : er_xstrdup("{}");
    }
    out->usage = a->usage;
    if (a->refused)
        er_llm_acc_set(&a->stop_reason, "refusal");
    out->stop_reason =
        a->stop_reason ? a->stop_reason : er_xstrdup(a->ncalls ? "tool_calls" : "stop");
    a->stop_reason = NULL;
    out->model = a->model;
    a->model = NULL;
}

void er_llm_add(cJSON *obj, const char *key, cJSON *item)
{
    if (item && !cJSON_AddItemToObjectCS(obj, key, item))
        cJSON_Delete(item);
}

cJSON *er_llm_text_ref(const cJSON *v)
{
    if (cJSON_IsString(v))
        return cJSON_CreateStringReference(v->valuestring);
    if (!v || cJSON_IsNull(v))
        return cJSON_CreateString("");
    char *s = er_json_print(v);
    cJSON *out = cJSON_CreateString(s);
    free(s);
    return out;
}

cJSON *er_llm_schema_ref(const cJSON *params)
{
    if (params)
        return cJSON_CreateObjectReference(params->child);
    cJSON *schema = cJSON_CreateObject();
    er_llm_add(schema, "type", cJSON_CreateStringReference("object"));
    er_llm_add(schema, "properties", cJSON_CreateObject());
    return schema;
}

static int on_sse_event(const char *event, const char *data, size_t len, er_error *err,
                        void *payload)
{
    er_llm_acc *a = payload;
    if (a->done)
        return 0; /* nothing after the end marker concerns us */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        a->done = true;
        return 0;
    }
    cJSON *j = NULL;
    int rc = er_json_parse(&j, data, len, err);
    if (rc) {
        er_error_prefix(err, "%s sent a malformed stream event '%s'", a->net->provider, event);
        return rc;
    }
    rc = a->on_event(a, event, j, err);
    cJSON_Delete(j);
    return rc;
}

static int keep_json(er_llm_acc *a, const char *data, size_t len, er_error *err)
{
    if (er_buf_append(&a->json, data, len))
        return er_error_set(err, ER_ETOOBIG, "%s answer is larger than %zu bytes", a->net->provider,
                            a->json.max);
    return 0;
}

/* Some OpenAI-compatible servers ignore "stream": true and answer with one
 * JSON object; an event stream never starts with '{', so the first byte that
 * is not a blank tells.  Blanks before it are kept (in a->json) and go where
 * the rest goes, so the outcome does not depend on where chunks are cut. */
static int on_http_data(const char *data, size_t len, er_error *err, void *payload)
{
    er_llm_acc *a = payload;
    if (a->mode == 0) {
        size_t i = 0;
        while (i < len && data[i] && strchr(" \t\r\n", data[i]))
            i++;
        if (i == len)
            return keep_json(a, data, len, err);
        a->mode = data[i] == '{' ? 2 : 1;
        if (a->mode == 1 && a->json.len) {
            int rc = er_sse_feed(&a->sse, a->json.ptr, a->json.len, err);
            er_buf_reset(&a->json);
            if (rc) {
                a->bad_data = rc != ER_EUNAVAIL;
                return rc;
            }
        }
    }
    int rc = a->mode == 1 ? er_sse_feed(&a->sse, data, len, err) : keep_json(a, data, len, err);
    /* An error event is the provider's report of a failure on its side (it
     * overloaded mid-answer): worth asking again, unlike garbage. */
    if (rc && rc != ER_EUNAVAIL)
        a->bad_data = true;
    return rc;
}

/* Text from outside as one short line: control characters become blanks. */
static void one_line(const char *in, char *out, size_t outsize)
{
    size_t i = 0;
    for (; in[i] && i + 1 < outsize && i < 160; i++)
        out[i] = iscntrl((unsigned char)in[i]) ? ' ' : in[i];
    out[i] = '\0';
}

/* The provider's own words from an error body, sanitised to one short line. */
static void provider_message(const er_buf *body, char *out, size_t outsize)
{
    cJSON *j = NULL;
    const char *msg = NULL;
    if (body->len && er_json_parse(&j, body->ptr, body->len, NULL) == 0) {
        const cJSON *e = er_json_obj(j, "error");
        msg = e ? er_json_str(e, "message") : er_json_str(j, "error");
        if (!msg)
            msg = er_json_str(j, "message");
    }
    if (!msg)
        msg = body->len ? body->ptr : "no details given";
    one_line(msg, out, outsize);
    cJSON_Delete(j);
}

int er_llm_net_status_error(const er_llm_net *n, const char *model, long status, const er_buf *body,
                            const char *location, int attempts, er_error *err)
{
    char msg[200];
    provider_message(body, msg, sizeof msg);
    const char *p = n->provider;
    if (status >= 300 && status < 400) {
        char where[200];
        one_line(location ? location : "nowhere said", where, sizeof where);
        return er_error_set(err, ER_EPROTO,
                            "%s: '%s' redirects (HTTP %ld) to '%s'; redirects are not "
                            "followed (the API key would go along) — set the base URL to "
                            "where the service is",
                            p, n->base_url, status, where);
    }
    if (status == 401 || status == 403)
        return er_error_set(err, ER_EAUTH, "%s rejected the API key (HTTP %ld): %s — check %s", p,
                            status, msg, n->key_env);
    if (status == 404 && !model)
        return er_error_set(err, ER_ENOTFOUND, "%s: wrong base URL '%s' (HTTP 404): %s", p,
                            n->base_url, msg);
    if (status == 404)
        return er_error_set(err, ER_ENOTFOUND,
                            "%s: model '%s' not found or wrong base URL '%s' (HTTP 404): %s", p,
                            model, n->base_url, msg);
    if (status == 400 || status == 422)
        return er_error_set(err, ER_EINVAL, "%s rejected the request (HTTP %ld): %s", p, status,
                            msg);
    if (status == 413)
        return er_error_set(err, ER_ETOOBIG, "%s: request too large (HTTP 413): %s", p, msg);
    if (status == 408 || status == 429 || status >= 500)
        return er_error_set(err, ER_EUNAVAIL, "%s is %s (HTTP %ld, %d attempt%s): %s — try later",
                            p, status == 429 ? "rate limiting" : "unavailable", status, attempts,
                            attempts == 1 ? "" : "s", msg);
    return er_error_set(err, ER_EPROTO, "%s answered HTTP %ld: %s", p, status, msg);
}

/* Names the provider in messages that come from below (the HTTP client). */
static int name_provider(const er_llm_net *n, int rc, er_error *err)
{
    if (rc && err && strncmp(err->msg, n->provider, strlen(n->provider)) != 0)
        er_error_prefix(err, "%s", n->provider);
    return rc;
}

static char *join_url(const er_llm_net *n, const char *path)
{
    return er_xasprintf("%s%s", n->base_url, path);
}

static void fill_req(er_http_req *h, const er_llm_net *n, const char *url, long timeout_ms)
{
    memset(h, 0, sizeof *h);
    h->url = url;
    h->headers = (const char *const *)n->headers;
    h->timeout_ms = timeout_ms;
    h->max_body = MAX_BODY;
    /* The provider's base URL is the operator's setting (a local Ollama at
     * 127.0.0.1 included), not a tool's fetch: no SSRF guard (http.h). */
    h->configured_endpoint = true;
    h->untaped = true; /* --record keeps the exchange itself (cassette.h) */
}

static int finish_stream(er_llm_acc *a, er_error *err)
{
    if (!a->done)
        return er_error_set(err, ER_EPROTO, "%s stream ended before its end marker%s",
                            a->net->provider,
                            er_sse_pending(&a->sse) ? " (cut off mid-event)" : "");
    return 0;
}

/* After a 2xx answer: a stream must have ended properly; a buffered answer
 * (body, or what a server that ignored "stream": true sent) is parsed into *json. */
static int end_answer(er_llm_acc *a, const char *body, size_t len, cJSON **json, er_error *err)
{
    if (a->req->stream && a->mode != 2)
        return finish_stream(a, err);
    if (a->req->stream) {
        body = a->json.ptr;
        len = a->json.len;
    }
    int rc = er_json_parse(json, body, len, err);
    if (rc)
        er_error_prefix(err, "%s sent a malformed answer", a->net->provider);
    return rc;
}

int er_llm_net_post(er_llm_acc *a, const char *path, const char *body, size_t len, cJSON **json,
                    er_error *err)
{
    const er_llm_net *n = a->net;
    const er_llm_request *req = a->req;
    char *url = join_url(n, path);
    er_http_req h;
    fill_req(&h, n, url, n->timeout_ms);
    h.method = "POST";
    h.body = body;
    h.body_len = len;
    h.retries = n->retries;
    h.cancel = req->cancel;
    h.deadline_ms = req->deadline_ms;
    if (req->stream) {
        h.on_data = on_http_data;
        h.payload = a;
        h.idle_timeout_ms = n->timeout_ms < 60000 ? n->timeout_ms : 60000;
    }
    er_log(ER_LOG_DEBUG, "llm", "%s: POST %s model=%s stream=%d bytes=%zu", n->provider, url,
           req->model ? req->model : "-", req->stream, len);
    er_http_resp resp;
    int rc = er_http_request(&resp, &h, err);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = er_llm_net_status_error(n, req->model, resp.status, &resp.body, resp.location,
                                     resp.attempts, err);
    else if (rc == 0)
        rc = end_answer(a, resp.body.ptr, resp.body.len, json, err);
    name_provider(n, rc, err);
    er_http_resp_release(&resp);
    free(url);
    return rc;
}

int er_llm_net_ping(const er_llm_net *n, const char *path, er_error *err)
{
    char *url = join_url(n, path);
    er_http_req h;
    fill_req(&h, n, url, PING_TIMEOUT_MS);
    h.method = "GET";
    er_http_resp resp;
    int rc = er_http_request(&resp, &h, err);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = er_llm_net_status_error(n, NULL, resp.status, &resp.body, resp.location, resp.attempts,
                                     err);
    name_provider(n, rc, err);
    er_http_resp_release(&resp);
    free(url);
    return rc;
}

er_llm *er_llm_remote_open(const er_llm_backend *be, const char *provider, const char *key_env,
                           const char *base_url, const char *def_base, const er_config *cfg,
                           const char *const *extra)
{
    er_llm_remote *r = er_xcalloc(1, sizeof *r);
    r->base.be = be;
    er_llm_net_init(&r->net, provider, key_env, base_url, def_base, cfg, extra);
    return &r->base;
}

void er_llm_remote_close(er_llm *llm)
{
    er_llm_remote *r = (er_llm_remote *)llm;
    er_llm_net_release(&r->net);
    free(r);
}

/* The end of a chat: a buffered answer j (TAKES) goes through the wire's
 * parser, then the result moves into out; a releases either way. */
static int assemble(er_llm_acc *a, const er_llm_wire *w, int rc, cJSON *j, er_llm_response *out,
                    er_error *err)
{
    if (!rc && j)
        rc = w->parse(a, j, err);
    if (!rc)
        er_llm_acc_finish(a, out);
    cJSON_Delete(j);
    er_llm_acc_release(a);
    return rc;
}

/* A 2xx stream that broke off midway — the connection lost or gone quiet, its
 * end marker missing, an error event — as opposed to an answer that was wrong
 * (garbage, over a cap).  Nothing of it was used yet: tools run only on a
 * whole answer, so asking again repeats no side effect. */
static bool cut_midway(const er_llm_acc *a, int rc)
{
    if (!a->req->stream || a->mode == 0 || a->bad_data)
        return false;
    return rc == ER_EUNAVAIL || rc == ER_ETIMEDOUT || rc == ER_EPROTO;
}

/* Whether a cut answer is asked for again: retries and time left, not cancelled. */
static bool ask_again(const er_llm_net *n, const er_llm_request *req, int tries, long wait)
{
    if (tries > n->retries || (req->cancel && *req->cancel))
        return false;
    return !req->deadline_ms || er_mono_ms() + wait < req->deadline_ms;
}

/* Sleeps ms in slices, so a cancel is seen; false when cancelled. */
static bool nap(long ms, const volatile int *cancel)
{
    for (int64_t end = er_mono_ms() + ms; er_mono_ms() < end;) {
        if (cancel && *cancel)
            return false;
        int64_t left = end - er_mono_ms();
        struct timespec ts = { 0, (long)(left < 50 ? left : 50) * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !(cancel && *cancel);
}

int er_llm_remote_chat(er_llm *llm, const er_llm_wire *w, const er_llm_request *req,
                       er_llm_response *out, er_error *err)
{
    const er_llm_net *n = &((er_llm_remote *)llm)->net;
    size_t len = 0;
    char *body = w->build(req, &len, err);
    if (!body)
        return ER_EINVAL;
    int rc, tries;
    bool passed = false, cut = false;
    for (tries = 1;; tries++) {
        er_llm_acc a;
        er_llm_acc_init(&a, n, req, w->on_event);
        if (passed && req->on_restart) /* before any token of this attempt */
            req->on_restart(req->payload);
        cJSON *j = NULL;
        rc = er_llm_net_post(&a, w->chat_path, body, len, &j, err);
        cut = rc && cut_midway(&a, rc);
        passed = passed || a.passed_tokens;
        rc = assemble(&a, w, rc, j, out, err);
        long wait = cut ? er_http_backoff_ms(tries - 1, -1) : 0;
        if (!cut || !ask_again(n, req, tries, wait))
            break;
        er_log(ER_LOG_INFO, "llm",
               "%s: the answer broke off (%s); asking again in %ld ms (%d of "
               "%d)",
               n->provider, err ? err->msg : "", wait, tries, n->retries);
        if (!nap(wait, req->cancel))
            break;
    }
    if (rc && cut && tries > 1 && err) {
        char last[sizeof err->msg];
        er_strlcpy(last, err->msg, sizeof last);
        er_error_set(err, rc, "%s (asked %d times: each answer broke off)", last, tries);
    }
    er_log(ER_LOG_DEBUG, "llm", "%s: rc=%d calls=%zu usage=%lld/%lld", n->provider, rc, out->ncalls,
           (long long)out->usage.input_tokens, (long long)out->usage.output_tokens);
    free(body);
    return rc;
}

int er_llm_remote_parse(const er_llm_wire *w, const er_llm_net *net, const er_llm_request *req,
                        const char *body, size_t len, size_t chunk, er_llm_response *out,
                        er_error *err)
{
    er_llm_acc a;
    er_llm_acc_init(&a, net, req, w->on_event);
    cJSON *j = NULL;
    int rc = 0;
    for (size_t off = 0; req->stream && !rc && off < len; off += chunk ? chunk : len) {
        size_t n = chunk && chunk < len - off ? chunk : len - off;
        rc = on_http_data(body + off, n, err, &a);
    }
    if (!rc)
        rc = end_answer(&a, body, len, &j, err);
    return assemble(&a, w, rc, j, out, err);
}

int er_llm_remote_ping(er_llm *llm, const er_llm_wire *w, er_error *err)
{
    return er_llm_net_ping(&((er_llm_remote *)llm)->net, w->models_path, err);
}
