/* routes_mcp.c — POST /mcp: errand as an MCP server over Streamable HTTP, for
 * the user of the bearer token (the JSON-RPC methods are mcp_server.h's, the
 * same as `errand mcp serve`'s).
 *
 * Tools run requests as the caller's tasks, like POST /v1/chat/completions;
 * a tool call waits for the task's end (this route runs on the pool).
 * Resources are the caller's own tasks, conversations and memories, read
 * through the same handlers as GET /api/v1/… (so the same rules), and kept to
 * what the caller owns: an admin's MCP client sees only the admin's own.
 *
 * Sessions: an initialize gets an Mcp-Session-Id made of random bytes and
 * their MAC with the user's id under the server's key, so any replica checks
 * it with no shared state; an id that is not the caller's is 404, as the
 * transport says for an unknown session.  The stateless revision sends none.
 * Answers are one JSON body, or an event stream with the one message when
 * the client accepts it for a tools/call (the long one). */
#include "server.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/mcp_server.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_RAND  16
#define RESOURCES_MAX 200 /* per kind: the newest */

static const char *const known_versions[] = { ER_MCP_VERSION, ER_MCP_LEGACY_VERSION, "2025-06-18",
                                              "2025-03-26" };

/* ---- sessions ---- */

static bool session_mac(const srv *s, const char *rand_hex, const char *user_id, char out[65])
{
    char *in = er_xasprintf("mcp-session|%s|%s", rand_hex, user_id);
    unsigned char mac[32];
    int rc = srv_hmac_sign(s->jwt_hmac, in, strlen(in), mac);
    free(in);
    if (rc)
        return false;
    srv_hex(mac, sizeof mac, out);
    return true;
}

static bool session_new(const srv *s, const char *user_id, char *out, size_t n)
{
    unsigned char rnd[SESSION_RAND];
    char hex[2 * SESSION_RAND + 1], mac[65];
    if (srv_random(rnd, sizeof rnd))
        return false;
    srv_hex(rnd, sizeof rnd, hex);
    if (!session_mac(s, hex, user_id, mac))
        return false;
    snprintf(out, n, "%s.%s", hex, mac);
    return true;
}

static bool session_ok(const srv *s, const char *user_id, const char *id)
{
    const char *dot = strchr(id, '.');
    if (!dot || dot - id != 2 * SESSION_RAND || strlen(dot + 1) != 64)
        return false;
    char hex[2 * SESSION_RAND + 1], mac[65];
    memcpy(hex, id, 2 * SESSION_RAND);
    hex[2 * SESSION_RAND] = '\0';
    return session_mac(s, hex, user_id, mac) && srv_equal(mac, dot + 1, 64);
}

/* ---- the host: tools ---- */

static const char *const follow_kinds[] = { "end", NULL };

static int ask(void *ctx, const char *agent, const char *request, char **text, bool *failed,
               er_error *err)
{
    srv_req *r = ctx;
    char task_id[ER_ID_LEN], task[ER_ID_LEN], conv[ER_ID_LEN];
    er_id_new(task_id);
    er_follow *f = NULL;
    int rc = er_follow_open(&f, r->s->env, task_id, follow_kinds, err);
    if (rc)
        return rc;
    rc = srv_chat_submit(r->s, &r->user, request, NULL, agent, task_id, task, conv, err);
    if (rc) {
        er_follow_close(f);
        return rc;
    }
    const er_config *cfg = r->s->cfg;
    int64_t deadline = er_mono_ms() + (cfg->max_seconds + cfg->deadline_margin + 30) * 1000;
    cJSON *end = NULL;
    while (!end && er_mono_ms() < deadline && !atomic_load(&r->s->stopping)) {
        cJSON *ev = NULL;
        if (er_follow_next(f, 1000, &ev) == 0 && ev && er_str_eq(er_json_str(ev, "kind"), "end") &&
            er_str_eq(er_json_str(ev, "task_id"), task_id))
            end = ev;
        else
            cJSON_Delete(ev);
    }
    er_follow_close(f);
    if (!end) {
        *failed = true;
        *text = er_xasprintf("task %s did not end in time; follow it at /api/v1/tasks/%s", task_id,
                             task_id);
        return 0;
    }
    const cJSON *d = er_json_obj(end, "data");
    const char *status = er_json_str(d, "status");
    *failed = !er_str_eq(status, "done");
    *text = !*failed ? er_xstrdup(er_json_str(d, "answer") ? er_json_str(d, "answer") : "")
                     : er_xasprintf("task %s %s: %s", task_id, status ? status : "ended",
                                    er_json_str(d, "error") ? er_json_str(d, "error")
                                                            : "no reason given");
    cJSON_Delete(end);
    return 0;
}

