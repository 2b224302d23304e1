/* http.c — the HTTP side of errand serve: libmicrohttpd's set-up and limits,
 * the stages of a request (its route from routes.c, its body capped here and
 * validated in body.c, its reply built by reply.c and sent here), CORS, the
 * access log and the request metrics.
 *
 * libmicrohttpd parses HTTP and multiplexes connections on a few event threads
 * (epoll): a slow or idle client costs a connection slot, never a thread.  A
 * request is handled in stages, as MHD calls back: on its headers (routing,
 * authentication, rate limit, Content-Type and Content-Length checks, which
 * may answer at once: a 413 is sent before any of the body is read), on each
 * piece of its body (capped at server.max_body), and once complete (parse,
 * validate, run the handler).  Handlers of SRV_SLOW routes (they wait on the
 * network) run on a small pool (pool.c) while their connection is suspended,
 * so an unreachable identity provider cannot stall the event threads.  Limits:
 * request headers 16 KiB, server.timeout_ms of silence closes a connection
 * (sending a request or idling between keep-alive requests), server.max_body
 * per body; connections per address and in all, and a deadline for request
 * headers (conns.c). */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define HEADER_MEMORY (16 * 1024)
#define STACK_SIZE    (1024 * 1024)

enum { STAGE_NEW, STAGE_BODY, STAGE_RUNNING, STAGE_DONE };

/* ---- query strings and headers ---- */

const char *srv_header(srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool srv_query(srv_req *r, const char *name, char *buf, size_t n)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return false;
    er_strlcpy(buf, v, n);
    return true;
}

int srv_query_int(srv_req *r, const char *name, long def, long min, long max, long *out)
{
    char buf[32];
    *out = def;
    if (!srv_query(r, name, buf, sizeof buf))
        return 0;
    /* A value cut to fit buf is not the number the client sent. */
    if (strlen(buf) == sizeof buf - 1 || er_str_to_long(buf, out) || *out < min || *out > max)
        return srv_reply_error(
            r, 400, name, "query parameter '%s' must be a number from %ld to %ld", name, min, max);
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
    char extra[256];
    if (!srv_header(r, "Origin")) {
        /* Not CORS: a client asking what the path allows (RFC 9110 9.3.7). */
        snprintf(extra, sizeof extra, "Allow: %s, OPTIONS\r\n", allow);
        return srv_reply(r, 204, NULL, extra, NULL, 0);
    }
    if (!r->origin)
        return srv_reply_error(r, 403, NULL, "origin not allowed (see server.cors_origins)");
    snprintf(extra, sizeof extra,
             "Access-Control-Allow-Methods: %s, OPTIONS\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
             "Access-Control-Max-Age: 600\r\n",
             allow);
    return srv_reply(r, 204, "text/plain", extra, NULL, 0);
}

static int no_route(srv_req *r, const er_buf *allow)
{
    if (allow->len && strcmp(r->method, "OPTIONS") == 0)
        return preflight(r, allow->ptr);
    if (!allow->len && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)) {
        int status = srv_static_serve(r);
        if (status)
            return status;
    }
    if (!allow->len)
        return srv_reply_error(r, 404, NULL, "no route %s %.200s (see /api/v1/openapi.json)",
                               r->method, r->path);
    char extra[128];
    snprintf(extra, sizeof extra, "Allow: %s\r\n", allow->ptr);
    r->extra = extra;
    int status = srv_reply_error(r, 405, NULL, "%s is not allowed here (allowed: %s)", r->method,
                                 allow->ptr);
    r->extra = NULL;
    return status;
}

/* ---- handing requests to other threads ---- */

void srv_suspend(srv_req *r)
{
    r->stage = STAGE_RUNNING;
    MHD_suspend_connection(r->conn);
}

void srv_resume(srv_req *r)
{
    r->stage = STAGE_DONE;
    MHD_resume_connection(r->conn);
}

/* ---- the stages of a request ---- */

