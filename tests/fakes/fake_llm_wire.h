/* fake_llm_wire.h — what fake_llm says, in each provider's wire format: the
 * buffered JSON answers, the SSE event sequences of streamed ones, and error
 * bodies, built from a script turn.  No networking here (fake_llm.c sends);
 * header-only because every tests/fakes/ C file becomes a program. */
#ifndef ERRAND_TEST_FAKE_LLM_WIRE_H
#define ERRAND_TEST_FAKE_LLM_WIRE_H

#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPENAI, ANTHROPIC } proto;

/* What an answer depends on. */
typedef struct reply {
    proto p;
    int n;              /* request number, for ids */
    const char *model;  /* echoed back */
    const cJSON *turn;  /* the script turn, or NULL */
    size_t request_len; /* for the default usage */
    bool include_usage; /* OpenAI stream_options.include_usage */
} reply;

/* The SSE events of a streamed answer, kept apart so that they can be spaced
 * out, cut short or garbled. */
typedef struct events {
    er_buf text;
    size_t ends[4096];
    size_t n;
} events;

static void add(cJSON *o, const char *k, cJSON *v)
{
    er_json_add(o, k, v);
}

static cJSON *obj(void)
{
    return cJSON_CreateObject();
}

static const char *error_type(proto p, int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return p == OPENAI ? "invalid_request_error" : "authentication_error";
    case 403: return "permission_error";
    case 404: return p == OPENAI ? "invalid_request_error" : "not_found_error";
    case 429: return p == OPENAI ? "requests" : "rate_limit_error";
    case 529: return "overloaded_error";
    default: return p == OPENAI ? "server_error" : "api_error";
    }
}

/* An error body in the provider's own format. */
static cJSON *error_body(proto p, int status, const char *msg)
{
    cJSON *e = obj(), *root = obj();
    add(e, "type", cJSON_CreateString(error_type(p, status)));
    add(e, "message", cJSON_CreateString(msg));
    if (p == OPENAI) {
        add(e, "param", cJSON_CreateNull());
        add(e, "code", status == 401 ? cJSON_CreateString("invalid_api_key") : cJSON_CreateNull());
    } else {
        add(root, "type", cJSON_CreateString("error"));
    }
    add(root, "error", e);
    return root;
}

static long turn_num(const reply *x, const char *key, long def)
{
    return x->turn ? (long)er_json_num(x->turn, key, (double)def) : def;
}

static const char *turn_str(const reply *x, const char *key)
{
    return x->turn ? er_json_str(x->turn, key) : NULL;
}

static bool malformed(const reply *x, const char *kind)
{
    return er_str_eq(turn_str(x, "malformed"), kind);
}

/* The answer's end: the turn's "finish_reason" (OpenAI's words: "length",
 * "refusal", …) in the provider's own words, or def. */
static const char *turn_finish(const reply *x, const char *def)
{
    const char *f = turn_str(x, "finish_reason");
    if (!f)
        return def;
    if (x->p == OPENAI)
        return strcmp(f, "refusal") == 0 ? "stop" : f; /* the refusal is in the message */
    return strcmp(f, "length") == 0 ? "max_tokens" : f;
}

/* What the model says: the turn's text, or its refusal (Anthropic: as text). */
static const char *turn_text(const reply *x)
{
    const char *r = turn_str(x, "refusal");
    return r && x->p == ANTHROPIC ? r : turn_str(x, "text");
}

static const cJSON *turn_calls(const reply *x)
{
    return x->turn ? er_json_arr(x->turn, "tool_calls") : NULL;
}

/* Arguments as text: a string as written, an object as its JSON. */
static char *call_args(const cJSON *call)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(call, "arguments");
    if (cJSON_IsString(a))
        return er_xstrdup(a->valuestring);
    return a ? er_json_print(a) : er_xstrdup("{}");
}

static char *call_id(const reply *x, const cJSON *call, int i)
{
    const char *id = er_json_str(call, "id");
    if (id)
        return er_xstrdup(id);
    return er_xasprintf(x->p == OPENAI ? "call_fake_%d_%d" : "toolu_fake_%d_%d", x->n, i);
}

static void usage(const reply *x, long *in, long *out)
{
    size_t produced = strlen(turn_str(x, "text") ? turn_str(x, "text") : "");
    const cJSON *c;
    cJSON_ArrayForEach(c, turn_calls(x))
    {
        char *a = call_args(c);
        produced += strlen(a);
        free(a);
    }
    const cJSON *u = x->turn ? er_json_obj(x->turn, "usage") : NULL;
    *in = (long)er_json_num(u, "input", (double)(x->request_len / 4 + 1));
    *out = (long)er_json_num(u, "output", (double)(produced / 4 + 1));
}

