/* http.c — the HTTP side of errand serve: CivetWeb's set-up and limits, the
 * router, request bodies (capped, JSON-validated), CORS, replies, the access
 * log and the request metrics.
 *
 * CivetWeb parses HTTP; one catch-all handler routes by the table in routes.c.
 * Replies are written in one mg_write (headers and body together) with a
 * Content-Length, so keep-alive connections stay usable.  Limits: request
 * headers 16 KiB (max_request_size), bodies server.max_body (413 before the
 * body is read when Content-Length says so; curl and browsers then do not even
 * send it after Expect: 100-continue), server.request_timeout_ms to send a
 * request (a slow client holds one worker thread until then, never more),
 * server.idle_timeout_ms between keep-alive requests. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- replies ---- */

int srv_reply(srv_req *r, int status, const char *ctype, const char *extra, const char *body,
              size_t len)
{
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                  "X-Request-Id: %s\r\n",
                  status, mg_get_response_code_text(r->conn, status), ctype, len, r->request_id);
    if (r->origin)
        er_buf_printf(&b,
                      "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                      "Access-Control-Expose-Headers: Retry-After, X-Request-Id\r\n",
                      r->origin);
    if (r->extra)
        er_buf_puts(&b, r->extra);
    if (extra)
        er_buf_puts(&b, extra);
    if (r->close) {
        er_buf_puts(&b, "Connection: close\r\n");
        mg_disable_connection_keep_alive(r->conn);
    }
    er_buf_puts(&b, "\r\n");
    if (len)
        er_buf_append(&b, body, len);
    mg_write(r->conn, b.ptr, b.len);
    er_buf_release(&b);
    return status;
}

int srv_reply_json(srv_req *r, int status, cJSON *j)
{
    char *text = er_json_print(j);
    cJSON_Delete(j);
    srv_reply(r, status, "application/json", NULL, text, strlen(text));
    free(text);
    return status;
}