/* The client's address as text (only the rate limit of anonymous routes asks). */
static void client_address(srv_req *r, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static int limit(srv_req *r)
{
    char who[80];
    if (r->route->flags & SRV_AUTH) {
        snprintf(who, sizeof who, "%s", r->user.id);
    } else {
        char ip[48];
        client_address(r, ip, sizeof ip);
        snprintf(who, sizeof who, "ip:%s", ip);
    }
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

static bool wants_upgrade(srv_req *r)
{
    const char *up = srv_header(r, "Upgrade");
    return up && strcasecmp(up, "websocket") == 0;
}

/* RFC 9112 6.3: Content-Length beside Transfer-Encoding is how requests are
 * smuggled past a proxy that reads the other one: refused, connection closed. */
static bool framing_conflict(srv_req *r)
{
    if (!srv_header(r, "Content-Length") || !srv_header(r, "Transfer-Encoding"))
        return false;
    r->close = true;
    srv_reply_error(r, 400, NULL,
                    "a request has Content-Length or Transfer-Encoding, never both "
                    "(RFC 9112 6.3)");
    return true;
}

/* On the request's headers: everything that may answer before the body. */
static void begin(srv_req *r)
{
    if (framing_conflict(r))
        return;
    er_buf allow = ER_BUF_INIT;
    r->route = srv_route_find(r->method, r->path, r->params, &r->route_idx, &allow);
    if (!r->route) {
        no_route(r, &allow);
        er_buf_release(&allow);
        return;
    }
    er_buf_release(&allow);
    unsigned flags = r->route->flags;
    if ((flags & SRV_WS) && wants_upgrade(r)) {
        srv_ws_upgrade(r);
        return;
    }
    int status = 0;
    if (flags & SRV_AUTH)
        status = srv_auth_request(r);
    if (!status && (flags & SRV_ADMIN) && !r->user.admin)
        status = srv_reply_error(r, 403, NULL, "this route is for admins");
    if (!status && !(flags & SRV_NO_LIMIT) && r->s->cfg->rate_limit > 0)
        status = limit(r);
    if (!status && (flags & (SRV_BODY | SRV_FREE_BODY)))
        srv_body_headers(r);
}

/* The whole request is in: parse the body, run the handler. */
static void complete(srv_req *r)
{
    if (r->route->flags & (SRV_BODY | SRV_FREE_BODY)) {
        if (srv_body_parse(r))
            return;
    } else if (r->in.len) {
        r->close = true; /* a body nobody reads: do not trust the connection */
    }
    if (!(r->route->flags & SRV_SLOW)) {
        r->route->fn(r);
    } else if (!srv_pool_submit(r->s->pool, r)) {
        r->route->fn(r); /* shutting down: here, the pool takes no more */
        r->stage = STAGE_DONE;
    }
}

/* "Name: value\r\n" lines onto the response. */
static void add_headers(struct MHD_Response *resp, const er_buf *lines)
{
    const char *p = er_buf_cstr(lines);
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (colon) {
            char name[64], value[1024];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(n - (size_t)(v - p)), v);
            MHD_add_response_header(resp, name, value);
        }
        p += n + (eol ? 2 : 0);
    }
}

