/* anthropic.c — LLM backend for the Anthropic Messages API: POST {base}/v1/messages,
 * buffered or streamed (message_start … content_block_* … message_stop).
 *
 * The neutral (OpenAI-shaped) conversation becomes content blocks: the system
 * prompt moves to the top level, tool calls become tool_use blocks with an
 * input object, and tool results become tool_result blocks in one user
 * message per assistant turn, as the API requires.  Stop reasons are mapped
 * back to the neutral names (end_turn → stop, tool_use → tool_calls …). */
#include "provider.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ANTHROPIC_DEFAULT_BASE       "https://api.anthropic.com"
#define ANTHROPIC_VERSION            "2023-06-01"
#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

/* Conversion state: the open user message that tool results gather in. */
typedef struct conv {
    cJSON *msgs;
    cJSON *user_blocks; /* content array of the last user message, or NULL */
    er_buf system;      /* system prompt plus any system-role messages */
} conv;

static cJSON *ref(const char *s)
{
    return s ? cJSON_CreateStringReference(s) : cJSON_CreateString("");
}

static cJSON *block(const char *type)
{
    cJSON *b = cJSON_CreateObject();
    er_llm_add(b, "type", cJSON_CreateStringReference(type));
    return b;
}

static cJSON *new_message(conv *c, const char *role)
{
    cJSON *m = cJSON_CreateObject();
    er_llm_add(m, "role", cJSON_CreateStringReference(role));
    er_json_append(c->msgs, m);
    return m;
}

/* The tool_use input object: arguments as an object, or parsed from their
 * text; text that is no JSON object becomes {} (the model sees its own call). */
static cJSON *tool_input(const cJSON *args)
{
    if (cJSON_IsObject(args))
        return cJSON_CreateObjectReference(args->child);
    cJSON *j = NULL;
    if (cJSON_IsString(args) && args->valuestring[0] &&
        er_json_parse(&j, args->valuestring, strlen(args->valuestring), NULL) == 0 &&
        cJSON_IsObject(j))
        return j;
    cJSON_Delete(j);
    return cJSON_CreateObject();
}

static void convert_assistant(conv *c, const cJSON *m)
{
    c->user_blocks = NULL;
    cJSON *blocks = cJSON_CreateArray();
    const char *text = er_json_str(m, "content");
    if (!er_str_empty(text)) {
        cJSON *b = block("text");
        er_llm_add(b, "text", cJSON_CreateStringReference(text));
        er_json_append(blocks, b);
    }
    const cJSON *tc;
    cJSON_ArrayForEach(tc, er_json_arr(m, "tool_calls"))
    {
        cJSON *b = block("tool_use");
        er_llm_add(b, "id", ref(er_json_str(tc, "id")));
        er_llm_add(b, "name", ref(er_json_str(tc, "name")));
        er_llm_add(b, "input", tool_input(cJSON_GetObjectItemCaseSensitive(tc, "arguments")));
        er_json_append(blocks, b);
    }
    /* The API refuses empty assistant turns; an empty one says nothing anyway. */
    if (cJSON_GetArraySize(blocks) == 0) {
        cJSON_Delete(blocks);
        return;
    }
    er_llm_add(new_message(c, "assistant"), "content", blocks);
}

static void convert_tool_result(conv *c, const cJSON *m)
{
    if (!c->user_blocks) {
        c->user_blocks = cJSON_CreateArray();
        er_llm_add(new_message(c, "user"), "content", c->user_blocks);
    }
    cJSON *b = block("tool_result");
    er_llm_add(b, "tool_use_id", ref(er_json_str(m, "tool_call_id")));
    er_llm_add(b, "content", er_llm_text_ref(cJSON_GetObjectItemCaseSensitive(m, "content")));
    if (er_llm_tool_failed(er_json_str(m, "content")))
        er_llm_add(b, "is_error", cJSON_CreateTrue());
    er_json_append(c->user_blocks, b);
}