static const char *code_name(int status)
{
    static const struct { int status; const char *name; } names[] = {
        { 400, "bad_request" },      { 401, "unauthorized" },
        { 403, "forbidden" },        { 404, "not_found" },
        { 405, "method_not_allowed" }, { 408, "request_timeout" },
        { 409, "conflict" },         { 413, "payload_too_large" },
        { 415, "unsupported_media_type" }, { 426, "upgrade_required" },
        { 429, "rate_limited" },     { 502, "bad_gateway" },
        { 503, "unavailable" },      { 504, "timeout" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++)
        if (names[i].status == status)
            return names[i].name;
    return status >= 500 ? "internal" : "error";
}

int srv_reply_error(srv_req *r, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    er_json_add_num(e, "status", status);
    er_json_add_str(e, "code", code_name(status));
    er_json_add_str(e, "message", msg);
    if (field)
        er_json_add_str(e, "field", field);
    er_json_add(j, "error", e);
    er_json_add_str(j, "request_id", r->request_id);
    return srv_reply_json(r, status, j);
}

int srv_status_of(int code)
{
    switch (code) {
    case ER_EINVAL:
        return 400;
    case ER_EAUTH:
        return 401;
    case ER_EDENIED:
        return 403;
    case ER_ENOTFOUND:
        return 404;
    case ER_ECONFLICT:
    case ER_EEXISTS:
        return 409;
    case ER_ETOOBIG:
        return 413;
    case ER_EUNAVAIL:
        return 503;
    case ER_ETIMEDOUT:
        return 504;
    case ER_EPROTO:
        return 502;
    default:
        return 500;
    }
}

int srv_reply_err(srv_req *r, const er_error *err)
{
    int status = srv_status_of(err->code);
    if (status < 500)
        return srv_reply_error(r, status, NULL, "%s", err->msg);
    /* Details of server-side failures go to the log, never to the client. */
    er_log(ER_LOG_ERROR, "http", "%s %s failed: %s", r->ri->request_method, r->ri->local_uri,
           err->msg);
    if (status == 503)
        return srv_reply_error(r, 503, NULL, "a backend is unavailable; try again later "
                                             "(request %s)", r->request_id);
    return srv_reply_error(r, status, NULL, "internal error (request %s; see the server log)",
                           r->request_id);
}

/* ---- untrusted JSON ---- */

int srv_json_parse(cJSON **out, const char *s, size_t len, er_error *err)
{
    *out = NULL;
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if ((c == '[' || c == '{') && ++depth > SRV_JSON_DEPTH) {
            return er_error_set(err, ER_EPROTO, "JSON nested deeper than %d levels",
                                SRV_JSON_DEPTH);
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return er_json_parse(out, s, len, err);
}

/* ---- query strings ---- */

bool srv_query(srv_req *r, const char *name, char *buf, size_t n)
{
    const char *qs = r->ri->query_string;
    return qs && mg_get_var(qs, strlen(qs), name, buf, n) >= 0;
}

int srv_query_int(srv_req *r, const char *name, long def, long min, long max, long *out)
{
    char buf[32];
    *out = def;
    if (!srv_query(r, name, buf, sizeof buf))
        return 0;
    if (er_str_to_long(buf, out) || *out < min || *out > max)
        return srv_reply_error(r, 400, name, "query parameter '%s' must be a number from %ld to %ld",
                               name, min, max);
    return 0;
}

/* ---- CORS ---- */

bool srv_origin_allowed(const srv *s, const char *origin)
{
    if (er_str_empty(origin))
        return false;
    if (strcmp(origin, s->base_url) == 0)
        return true;
    for (size_t i = 0; i < s->norigins; i++)
        if (strcmp(s->origins[i], origin) == 0)
            return true;
    return false;
}

static int preflight(srv_req *r, const char *allow)
{
    if (!r->origin)
        return srv_reply_error(r, 403, NULL, "origin not allowed (see server.cors_origins)");
    char extra[256];
    snprintf(extra, sizeof extra,
             "Access-Control-Allow-Methods: %s, OPTIONS\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
             "Access-Control-Max-Age: 600\r\n",
             allow);
    return srv_reply(r, 204, "text/plain", extra, NULL, 0);
}

/* ---- routing ---- */

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

static const srv_route *find_route(srv_req *r, size_t *idx, er_buf *allow)
{
    const char *method = r->ri->request_method, *path = r->ri->local_uri;
    for (size_t i = 0; path && i < srv_nroutes; i++) {
        char params[SRV_MAX_PARAMS][SRV_PARAM_MAX];
        if (!match_path(srv_routes[i].path, path, params))
            continue;
        if (strcmp(srv_routes[i].method, method) == 0) {
            memcpy(r->params, params, sizeof params);
            *idx = i;
            return &srv_routes[i];
        }
        er_buf_printf(allow, "%s%s", allow->len ? ", " : "", srv_routes[i].method);
    }
    return NULL;
}

/* ---- bodies ---- */

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
            return false;
        unsigned cp = n ? (*p & (0x3f >> n)) : *p;
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff)
            return false;
    }
    return true;
}

static const char *type_name(srv_type t)
{
    static const char *const names[] = { "a string", "an object", "a boolean", "an integer" };
    return names[t];
}

static bool type_ok(const cJSON *v, srv_type t)
{
    switch (t) {
    case SRV_T_STRING:
        return cJSON_IsString(v);
    case SRV_T_OBJECT:
        return cJSON_IsObject(v);
    case SRV_T_BOOL:
        return cJSON_IsBool(v);
    case SRV_T_INT:
        return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
    }
    return false;
}

