/* mcp_serve.c — `errand mcp serve`: errand as an MCP server on stdio, so other
 * MCP clients can hand requests to its agents.
 *
 * One JSON-RPC message a line on stdin, one answer a line on stdout; both
 * eras of the protocol the client side speaks (mcp.h): the initialize
 * handshake and the stateless server/discover.  The tools are ask_AGENT for
 * every agent and `route` (the supervisor picks); a call runs as a task like
 * `errand ask`, under the same policy: with no terminal to ask on, a tool call
 * that needs approval is refused unless `errand --yes mcp serve`.  Calls are
 * answered one at a time, in order. */
#include "cli.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES (4u * 1024 * 1024) /* one message at most */

/* The handshake revisions a client may ask for in initialize, newest first. */
static const char *const legacy_versions[] = { ER_MCP_LEGACY_VERSION, "2025-06-18", "2025-03-26" };

typedef struct server {
    cli *c;
    FILE *out; /* the protocol's stdout; fd 1 itself points at stderr */
} server;

static void send_msg(server *s, cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    fprintf(s->out, "%s\n", text);
    fflush(s->out);
    free(text);
    cJSON_Delete(msg);
}

static void reply(server *s, const cJSON *id, cJSON *result)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "jsonrpc", "2.0");
    er_json_add(m, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
    er_json_add(m, "result", result);
    send_msg(s, m);
}

static void reply_error(server *s, const cJSON *id, int code, const char *text)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "jsonrpc", "2.0");
    er_json_add(m, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
    cJSON *e = cJSON_CreateObject();
    er_json_add_num(e, "code", code);
    er_json_add_str(e, "message", text);
    er_json_add(m, "error", e);
    send_msg(s, m);
}

static cJSON *server_info(void)
{
    cJSON *i = cJSON_CreateObject();
    er_json_add_str(i, "name", "errand");
    er_json_add_str(i, "version", ER_VERSION);
    return i;
}

static cJSON *capabilities(void)
{
    cJSON *c = cJSON_CreateObject();
    er_json_add(c, "tools", cJSON_CreateObject());
    return c;
}

static void on_initialize(server *s, const cJSON *id, const cJSON *params)
{
    const char *asked = er_json_str(params, "protocolVersion");
    const char *v = legacy_versions[0];
    for (size_t i = 0; i < ER_ARRAY_LEN(legacy_versions); i++)
        if (er_str_eq(asked, legacy_versions[i]))
            v = legacy_versions[i];
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "protocolVersion", v);
    er_json_add(r, "capabilities", capabilities());
    er_json_add(r, "serverInfo", server_info());
    er_json_add_str(r, "instructions",
                    "Each tool hands a request to one of errand's agents (route: errand "
                    "picks the agent) and answers with the agent's final answer.");
    reply(s, id, r);
}

static void on_discover(server *s, const cJSON *id, const cJSON *params)
{
    (void)params;
    cJSON *r = cJSON_CreateObject();
    cJSON *vs = cJSON_CreateArray();
    er_json_append(vs, cJSON_CreateString(ER_MCP_VERSION));
    for (size_t i = 0; i < ER_ARRAY_LEN(legacy_versions); i++)
        er_json_append(vs, cJSON_CreateString(legacy_versions[i]));
    er_json_add(r, "supportedVersions", vs);
    er_json_add(r, "capabilities", capabilities());
    er_json_add(r, "serverInfo", server_info());
    reply(s, id, r);
}

static cJSON *tool_def(const char *name, const char *description)
{
    cJSON *t = cJSON_CreateObject();
    er_json_add_str(t, "name", name);
    er_json_add_str(t, "description", description);
    cJSON *schema =
        cJSON_Parse("{\"type\":\"object\",\"properties\":{\"request\":{\"type\":\"string\","
                    "\"description\":\"What to do, in plain words\"}},\"required\":[\"request\"]}");
    er_json_add(t, "inputSchema", schema);
    return t;
}

static void on_tools_list(server *s, const cJSON *id, const cJSON *params)
{
    (void)params;
    cJSON *tools = cJSON_CreateArray();
    er_json_append(tools, tool_def("route", "Ask errand: its supervisor picks the agent"));
    for (size_t i = 0; er_agents[i]; i++) {
        char *name = er_xasprintf("ask_%s", er_agents[i]->name);
        char *desc = er_xasprintf("Ask errand's %s agent: %s", er_agents[i]->name,
                                  er_agents[i]->description);
        er_json_append(tools, tool_def(name, desc));
        free(name);
        free(desc);
    }
    cJSON *r = cJSON_CreateObject();
    er_json_add(r, "tools", tools);
    reply(s, id, r);
}

/* The agent a tool name stands for: "" for route; NULL when none. */
static const char *tool_agent(const char *name)
{
    if (er_str_eq(name, "route"))
        return "";
    if (!name || !er_str_starts(name, "ask_"))
        return NULL;
    const er_agent_def *a = er_agent_find(name + 4);
    return a ? a->name : NULL;
}