static void convert_user(conv *c, const cJSON *m)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (c->user_blocks) { /* text after tool results joins their message */
        cJSON *b = block("text");
        er_llm_add(b, "text", er_llm_text_ref(content));
        er_json_append(c->user_blocks, b);
        return;
    }
    er_llm_add(new_message(c, "user"), "content", er_llm_text_ref(content));
}

static int convert_messages(conv *c, const er_llm_request *req, er_error *err)
{
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, req->messages)
    {
        const char *role = er_json_str(m, "role");
        if (!role)
            return er_error_set(err, ER_EINVAL, "message %zu has no role", i);
        i++;
        if (strcmp(role, "system") == 0) {
            const char *s = er_json_str(m, "content");
            if (!er_str_empty(s))
                er_buf_printf(&c->system, "%s%s", c->system.len ? "\n\n" : "", s);
        } else if (strcmp(role, "assistant") == 0) {
            convert_assistant(c, m);
        } else if (strcmp(role, "tool") == 0) {
            convert_tool_result(c, m);
        } else {
            convert_user(c, m);
        }
    }
    return 0;
}

static cJSON *convert_tools(const cJSON *tools)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        cJSON *o = cJSON_CreateObject();
        er_llm_add(o, "name", ref(er_json_str(t, "name")));
        if (er_json_str(t, "description"))
            er_llm_add(o, "description", ref(er_json_str(t, "description")));
        const cJSON *params = er_json_obj(t, "parameters");
        er_llm_add(o, "input_schema", er_llm_schema_ref(params));
        er_json_append(arr, o);
    }
    return arr;
}

static cJSON *tool_choice(const char *choice)
{
    if (strcmp(choice, "required") == 0)
        return block("any");
    if (strcmp(choice, "auto") == 0 || strcmp(choice, "none") == 0)
        return block(choice);
    cJSON *o = block("tool");
    er_llm_add(o, "name", cJSON_CreateStringReference(choice));
    return o;
}

static void add_options(cJSON *root, const er_llm_request *req)
{
    if (req->tools && cJSON_GetArraySize(req->tools) > 0) {
        er_llm_add(root, "tools", convert_tools(req->tools));
        if (!er_str_empty(req->tool_choice))
            er_llm_add(root, "tool_choice", tool_choice(req->tool_choice));
    }
    if (req->stream)
        er_llm_add(root, "stream", cJSON_CreateTrue());
}

/* OWNED request body, or NULL with err set. */
static char *build_body(const er_llm_request *req, size_t *len, er_error *err)
{
    conv c = { .msgs = cJSON_CreateArray() };
    er_buf_init(&c.system, 0);
    if (!er_str_empty(req->system))
        er_buf_puts(&c.system, req->system);
    cJSON *root = cJSON_CreateObject();
    er_llm_add(root, "model", cJSON_CreateStringReference(req->model));
    er_llm_add(
        root, "max_tokens",
        cJSON_CreateNumber(req->max_tokens > 0 ? req->max_tokens : ANTHROPIC_DEFAULT_MAX_TOKENS));
    char *s = NULL;
    if (convert_messages(&c, req, err) == 0) {
        if (c.system.len)
            er_llm_add(root, "system", cJSON_CreateStringReference(c.system.ptr));
        er_llm_add(root, "messages", c.msgs);
        c.msgs = NULL;
        add_options(root, req);
        s = er_json_print(root);
        *len = strlen(s);
    }
    cJSON_Delete(c.msgs);
    cJSON_Delete(root);
    er_buf_release(&c.system);
    return s;
}

static void set_stop(er_llm_acc *a, const char *reason)
{
    static const char *const map[][2] = {
        { "end_turn", "stop" },
        { "stop_sequence", "stop" },
        { "tool_use", "tool_calls" },
        { "max_tokens", "length" },
    };
    if (!reason)
        return;
    for (size_t i = 0; i < ER_ARRAY_LEN(map); i++)
        if (strcmp(reason, map[i][0]) == 0)
            reason = map[i][1];
    er_llm_acc_set(&a->stop_reason, reason);
}

