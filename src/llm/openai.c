/* openai.c — LLM backend for OpenAI-compatible Chat Completions endpoints
 * (OpenAI, Ollama, vLLM, llama.cpp server): POST {base}/chat/completions,
 * buffered or streamed as SSE chunks ending in "data: [DONE]".
 *
 * The neutral message shape is OpenAI's already, so conversion is mostly
 * renaming tool calls into {"type":"function","function":{…}}.  Borrowed
 * strings and schemas enter the request as cJSON references: nothing of the
 * conversation is copied before it is printed. */
#include "provider.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define OPENAI_DEFAULT_BASE "https://api.openai.com/v1"

static cJSON *ref(const char *s)
{
    return s ? cJSON_CreateStringReference(s) : cJSON_CreateNull();
}

static cJSON *convert_calls(const cJSON *calls)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *c;
    cJSON_ArrayForEach(c, calls)
    {
        cJSON *fn = cJSON_CreateObject();
        er_llm_add(fn, "name", ref(er_json_str(c, "name")));
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
        er_llm_add(fn, "arguments", er_llm_text_ref(args));
        cJSON *call = cJSON_CreateObject();
        er_llm_add(call, "id", ref(er_json_str(c, "id")));
        er_llm_add(call, "type", cJSON_CreateStringReference("function"));
        er_llm_add(call, "function", fn);
        er_json_append(arr, call);
    }
    return arr;
}

static cJSON *convert_message(const cJSON *m, size_t i, er_error *err)
{
    const char *role = er_json_str(m, "role");
    if (!role) {
        er_error_set(err, ER_EINVAL, "message %zu has no role", i);
        return NULL;
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    cJSON *o = cJSON_CreateObject();
    er_llm_add(o, "role", cJSON_CreateStringReference(role));
    if (strcmp(role, "tool") == 0) {
        er_llm_add(o, "tool_call_id", ref(er_json_str(m, "tool_call_id")));
        er_llm_add(o, "content", er_llm_text_ref(content));
        return o;
    }
    const cJSON *calls = er_json_arr(m, "tool_calls");
    bool has_calls = calls && cJSON_GetArraySize(calls) > 0;
    if (cJSON_IsArray(content)) /* content parts (images …) pass through */
        er_llm_add(o, "content", cJSON_CreateArrayReference(content->child));
    else if (has_calls && (!content || cJSON_IsNull(content)))
        er_llm_add(o, "content", cJSON_CreateNull());
    else
        er_llm_add(o, "content", er_llm_text_ref(content));
    if (has_calls)
        er_llm_add(o, "tool_calls", convert_calls(calls));
    return o;
}

static cJSON *convert_tools(const cJSON *tools)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        cJSON *fn = cJSON_CreateObject();
        er_llm_add(fn, "name", ref(er_json_str(t, "name")));
        if (er_json_str(t, "description"))
            er_llm_add(fn, "description", ref(er_json_str(t, "description")));
        const cJSON *params = er_json_obj(t, "parameters");
        er_llm_add(fn, "parameters", er_llm_schema_ref(params));
        cJSON *tool = cJSON_CreateObject();
        er_llm_add(tool, "type", cJSON_CreateStringReference("function"));
        er_llm_add(tool, "function", fn);
        er_json_append(arr, tool);
    }
    return arr;
}

static cJSON *tool_choice(const char *choice)
{
    if (strcmp(choice, "required") == 0 || strcmp(choice, "auto") == 0 ||
        strcmp(choice, "none") == 0)
        return cJSON_CreateStringReference(choice);
    cJSON *fn = cJSON_CreateObject();
    er_llm_add(fn, "name", cJSON_CreateStringReference(choice));
    cJSON *o = cJSON_CreateObject();
    er_llm_add(o, "type", cJSON_CreateStringReference("function"));
    er_llm_add(o, "function", fn);
    return o;
}

static int add_messages(cJSON *root, const er_llm_request *req, er_error *err)
{
    cJSON *msgs = cJSON_CreateArray();
    er_llm_add(root, "messages", msgs);
    if (!er_str_empty(req->system)) {
        cJSON *sys = cJSON_CreateObject();
        er_llm_add(sys, "role", cJSON_CreateStringReference("system"));
        er_llm_add(sys, "content", cJSON_CreateStringReference(req->system));
        er_json_append(msgs, sys);
    }
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, req->messages)
    {
        cJSON *o = convert_message(m, i++, err);
        if (!o)
            return ER_EINVAL;
        er_json_append(msgs, o);
    }
    return 0;
}

