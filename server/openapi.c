/* openapi.c — the OpenAPI 3.0 document of GET /api/v1/openapi.json, built
 * once at start-up from the route table (paths, methods, parameters, request
 * bodies, responses) plus the response schemas below.  The e2e test
 * t_api_openapi.sh checks the document against the live server: every route
 * is described and answers what its description says. */
#include "server.h"
#include "errand/alloc.h"

#include <stdio.h>
#include <stdlib.h>

static const char schemas[] =
    "{"
    "\"Error\":{\"type\":\"object\",\"required\":[\"error\",\"request_id\"],\"properties\":{"
    "\"error\":{\"type\":\"object\",\"required\":[\"status\",\"code\",\"message\"],\"properties\":{"
    "\"status\":{\"type\":\"integer\"},\"code\":{\"type\":\"string\"},"
    "\"message\":{\"type\":\"string\"},\"field\":{\"type\":\"string\","
    "\"description\":\"The request field or parameter that was wrong\"}}},"
    "\"request_id\":{\"type\":\"string\"}}},"
    "\"Health\":{\"type\":\"object\",\"required\":[\"status\"],\"properties\":{"
    "\"status\":{\"type\":\"string\",\"enum\":[\"ok\"]}}},"
    "\"Ready\":{\"type\":\"object\",\"required\":[\"status\",\"checks\"],\"properties\":{"
    "\"status\":{\"type\":\"string\",\"enum\":[\"ready\",\"unavailable\"]},"
    "\"checks\":{\"type\":\"object\",\"required\":[\"store\",\"bus\",\"cache\"],"
    "\"additionalProperties\":{\"type\":\"string\",\"enum\":[\"ok\",\"unavailable\"]}}}},"
    "\"ChatAccepted\":{\"type\":\"object\",\"required\":[\"task_id\",\"conversation_id\","
    "\"status\"],"
    "\"properties\":{\"task_id\":{\"type\":\"string\"},\"conversation_id\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"queued\"]}}},"
    "\"Task\":{\"type\":\"object\",\"required\":[\"id\",\"status\",\"request\",\"created\","
    "\"updated\","
    "\"tokens_in\",\"tokens_out\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"parent_id\":{\"type\":\"string\",\"nullable\":true},"
    "\"conversation_id\":{\"type\":\"string\",\"nullable\":true},"
    "\"user_id\":{\"type\":\"string\",\"nullable\":true},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"queued\",\"routed\",\"running\",\"done\","
    "\"failed\","
    "\"cancelled\"]},"
    "\"agent\":{\"type\":\"string\",\"nullable\":true},\"request\":{\"type\":\"string\"},"
    "\"result\":{\"type\":\"string\",\"nullable\":true},\"error\":{\"type\":\"string\","
    "\"nullable\":true},"
    "\"tokens_in\":{\"type\":\"integer\"},\"tokens_out\":{\"type\":\"integer\"},"
    "\"created\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"updated\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
    "\"Event\":{\"type\":\"object\",\"required\":[\"task_id\",\"root\",\"kind\",\"data\"],"
    "\"properties\":{"
    "\"id\":{\"type\":\"integer\",\"description\":\"Order of the stored events; streamed tokens "
    "have none\"},"
    "\"task_id\":{\"type\":\"string\"},\"root\":{\"type\":\"string\"},"
    "\"kind\":{\"type\":\"string\",\"description\":\"routed, start, llm, token, tool_call, "
    "tool_result, "
    "delegate, approval_request, end, …\"},"
    "\"data\":{\"type\":\"object\"},\"ts\":{\"type\":\"integer\",\"description\":\"ms since the "
    "epoch\"}}},"
    "\"TaskDetail\":{\"allOf\":[{\"$ref\":\"#/components/schemas/Task\"},{\"type\":\"object\","
    "\"required\":[\"steps\",\"subtasks\"],\"properties\":{"
    "\"steps\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Event\"}},"
    "\"waiting\":{\"type\":\"object\",\"description\":\"A running task parked on an approval "
    "request: it holds no worker until answered\",\"required\":[\"for\",\"call_id\",\"tool\"],"
    "\"properties\":{\"for\":{\"type\":\"string\",\"enum\":[\"approval\"]},"
    "\"call_id\":{\"type\":\"string\"},\"tool\":{\"type\":\"string\"},"
    "\"approver\":{\"type\":\"string\",\"enum\":[\"requester\",\"admin\"]},"
    "\"since\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"expires\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
    "\"subtasks\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\","
    "\"status\"],"
    "\"properties\":{\"id\":{\"type\":\"string\"},\"agent\":{\"type\":\"string\",\"nullable\":true}"
    ","
    "\"status\":{\"type\":\"string\"},\"request\":{\"type\":\"string\"}}}}}}]},"
    "\"TaskList\":{\"type\":\"object\",\"required\":[\"tasks\"],\"properties\":{"
    "\"tasks\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Task\"}}}},"
    "\"Conversation\":{\"type\":\"object\",\"required\":[\"id\",\"user_id\",\"title\",\"created\","
    "\"updated\"],"
    "\"properties\":{\"id\":{\"type\":\"string\"},\"user_id\":{\"type\":\"string\"},"
    "\"title\":{\"type\":\"string\"},\"created\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"updated\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
    "\"ConversationDetail\":{\"allOf\":[{\"$ref\":\"#/components/schemas/Conversation\"},"
    "{\"type\":\"object\",\"required\":[\"messages\"],\"properties\":{\"messages\":{\"type\":"
    "\"array\","
    "\"items\":{\"type\":\"object\",\"required\":[\"id\",\"role\",\"content\",\"created\"],"
    "\"properties\":{"
    "\"id\":{\"type\":\"integer\"},\"role\":{\"type\":\"string\",\"enum\":[\"user\",\"assistant\"]}"
    ","
    "\"content\":{\"type\":\"string\"},\"task_id\":{\"type\":\"string\",\"nullable\":true},"
    "\"created\":{\"type\":\"string\",\"format\":\"date-time\"}}}}}}]},"
    "\"UsageSum\":{\"type\":\"object\",\"required\":[\"requests\",\"input_tokens\","
    "\"output_tokens\",\"cached_tokens\",\"cache_write_tokens\",\"seconds\",\"cost_usd\","
    "\"unpriced_requests\"],\"properties\":{\"day\":{\"type\":\"string\"},"
    "\"model\":{\"type\":\"string\"},\"agent\":{\"type\":\"string\"},\"user\":{\"type\":"
    "\"string\"},\"conversation_id\":{\"type\":\"string\"},\"requests\":{\"type\":\"integer\"},"
    "\"input_tokens\":{\"type\":\"integer\"},\"output_tokens\":{\"type\":\"integer\"},"
    "\"cached_tokens\":{\"type\":\"integer\"},\"cache_write_tokens\":{\"type\":\"integer\"},"
    "\"seconds\":{\"type\":\"number\"},\"cost_usd\":{\"type\":\"number\"},"
    "\"unpriced_requests\":{\"type\":\"integer\"}}},"
    "\"UsageReport\":{\"type\":\"object\",\"required\":[\"rows\",\"total\"],\"properties\":{"
    "\"rows\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/UsageSum\"}},"
    "\"total\":{\"$ref\":\"#/components/schemas/UsageSum\"}}},"
    "\"ConversationList\":{\"type\":\"object\",\"required\":[\"conversations\"],\"properties\":{"
    "\"conversations\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
    "Conversation\"}}}},"
    "\"Agent\":{\"type\":\"object\",\"required\":[\"name\",\"description\",\"subagents\",\"tools\","
    "\"status\"],"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"
    "\"subagents\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\","
    "\"description\","
    "\"tools\"],\"properties\":{\"name\":{\"type\":\"string\"},\"description\":{\"type\":"
    "\"string\"},"
    "\"tools\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
    "\"tools\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"status\":{\"type\":\"object\",\"required\":[\"queue\",\"state\"],\"properties\":{"
    "\"queue\":{\"type\":\"string\"},\"state\":{\"type\":\"string\",\"enum\":[\"idle\",\"busy\","
    "\"offline\","
    "\"unknown\"]},\"waiting\":{\"type\":\"integer\"},\"consumers\":{\"type\":\"integer\"}}}}},"
    "\"AgentList\":{\"type\":\"object\",\"required\":[\"agents\"],\"properties\":{"
    "\"agents\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Agent\"}}}},"
    "\"Memory\":{\"type\":\"object\",\"required\":[\"id\",\"text\",\"kind\",\"scope\",\"owner\","
    "\"untrusted\",\"created\",\"updated\"],\"properties\":{\"id\":{\"type\":\"string\"},"
    "\"text\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},\"scope\":{\"type\":\"string\"},"
    "\"scope_id\":{\"type\":\"string\",\"nullable\":true},"
    "\"source\":{\"type\":\"string\",\"nullable\":true},"
    "\"owner\":{\"type\":\"string\",\"enum\":[\"user\",\"shared\"]},"
    "\"untrusted\":{\"type\":\"boolean\"},\"score\":{\"type\":\"number\"},"
    "\"hash\":{\"type\":\"string\"},\"expires\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"new\":{\"type\":\"boolean\"},"
    "\"created\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"updated\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
    "\"MemoryList\":{\"type\":\"object\",\"required\":[\"memories\"],\"properties\":{"
    "\"memories\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Memory\"}}}},"
    "\"Entity\":{\"type\":\"object\",\"required\":[\"id\",\"name\",\"type\",\"owner\","
    "\"relations\",\"created\"],\"properties\":{\"id\":{\"type\":\"string\"},"
    "\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"},"
    "\"owner\":{\"type\":\"string\",\"enum\":[\"user\",\"shared\"]},"
    "\"relations\":{\"type\":\"integer\"},"
    "\"aliases\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"created\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
    "\"Relation\":{\"type\":\"object\",\"required\":[\"id\",\"subject_id\",\"subject\","
    "\"predicate\",\"object_id\",\"object\",\"confidence\",\"source\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"subject_id\":{\"type\":\"string\"},"
    "\"subject\":{\"type\":\"string\"},\"predicate\":{\"type\":\"string\"},"
    "\"object_id\":{\"type\":\"string\"},\"object\":{\"type\":\"string\"},"
    "\"confidence\":{\"type\":\"number\"},\"source\":{\"type\":\"string\"},"
    "\"owner\":{\"type\":\"string\",\"enum\":[\"user\",\"shared\"]},"
    "\"depth\":{\"type\":\"integer\"}}},"
    "\"MemoryGraph\":{\"type\":\"object\",\"required\":[\"entities\",\"relations\"],"
    "\"properties\":{\"entities\":{\"type\":\"array\",\"items\":{"
    "\"$ref\":\"#/components/schemas/Entity\"}},\"relations\":{\"type\":\"array\","
    "\"items\":{\"$ref\":\"#/components/schemas/Relation\"}}}},"
    "\"MemoryEntity\":{\"type\":\"object\",\"required\":[\"entity\",\"relations\"],"
    "\"properties\":{\"entity\":{\"$ref\":\"#/components/schemas/Entity\"},"
    "\"relations\":{\"type\":\"array\",\"items\":{"
    "\"$ref\":\"#/components/schemas/Relation\"}}}},"
    "\"Forgotten\":{\"type\":\"object\",\"required\":[\"id\",\"forgotten\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"forgotten\":{\"type\":\"boolean\"}}},"
    "\"AgentConfig\":{\"type\":\"object\",\"required\":[\"agent\",\"config\"],\"properties\":{"
    "\"agent\":{\"type\":\"string\"},\"config\":{\"type\":\"object\"}}},"
    "\"User\":{\"type\":\"object\",\"required\":[\"id\",\"name\",\"role\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
    "\"role\":{\"type\":\"string\",\"enum\":[\"admin\",\"user\"]}}},"
    "\"TokenPair\":{\"type\":\"object\",\"required\":[\"access_token\",\"token_type\",\"expires_"
    "in\","
    "\"refresh_token\",\"refresh_expires_in\",\"session_id\",\"user\"],\"properties\":{"
    "\"access_token\":{\"type\":\"string\",\"description\":\"HS256 JWT; send as Authorization: "
    "Bearer.  Its role claim is informative: every request looks the user and role up\"},"
    "\"token_type\":{\"type\":\"string\",\"enum\":[\"Bearer\"]},"
    "\"expires_in\":{\"type\":\"integer\"},"
    "\"refresh_token\":{\"type\":\"string\",\"description\":\"Good for one POST "
    "/api/v1/auth/refresh\"},"
    "\"refresh_expires_in\":{\"type\":\"integer\",\"description\":\"Seconds until the session "
    "ends; refreshing never moves that end\"},"
    "\"session_id\":{\"type\":\"string\",\"description\":\"The session this pair belongs to "
    "(errand user sessions, errand user revoke); revoking it ends its access tokens\"},"
    "\"user\":{\"$ref\":\"#/components/schemas/User\"}}}"
    "}";

