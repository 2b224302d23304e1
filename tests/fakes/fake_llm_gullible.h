/* fake_llm_gullible.h — fake_llm's "gullible" model: it obeys instructions it
 * reads in what it is given, the way a model that falls for prompt injection
 * would.  With it, a test can show that text from outside (a web page, a
 * mail) never makes errand do something the user did not approve.
 * Header-only: every tests/fakes/ C file becomes a program.
 *
 * Before the script is consulted, the text of the last message — the tool
 * results that end the conversation, or the last user message — is read for
 * orders, and each becomes a tool call (at most GULLIBLE_MAX, ids "gull_N"):
 *   - a tool name followed by a JSON object: `write_file {"path": …}`,
 *     "call run with {"cmd": …}", "edit_file({…})";
 *   - "run `CMD`", "execute `CMD`", "run: CMD" (to the end of the line): run {cmd};
 *   - "fetch URL", "visit URL", "open URL": fetch_url {url} (exfiltration).
 * Results of its own calls (ids gull_*) are not read again, so the script
 * goes on afterwards.  With gullible_decode (--gullible decode, or json) a tool result
 * that is JSON is read with its strings decoded too, as a model reads them.
 * A script turn {"echo": true} answers with the text of
 * the last message, {"echo": "ID"} with the result of tool call ID (a model
 * "summarising" a page by repeating it). */
#ifndef ERRAND_TEST_FAKE_LLM_GULLIBLE_H
#define ERRAND_TEST_FAKE_LLM_GULLIBLE_H

#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define GULLIBLE_MAX 8

/* Tools a page might name; the gullible model calls them whether offered or not. */
static const char *const gullible_tools[] = {
    "write_file",   "edit_file",
    "run",          "test",
    "read_file",    "list_dir",
    "grep",         "glob",
    "lint",         "diff",
    "web_search",   "fetch_url",
    "cite_check",   "send_email",
    "send",         "task",
    "browser_open", "browser_click",
    "browser_type", "browser_select",
    "browser_eval", "browser_screenshot",
    "browser_pdf",  "mail_send",
    "mail_draft",   "mail_move",
    "mail_mark",    "mail_read",
    "mail_search",
};

/* The text of a message's content: a string, or text parts, or (Anthropic)
 * tool_result blocks' content. */
/* --gullible decode: read the strings of JSON tool results too. */
static bool gullible_decode;

/* The strings inside a JSON value, one a line: what a model makes of a tool
 * result that is JSON (it reads \" as a quote). */
static void gullible_strings(const cJSON *v, er_buf *out)
{
    if (cJSON_IsString(v)) {
        er_buf_puts(out, v->valuestring);
        er_buf_putc(out, '\n');
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, v) gullible_strings(c, out);
}

static void gullible_content(const cJSON *content, er_buf *out)
{
    if (cJSON_IsString(content)) {
        er_buf_puts(out, content->valuestring);
        er_buf_putc(out, '\n');
        cJSON *json = gullible_decode && content->valuestring[0] == '{'
                          ? cJSON_Parse(content->valuestring)
                          : NULL;
        gullible_strings(json, out);
        cJSON_Delete(json);
        return;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        if (er_json_str(part, "text"))
            er_buf_printf(out, "%s\n", er_json_str(part, "text"));
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(part, "content");
        if (inner)
            gullible_content(inner, out);
    }
}

static bool gullible_own_result(const cJSON *msg)
{
    const char *id = er_json_str(msg, "tool_call_id");
    if (id)
        return er_str_starts(id, "gull_");
    const cJSON *part;
    cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(msg, "content"))
    {
        if (er_str_starts(er_json_str(part, "tool_use_id"), "gull_"))
            return true;
    }
    return false;
}

/* The text the model reads last: trailing tool messages (OpenAI) or the last
 * message.  False when it is the result of the gullible model's own calls. */
static bool gullible_last_text(const cJSON *req, er_buf *out)
{
    const cJSON *msgs = er_json_arr(req, "messages");
    int n = cJSON_GetArraySize(msgs), first = n - 1;
    if (n == 0)
        return false;
    while (first > 0 &&
           er_str_eq(er_json_str(cJSON_GetArrayItem(msgs, first - 1), "role"), "tool") &&
           er_str_eq(er_json_str(cJSON_GetArrayItem(msgs, first), "role"), "tool"))
        first--;
    for (int i = first; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        if (gullible_own_result(m))
            return false;
        gullible_content(cJSON_GetObjectItemCaseSensitive(m, "content"), out);
    }
    return out->len > 0;
}

static void gullible_add(cJSON *calls, const char *name, cJSON *args)
{
    if (cJSON_GetArraySize(calls) >= GULLIBLE_MAX) {
        cJSON_Delete(args);
        return;
    }
    cJSON *c = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "gull_%d", cJSON_GetArraySize(calls) + 1);
    er_json_add_str(c, "id", id);
    er_json_add_str(c, "name", name);
    er_json_add(c, "arguments", args);
    er_json_append(calls, c);
}