static void on_tools_call(server *s, const cJSON *id, const cJSON *params)
{
    const char *name = er_json_str(params, "name");
    const char *agent = tool_agent(name);
    const char *request = er_json_str(er_json_obj(params, "arguments"), "request");
    char why[200];
    if (!agent) {
        snprintf(why, sizeof why, "Unknown tool: %.100s (see tools/list)", name ? name : "");
        reply_error(s, id, -32602, why);
        return;
    }
    if (er_str_empty(request)) {
        reply_error(s, id, -32602, "arguments.request is missing: say what to do");
        return;
    }
    er_submit sub = { .request = request,
                      .agent = *agent ? agent : NULL,
                      .approve_all = cli_flag(&s->c->global, "yes") };
    cli_view v = { 0 }; /* no terminal: approvals go by the policy and --yes */
    cli_outcome o;
    er_error err = { 0 };
    int rc = cli_run_request(s->c, &sub, &v, &o, &err);
    cJSON *r = cJSON_CreateObject();
    cJSON *content = cJSON_CreateArray();
    cJSON *text = cJSON_CreateObject();
    er_json_add_str(text, "type", "text");
    bool ok = rc == 0 && o.status == ER_TASK_DONE;
    char *msg = rc   ? er_xasprintf("errand could not run the request: %s", err.msg)
                : ok ? er_xstrdup(o.answer ? o.answer : "")
                     : er_xasprintf("task %s %s: %s", o.task_id, er_task_status_name(o.status),
                                    o.error ? o.error : "no reason given");
    er_json_add_str(text, "text", msg);
    free(msg);
    er_json_append(content, text);
    er_json_add(r, "content", content);
    er_json_add_bool(r, "isError", !ok);
    cli_outcome_release(&o);
    reply(s, id, r);
}

static const struct {
    const char *method;
    void (*fn)(server *s, const cJSON *id, const cJSON *params);
} methods[] = {
    { "initialize", on_initialize },
    { "server/discover", on_discover },
    { "tools/list", on_tools_list },
    { "tools/call", on_tools_call },
};

static void handle(server *s, const char *line, size_t len)
{
    cJSON *msg = cJSON_ParseWithLength(line, len);
    if (!msg) {
        reply_error(s, NULL, -32700, "Parse error: not JSON");
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const char *method = er_json_str(msg, "method");
    const cJSON *params = er_json_obj(msg, "params");
    if (!cJSON_IsObject(msg) || !method) {
        /* An answer to us (we send no requests) or junk: junk gets an error. */
        if (!cJSON_IsObject(msg) || !cJSON_HasObjectItem(msg, "result"))
            reply_error(s, id, -32600, "Invalid Request: no method");
    } else if (!id) {
        /* Notifications (initialized, cancelled): nothing to answer. */
    } else if (er_str_eq(method, "ping")) {
        reply(s, id, cJSON_CreateObject());
    } else {
        size_t i = 0;
        while (i < ER_ARRAY_LEN(methods) && strcmp(methods[i].method, method) != 0)
            i++;
        if (i < ER_ARRAY_LEN(methods)) {
            methods[i].fn(s, id, params);
        } else {
            char why[160];
            snprintf(why, sizeof why, "Method not found: %.100s", method);
            reply_error(s, id, -32601, why);
        }
    }
    cJSON_Delete(msg);
}

/* One line of stdin into b (capped at LINE_MAX_BYTES: *too_big, the rest of
 * the line read and dropped, so a huge message costs no more memory than
 * that).  false at the end of input. */
static bool read_line(er_buf *b, bool *too_big)
{
    er_buf_reset(b);
    *too_big = false;
    char chunk[8192];
    bool any = false;
    while (fgets(chunk, sizeof chunk, stdin)) {
        any = true;
        size_t n = strlen(chunk);
        if (!*too_big && er_buf_append(b, chunk, n) != 0)
            *too_big = true;
        if (n && chunk[n - 1] == '\n')
            return true;
    }
    return any;
}

int cli_mcp_serve(cli *c)
{
    er_error err = { 0 };
    if (cli_env(c, &err))
        return cli_fail(&err);
    /* stdout is the protocol's: whatever else would print there goes to stderr. */
    int fd = dup(STDOUT_FILENO);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        er_error_set(&err, ER_EIO, "cannot set up stdout for the MCP server");
        return cli_fail(&err);
    }
    server s = { c, out };
    er_buf line;
    er_buf_init(&line, LINE_MAX_BYTES);
    bool too_big;
    while (read_line(&line, &too_big)) {
        size_t n = line.len;
        while (n > 0 && (line.ptr[n - 1] == '\n' || line.ptr[n - 1] == '\r'))
            n--;
        if (too_big)
            reply_error(&s, NULL, -32600, "Invalid Request: the message is over 4 MB");
        else if (n > 0)
            handle(&s, line.ptr, n);
    }
    er_buf_release(&line);
    fclose(out);
    return EXIT_DONE;
}