static const char ws_description[] =
    "Authenticate with Authorization: Bearer TOKEN or ?access_token=TOKEN.  Messages are JSON "
    "text frames.  Client to server: {\"type\":\"subscribe\",\"task_id\":ID} (stored events "
    "are replayed first, marked \"replay\":true) or "
    "{\"type\":\"subscribe\",\"conversation_id\":ID} "
    "(events of its tasks from now on); {\"type\":\"unsubscribe\", …same keys}; "
    "{\"type\":\"chat\",\"message\":TEXT,\"conversation_id\"?:ID,\"agent\"?:NAME} (subscribes to "
    "the new task before it starts, so no token is missed); {\"type\":\"approval\",\"task_id\":ID,"
    "\"call_id\":ID,\"decision\":\"allow\"|\"deny\"|\"always\"} answers an approval_request event "
    "(its \"approver\" is \"requester\", or \"admin\" when only an administrator may answer: "
    "server.admin_approval; another's answer gets an error naming call_id); "
    "{\"type\":\"ping\"}.  Server to client: hello, subscribed, unsubscribed, accepted (of a "
    "chat: task_id, conversation_id), event ({\"type\":\"event\",\"event\":Event}, tokens "
    "included, in order), approval_sent, pong, error ({\"error\":MESSAGE,\"field\"?:NAME}).  "
    "The server closes the socket with code 1008 when the token it was opened with, its "
    "session or its user's role is revoked or changed (within about a second), 1009 for a "
    "message over 128 KiB, 1001 when it shuts down.";