static const srv_field *field_named(const srv_field *fields, const char *name)
{
    for (size_t i = 0; fields && fields[i].name; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Every field known, of its type and size; required ones present. */
static int validate(srv_req *r, const cJSON *obj)
{
    const srv_field *fields = r->route->body;
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        const srv_field *f = field_named(fields, v->string);
        if (!f)
            return srv_reply_error(r, 400, v->string, "unknown field '%.64s'", v->string);
        if (cJSON_IsNull(v) && !f->required)
            continue;
        if (!type_ok(v, f->type))
            return srv_reply_error(r, 400, f->name, "field '%s' must be %s", f->name,
                                   type_name(f->type));
        if (f->type == SRV_T_STRING && !utf8_valid(v->valuestring))
            return srv_reply_error(r, 400, f->name, "field '%s' is not valid UTF-8", f->name);
        if (f->type == SRV_T_STRING && f->max_len && strlen(v->valuestring) > f->max_len)
            return srv_reply_error(r, 400, f->name, "field '%s' is longer than %zu bytes",
                                   f->name, f->max_len);
        if (f->type == SRV_T_STRING && f->required && !v->valuestring[0])
            return srv_reply_error(r, 400, f->name, "field '%s' is empty", f->name);
    }
    for (size_t i = 0; fields && fields[i].name; i++)
        if (fields[i].required && !cJSON_GetObjectItemCaseSensitive(obj, fields[i].name))
            return srv_reply_error(r, 400, fields[i].name, "field '%s' is required",
                                   fields[i].name);
    return 0;
}

static int read_body(srv_req *r, er_buf *b)
{
    size_t max = (size_t)r->s->cfg->max_body;
    long long cl = r->ri->content_length;
    er_buf_init(b, max);
    if (cl > (long long)max) {
        r->close = true;
        return srv_reply_error(r, 413, NULL, "the body is %lld bytes; the limit is %zu "
                                             "(server.max_body)", cl, max);
    }
    char chunk[4096];   /* CivetWeb's threads have small stacks */
    int n;
    while ((n = mg_read(r->conn, chunk, sizeof chunk)) > 0) {
        if (er_buf_append(b, chunk, (size_t)n)) {
            r->close = true;
            return srv_reply_error(r, 413, NULL, "the body is over the limit of %zu bytes "
                                                 "(server.max_body)", max);
        }
    }
    if (n < 0 || (cl >= 0 && b->len < (size_t)cl)) {
        r->close = true;
        return srv_reply_error(r, 400, NULL, "the body ended early or arrived too slowly");
    }
    return 0;
}

static int read_json(srv_req *r)
{
    const char *ct = mg_get_header(r->conn, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        r->close = r->ri->content_length != 0;
        return srv_reply_error(r, 415, NULL, "send the body as Content-Type: application/json");
    }
    er_buf b;
    int status = read_body(r, &b);
    cJSON *j = NULL;
    er_error err = { 0 };
    if (!status && b.len == 0)
        status = srv_reply_error(r, 400, NULL, "the body is empty; expected a JSON object");
    else if (!status && srv_json_parse(&j, b.ptr, b.len, &err))
        status = srv_reply_error(r, 400, NULL, "the body is not valid JSON: %s", err.msg);
    else if (!status && !cJSON_IsObject(j))
        status = srv_reply_error(r, 400, NULL, "the body must be a JSON object");
    else if (!status && (r->route->flags & SRV_BODY))
        status = validate(r, j);
    er_buf_release(&b);
    if (status)
        cJSON_Delete(j);
    else
        r->body = j;
    return status;
}

/* ---- dispatch ---- */

static int limit(srv_req *r)
{
    char who[80];
    if (r->route->flags & SRV_AUTH)
        snprintf(who, sizeof who, "%s", r->user.id);
    else
        snprintf(who, sizeof who, "ip:%s", r->ri->remote_addr);
    int retry = 0;
    if (srv_ratelimit(r->s, who, r->route->name, &retry) == 0)
        return 0;
    char extra[48];
    snprintf(extra, sizeof extra, "Retry-After: %d\r\n", retry);
    r->extra = extra;
    int status = srv_reply_error(r, 429, NULL, "too many requests to %s; try again in %d s",
                                 r->route->name, retry);
    r->extra = NULL;
    return status;
}

static int handle(srv_req *r, size_t *idx)
{
    er_buf allow = ER_BUF_INIT;
    r->route = find_route(r, idx, &allow);
    if (!r->route) {
        int status;
        if (allow.len && strcmp(r->ri->request_method, "OPTIONS") == 0) {
            status = preflight(r, allow.ptr);
        } else if (allow.len) {
            char extra[128];
            snprintf(extra, sizeof extra, "Allow: %s\r\n", allow.ptr);
            r->extra = extra;
            status = srv_reply_error(r, 405, NULL, "%s is not allowed here (allowed: %s)",
                                     r->ri->request_method, allow.ptr);
            r->extra = NULL;
        } else {
            status = srv_reply_error(r, 404, NULL, "no route %s %.200s (see /api/v1/openapi.json)",
                                     r->ri->request_method, r->ri->local_uri);
        }
        er_buf_release(&allow);
        return status;
    }
    er_buf_release(&allow);
    unsigned flags = r->route->flags;
    int status = 0;
    if (flags & SRV_AUTH)
        status = srv_auth_request(r);
    if (!status && (flags & SRV_ADMIN) && !r->user.admin)
        status = srv_reply_error(r, 403, NULL, "this route is for admins");
    if (!status && !(flags & SRV_NO_LIMIT) && r->s->cfg->rate_limit > 0)
        status = limit(r);
    if (!status && (flags & (SRV_BODY | SRV_FREE_BODY)))
        status = read_json(r);
    else if (!status && r->ri->content_length > 0)
        r->close = true;   /* a body nobody reads must not become the next request */
    return status ? status : r->route->fn(r);
}

static int dispatch(struct mg_connection *conn, void *cbdata)
{
    int64_t t0 = (int64_t)(er_mono_ns() / 1000);
    srv_req r = { .s = cbdata, .conn = conn, .ri = mg_get_request_info(conn) };
    er_id_new(r.request_id);
    er_log_set_context(NULL, r.request_id);
    const char *origin = mg_get_header(conn, "Origin");
    if (srv_origin_allowed(r.s, origin))
        r.origin = origin;
    size_t idx = srv_nroutes;
    int status = handle(&r, &idx);
    cJSON_Delete(r.body);
    int64_t us = (int64_t)(er_mono_ns() / 1000) - t0;
    srv_metrics_observe(r.s->metrics, idx, status, us);
    er_log(ER_LOG_INFO, "http", "%s %.200s %d %.2fms %s", r.ri->request_method, r.ri->local_uri,
           status, (double)us / 1000.0, r.user.id[0] ? r.user.id : "-");
    er_log_set_context(NULL, NULL);
    return status;
}

/* ---- start and stop ---- */

static int on_civet_log(const struct mg_connection *conn, const char *msg)
{
    (void)conn;
    er_log(ER_LOG_WARN, "civetweb", "%s", msg);
    return 1;
}

int srv_http_start(srv *s, const char *listen, er_error *err)
{
    char threads[24], req_to[24], idle_to[24];
    snprintf(threads, sizeof threads, "%ld", s->cfg->server_threads > 0 ? s->cfg->server_threads : 1);
    snprintf(req_to, sizeof req_to, "%ld", s->cfg->request_timeout_ms);
    snprintf(idle_to, sizeof idle_to, "%ld", s->cfg->idle_timeout_ms);
    const char *opts[] = {
        "listening_ports", listen,           "num_threads", threads,
        "request_timeout_ms", req_to,        "keep_alive_timeout_ms", idle_to,
        "enable_keep_alive", "yes",          "tcp_nodelay", "1",
        "websocket_timeout_ms", "30000",     "enable_websocket_ping_pong", "yes",
        "access_control_allow_origin", "",   "max_request_size", "16384",
        "connection_queue", "128",           "listen_backlog", "1024",
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = on_civet_log;
    char text[256] = "";
    unsigned code = 0;
    struct mg_error_data ed = { &code, text, sizeof text };
    struct mg_init_data init = { &cb, s, opts };
    s->ctx = mg_start2(&init, &ed);
    if (!s->ctx)
        return er_error_set(err, ER_EUNAVAIL, "cannot listen on '%s': %s (see server.listen)",
                            listen, text[0] ? text : "CivetWeb refused the settings");
    er_strlcpy(s->listen, listen, sizeof s->listen);
    mg_set_request_handler(s->ctx, "/", dispatch, s);
    srv_ws_register(s);
    return 0;
}

void srv_http_stop(srv *s)
{
    if (s->ctx)
        mg_stop(s->ctx);
    s->ctx = NULL;
}

void srv_http_url(const srv *s, char *out, size_t n)
{
    struct mg_server_port ports[4];
    int np = s->ctx ? mg_get_server_ports(s->ctx, 4, ports) : 0;
    int port = np > 0 ? ports[0].port : 0;
    const char *listen = s->listen;
    char host[128];
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : strlen(listen);
    snprintf(host, sizeof host, "%.*s", (int)hl, listen);
    if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strspn(host, "0123456789") == hl)
        snprintf(host, sizeof host, "127.0.0.1");
    snprintf(out, n, "http://%s:%d", host, port);
}