static void read_usage(er_llm_acc *a, const cJSON *u)
{
    if (!u)
        return;
    /* Anthropic's input_tokens leaves out the cache reads and writes; here
     * input counts them all (llm.h).  A later event (message_delta) may
     * repeat or omit any of the three: what it omits keeps its value. */
    er_llm_usage *us = &a->usage;
    int64_t fresh = us->input_tokens - us->cached_tokens - us->cache_write_tokens;
    fresh = er_json_int(u, "input_tokens", fresh, 0, INT64_MAX);
    us->cached_tokens = er_json_int(u, "cache_read_input_tokens", us->cached_tokens, 0, INT64_MAX);
    us->cache_write_tokens =
        er_json_int(u, "cache_creation_input_tokens", us->cache_write_tokens, 0, INT64_MAX);
    us->input_tokens = fresh + us->cached_tokens + us->cache_write_tokens;
    us->output_tokens = er_json_int(u, "output_tokens", us->output_tokens, 0, INT64_MAX);
}

static int api_error(er_llm_acc *a, const cJSON *j, er_error *err)
{
    const cJSON *e = er_json_obj(j, "error");
    const char *type = e ? er_json_str(e, "type") : NULL;
    const char *msg = e ? er_json_str(e, "message") : NULL;
    int code = er_str_eq(type, "invalid_request_error") ? ER_EINVAL : ER_EUNAVAIL;
    return er_error_set(err, code, "%s reported an error: %s: %s", a->net->provider,
                        type ? type : "error", msg ? msg : "no details given");
}

/* A tool_use block opened (stream) or given whole (buffered answer). */
static int start_tool_use(er_llm_acc *a, int key, const cJSON *b, er_error *err)
{
    er_llm_acc_call *c = er_llm_acc_get_call(a, key, err);
    if (!c)
        return ER_EPROTO;
    int rc = er_llm_acc_append(a, &c->id, er_json_str(b, "id"), err);
    if (!rc)
        rc = er_llm_acc_append(a, &c->name, er_json_str(b, "name"), err);
    const cJSON *input = er_json_obj(b, "input");
    const char *text = er_json_str(b, "input");
    if (!rc && input && input->child) {
        char *s = er_json_print(input);
        rc = er_llm_acc_append(a, &c->args, s, err);
        free(s);
    } else if (!rc && text) {
        /* Some proxies pass the model's text through as a string: what the
         * model produced, to be checked like an OpenAI call's arguments. */
        rc = er_llm_acc_append(a, &c->args, text, err);
    }
    return rc;
}

/* The content block an event is about (checked against the caps later). */
static int block_index(const cJSON *j)
{
    return (int)er_json_int(j, "index", 0, INT_MIN, INT_MAX);
}

static int on_block_start(er_llm_acc *a, const cJSON *j, er_error *err)
{
    const cJSON *b = er_json_obj(j, "content_block");
    const char *type = b ? er_json_str(b, "type") : NULL;
    int key = block_index(j);
    if (er_str_eq(type, "tool_use"))
        return start_tool_use(a, key, b, err);
    const char *text = er_str_eq(type, "text") ? er_json_str(b, "text") : NULL;
    return text ? er_llm_acc_text(a, text, strlen(text), err) : 0;
}

static int on_block_delta(er_llm_acc *a, const cJSON *j, er_error *err)
{
    const cJSON *d = er_json_obj(j, "delta");
    const char *type = d ? er_json_str(d, "type") : NULL;
    if (er_str_eq(type, "text_delta")) {
        const char *text = er_json_str(d, "text");
        return text ? er_llm_acc_text(a, text, strlen(text), err) : 0;
    }
    if (er_str_eq(type, "input_json_delta")) {
        er_llm_acc_call *c = er_llm_acc_get_call(a, block_index(j), err);
        if (!c)
            return ER_EPROTO;
        return er_llm_acc_append(a, &c->args, er_json_str(d, "partial_json"), err);
    }
    return 0; /* thinking and signature deltas are not part of the answer */
}