/* Of the input tokens: read from and written to the prompt cache (the
 * turn's usage "cached" and "cache_write"; none by default). */
static void cache_usage(const reply *x, long *cached, long *written)
{
    const cJSON *u = x->turn ? er_json_obj(x->turn, "usage") : NULL;
    *cached = (long)er_json_num(u, "cached", 0);
    *written = (long)er_json_num(u, "cache_write", 0);
}

/* Anthropic's usage: its input_tokens leave out the cache reads and writes,
 * reported beside them. */
static cJSON *anthropic_usage(const reply *x, long in, long out)
{
    long cached, written;
    cache_usage(x, &cached, &written);
    cJSON *u = obj();
    add(u, "input_tokens", cJSON_CreateNumber(in - cached - written));
    add(u, "cache_creation_input_tokens", cJSON_CreateNumber(written));
    add(u, "cache_read_input_tokens", cJSON_CreateNumber(cached));
    add(u, "output_tokens", cJSON_CreateNumber(out));
    return u;
}

/* ---- non-streamed answers ---- */

/* {"prompt_tokens", "completion_tokens", "total_tokens"} of a turn. */
static cJSON *openai_usage(const reply *x)
{
    long in, out;
    usage(x, &in, &out);
    cJSON *u = obj();
    add(u, "prompt_tokens", cJSON_CreateNumber(in));
    add(u, "completion_tokens", cJSON_CreateNumber(out));
    add(u, "total_tokens", cJSON_CreateNumber(in + out));
    long cached, written; /* OpenAI counts cached tokens inside prompt_tokens; no writes */
    cache_usage(x, &cached, &written);
    cJSON *details = obj();
    add(details, "cached_tokens", cJSON_CreateNumber(cached));
    add(u, "prompt_tokens_details", details);
    return u;
}

/* A completion (object "chat.completion") or chunk ("chat.completion.chunk")
 * around one choice holding item under key ("message" or "delta"). */
static cJSON *openai_envelope(const reply *x, const char *object, const char *key, cJSON *item,
                              const char *finish)
{
    cJSON *choice = obj(), *root = obj(), *choices = cJSON_CreateArray();
    add(choice, "index", cJSON_CreateNumber(0));
    add(choice, key, item);
    add(choice, "finish_reason", finish ? cJSON_CreateString(finish) : cJSON_CreateNull());
    er_json_append(choices, choice);
    char id[48];
    snprintf(id, sizeof id, "chatcmpl-fake-%d", x->n);
    add(root, "id", cJSON_CreateString(id));
    add(root, "object", cJSON_CreateString(object));
    add(root, "created", cJSON_CreateNumber(0));
    add(root, "model", cJSON_CreateString(x->model));
    add(root, "choices", choices);
    return root;
}

static cJSON *openai_answer(const reply *x)
{
    const char *text = turn_str(x, "text");
    const cJSON *calls = turn_calls(x);
    cJSON *msg = obj();
    add(msg, "role", cJSON_CreateString("assistant"));
    add(msg, "content", text ? cJSON_CreateString(text) : cJSON_CreateNull());
    if (turn_str(x, "refusal"))
        add(msg, "refusal", cJSON_CreateString(turn_str(x, "refusal")));
    if (calls && cJSON_GetArraySize(calls) > 0) {
        cJSON *arr = cJSON_CreateArray();
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, calls)
        {
            cJSON *fn = obj(), *tc = obj();
            add(fn, "name", cJSON_CreateString(er_json_str(c, "name")));
            char *args = call_args(c), *id = call_id(x, c, i++);
            add(fn, "arguments", cJSON_CreateString(args));
            add(tc, "id", cJSON_CreateString(id));
            add(tc, "type", cJSON_CreateString("function"));
            add(tc, "function", fn);
            er_json_append(arr, tc);
            free(args);
            free(id);
        }
        add(msg, "tool_calls", arr);
    }
    bool tools = calls && cJSON_GetArraySize(calls) > 0;
    cJSON *root = openai_envelope(x, "chat.completion", "message", msg,
                                  turn_finish(x, tools ? "tool_calls" : "stop"));
    add(root, "usage", openai_usage(x));
    return root;
}

static cJSON *tool_input(const cJSON *call)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(call, "arguments");
    if (cJSON_IsObject(a))
        return cJSON_Duplicate(a, 1);
    cJSON *j = cJSON_IsString(a) ? cJSON_Parse(a->valuestring) : NULL;
    if (j)
        return j;
    return a ? cJSON_Duplicate(a, 1) : obj();
}