/* ---- the host: resources, through the API's own handlers ---- */

/* Runs the GET handler of path for the caller; *out its JSON answer (OWNED)
 * when it answered 200, else ER_ENOTFOUND. */
static int sub_get(srv_req *r, const char *path, cJSON **out, er_error *err)
{
    *out = NULL;
    srv_req sub = { 0 };
    er_buf allow = ER_BUF_INIT;
    sub.route = srv_route_find("GET", path, sub.params, &sub.route_idx, &allow);
    er_buf_release(&allow);
    if (!sub.route)
        return er_error_set(err, ER_ENOTFOUND, "no such resource");
    sub.s = r->s;
    sub.conn = r->conn; /* its query (none) gives the handlers their defaults */
    sub.method = "GET";
    sub.path = path;
    sub.user = r->user;
    memcpy(sub.request_id, r->request_id, sizeof sub.request_id);
    er_buf_init(&sub.headers, 0);
    er_buf_init(&sub.reply, 0);
    er_buf_init(&sub.in, 0);
    sub.route->fn(&sub);
    int rc = 0;
    if (sub.status != 200)
        rc = er_error_set(err, sub.status == 404 || sub.status == 403 ? ER_ENOTFOUND : ER_EINTERNAL,
                          "%s answered %d", path, sub.status);
    else if (er_json_parse(out, sub.reply.ptr ? sub.reply.ptr : "", sub.reply.len, err))
        rc = ER_EINTERNAL;
    er_buf_release(&sub.headers);
    er_buf_release(&sub.reply);
    er_buf_release(&sub.in);
    cJSON_Delete(sub.body);
    return rc;
}

/* Whether an item of the API's answers is the caller's own. */
static bool owned(const srv_req *r, const char *kind, const cJSON *item)
{
    if (strcmp(kind, "memory") == 0)
        return er_str_eq(er_json_str(item, "owner"), "user"); /* listed for the caller only */
    return er_str_eq(er_json_str(item, "user_id"), r->user.id);
}

static const struct {
    const char *kind;      /* in the URI: errand://KIND/ID */
    const char *list_path; /* the API's listing */
    const char *key;       /* its array */
    const char *item_path; /* the API's item, %s the id */
    const char *title;     /* the field that names an item */
} kinds[] = {
    { "tasks", "/api/v1/tasks", "tasks", "/api/v1/tasks/%s", "request" },
    { "conversations", "/api/v1/conversations", "conversations", "/api/v1/conversations/%s",
      "title" },
    { "memory", "/api/v1/memory", "memories", "/api/v1/memory/%s", "text" },
};

static int resources(void *ctx, cJSON **out, er_error *err)
{
    srv_req *r = ctx;
    cJSON *all = cJSON_CreateArray();
    for (size_t k = 0; k < ER_ARRAY_LEN(kinds); k++) {
        cJSON *page = NULL;
        int rc = sub_get(r, kinds[k].list_path, &page, err);
        if (rc) {
            cJSON_Delete(all);
            return rc;
        }
        int n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, er_json_arr(page, kinds[k].key))
        {
            const char *id = er_json_str(it, "id");
            if (!id || !owned(r, kinds[k].kind, it) || n++ >= RESOURCES_MAX)
                continue;
            cJSON *res = cJSON_CreateObject();
            char *uri = er_xasprintf("errand://%s/%s", kinds[k].kind, id);
            const char *title = er_json_str(it, kinds[k].title);
            char *name = er_xasprintf("%s %s: %.80s", kinds[k].kind, id, title ? title : "");
            er_json_add_str(res, "uri", uri);
            er_json_add_str(res, "name", name);
            er_json_add_str(res, "mimeType", "application/json");
            er_json_append(all, res);
            free(uri);
            free(name);
        }
        cJSON_Delete(page);
    }
    *out = all;
    return 0;
}

