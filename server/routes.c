/* routes.c — the route table: every path the server answers, its handler,
 * what it needs (auth, admin, a JSON body), and its documentation.
 *
 * The router (http.c), the request metrics and rate limits (by name), the
 * OpenAPI document (openapi.c) and `errand serve --routes` all read this one
 * table, so the API and its description cannot drift apart. */
#include "server.h"

#include <stdio.h>

#define MAX_MESSAGE (64 * 1024)

static const srv_field chat_body[] = {
    { "message", SRV_T_STRING, true, MAX_MESSAGE, "What to ask; the supervisor routes it" },
    { "conversation_id", SRV_T_STRING, false, 64,
      "Continue this conversation (default: a new one)" },
    { "agent", SRV_T_STRING, false, 32, "Send to this agent, skipping routing" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field api_token_body[] = {
    { "api_token", SRV_T_STRING, true, 128, "An API token from `errand user token`" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field refresh_body[] = {
    { "refresh_token", SRV_T_STRING, true, 128, "The refresh token of the last token pair" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field task_query[] = {
    { "status", SRV_T_STRING, false, 16, "queued, routed, running, done, failed or cancelled" },
    { "conversation_id", SRV_T_STRING, false, 64, "Only tasks of this conversation" },
    { "user_id", SRV_T_STRING, false, 64, "Admins: only tasks of this user" },
    { "limit", SRV_T_INT, false, 500, "At most this many, newest first (default 50)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field conv_query[] = {
    { "user_id", SRV_T_STRING, false, 64, "Admins: only conversations of this user" },
    { "limit", SRV_T_INT, false, 500,
      "At most this many, most recently active first (default 50)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field usage_query[] = {
    { "by", SRV_T_STRING, false, 16,
      "Sum per day, model, agent or conversation (admins: also user); default: per day, model "
      "and agent" },
    { "from", SRV_T_STRING, false, 10, "Only from this UTC day on (YYYY-MM-DD)" },
    { "to", SRV_T_STRING, false, 10, "Only up to this UTC day, included (YYYY-MM-DD)" },
    { "conversation_id", SRV_T_STRING, false, 64, "Only the requests of this conversation" },
    { "user_id", SRV_T_STRING, false, 64, "Admins: only this user's requests (default: all)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field memory_query[] = {
    { "q", SRV_T_STRING, false, 1000,
      "Search: full text and meaning fused, best first (default: list, newest first)" },
    { "kind", SRV_T_STRING, false, 32, "Only this kind: fact, preference, summary or chunk" },
    { "scope", SRV_T_STRING, false, 32, "Only this scope: user, conversation, agent or global" },
    { "limit", SRV_T_INT, false, 500, "At most this many (default 50)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field memory_body[] = {
    { "text", SRV_T_STRING, true, 64 * 1024,
      "What to remember; the same text in the same place updates it" },
    { "kind", SRV_T_STRING, false, 32, "fact (default), preference, summary or chunk" },
    { "scope", SRV_T_STRING, false, 32,
      "user (default), conversation, agent or global (default for shared)" },
    { "scope_id", SRV_T_STRING, false, 64, "The conversation id or agent name of the scope" },
    { "source", SRV_T_STRING, false, 2048, "Where it comes from: a task id, URL, message id" },
    { "untrusted", SRV_T_BOOL, false, 0, "It came from outside content: data, never orders" },
    { "shared", SRV_T_BOOL, false, 0, "Admins: every user sees it" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field login_query[] = {
    { "login_hint", SRV_T_STRING, false, 256, "Passed on to the provider" },
    { NULL, 0, false, 0, NULL },
};
static const srv_field callback_query[] = {
    { "code", SRV_T_STRING, true, 2048, "Authorization code from the provider" },
    { "state", SRV_T_STRING, true, 128, "The state of the login being finished" },
    { "error", SRV_T_STRING, false, 256, "Set by the provider when the login failed" },
    { NULL, 0, false, 0, NULL },
};

#define R_END         \
    {                 \
        0, NULL, NULL \
    }
#define R_AUTH                                                    \
    { 401, "Missing, invalid or expired bearer token", "Error" }, \
    {                                                             \
        429, "Rate limited; see Retry-After", "Error"             \
    }

static const srv_resp_doc health_resp[] = { { 200, "The process is up", "Health" }, R_END };
static const srv_resp_doc ready_resp[] = { { 200, "Store, bus and cache are reachable", "Ready" },
                                           { 503, "A backend is unreachable", "Ready" },
                                           R_END };
static const srv_resp_doc metrics_resp[] = { { 200, "Prometheus text format", NULL },
                                             { 401, "server.metrics_token is set and was not sent",
                                               "Error" },
                                             R_END };
static const srv_resp_doc openapi_resp[] = { { 200, "This document", NULL }, R_END };
static const srv_resp_doc chat_resp[] = {
    { 202, "The task is queued; follow it with GET /api/v1/tasks/{id} or the WebSocket",
      "ChatAccepted" },
    { 400, "Malformed body, or an unknown agent", "Error" },
    { 401, "Missing, invalid or expired bearer token", "Error" },
    { 429,
      "Rate limited (see Retry-After), or the user has server.max_tasks_per_user tasks "
      "not ended",
      "Error" },
    { 404, "No such conversation", "Error" },
    { 413, "Body over server.max_body", "Error" },
    { 415, "Body is not application/json", "Error" },
    { 503, "A backend is unavailable", "Error" },
    R_END
};
static const srv_resp_doc tasks_resp[] = { { 200, "Top-level tasks, newest first", "TaskList" },
                                           { 400, "A query parameter is out of range", "Error" },
                                           R_AUTH,
                                           R_END };
static const srv_resp_doc task_resp[] = { { 200, "The task with its steps and subtasks",
                                            "TaskDetail" },
                                          R_AUTH,
                                          { 404, "No such task (or not yours)", "Error" },
                                          R_END };
static const srv_resp_doc cancel_resp[] = { { 200, "The task, now cancelled", "Task" },
                                            R_AUTH,
                                            { 404, "No such task (or not yours)", "Error" },
                                            { 409, "The task has already ended", "Error" },
                                            R_END };
static const srv_resp_doc convs_resp[] = { { 200, "Conversations, most recently active first",
                                             "ConversationList" },
                                           { 400, "A query parameter is out of range", "Error" },
                                           R_AUTH,
                                           R_END };
static const srv_resp_doc conv_resp[] = { { 200, "The conversation and its messages",
                                            "ConversationDetail" },
                                          R_AUTH,
                                          { 404, "No such conversation (or not yours)", "Error" },
                                          R_END };
static const srv_resp_doc usage_resp[] = {
    { 200, "The requests' tokens, time and cost, summed", "UsageReport" },
    { 400, "An unknown grouping or a bad day", "Error" },
    R_AUTH,
    { 403, "by=user or another user's user_id: admins only", "Error" },
    R_END
};
static const srv_resp_doc memories_resp[] = {
    { 200, "Your memories and the shared ones (with a score when searched)", "MemoryList" },
    { 400, "A query parameter is out of range", "Error" },
    R_AUTH,
    R_END
};
static const srv_resp_doc memory_add_resp[] = { { 200, "The same text was there: updated",
                                                  "Memory" },
                                                { 201, "Saved", "Memory" },
                                                { 400, "Malformed body or a bad scope", "Error" },
                                                R_AUTH,
                                                { 403, "shared: admins only", "Error" },
                                                { 413, "Body over server.max_body", "Error" },
                                                { 415, "Body is not application/json", "Error" },
                                                R_END };
static const srv_resp_doc memory_resp[] = { { 200, "The memory", "Memory" },
                                            R_AUTH,
                                            { 404, "No such memory (or not yours)", "Error" },
                                            R_END };
static const srv_resp_doc memory_forget_resp[] = { { 200, "Forgotten", "Forgotten" },
                                                   R_AUTH,
                                                   { 403, "A shared memory: admins only", "Error" },
                                                   { 404, "No such memory (or not yours)",
                                                     "Error" },
                                                   R_END };
static const srv_field graph_query[] = {
    { "q", SRV_T_STRING, false, 512,
      "Entities whose name or another of their names contains this (default: all)" },
    { "limit", SRV_T_INT, false, 100,
      "At most this many entities, the most related first (default 30)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_resp_doc graph_resp[] = {
    { 200, "The entities found and the relations touching them", "MemoryGraph" },
    { 400, "A query parameter is out of range", "Error" },
    R_AUTH,
    R_END
};
static const srv_field entity_query[] = {
    { "depth", SRV_T_INT, false, 4, "Relations within this many steps (1 to 4, default 1)" },
    { NULL, 0, false, 0, NULL },
};
static const srv_resp_doc entity_resp[] = { { 200, "The entity, its names and its relations",
                                              "MemoryEntity" },
                                            { 400, "A query parameter is out of range", "Error" },
                                            R_AUTH,
                                            { 404, "No such entity (or not yours)", "Error" },
                                            R_END };
static const srv_field file_query[] = {
    { "path", SRV_T_STRING, true, 1000,
      "The image's path in your workspace (PNG, JPEG, GIF or WebP), relative to it" },
    { NULL, 0, false, 0, NULL },
};
static const srv_resp_doc file_resp[] = { { 200, "The image's bytes, with its image type", NULL },
                                          { 400, "No path", "Error" },
                                          R_AUTH,
                                          { 404, "No such image in your workspace (or outside it)",
                                            "Error" },
                                          { 413, "Larger than 16 MB", "Error" },
                                          { 415, "Not a PNG, JPEG, GIF or WebP name", "Error" },
                                          R_END };
static const srv_resp_doc agents_resp[] = {
    { 200, "Every agent, its subagents, tools and live status", "AgentList" }, R_AUTH, R_END
};
static const srv_resp_doc config_get_resp[] = {
    { 200, "The agent's stored configuration ({} when none)", "AgentConfig" },
    R_AUTH,
    { 404, "No such agent", "Error" },
    R_END
};
static const srv_resp_doc config_put_resp[] = { { 200, "Stored", "AgentConfig" },
                                                { 400, "The body is not a JSON object", "Error" },
                                                R_AUTH,
                                                { 403, "Admins only", "Error" },
                                                { 404, "No such agent", "Error" },
                                                { 413, "Body over server.max_body", "Error" },
                                                { 415, "Body is not application/json", "Error" },
                                                R_END };
static const srv_resp_doc token_resp[] = {
    { 200, "An access token and a refresh token", "TokenPair" },
    { 400, "Malformed body", "Error" },
    { 401, "The token is unknown, revoked, expired or already used", "Error" },
    { 413, "Body over server.max_body", "Error" },
    { 415, "Body is not application/json", "Error" },
    { 429, "Rate limited; see Retry-After", "Error" },
    R_END
};
static const srv_resp_doc logout_resp[] = {
    { 204, "The session's refresh tokens are revoked", NULL },
    { 400, "Malformed body", "Error" },
    { 401, "The refresh token is unknown, expired or already used", "Error" },
    { 413, "Body over server.max_body", "Error" },
    { 415, "Body is not application/json", "Error" },
    { 429, "Rate limited; see Retry-After", "Error" },
    R_END
};
static const srv_resp_doc me_resp[] = { { 200, "The caller", "User" }, R_AUTH, R_END };
static const srv_resp_doc login_resp[] = {
    { 302, "Redirect to the provider's login page", NULL },
    { 404, "OpenID Connect login is not configured", "Error" },
    { 429, "Rate limited; see Retry-After", "Error" },
    { 502, "The provider's discovery document could not be read", "Error" },
    R_END
};
static const srv_resp_doc callback_resp[] = {
    { 200, "Logged in: an access token and a refresh token", "TokenPair" },
    { 302,
      "Logged in, and the request is a browser's navigation (Sec-Fetch-Mode: navigate): "
      "to the web interface, with the session's refresh token in the fragment "
      "(/#/oidc/TOKEN), which the page spends at once",
      NULL },
    { 400, "Missing or unknown state or code", "Error" },
    { 401, "The provider refused the login or its ID token is invalid", "Error" },
    { 404, "OpenID Connect login is not configured", "Error" },
    { 429, "Rate limited; see Retry-After", "Error" },
    { 502, "The provider could not be reached or answered garbage", "Error" },
    R_END
};
static const srv_resp_doc openai_chat_resp[] = {
    { 200,
      "A chat.completion, or with stream=true an event stream of chat.completion.chunk "
      "objects ending in data: [DONE]",
      NULL },
    { 400, "Malformed body: model, messages or stream", "Error" },
    R_AUTH,
    { 404, "No such model (an agent's name, or errand)", "Error" },
    { 413, "Body over server.max_body", "Error" },
    { 415, "Body is not application/json", "Error" },
    { 502, "The task failed or was cancelled", "Error" },
    { 504, "The task did not end in time", "Error" },
    R_END
};
static const srv_resp_doc openai_models_resp[] = {
    { 200, "The models: errand (routed by the supervisor) and every agent", NULL }, R_AUTH, R_END
};
static const srv_resp_doc mcp_resp[] = {
    { 200,
      "The JSON-RPC answer: one JSON object, or for a tools/call whose client accepts "
      "text/event-stream an event stream carrying it; an initialize answer carries Mcp-Session-Id",
      NULL },
    { 202, "A notification or response: accepted, no body", NULL },
    { 400, "Not one JSON object, or an unsupported MCP-Protocol-Version", "Error" },
    R_AUTH,
    { 404, "Mcp-Session-Id is not a session of this user", NULL },
    { 413, "Body over server.max_body", "Error" },
    { 415, "Body is not application/json", "Error" },
    R_END
};
static const srv_resp_doc ws_resp[] = {
    { 101, "Switching to the WebSocket protocol (see the description)", NULL },
    { 401, "Missing or invalid token (header or access_token query parameter)", "Error" },
    { 403, "Origin not allowed (server.cors_origins)", "Error" },
    { 426, "Not a WebSocket upgrade request", "Error" },
    R_END
};

const srv_route srv_routes[] = {
    { "GET", "/healthz", srv_route_healthz, "healthz", SRV_NO_LIMIT,
      "Liveness: the process answers", NULL, NULL, health_resp },
    { "GET", "/readyz", srv_route_readyz, "readyz", SRV_NO_LIMIT | SRV_SLOW,
      "Readiness: store, bus and cache are reachable", NULL, NULL, ready_resp },
    { "GET", "/metrics", srv_route_metrics, "metrics", SRV_NO_LIMIT | SRV_TEXT | SRV_SLOW,
      "Prometheus metrics: requests, latency, tasks by status, queue depths", NULL, NULL,
      metrics_resp },
    { "GET", "/api/v1/openapi.json", srv_route_openapi, "openapi", SRV_NO_LIMIT,
      "This API's OpenAPI 3.0 description", NULL, NULL, openapi_resp },
    { "POST", "/api/v1/chat", srv_route_chat, "chat", SRV_AUTH | SRV_BODY,
      "Send a message; creates a task and returns its id at once", chat_body, NULL, chat_resp },
    { "GET", "/api/v1/tasks", srv_route_tasks_list, "tasks.list", SRV_AUTH,
      "Your tasks (admins: everyone's)", NULL, task_query, tasks_resp },
    { "GET", "/api/v1/tasks/{id}", srv_route_task_get, "tasks.get", SRV_AUTH,
      "A task: status, agent, result, steps and subtasks", NULL, NULL, task_resp },
    { "POST", "/api/v1/tasks/{id}/cancel", srv_route_task_cancel, "tasks.cancel", SRV_AUTH,
      "Cancel a task that has not ended, and its subtasks", NULL, NULL, cancel_resp },
    { "GET", "/api/v1/conversations", srv_route_convs_list, "conversations.list", SRV_AUTH,
      "Your conversations (admins: everyone's)", NULL, conv_query, convs_resp },
    { "GET", "/api/v1/conversations/{id}", srv_route_conv_get, "conversations.get", SRV_AUTH,
      "A conversation and its messages", NULL, NULL, conv_resp },
    { "GET", "/api/v1/usage", srv_route_usage, "usage", SRV_AUTH,
      "What your LLM requests used and cost (admins: everyone's), cached input priced apart", NULL,
      usage_query, usage_resp },
    { "GET", "/api/v1/memory", srv_route_memory_list, "memory.list", SRV_AUTH | SRV_SLOW,
      "Your memories and the shared ones; with q, searched (words and meaning)", NULL, memory_query,
      memories_resp },
    { "POST", "/api/v1/memory", srv_route_memory_add, "memory.add", SRV_AUTH | SRV_BODY | SRV_SLOW,
      "Remember a text (embedded for search); yours unless shared", memory_body, NULL,
      memory_add_resp },
    { "GET", "/api/v1/memory/graph", srv_route_memory_graph, "memory.graph", SRV_AUTH,
      "Entities of your memory graph and the shared one, found by name, with their relations", NULL,
      graph_query, graph_resp },
    { "GET", "/api/v1/memory/entities/{id}", srv_route_memory_entity, "memory.entity", SRV_AUTH,
      "An entity of your memory graph (or the shared one): its names and relations", NULL,
      entity_query, entity_resp },
    { "GET", "/api/v1/files", srv_route_file_get, "files.get", SRV_AUTH | SRV_SLOW,
      "An image (a chart, a screenshot) from your own workspace", NULL, file_query, file_resp },
    { "GET", "/api/v1/memory/{id}", srv_route_memory_get, "memory.get", SRV_AUTH,
      "One of your memories, or a shared one", NULL, NULL, memory_resp },
    { "DELETE", "/api/v1/memory/{id}", srv_route_memory_forget, "memory.forget", SRV_AUTH,
      "Forget one of your memories (a shared one: admins)", NULL, NULL, memory_forget_resp },
    { "GET", "/api/v1/agents", srv_route_agents_list, "agents.list", SRV_AUTH,
      "The agents: subagents, tools and live status of their queues", NULL, NULL, agents_resp },
    { "GET", "/api/v1/agents/{name}/config", srv_route_agent_config_get, "agents.config.get",
      SRV_AUTH, "An agent's stored configuration", NULL, NULL, config_get_resp },
    { "PUT", "/api/v1/agents/{name}/config", srv_route_agent_config_put, "agents.config.put",
      SRV_AUTH | SRV_ADMIN | SRV_FREE_BODY,
      "Replace an agent's configuration (a JSON object; admins only)", NULL, NULL,
      config_put_resp },
    { "POST", "/api/v1/auth/token", srv_route_auth_token, "auth.token", SRV_BODY,
      "Exchange an API token for an access token and a refresh token", api_token_body, NULL,
      token_resp },
    { "POST", "/api/v1/auth/refresh", srv_route_auth_refresh, "auth.refresh", SRV_BODY,
      "Spend a refresh token for a new token pair (refresh tokens rotate; the session ends "
      "when it began plus server.refresh_ttl)",
      refresh_body, NULL, token_resp },
    { "POST", "/api/v1/auth/logout", srv_route_auth_logout, "auth.logout", SRV_BODY,
      "Revoke a session: every refresh token of its chain and its access tokens", refresh_body,
      NULL, logout_resp },
    { "GET", "/api/v1/auth/me", srv_route_auth_me, "auth.me", SRV_AUTH, "Who the token is for",
      NULL, NULL, me_resp },
    { "GET", "/api/v1/auth/oidc/login", srv_route_oidc_login, "auth.oidc.login",
      SRV_REDIRECT | SRV_SLOW, "Start an OpenID Connect login (authorization code with PKCE)", NULL,
      login_query, login_resp },
    { "GET", "/api/v1/auth/oidc/callback", srv_route_oidc_callback, "auth.oidc.callback", SRV_SLOW,
      "Where the provider sends the browser back; finishes the login", NULL, callback_query,
      callback_resp },
    { "POST", "/v1/chat/completions", srv_route_openai_chat, "openai.chat.completions",
      SRV_AUTH | SRV_FREE_BODY | SRV_SLOW,
      "OpenAI-compatible chat completion: model names an agent or errand; the last user "
      "message is the request, earlier messages its context",
      NULL, NULL, openai_chat_resp },
    { "GET", "/v1/models", srv_route_openai_models, "openai.models", SRV_AUTH,
      "OpenAI-compatible model list: errand and every agent", NULL, NULL, openai_models_resp },
    { "POST", "/mcp", srv_route_mcp, "mcp", SRV_AUTH | SRV_FREE_BODY | SRV_SLOW,
      "Model Context Protocol (Streamable HTTP): errand's agents as tools (route, ask_AGENT), "
      "the caller's own tasks, conversations and memories as resources (errand://KIND/ID)",
      NULL, NULL, mcp_resp },
    { "GET", "/ws", srv_route_ws, "ws", SRV_WS | SRV_AUTH | SRV_NO_LIMIT,
      "WebSocket: follow tasks and conversations live, chat, answer approval requests", NULL, NULL,
      ws_resp },
};
const size_t srv_nroutes = ER_ARRAY_LEN(srv_routes);

void srv_print_routes(FILE *out)
{
    for (size_t i = 0; i < srv_nroutes; i++)
        fprintf(out, "%-6s %-34s %s\n", srv_routes[i].method, srv_routes[i].path,
                srv_routes[i].name);
}

/* ---- matching a request against the table ---- */

/* Matches path against a pattern where "{x}" is one non-empty segment. */
static bool match_path(const char *pat, const char *path, char params[][SRV_PARAM_MAX])
{
    int np = 0;
    while (*pat && *path) {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t n = strcspn(path, "/");
            if (!close || n == 0 || n >= SRV_PARAM_MAX || np >= SRV_MAX_PARAMS)
                return false;
            memcpy(params[np], path, n);
            params[np++][n] = '\0';
            pat = close + 1;
            path += n;
        } else if (*pat++ != *path++) {
            return false;
        }
    }
    return *pat == '\0' && *path == '\0';
}

/* HEAD is GET without the body (RFC 9110 9.3.2: a server that answers GET
 * must answer HEAD); libmicrohttpd leaves the body out of a HEAD answer. */
static bool method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

const srv_route *srv_route_find(const char *method, const char *path,
                                char params[SRV_MAX_PARAMS][SRV_PARAM_MAX], size_t *idx,
                                er_buf *allow)
{
    *idx = srv_nroutes;
    for (size_t i = 0; i < srv_nroutes; i++) {
        char found[SRV_MAX_PARAMS][SRV_PARAM_MAX];
        if (!match_path(srv_routes[i].path, path, found))
            continue;
        if (method_matches(srv_routes[i].method, method)) {
            memcpy(params, found, sizeof found);
            *idx = i;
            return &srv_routes[i];
        }
        er_buf_printf(allow, "%s%s%s", allow->len ? ", " : "", srv_routes[i].method,
                      strcmp(srv_routes[i].method, "GET") == 0 ? ", HEAD" : "");
    }
    return NULL;
}