/* OWNED request body, or NULL with err set. */
static char *build_body(const er_llm_request *req, size_t *len, er_error *err)
{
    cJSON *root = cJSON_CreateObject();
    er_llm_add(root, "model", cJSON_CreateStringReference(req->model));
    if (add_messages(root, req, err) != 0) {
        cJSON_Delete(root);
        return NULL;
    }
    if (req->tools && cJSON_GetArraySize(req->tools) > 0) {
        er_llm_add(root, "tools", convert_tools(req->tools));
        if (!er_str_empty(req->tool_choice))
            er_llm_add(root, "tool_choice", tool_choice(req->tool_choice));
    }
    if (req->max_tokens > 0)
        er_llm_add(root, "max_tokens", cJSON_CreateNumber(req->max_tokens));
    if (req->stream) {
        er_llm_add(root, "stream", cJSON_CreateTrue());
        cJSON *opts = cJSON_CreateObject();
        er_llm_add(opts, "include_usage", cJSON_CreateTrue());
        er_llm_add(root, "stream_options", opts);
    }
    char *s = er_json_print(root);
    cJSON_Delete(root);
    *len = strlen(s);
    return s;
}

static void read_usage(er_llm_acc *a, const cJSON *j)
{
    const cJSON *u = er_json_obj(j, "usage");
    if (!u)
        return;
    a->usage.input_tokens = er_json_int(u, "prompt_tokens", 0, 0, INT64_MAX);
    a->usage.output_tokens = er_json_int(u, "completion_tokens", 0, 0, INT64_MAX);
    /* Already inside prompt_tokens; OpenAI reports no cache writes. */
    a->usage.cached_tokens =
        er_json_int(er_json_obj(u, "prompt_tokens_details"), "cached_tokens", 0, 0, INT64_MAX);
}

/* The arguments of a call: a string as sent, an object as its JSON text. */
static int append_arguments(er_llm_acc *a, er_llm_acc_call *c, const cJSON *args, er_error *err)
{
    if (cJSON_IsString(args))
        return er_llm_acc_append(a, &c->args, args->valuestring, err);
    if (!cJSON_IsObject(args))
        return 0;
    char *s = er_json_print(args);
    int rc = er_llm_acc_append(a, &c->args, s, err);
    free(s);
    return rc;
}

/* Ids and names come whole in the first fragment, but some servers repeat them
 * in every fragment: a repeat is not a continuation. */
static int append_once(er_llm_acc *a, er_buf *b, const char *s, er_error *err)
{
    if (!s || (b->len && strcmp(er_buf_cstr(b), s) == 0))
        return 0;
    return er_llm_acc_append(a, b, s, err);
}