static const char *json_type(srv_type t)
{
    static const char *const names[] = { "string", "object", "boolean", "integer" };
    return names[t];
}

static cJSON *field_schema(const srv_field *f)
{
    cJSON *s = cJSON_CreateObject();
    er_json_add_str(s, "type", json_type(f->type));
    if (f->type == SRV_T_STRING && f->max_len)
        er_json_add_num(s, "maxLength", (double)f->max_len);
    if (f->type == SRV_T_INT && f->max_len) {
        er_json_add_num(s, "minimum", 1);
        er_json_add_num(s, "maximum", (double)f->max_len);
    }
    if (f->desc)
        er_json_add_str(s, "description", f->desc);
    return s;
}

static cJSON *request_body(const srv_route *rt)
{
    cJSON *schema = cJSON_CreateObject();
    er_json_add_str(schema, "type", "object");
    if (rt->flags & SRV_BODY) {
        cJSON *props = cJSON_CreateObject(), *req = cJSON_CreateArray();
        for (const srv_field *f = rt->body; f && f->name; f++) {
            er_json_add(props, f->name, field_schema(f));
            if (f->required)
                er_json_append(req, cJSON_CreateString(f->name));
        }
        er_json_add(schema, "properties", props);
        er_json_add(schema, "required", req);
        er_json_add_bool(schema, "additionalProperties", false);
    }
    cJSON *media = cJSON_CreateObject(), *content = cJSON_CreateObject();
    er_json_add(media, "schema", schema);
    er_json_add(content, "application/json", media);
    cJSON *body = cJSON_CreateObject();
    er_json_add_bool(body, "required", true);
    er_json_add(body, "content", content);
    return body;
}

