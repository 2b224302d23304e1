/* llm.c — the LLM seam: picks a backend by name, fills in the default model,
 * dispatches chats and frees responses.  The only file that dereferences ->be. */
#include "errand/backend/llm_backend.h"
#include "errand/alloc.h"
#include "errand/buf.h"
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

int er_llm_open_named(er_llm **out, const char *name, const er_config *cfg,
                      const struct er_agent_def *const *agents, er_error *err)
{
    *out = NULL;
    const backend_entry *e = find_backend(name);
    if (!e)
        return unknown_backend(name, err);
    er_llm *llm = NULL;
    int rc = e->be->open(&llm, cfg, err);
    if (rc)
        return rc;
    llm->be = e->be;
    llm->agents = agents;
    llm->model = er_xstrdup(cfg && !er_str_empty(cfg->model) ? cfg->model : e->default_model);
    *out = llm;
    return 0;
}

const char *er_llm_default_model(const char *provider)
{
    const backend_entry *e = find_backend(provider);
    return e ? e->default_model : NULL;
}

int er_llm_open(er_llm **out, const er_config *cfg, const struct er_agent_def *const *agents,
                er_error *err)
{
    return er_llm_open_named(out, er_config_llm_provider(cfg), cfg, agents, err);
}

void er_llm_close(er_llm *llm)
{
    if (!llm)
        return;
    char *model = llm->model;
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
