/* server.c — the JSON-RPC methods of errand as an MCP server, shared by its
 * transports (mcp_server.h). */
#include "errand/mcp_server.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The handshake revisions a client may ask for in initialize, newest first. */
static const char *const legacy_versions[] = { ER_MCP_LEGACY_VERSION, "2025-06-18", "2025-03-26" };

static cJSON *answer(const cJSON *id, cJSON *result)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "jsonrpc", "2.0");
    er_json_add(m, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
    er_json_add(m, "result", result);
    return m;
}

cJSON *er_mcp_server_error(const cJSON *id, int code, const char *message)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_str(m, "jsonrpc", "2.0");
    er_json_add(m, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
    cJSON *e = cJSON_CreateObject();
    er_json_add_num(e, "code", code);
    er_json_add_str(e, "message", message);
    er_json_add(m, "error", e);
    return m;
}

static cJSON *server_info(void)
{
    cJSON *i = cJSON_CreateObject();
    er_json_add_str(i, "name", "errand");
    er_json_add_str(i, "version", ER_VERSION);
    return i;
}

static cJSON *capabilities(const er_mcp_host *h)
{
    cJSON *c = cJSON_CreateObject();
    er_json_add(c, "tools", cJSON_CreateObject());
    if (h->resources && h->read)
        er_json_add(c, "resources", cJSON_CreateObject());
    return c;
}

static const char instructions[] =
    "Each tool hands a request to one of errand's agents (route: errand picks the agent) and "
    "answers with the agent's final answer.";

static cJSON *on_initialize(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    const char *asked = er_json_str(params, "protocolVersion");
    const char *v = legacy_versions[0];
    for (size_t i = 0; i < ER_ARRAY_LEN(legacy_versions); i++)
        if (er_str_eq(asked, legacy_versions[i]))
            v = legacy_versions[i];
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "protocolVersion", v);
    er_json_add(r, "capabilities", capabilities(h));
    er_json_add(r, "serverInfo", server_info());
    er_json_add_str(r, "instructions", instructions);
    return answer(id, r);
}