/* Tool calls of a message or fragments of them in a delta: same shape. */
static int read_calls(er_llm_acc *a, const cJSON *calls, er_error *err)
{
    int pos = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, calls)
    {
        int key = (int)er_json_int(tc, "index", pos++, INT_MIN, INT_MAX);
        er_llm_acc_call *c = er_llm_acc_get_call(a, key, err);
        if (!c)
            return ER_EPROTO;
        const cJSON *fn = er_json_obj(tc, "function");
        int rc = append_once(a, &c->id, er_json_str(tc, "id"), err);
        if (!rc && fn)
            rc = append_once(a, &c->name, er_json_str(fn, "name"), err);
        if (!rc && fn)
            rc = append_arguments(a, c, cJSON_GetObjectItemCaseSensitive(fn, "arguments"), err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The text of a message or a delta: its content, or its refusal (structured
 * outputs: the model declined, and says so in "refusal" instead). */
static int read_text(er_llm_acc *a, const cJSON *m, er_error *err)
{
    const char *text = er_json_str(m, "content");
    const char *refusal = er_json_str(m, "refusal");
    int rc = text ? er_llm_acc_text(a, text, strlen(text), err) : 0;
    if (!rc && refusal && *refusal) {
        a->refused = true;
        rc = er_llm_acc_text(a, refusal, strlen(refusal), err);
    }
    return rc;
}

static int stream_error(er_llm_acc *a, const cJSON *e, er_error *err)
{
    const char *msg = cJSON_IsString(e) ? e->valuestring : er_json_str(e, "message");
    return er_error_set(err, ER_EUNAVAIL, "%s reported an error mid-stream: %s", a->net->provider,
                        msg ? msg : "no details given");
}

static int on_event(er_llm_acc *a, const char *event, const cJSON *j, er_error *err)
{
    (void)event;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e && !cJSON_IsNull(e))
        return stream_error(a, e, err);
    if (!a->model)
        er_llm_acc_set(&a->model, er_json_str(j, "model"));
    read_usage(a, j);
    const cJSON *choices = er_json_arr(j, "choices");
    const cJSON *c0 = choices ? cJSON_GetArrayItem(choices, 0) : NULL;
    if (!c0)
        return 0; /* the usage-only chunk */
    er_llm_acc_set(&a->stop_reason, er_json_str(c0, "finish_reason"));
    const cJSON *delta = er_json_obj(c0, "delta");
    if (!delta)
        return 0;
    int rc = read_text(a, delta, err);
    const cJSON *calls = er_json_arr(delta, "tool_calls");
    if (!rc && calls)
        rc = read_calls(a, calls, err);
    return rc;
}

static int parse_answer(er_llm_acc *a, const cJSON *j, er_error *err)
{
    const cJSON *choices = er_json_arr(j, "choices");
    const cJSON *c0 = choices ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *msg = c0 ? er_json_obj(c0, "message") : NULL;
    if (!msg) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        if (e)
            return stream_error(a, e, err);
        return er_error_set(err, ER_EPROTO, "%s answer has no choices[0].message",
                            a->net->provider);
    }
    er_llm_acc_set(&a->model, er_json_str(j, "model"));
    er_llm_acc_set(&a->stop_reason, er_json_str(c0, "finish_reason"));
    read_usage(a, j);
    int rc = read_text(a, msg, err);
    const cJSON *calls = er_json_arr(msg, "tool_calls");
    if (!rc && calls)
        rc = read_calls(a, calls, err);
    return rc;
}

const er_llm_wire er_llm_openai_wire = {
    .chat_path = "/chat/completions",
    .models_path = "/models",
    .build = build_body,
    .on_event = on_event,
    .parse = parse_answer,
};

static int openai_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out, er_error *err)
{
    assert(llm->be == &er_llm_openai_backend);
    return er_llm_remote_chat(llm, &er_llm_openai_wire, req, out, err);
}

static int openai_ping(er_llm *llm, er_error *err)
{
    assert(llm->be == &er_llm_openai_backend);
    return er_llm_remote_ping(llm, &er_llm_openai_wire, err);
}

static int openai_open(er_llm **out, const er_config *cfg, er_error *err)
{
    /* OpenAI itself needs a key; a local server (OPENAI_BASE_URL) may not. */
    if ((!cfg || er_str_empty(cfg->openai_api_key)) &&
        (!cfg || er_str_empty(cfg->openai_base_url) ||
         er_str_starts(cfg->openai_base_url, OPENAI_DEFAULT_BASE)))
        return er_error_set(err, ER_EAUTH,
                            "openai: OPENAI_API_KEY is not set (for a local OpenAI-compatible "
                            "server, set OPENAI_BASE_URL; or ERRAND_LLM=offline)");
    char *auth = NULL;
    if (cfg && !er_str_empty(cfg->openai_api_key))
        auth = er_xasprintf("Authorization: Bearer %s", cfg->openai_api_key);
    const char *extra[] = { auth, NULL };
    *out = er_llm_remote_open(&er_llm_openai_backend, "openai", "OPENAI_API_KEY",
                              cfg ? cfg->openai_base_url : NULL, OPENAI_DEFAULT_BASE, cfg, extra);
    free(auth);
    return 0;
}

const er_llm_backend er_llm_openai_backend = {
    .version = ER_LLM_BACKEND_VERSION,
    .name = "openai",
    .open = openai_open,
    .close = er_llm_remote_close,
    .chat = openai_chat,
    .ping = openai_ping,
};
