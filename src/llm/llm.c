/* llm.c — the LLM seam: picks a backend by name, fills in the default model,
 * dispatches chats and frees responses.  The only file that dereferences ->be. */
#include "errand/backend/llm_backend.h"
#include "errand/config.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/cassette.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

typedef struct backend_entry {
    const er_llm_backend *be;
    const char *default_model;
} backend_entry;

static const backend_entry backends[] = {
    { &er_llm_openai_backend, "gpt-4o-mini" },
    { &er_llm_anthropic_backend, "claude-sonnet-4-5" },
    { &er_llm_offline_backend, "offline" },
};

static const backend_entry *find_backend(const char *name)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++)
        if (er_str_eq(backends[i].be->name, name))
            return &backends[i];
    return NULL;
}

static int unknown_backend(const char *name, er_error *err)
{
    er_buf names = ER_BUF_INIT;
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++)
        er_buf_printf(&names, "%s%s", i ? ", " : "", backends[i].be->name);
    er_error_set(err, ER_EINVAL, "unknown LLM provider '%s' (valid: %s) — set ERRAND_LLM",
                 name ? name : "", er_buf_cstr(&names));
    er_buf_release(&names);
    return ER_EINVAL;
}

/* Opens e's backend; with llm.record set, the recorder too. */
static int open_entry(er_llm **out, const backend_entry *e, const er_config *cfg,
                      const struct er_agent_def *const *agents, er_error *err)
{
    er_llm *llm = NULL;
    int rc = e->be->open(&llm, cfg, err);
    if (rc)
        return rc;
    llm->be = e->be;
    llm->agents = agents;
    llm->tape = NULL;
    llm->model = er_xstrdup(cfg && !er_str_empty(cfg->model) ? cfg->model : e->default_model);
    if (cfg && !er_str_empty(cfg->llm_record) &&
        (rc = er_cassette_open(&llm->tape, cfg->llm_record, false, err)) != 0) {
        er_llm_close(llm);
        return rc;
    }
    *out = llm;
    return 0;
}

int er_llm_open_named(er_llm **out, const char *name, const er_config *cfg,
                      const struct er_agent_def *const *agents, er_error *err)
{
    *out = NULL;
    const backend_entry *e = find_backend(name);
    if (!e)
        return unknown_backend(name, err);
    return open_entry(out, e, cfg, agents, err);
}

const char *er_llm_default_model(const char *provider)
{
    const backend_entry *e = find_backend(provider);
    return e ? e->default_model : NULL;
}

int er_llm_open(er_llm **out, const er_config *cfg, const struct er_agent_def *const *agents,
                er_error *err)
{
    /* A replay answers from its cassette whatever provider is configured. */
    static const backend_entry replay = { &er_llm_replay_backend, "replay" };
    if (cfg && !er_str_empty(cfg->llm_replay)) {
        *out = NULL;
        if (!er_str_empty(cfg->llm_record))
            return er_error_set(err, ER_EINVAL,
                                "--record and --replay do not go together (llm.record, "
                                "llm.replay)");
        return open_entry(out, &replay, cfg, agents, err);
    }
    return er_llm_open_named(out, er_config_llm_provider(cfg), cfg, agents, err);
}

void er_llm_close(er_llm *llm)
{
    if (!llm)
        return;
    char *model = llm->model;
    er_cassette_close(llm->tape);
    llm->be->close(llm);
    free(model);
}

const char *er_llm_name(const er_llm *llm)
{
    return llm->be->name;
}

const char *er_llm_model(const er_llm *llm)
{
    return llm->model;
}

/* Replaces *s by its valid UTF-8 form when it is not; how many bytes changed. */
static size_t make_utf8(char **s)
{
    size_t len = *s ? strlen(*s) : 0;
    if (!*s || er_utf8_check(*s, len) == len)
        return 0;
    er_buf b = ER_BUF_INIT;
    int n = er_buf_put_utf8(&b, *s, len);
    free(*s);
    *s = er_buf_detach(&b);
    return n > 0 ? (size_t)n : 0;
}

/* Text that is not UTF-8 could not be stored (PostgreSQL refuses it), shown,
 * or sent back to the provider, which would refuse the next request. */
static void make_response_utf8(er_llm *llm, er_llm_response *out)
{
    size_t bad = out->bad_utf8 = make_utf8(&out->text);
    for (size_t i = 0; i < out->ncalls; i++) {
        bad += make_utf8(&out->calls[i].id) + make_utf8(&out->calls[i].name);
        size_t n = make_utf8(&out->calls[i].arguments);
        out->calls[i].bad_utf8 = n > 0;
        bad += n;
    }
    bad += make_utf8(&out->stop_reason) + make_utf8(&out->model);
    if (bad)
        er_log(ER_LOG_INFO, "llm", "%s sent %zu byte%s that are not UTF-8 (replaced by U+FFFD)",
               llm->be->name, bad, bad == 1 ? "" : "s");
}

int er_llm_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(req->messages))
        return er_error_set(err, ER_EINVAL, "chat request without a messages array");
    if (req->tools && !cJSON_IsArray(req->tools))
        return er_error_set(err, ER_EINVAL, "chat request tools must be an array");
    if (req->cancel && *req->cancel)
        return er_error_set(err, ER_ECANCELLED, "chat cancelled before it started");
    er_llm_request r = *req;
    if (er_str_empty(r.model))
        r.model = llm->model;
    int rc = llm->be->chat(llm, &r, out, err);
    if (rc == 0) {
        make_response_utf8(llm, out);
        if (llm->tape) /* a run recorded whole or not at all */
            rc = er_cassette_record(llm->tape, &r, out, err);
    }
    if (rc)
        er_llm_response_release(out);
    return rc;
}

int er_llm_ping(er_llm *llm, er_error *err)
{
    return llm->be->ping ? llm->be->ping(llm, err) : 0;
}

void er_llm_response_release(er_llm_response *r)
{
    if (!r)
        return;
    free(r->text);
    for (size_t i = 0; i < r->ncalls; i++) {
        free(r->calls[i].id);
        free(r->calls[i].name);
        free(r->calls[i].arguments);
    }
    free(r->calls);
    free(r->stop_reason);
    free(r->model);
    memset(r, 0, sizeof *r);
}

cJSON *er_llm_usage_json(const er_llm_usage *u)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_num(j, "input", (double)u->input_tokens);
    er_json_add_num(j, "output", (double)u->output_tokens);
    if (u->cached_tokens) /* kept out of the record when there are none, as before */
        er_json_add_num(j, "cached", (double)u->cached_tokens);
    if (u->cache_write_tokens)
        er_json_add_num(j, "cache_write", (double)u->cache_write_tokens);
    return j;
}

void er_llm_usage_from_json(er_llm_usage *u, const cJSON *j)
{
    u->input_tokens = er_json_int(j, "input", 0, 0, INT64_MAX);
    u->output_tokens = er_json_int(j, "output", 0, 0, INT64_MAX);
    u->cached_tokens = er_json_int(j, "cached", 0, 0, INT64_MAX);
    u->cache_write_tokens = er_json_int(j, "cache_write", 0, 0, INT64_MAX);
}