static int on_event(er_llm_acc *a, const char *event, const cJSON *j, er_error *err)
{
    const char *type = er_json_str(j, "type");
    if (!type)
        type = event;
    if (strcmp(type, "content_block_delta") == 0)
        return on_block_delta(a, j, err);
    if (strcmp(type, "content_block_start") == 0)
        return on_block_start(a, j, err);
    if (strcmp(type, "message_start") == 0) {
        const cJSON *m = er_json_obj(j, "message");
        er_llm_acc_set(&a->model, er_json_str(m, "model"));
        read_usage(a, er_json_obj(m, "usage"));
    } else if (strcmp(type, "message_delta") == 0) {
        set_stop(a, er_json_str(er_json_obj(j, "delta"), "stop_reason"));
        read_usage(a, er_json_obj(j, "usage"));
    } else if (strcmp(type, "message_stop") == 0) {
        a->done = true;
    } else if (strcmp(type, "error") == 0) {
        return api_error(a, j, err);
    }
    return 0; /* ping, content_block_stop, and kinds added later */
}

static int parse_answer(er_llm_acc *a, const cJSON *j, er_error *err)
{
    if (er_str_eq(er_json_str(j, "type"), "error"))
        return api_error(a, j, err);
    const cJSON *content = er_json_arr(j, "content");
    if (!content)
        return er_error_set(err, ER_EPROTO, "%s answer has no content array", a->net->provider);
    er_llm_acc_set(&a->model, er_json_str(j, "model"));
    set_stop(a, er_json_str(j, "stop_reason"));
    read_usage(a, er_json_obj(j, "usage"));
    int key = 0, rc = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, content)
    {
        const char *type = er_json_str(b, "type");
        const char *text = er_str_eq(type, "text") ? er_json_str(b, "text") : NULL;
        if (text)
            rc = er_llm_acc_text(a, text, strlen(text), err);
        else if (er_str_eq(type, "tool_use"))
            rc = start_tool_use(a, key, b, err);
        if (rc)
            return rc;
        key++;
    }
    return 0;
}

const er_llm_wire er_llm_anthropic_wire = {
    .chat_path = "/v1/messages",
    .models_path = "/v1/models",
    .build = build_body,
    .on_event = on_event,
    .parse = parse_answer,
};

static int anthropic_chat(er_llm *llm, const er_llm_request *req, er_llm_response *out,
                          er_error *err)
{
    assert(llm->be == &er_llm_anthropic_backend);
    return er_llm_remote_chat(llm, &er_llm_anthropic_wire, req, out, err);
}

static int anthropic_ping(er_llm *llm, er_error *err)
{
    assert(llm->be == &er_llm_anthropic_backend);
    return er_llm_remote_ping(llm, &er_llm_anthropic_wire, err);
}

static int anthropic_open(er_llm **out, const er_config *cfg, er_error *err)
{
    /* Anthropic's API needs a key; a proxy at ANTHROPIC_BASE_URL may hold it. */
    if ((!cfg || er_str_empty(cfg->anthropic_api_key)) &&
        (!cfg || er_str_empty(cfg->anthropic_base_url) ||
         er_str_starts(cfg->anthropic_base_url, ANTHROPIC_DEFAULT_BASE)))
        return er_error_set(err, ER_EAUTH,
                            "anthropic: ANTHROPIC_API_KEY is not set (or ERRAND_LLM=offline)");
    char *key = NULL;
    if (cfg && !er_str_empty(cfg->anthropic_api_key))
        key = er_xasprintf("x-api-key: %s", cfg->anthropic_api_key);
    const char *extra[] = { "anthropic-version: " ANTHROPIC_VERSION, key, NULL };
    *out = er_llm_remote_open(&er_llm_anthropic_backend, "anthropic", "ANTHROPIC_API_KEY",
                              cfg ? cfg->anthropic_base_url : NULL, ANTHROPIC_DEFAULT_BASE, cfg,
                              extra);
    free(key);
    return 0;
}

const er_llm_backend er_llm_anthropic_backend = {
    .version = ER_LLM_BACKEND_VERSION,
    .name = "anthropic",
    .open = anthropic_open,
    .close = er_llm_remote_close,
    .chat = anthropic_chat,
    .ping = anthropic_ping,
};