static cJSON *on_discover(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    (void)params;
    cJSON *r = cJSON_CreateObject();
    cJSON *vs = cJSON_CreateArray();
    er_json_append(vs, cJSON_CreateString(ER_MCP_VERSION));
    for (size_t i = 0; i < ER_ARRAY_LEN(legacy_versions); i++)
        er_json_append(vs, cJSON_CreateString(legacy_versions[i]));
    er_json_add(r, "supportedVersions", vs);
    er_json_add(r, "capabilities", capabilities(h));
    er_json_add(r, "serverInfo", server_info());
    er_json_add_str(r, "instructions", instructions);
    return answer(id, r);
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

static cJSON *on_tools_list(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    (void)h;
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
    return answer(id, r);
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

static cJSON *on_tools_call(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    const char *name = er_json_str(params, "name");
    const char *agent = tool_agent(name);
    const char *request = er_json_str(er_json_obj(params, "arguments"), "request");
    char why[200];
    if (!agent) {
        snprintf(why, sizeof why, "Unknown tool: %.100s (see tools/list)", name ? name : "");
        return er_mcp_server_error(id, ER_MCP_INVALID_PARAMS, why);
    }
    if (er_str_empty(request))
        return er_mcp_server_error(id, ER_MCP_INVALID_PARAMS,
                                   "arguments.request is missing: say what to do");
    char *text = NULL;
    bool failed = false;
    er_error err = { 0 };
    int rc = h->ask(h->ctx, *agent ? agent : NULL, request, &text, &failed, &err);
    char *msg = rc ? er_xasprintf("errand could not run the request: %s", err.msg) : text;
    cJSON *r = cJSON_CreateObject();
    cJSON *content = cJSON_CreateArray();
    cJSON *part = cJSON_CreateObject();
    er_json_add_str(part, "type", "text");
    er_json_add_str(part, "text", msg ? msg : "");
    er_json_append(content, part);
    er_json_add(r, "content", content);
    er_json_add_bool(r, "isError", rc != 0 || failed);
    free(msg);
    return answer(id, r);
}

static cJSON *on_resources_list(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    (void)params;
    cJSON *list = NULL;
    er_error err = { 0 };
    if (h->resources(h->ctx, &list, &err))
        return er_mcp_server_error(id, ER_MCP_INTERNAL_ERROR, err.msg);
    cJSON *r = cJSON_CreateObject();
    er_json_add(r, "resources", list);
    return answer(id, r);
}

static cJSON *on_templates_list(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    (void)h;
    (void)params;
    cJSON *r = cJSON_CreateObject();
    er_json_add(r, "resourceTemplates", cJSON_CreateArray());
    return answer(id, r);
}

static cJSON *on_resources_read(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    const char *uri = er_json_str(params, "uri");
    if (er_str_empty(uri))
        return er_mcp_server_error(id, ER_MCP_INVALID_PARAMS, "params.uri is missing");
    char *text = NULL;
    const char *mime = NULL;
    er_error err = { 0 };
    int rc = h->read(h->ctx, uri, &text, &mime, &err);
    if (rc == ER_ENOTFOUND || rc == ER_EINVAL) {
        char why[300];
        snprintf(why, sizeof why, "Resource not found: %.200s", uri);
        return er_mcp_server_error(id, ER_MCP_NOT_FOUND, why);
    }
    if (rc)
        return er_mcp_server_error(id, ER_MCP_INTERNAL_ERROR, err.msg);
    cJSON *part = cJSON_CreateObject();
    er_json_add_str(part, "uri", uri);
    er_json_add_str(part, "mimeType", mime);
    er_json_add_str(part, "text", text);
    free(text);
    cJSON *contents = cJSON_CreateArray();
    er_json_append(contents, part);
    cJSON *r = cJSON_CreateObject();
    er_json_add(r, "contents", contents);
    return answer(id, r);
}

static cJSON *on_ping(const er_mcp_host *h, const cJSON *id, const cJSON *params)
{
    (void)h;
    (void)params;
    return answer(id, cJSON_CreateObject());
}

static const struct {
    const char *method;
    cJSON *(*fn)(const er_mcp_host *h, const cJSON *id, const cJSON *params);
    bool resources; /* only when the host has resources */
} methods[] = {
    { "initialize", on_initialize, false },
    { "server/discover", on_discover, false },
    { "ping", on_ping, false },
    { "tools/list", on_tools_list, false },
    { "tools/call", on_tools_call, false },
    { "resources/list", on_resources_list, true },
    { "resources/templates/list", on_templates_list, true },
    { "resources/read", on_resources_read, true },
};

cJSON *er_mcp_server_handle(const er_mcp_host *h, const cJSON *msg)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const char *method = er_json_str(msg, "method");
    if (!cJSON_IsObject(msg) || !method) {
        /* An answer to us (we send no requests) or junk: junk gets an error. */
        if (cJSON_IsObject(msg) &&
            (cJSON_HasObjectItem(msg, "result") || cJSON_HasObjectItem(msg, "error")))
            return NULL;
        return er_mcp_server_error(cJSON_IsObject(msg) ? id : NULL, ER_MCP_INVALID_REQUEST,
                                   "Invalid Request: no method");
    }
    if (!id)
        return NULL; /* notifications (initialized, cancelled): nothing to answer */
    if (!cJSON_IsString(id) && !cJSON_IsNumber(id))
        return er_mcp_server_error(NULL, ER_MCP_INVALID_REQUEST,
                                   "Invalid Request: id must be a string or a number");
    const cJSON *params = er_json_obj(msg, "params");
    for (size_t i = 0; i < ER_ARRAY_LEN(methods); i++)
        if (strcmp(methods[i].method, method) == 0 &&
            (!methods[i].resources || (h->resources && h->read)))
            return methods[i].fn(h, id, params);
    char why[160];
    snprintf(why, sizeof why, "Method not found: %.100s", method);
    return er_mcp_server_error(id, ER_MCP_METHOD_NOT_FOUND, why);
}

cJSON *er_mcp_server_handle_text(const er_mcp_host *h, const char *text, size_t len)
{
    cJSON *msg = NULL;
    er_error err = { 0 };
    if (er_json_parse(&msg, text, len, &err))
        return er_mcp_server_error(NULL, ER_MCP_PARSE_ERROR, "Parse error: not JSON");
    cJSON *out = er_mcp_server_handle(h, msg);
    cJSON_Delete(msg);
    return out;
}