static int read_resource(void *ctx, const char *uri, char **text, const char **mime, er_error *err)
{
    srv_req *r = ctx;
    if (!er_str_starts(uri, "errand://"))
        return er_error_set(err, ER_ENOTFOUND, "not an errand resource");
    const char *rest = uri + strlen("errand://");
    for (size_t k = 0; k < ER_ARRAY_LEN(kinds); k++) {
        size_t kl = strlen(kinds[k].kind);
        if (strncmp(rest, kinds[k].kind, kl) != 0 || rest[kl] != '/')
            continue;
        const char *id = rest + kl + 1;
        /* An id is one path segment of [A-Za-z0-9_-]: nothing else reaches the router. */
        if (!*id || strlen(id) >= SRV_PARAM_MAX ||
            strspn(id, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_-") != strlen(id))
            return er_error_set(err, ER_ENOTFOUND, "no such resource");
        char *path = er_xasprintf(kinds[k].item_path, id);
        cJSON *item = NULL;
        int rc = sub_get(r, path, &item, err);
        free(path);
        if (rc)
            return rc;
        if (!owned(r, kinds[k].kind, item)) {
            cJSON_Delete(item);
            return er_error_set(err, ER_ENOTFOUND, "no such resource");
        }
        *text = er_json_print(item);
        *mime = "application/json";
        cJSON_Delete(item);
        return 0;
    }
    return er_error_set(err, ER_ENOTFOUND, "no such resource");
}

/* ---- the route ---- */

static bool accepts_sse(srv_req *r)
{
    const char *a = srv_header(r, "Accept");
    return a && strstr(a, "text/event-stream");
}

int srv_route_mcp(srv_req *r)
{
    const char *version = srv_header(r, "MCP-Protocol-Version");
    if (version) {
        bool known = false;
        for (size_t i = 0; i < ER_ARRAY_LEN(known_versions); i++)
            known |= strcmp(version, known_versions[i]) == 0;
        if (!known) {
            cJSON *e = er_mcp_server_error(NULL, ER_MCP_INVALID_REQUEST,
                                           "Unsupported MCP-Protocol-Version");
            return srv_reply_json(r, 400, e);
        }
    }
    const char *session = srv_header(r, "Mcp-Session-Id");
    if (session && !session_ok(r->s, r->user.id, session)) {
        cJSON *e = er_mcp_server_error(cJSON_GetObjectItemCaseSensitive(r->body, "id"),
                                       ER_MCP_INVALID_REQUEST,
                                       "Unknown session: start a new one with initialize");
        return srv_reply_json(r, 404, e);
    }
    const char *method = er_json_str(r->body, "method");
    er_mcp_host host = { .ctx = r, .ask = ask, .resources = resources, .read = read_resource };
    cJSON *answer = er_mcp_server_handle(&host, r->body);
    if (!answer) /* a notification or a response: accepted */
        return srv_reply(r, 202, NULL, NULL, "", 0);
    if (er_str_eq(method, "initialize") && !cJSON_HasObjectItem(answer, "error")) {
        char sid[2 * SESSION_RAND + 66];
        if (session_new(r->s, r->user.id, sid, sizeof sid))
            er_buf_printf(&r->headers, "Mcp-Session-Id: %s\r\n", sid);
    }
    if (er_str_eq(method, "tools/call") && accepts_sse(r)) {
        char *text = er_json_print(answer);
        cJSON_Delete(answer);
        er_buf b = ER_BUF_INIT;
        er_buf_printf(&b, "event: message\ndata: %s\n\n", text);
        free(text);
        int status = srv_reply(r, 200, "text/event-stream", NULL, b.ptr, b.len);
        er_buf_release(&b);
        return status;
    }
    return srv_reply_json(r, 200, answer);
}