static cJSON *anthropic_answer(const reply *x)
{
    const char *text = turn_text(x);
    cJSON *content = cJSON_CreateArray();
    if (text) {
        cJSON *b = obj();
        add(b, "type", cJSON_CreateString("text"));
        add(b, "text", cJSON_CreateString(text));
        er_json_append(content, b);
    }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, turn_calls(x))
    {
        cJSON *b = obj();
        char *id = call_id(x, c, i++);
        add(b, "type", cJSON_CreateString("tool_use"));
        add(b, "id", cJSON_CreateString(id));
        add(b, "name", cJSON_CreateString(er_json_str(c, "name")));
        add(b, "input", tool_input(c));
        er_json_append(content, b);
        free(id);
    }
    cJSON *root = obj();
    char id[48];
    snprintf(id, sizeof id, "msg_fake_%d", x->n);
    add(root, "id", cJSON_CreateString(id));
    add(root, "type", cJSON_CreateString("message"));
    add(root, "role", cJSON_CreateString("assistant"));
    add(root, "model", cJSON_CreateString(x->model));
    add(root, "content", content);
    add(root, "stop_reason", cJSON_CreateString(turn_finish(x, i ? "tool_use" : "end_turn")));
    add(root, "stop_sequence", cJSON_CreateNull());
    long in, out;
    usage(x, &in, &out);
    add(root, "usage", anthropic_usage(x, in, out));
    return root;
}

/* Writes the headers and half the body, then closes the connection. */
/* ---- streamed answers ---- */

static void event_add(events *ev, const char *name, cJSON *data)
{
    if (ev->n >= ER_ARRAY_LEN(ev->ends)) {
        cJSON_Delete(data);
        return;
    }
    char *s = data ? er_json_print(data) : er_xstrdup("[DONE]");
    if (name)
        er_buf_printf(&ev->text, "event: %s\n", name);
    er_buf_printf(&ev->text, "data: %s\n\n", s);
    ev->ends[ev->n++] = ev->text.len;
    free(s);
    cJSON_Delete(data);
}

/* Splits s into pieces ending after each run of spaces (words with their
 * trailing blanks); calls fn for each. */
static void each_word(const char *s, void (*fn)(const char *p, size_t n, void *arg), void *arg)
{
    while (*s) {
        size_t n = strcspn(s, " \n");
        n += strspn(s + n, " \n");
        fn(s, n, arg);
        s += n;
    }
}

/* Splits s into three pieces, never inside a UTF-8 sequence. */
static size_t third(const char *s, size_t from, size_t len)
{
    size_t at = from + len / 3;
    while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80)
        at++;
    return at;
}

typedef struct emit_ctx {
    const reply *x;
    events *ev;
    int index;
} emit_ctx;

static cJSON *openai_chunk(const reply *x, cJSON *delta, const char *finish)
{
    return openai_envelope(x, "chat.completion.chunk", "delta", delta, finish);
}

static void openai_word(const char *p, size_t n, void *arg)
{
    emit_ctx *c = arg;
    cJSON *d = obj();
    char *w = er_xstrndup(p, n);
    add(d, turn_str(c->x, "refusal") ? "refusal" : "content", cJSON_CreateString(w));
    free(w);
    event_add(c->ev, NULL, openai_chunk(c->x, d, NULL));
}

static cJSON *openai_call_delta(int index, const char *id, const char *name, const char *args,
                                size_t len)
{
    cJSON *fn = obj(), *tc = obj(), *arr = cJSON_CreateArray(), *d = obj();
    if (name)
        add(fn, "name", cJSON_CreateString(name));
    char *a = er_xstrndup(args, len);
    add(fn, "arguments", cJSON_CreateString(a));
    free(a);
    add(tc, "index", cJSON_CreateNumber(index));
    if (id) {
        add(tc, "id", cJSON_CreateString(id));
        add(tc, "type", cJSON_CreateString("function"));
    }
    add(tc, "function", fn);
    er_json_append(arr, tc);
    add(d, "tool_calls", arr);
    return d;
}