static cJSON *parameters(const srv_route *rt)
{
    cJSON *arr = cJSON_CreateArray();
    for (const char *p = strchr(rt->path, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        cJSON *pj = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        er_json_add_str(pj, "name", name);
        er_json_add_str(pj, "in", "path");
        er_json_add_bool(pj, "required", true);
        cJSON *s = cJSON_CreateObject();
        er_json_add_str(s, "type", "string");
        er_json_add(pj, "schema", s);
        er_json_append(arr, pj);
    }
    for (const srv_field *f = rt->query; f && f->name; f++) {
        cJSON *pj = cJSON_CreateObject();
        er_json_add_str(pj, "name", f->name);
        er_json_add_str(pj, "in", "query");
        er_json_add_bool(pj, "required", f->required);
        er_json_add_str(pj, "description", f->desc);
        er_json_add(pj, "schema", field_schema(f));
        er_json_append(arr, pj);
    }
    return arr;
}

static cJSON *responses(const srv_route *rt)
{
    cJSON *out = cJSON_CreateObject();
    for (const srv_resp_doc *d = rt->responses; d && d->status; d++) {
        cJSON *r = cJSON_CreateObject();
        er_json_add_str(r, "description", d->desc);
        const char *ctype =
            (rt->flags & SRV_TEXT) && d->status == 200 ? "text/plain" : "application/json";
        if (d->schema || (d->status == 200 && (rt->flags & SRV_TEXT))) {
            cJSON *media = cJSON_CreateObject(), *content = cJSON_CreateObject();
            cJSON *schema = cJSON_CreateObject();
            if (d->schema) {
                char ref[96];
                snprintf(ref, sizeof ref, "#/components/schemas/%s", d->schema);
                er_json_add_str(schema, "$ref", ref);
            } else {
                er_json_add_str(schema, "type", "string");
            }
            er_json_add(media, "schema", schema);
            er_json_add(content, ctype, media);
            er_json_add(r, "content", content);
        }
        char code[8];
        snprintf(code, sizeof code, "%d", d->status);
        er_json_add(out, code, r);
    }
    return out;
}

static cJSON *operation(const srv_route *rt)
{
    cJSON *op = cJSON_CreateObject();
    er_json_add_str(op, "operationId", rt->name);
    er_json_add_str(op, "summary", rt->summary);
    if (rt->flags & SRV_WS)
        er_json_add_str(op, "description", ws_description);
    cJSON *sec = cJSON_CreateArray();
    if (rt->flags & (SRV_AUTH | SRV_WS)) {
        cJSON *req = cJSON_CreateObject();
        er_json_add(req, "bearer", cJSON_CreateArray());
        er_json_append(sec, req);
    }
    er_json_add(op, "security", sec);
    cJSON *params = parameters(rt);
    if (cJSON_GetArraySize(params) > 0)
        er_json_add(op, "parameters", params);
    else
        cJSON_Delete(params);
    if (rt->flags & (SRV_BODY | SRV_FREE_BODY))
        er_json_add(op, "requestBody", request_body(rt));
    er_json_add(op, "responses", responses(rt));
    return op;
}

static cJSON *components(void)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *s = cJSON_Parse(schemas);
    if (!s) {
        fprintf(stderr, "openapi.c: the schemas do not parse\n");
        abort(); /* a bug in the text above, caught by any test run */
    }
    er_json_add(c, "schemas", s);
    cJSON *bearer = cJSON_CreateObject(), *ss = cJSON_CreateObject();
    er_json_add_str(bearer, "type", "http");
    er_json_add_str(bearer, "scheme", "bearer");
    er_json_add_str(bearer, "description",
                    "An access token (JWT from /api/v1/auth/token, /refresh or the OpenID "
                    "Connect callback) or an API token (ert_…) from `errand user token`.  "
                    "Each request checks that the user still exists (with the role it has "
                    "now) and that the token or its session was not revoked");
    er_json_add(ss, "bearer", bearer);
    er_json_add(c, "securitySchemes", ss);
    return c;
}

char *srv_openapi_build(void)
{
    cJSON *doc = cJSON_CreateObject(), *info = cJSON_CreateObject();
    er_json_add_str(doc, "openapi", "3.0.3");
    er_json_add_str(info, "title", "errand API");
    er_json_add_str(info, "version", ER_VERSION);
    er_json_add_str(info, "description",
                    "The headless server of errand: chat with the agents, follow tasks, manage "
                    "agent configuration.  Errors are {\"error\":{status, code, message, field}}.");
    er_json_add(doc, "info", info);
    cJSON *paths = cJSON_CreateObject();
    for (size_t i = 0; i < srv_nroutes; i++) {
        const srv_route *rt = &srv_routes[i];
        cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, rt->path);
        if (!item) {
            item = cJSON_CreateObject();
            er_json_add(paths, rt->path, item);
        }
        char method[8];
        size_t n = 0;
        for (; rt->method[n] && n < sizeof method - 1; n++)
            method[n] = (char)(rt->method[n] | 0x20);
        method[n] = '\0';
        er_json_add(item, method, operation(rt));
    }
    er_json_add(doc, "paths", paths);
    er_json_add(doc, "components", components());
    char *text = er_json_print(doc);
    cJSON_Delete(doc);
    return text;
}