static enum MHD_Result send_reply(srv_req *r)
{
    struct MHD_Response *resp = r->upgrade;
    /* r->reply lives until on_completed, after the answer is sent: no copy. */
    if (!resp)
        resp = MHD_create_response_from_buffer(r->reply.len, r->reply.ptr, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (r->ctype)
        MHD_add_response_header(resp, "Content-Type", r->ctype);
    if (!r->upgrade) {
        if (!r->cache_set)
            MHD_add_response_header(resp, "Cache-Control", "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    }
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
    }
    add_headers(resp, &r->headers);
    if (r->close)
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->upgrade = NULL;
    r->queued = true;
    return ret;
}

/* A request id: a random prefix per thread and a counter (no syscall, no lock
 * per request, unlike a UUID): 24 hex digits, written by hand. */
static void request_id(char out[ER_ID_LEN])
{
    static const char digits[] = "0123456789abcdef";
    static _Thread_local uint64_t prefix;
    static _Thread_local uint32_t counter;
    if (!prefix && srv_random(&prefix, sizeof prefix) != 0)
        prefix = (uint64_t)er_mono_ns();
    uint32_t c = ++counter;
    for (int i = 0; i < 16; i++)
        out[i] = digits[(prefix >> (60 - 4 * i)) & 15];
    for (int i = 0; i < 8; i++)
        out[16 + i] = digits[(c >> (28 - 4 * i)) & 15];
    out[24] = '\0';
}

static srv_req *new_req(srv *s, struct MHD_Connection *conn, const char *url, const char *method)
{
    srv_req *r = er_xcalloc(1, sizeof *r);
    r->s = s;
    r->conn = conn;
    r->method = method;
    r->path = url;
    r->route_idx = srv_nroutes;
    r->t0_us = (int64_t)(er_mono_ns() / 1000);
    er_buf_init(&r->in, (size_t)s->cfg->max_body);
    request_id(r->request_id);
    const char *origin = srv_header(r, "Origin");
    if (srv_origin_allowed(s, origin))
        r->origin = origin;
    return r;
}

static bool has_body(srv_req *r)
{
    const char *cl = srv_header(r, "Content-Length");
    return srv_header(r, "Transfer-Encoding") || (cl && strcmp(cl, "0") != 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    srv_req *r = *req_cls;
    if (!r) {
        srv_conns_headers_done(((srv *)cls)->conns, conn);
        r = *req_cls = new_req(cls, conn, url, method);
        er_log_set_context(NULL, r->request_id);
        begin(r);
        er_log_set_context(NULL, NULL);
        r->stage = STAGE_BODY;
        /* An answer queued before the request is complete makes libmicrohttpd
         * close the connection: early only when there is a body not to read. */
        return r->status && (r->upgrade || has_body(r)) ? send_reply(r) : MHD_YES;
    }
    if (*upload_size) {
        /* Over the cap without a Content-Length that said so: drop the connection. */
        if (r->status || er_buf_append(&r->in, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->queued || r->stage == STAGE_RUNNING)
        return MHD_YES;
    if (r->stage == STAGE_BODY && !r->status) {
        er_log_set_context(NULL, r->request_id);
        complete(r);
        er_log_set_context(NULL, NULL);
        if (r->stage == STAGE_RUNNING)
            return MHD_YES;
    }
    return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)why;
    srv *s = cls;
    srv_req *r = *req_cls;
    if (!r)
        return;
    *req_cls = NULL;
    srv_conns_request_done(s->conns, conn, r->status == 101);
    int64_t us = (int64_t)(er_mono_ns() / 1000) - r->t0_us;
    if (r->status) {
        srv_metrics_observe(s->metrics, r->route_idx, r->status, us);
        er_log(ER_LOG_INFO, "http", "%s %.200s %d %.2fms %s", r->method, r->path, r->status,
               (double)us / 1000.0, r->user.id[0] ? r->user.id : "-");
    }
    if (r->upgrade)
        MHD_destroy_response(r->upgrade);
    cJSON_Delete(r->body);
    er_buf_release(&r->in);
    er_buf_release(&r->headers);
    er_buf_release(&r->reply);
    free(r);
}

/* ---- start and stop ---- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    er_log(ER_LOG_WARN, "microhttpd", "%s", msg);
}

/* HOST:PORT or [IPV6]:PORT into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *flags,
                        er_error *err)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    long port;
    if (!colon || er_str_to_long(colon + 1, &port) || port < 0 || port > 65535)
        return er_error_set(err, ER_EINVAL, "server.listen '%s' is not HOST:PORT", listen);
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1)
            return 0;
    } else {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        if (host[0] == '\0' || inet_pton(AF_INET, host, &in4->sin_addr) == 1)
            return 0;
    }
    return er_error_set(err, ER_EINVAL, "server.listen '%s': '%s' is not an IP address", listen,
                        host);
}

int srv_http_start(srv *s, const char *listen, er_error *err)
{
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
    int rc = parse_listen(listen, &ss, &flags, err);
    if (rc)
        return rc;
    long threads =
        s->cfg->server_threads > 0 ? s->cfg->server_threads : sysconf(_SC_NPROCESSORS_ONLN);
    unsigned timeout_s = (unsigned)((s->cfg->timeout_ms + 999) / 1000);
    s->pool = srv_pool_new();
    srv_batch_start(s);
    if (srv_conns_new(&s->conns, s->cfg))
        er_log(ER_LOG_WARN, "http", "no watchdog thread: request headers have no deadline");
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(threads > 0 ? threads : 1), MHD_OPTION_CONNECTION_TIMEOUT,
        timeout_s > 0 ? timeout_s : 1u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)STACK_SIZE, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv_conns_limit(s->cfg),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg->max_connections_per_ip,
        MHD_OPTION_NOTIFY_CONNECTION, srv_conns_notify, s->conns, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
    if (!s->daemon) {
        srv_pool_free(s->pool);
        s->pool = NULL;
        srv_batch_stop(s);
        srv_conns_free(s->conns);
        s->conns = NULL;
        return er_error_set(err, ER_EUNAVAIL,
                            "cannot listen on '%s': address in use or not "
                            "allowed (see server.listen)",
                            listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    er_strlcpy(s->listen, listen, sizeof s->listen);
    return 0;
}

void srv_http_stop(srv *s)
{
    if (!s->daemon) {
        srv_openai_free(s);
        return;
    }
    MHD_quiesce_daemon(s->daemon);
    /* Suspended connections must resume before the daemon stops. */
    srv_pool_free(s->pool);
    s->pool = NULL;
    srv_batch_stop(s);
    srv_openai_end_streams(s);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    srv_openai_free(s);
    srv_conns_free(s->conns);
    s->conns = NULL;
}

void srv_http_url(const srv *s, char *out, size_t n)
{
    const char *colon = strrchr(s->listen, ':');
    size_t hl = colon ? (size_t)(colon - s->listen) : 0;
    char host[128];
    snprintf(host, sizeof host, "%.*s", (int)hl, s->listen);
    if (!host[0] || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof host, "[::1]");
    snprintf(out, n, "http://%s:%d", host, s->port);
}