static void openai_stream(const reply *x, events *ev)
{
    cJSON *first = obj();
    add(first, "role", cJSON_CreateString("assistant"));
    add(first, "content", cJSON_CreateString(""));
    event_add(ev, NULL, openai_chunk(x, first, NULL));
    emit_ctx c = { x, ev, 0 };
    const char *said = turn_str(x, "refusal") ? turn_str(x, "refusal") : turn_str(x, "text");
    each_word(said ? said : "", openai_word, &c);
    int i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, turn_calls(x))
    {
        char *args = call_args(call), *id = call_id(x, call, i);
        size_t len = strlen(args), a = third(args, 0, len), b = third(args, a, len);
        event_add(
            ev, NULL,
            openai_chunk(x, openai_call_delta(i, id, er_json_str(call, "name"), args, a), NULL));
        event_add(ev, NULL,
                  openai_chunk(x, openai_call_delta(i, NULL, NULL, args + a, b - a), NULL));
        event_add(ev, NULL,
                  openai_chunk(x, openai_call_delta(i, NULL, NULL, args + b, len - b), NULL));
        free(args);
        free(id);
        i++;
    }
    event_add(ev, NULL, openai_chunk(x, obj(), turn_finish(x, i ? "tool_calls" : "stop")));
    if (x->include_usage) { /* the last chunk: no choices, only usage */
        cJSON *root = openai_chunk(x, obj(), NULL);
        cJSON_ReplaceItemInObject(root, "choices", cJSON_CreateArray());
        add(root, "usage", openai_usage(x));
        event_add(ev, NULL, root);
    }
    event_add(ev, NULL, NULL);
}

static cJSON *typed(const char *type, int index)
{
    cJSON *o = obj();
    add(o, "type", cJSON_CreateString(type));
    if (index >= 0)
        add(o, "index", cJSON_CreateNumber(index));
    return o;
}

static void anthropic_delta(events *ev, int index, const char *type, const char *key, const char *s,
                            size_t n)
{
    cJSON *d = typed(type, -1), *e = typed("content_block_delta", index);
    char *piece = er_xstrndup(s, n);
    add(d, key, cJSON_CreateString(piece));
    free(piece);
    add(e, "delta", d);
    event_add(ev, "content_block_delta", e);
}

static void anthropic_word(const char *p, size_t n, void *arg)
{
    emit_ctx *c = arg;
    anthropic_delta(c->ev, c->index, "text_delta", "text", p, n);
}

static void anthropic_tool(const reply *x, events *ev, const cJSON *call, int index, int i)
{
    cJSON *b = typed("tool_use", -1), *e = typed("content_block_start", index);
    char *id = call_id(x, call, i), *args = call_args(call);
    add(b, "id", cJSON_CreateString(id));
    add(b, "name", cJSON_CreateString(er_json_str(call, "name")));
    add(b, "input", obj());
    add(e, "content_block", b);
    event_add(ev, "content_block_start", e);
    size_t len = strlen(args), a = third(args, 0, len), m = third(args, a, len);
    anthropic_delta(ev, index, "input_json_delta", "partial_json", args, a);
    anthropic_delta(ev, index, "input_json_delta", "partial_json", args + a, m - a);
    anthropic_delta(ev, index, "input_json_delta", "partial_json", args + m, len - m);
    event_add(ev, "content_block_stop", typed("content_block_stop", index));
    free(id);
    free(args);
}

static void anthropic_stream(const reply *x, events *ev)
{
    long in, out;
    usage(x, &in, &out);
    cJSON *msg = typed("message", -1), *start = typed("message_start", -1);
    char id[48];
    snprintf(id, sizeof id, "msg_fake_%d", x->n);
    add(msg, "id", cJSON_CreateString(id));
    add(msg, "role", cJSON_CreateString("assistant"));
    add(msg, "model", cJSON_CreateString(x->model));
    add(msg, "content", cJSON_CreateArray());
    add(msg, "stop_reason", cJSON_CreateNull());
    add(msg, "usage", anthropic_usage(x, in, 1));
    add(start, "message", msg);
    event_add(ev, "message_start", start);
    int index = 0;
    const char *text = turn_text(x);
    if (text) {
        cJSON *b = typed("text", -1), *e = typed("content_block_start", index);
        add(b, "text", cJSON_CreateString(""));
        add(e, "content_block", b);
        event_add(ev, "content_block_start", e);
        event_add(ev, "ping", typed("ping", -1));
        emit_ctx c = { x, ev, index };
        each_word(text, anthropic_word, &c);
        event_add(ev, "content_block_stop", typed("content_block_stop", index++));
    }
    int i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, turn_calls(x)) anthropic_tool(x, ev, call, index++, i++);
    cJSON *d = obj(), *md = typed("message_delta", -1), *u2 = obj();
    add(d, "stop_reason", cJSON_CreateString(turn_finish(x, i ? "tool_use" : "end_turn")));
    add(d, "stop_sequence", cJSON_CreateNull());
    add(u2, "output_tokens", cJSON_CreateNumber(out));
    add(md, "delta", d);
    add(md, "usage", u2);
    event_add(ev, "message_delta", md);
    event_add(ev, "message_stop", typed("message_stop", -1));
}

#endif