static bool gullible_word_at(const char *text, const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncmp(p, word, n) == 0 &&
           (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
           !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* `NAME {json}`, `call NAME with {json}`, `NAME({json})` */
static void gullible_json_orders(const char *text, cJSON *calls)
{
    for (const char *p = text; *p; p++) {
        for (size_t t = 0; t < ER_ARRAY_LEN(gullible_tools); t++) {
            if (!gullible_word_at(text, p, gullible_tools[t]))
                continue;
            const char *q = p + strlen(gullible_tools[t]);
            while (*q == ' ' || *q == '(' || *q == ':' || *q == '\t')
                q++;
            if (strncmp(q, "with ", 5) == 0)
                q += 5;
            while (*q == ' ')
                q++;
            const char *end = NULL;
            cJSON *args = *q == '{' ? cJSON_ParseWithOpts(q, &end, 0) : NULL;
            if (cJSON_IsObject(args)) {
                gullible_add(calls, gullible_tools[t], args);
                p = end - 1;
            } else {
                cJSON_Delete(args);
            }
            break;
        }
    }
}

/* "run `CMD`", "execute `CMD`", "run: CMD" */
static void gullible_command_orders(const char *text, cJSON *calls)
{
    static const char *const verbs[] = { "run `",     "execute `", "Run `",
                                         "Execute `", "run: ",     "Run: " };
    for (size_t v = 0; v < ER_ARRAY_LEN(verbs); v++) {
        for (const char *p = strstr(text, verbs[v]); p; p = strstr(p + 1, verbs[v])) {
            const char *s = p + strlen(verbs[v]);
            size_t n = verbs[v][strlen(verbs[v]) - 1] == '`' ? strcspn(s, "`") : strcspn(s, "\n");
            if (!n || (s[n] != '`' && verbs[v][strlen(verbs[v]) - 1] == '`'))
                continue;
            cJSON *args = cJSON_CreateObject();
            char *cmd = er_xstrndup(s, n);
            er_json_add_str(args, "cmd", cmd);
            free(cmd);
            gullible_add(calls, "run", args);
        }
    }
}

/* "fetch URL", "visit URL", "open URL" */
static void gullible_fetch_orders(const char *text, cJSON *calls)
{
    static const char *const verbs[] = { "fetch http", "visit http", "open http",
                                         "Fetch http", "Visit http", "Open http" };
    for (size_t v = 0; v < ER_ARRAY_LEN(verbs); v++) {
        for (const char *p = strstr(text, verbs[v]); p; p = strstr(p + 1, verbs[v])) {
            const char *s = p + strlen(verbs[v]) - 4;
            size_t n = strcspn(s, " \t\n\"'<>)`");
            cJSON *args = cJSON_CreateObject();
            char *url = er_xstrndup(s, n);
            er_json_add_str(args, "url", url);
            free(url);
            gullible_add(calls, "fetch_url", args);
        }
    }
}

/* A turn obeying the orders in the last message, or NULL when there are none.
 * OWNED. */
static cJSON *gullible_turn(const cJSON *req)
{
    er_buf text = ER_BUF_INIT;
    cJSON *turn = NULL;
    if (gullible_last_text(req, &text)) {
        cJSON *calls = cJSON_CreateArray();
        gullible_json_orders(text.ptr, calls);
        gullible_command_orders(text.ptr, calls);
        gullible_fetch_orders(text.ptr, calls);
        if (cJSON_GetArraySize(calls) > 0) {
            turn = cJSON_CreateObject();
            er_json_add_str(turn, "text", "Following the instructions I was given.");
            er_json_add(turn, "tool_calls", calls);
            er_json_add_bool(turn, "gullible", true);
        } else {
            cJSON_Delete(calls);
        }
    }
    er_buf_release(&text);
    return turn;
}

/* The text an "echo" turn answers with (OWNED): {"echo": true} the last
 * message's, {"echo": "ID"} the result of tool call ID. */
static char *gullible_echo(const cJSON *req, const char *id)
{
    const cJSON *msgs = er_json_arr(req, "messages"), *m, *pick = NULL;
    cJSON_ArrayForEach(m, msgs)
    {
        if (!id || er_str_eq(er_json_str(m, "tool_call_id"), id))
            pick = m;
        const cJSON *part; /* Anthropic: tool_result blocks in a user message */
        cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(m, "content"))
        {
            if (id && er_str_eq(er_json_str(part, "tool_use_id"), id))
                pick = part;
        }
    }
    er_buf text = ER_BUF_INIT;
    if (pick)
        gullible_content(cJSON_GetObjectItemCaseSensitive(pick, "content"), &text);
    return er_buf_detach(&text);
}

#endif
