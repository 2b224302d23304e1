/* reply.c — a handler's answer, kept in the request until http.c sends it
 * once the handler is done: the body and headers, JSON and error bodies
 * ({"error": {status, code, message, field?}, "request_id"}), and the status
 * an er_error code maps to.  Nothing here touches the connection. */
#include "server.h"
#include "errand/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int srv_reply(srv_req *r, int status, const char *ctype, const char *extra, const char *body,
              size_t len)
{
    if (r->status)
        return r->status; /* the first answer stands */
    r->status = status;
    r->ctype = ctype;
    if (r->extra)
        er_buf_puts(&r->headers, r->extra);
    if (extra)
        er_buf_puts(&r->headers, extra);
    if (len)
        er_buf_append(&r->reply, body, len);
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

int srv_reply_buf(srv_req *r, int status, er_buf *json)
{
    if (!r->status && !r->reply.len) {
        /* Hand the buffer over instead of copying it. */
        er_buf_release(&r->reply);
        r->reply = *json;
        *json = (er_buf)ER_BUF_INIT;
        return srv_reply(r, status, "application/json", NULL, NULL, 0);
    }
    er_buf_release(json);
    return r->status;
}

static const char *code_name(int status)
{
    static const struct {
        int status;
        const char *name;
    } names[] = {
        { 400, "bad_request" },
        { 401, "unauthorized" },
        { 403, "forbidden" },
        { 404, "not_found" },
        { 405, "method_not_allowed" },
        { 408, "request_timeout" },
        { 409, "conflict" },
        { 413, "payload_too_large" },
        { 415, "unsupported_media_type" },
        { 426, "upgrade_required" },
        { 429, "rate_limited" },
        { 502, "bad_gateway" },
        { 503, "unavailable" },
        { 504, "timeout" },
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
    case ER_EINVAL: return 400;
    case ER_EAUTH: return 401;
    case ER_EDENIED: return 403;
    case ER_ENOTFOUND: return 404;
    case ER_ECONFLICT:
    case ER_EEXISTS: return 409;
    case ER_ETOOBIG: return 413;
    case ER_EBUDGET: /* a cap of the user's: server.max_tasks_per_user */ return 429;
    case ER_EUNAVAIL: return 503;
    case ER_ETIMEDOUT: return 504;
    case ER_EPROTO: return 502;
    default: return 500;
    }
}

int srv_reply_err(srv_req *r, const er_error *err)
{
    int status = srv_status_of(err->code);
    if (status < 500)
        return srv_reply_error(r, status, NULL, "%s", err->msg);
    /* Details of server-side failures go to the log, never to the client. */
    er_log(ER_LOG_ERROR, "http", "%s %s failed: %s", r->method, r->path, err->msg);
    if (status == 503)
        return srv_reply_error(r, 503, NULL,
                               "a backend is unavailable; try again later "
                               "(request %s)",
                               r->request_id);
    return srv_reply_error(r, status, NULL, "internal error (request %s; see the server log)",
                           r->request_id);
}
