/* cdp.c — a Chrome DevTools Protocol connection over CivetWeb's WebSocket
 * client (see cdp.h).
 *
 * CivetWeb 1.15 writes a client frame in two send() calls and offers no way
 * to set TCP_NODELAY on a client connection; with Nagle's algorithm and
 * delayed ACKs every command would then wait about 40 ms.  After connecting,
 * the socket is found by its peer address and the option set on it. */
#include "cdp.h"
#include "ws_api.h"
#include "wsclient.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* A full-page screenshot of a long page is the largest message. */
#define MESSAGE_MAX (64u * 1024 * 1024)

struct er_cdp {
    struct mg_connection *conn; /* CivetWeb's client, or */
    er_wsc *wsc;                /* errand's own (er_cdp_connect_direct) */
    er_cdp_event_fn on_event;
    void *payload;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* guarded by lock */
    int next_id;
    int waiting; /* id of the call in flight, 0: none */
    cJSON *reply;
    bool closed;
    char failed[200]; /* er_cdp_fail's reason, "" while fine */
    /* the reader thread's alone */
    er_buf partial;
};

static void deliver(er_cdp *c, cJSON *msg)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    if (cJSON_IsNumber(id)) {
        pthread_mutex_lock(&c->lock);
        if (c->waiting && id->valueint == c->waiting && !c->reply) {
            c->reply = msg;
            msg = NULL;
            pthread_cond_broadcast(&c->cond);
        }
        pthread_mutex_unlock(&c->lock);
        cJSON_Delete(msg); /* the answer to a send, or to a call given up */
        return;
    }
    const char *method = er_json_str(msg, "method");
    if (method && c->on_event)
        c->on_event(c, method, er_json_obj(msg, "params"), er_json_str(msg, "sessionId"),
                    c->payload);
    cJSON_Delete(msg);
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *ud)
{
    (void)conn;
    er_cdp *c = ud;
    int op = bits & 0x0f;
    if (op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (op == MG_WEBSOCKET_OPCODE_PING || op == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    if (er_buf_append(&c->partial, data, len) != 0) {
        er_log(ER_LOG_WARN, "browser", "a DevTools message passed %u bytes; dropped", MESSAGE_MAX);
        er_buf_reset(&c->partial);
        return 1;
    }
    if (!(bits & 0x80))
        return 1; /* more fragments follow */
    cJSON *msg = cJSON_ParseWithLength(c->partial.ptr, c->partial.len);
    er_buf_reset(&c->partial);
    if (msg)
        deliver(c, msg);
    return 1;
}

static void on_close(const struct mg_connection *conn, void *ud)
{
    (void)conn;
    er_cdp *c = ud;
    pthread_mutex_lock(&c->lock);
    c->closed = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Sets TCP_NODELAY on this process's sockets connected to 127.0.0.1:port
 * (see the top of the file).  Another socket to the same endpoint only gets
 * the option too, which does it no harm. */
static void set_nodelay(int port)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long fd;
        if (er_str_to_long(e->d_name, &fd) != 0 || fd == dirfd(d))
            continue;
        struct sockaddr_in peer;
        socklen_t n = sizeof peer;
        if (getpeername((int)fd, (struct sockaddr *)&peer, &n) != 0 || peer.sin_family != AF_INET ||
            ntohs(peer.sin_port) != port || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
            continue;
        int one = 1;
        setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(d);
}

static er_cdp *cdp_new(er_cdp_event_fn fn, void *payload)
{
    er_cdp *c = er_xcalloc(1, sizeof *c);
    c->on_event = fn;
    c->payload = payload;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    er_buf_init(&c->partial, MESSAGE_MAX);
    return c;
}

static bool on_message(const char *data, size_t len, void *ud)
{
    cJSON *msg = cJSON_ParseWithLength(data, len);
    if (msg)
        deliver(ud, msg);
    return true;
}

static void on_closed(void *ud)
{
    on_close(NULL, ud);
}

int er_cdp_connect_direct(er_cdp **out, int port, const char *path, er_cdp_event_fn fn,
                          void *payload, int timeout_ms, er_error *err)
{
    *out = NULL;
    er_cdp *c = cdp_new(fn, payload);
    int rc =
        er_wsc_connect(&c->wsc, port, path, MESSAGE_MAX, timeout_ms, on_message, on_closed, c, err);
    if (rc) {
        er_cdp_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int er_cdp_connect(er_cdp **out, int port, const char *path, er_cdp_event_fn fn, void *payload,
                   er_error *err)
{
    *out = NULL;
    int rc = er_ws_load(err);
    if (rc)
        return rc;
    er_cdp *c = cdp_new(fn, payload);
    char ebuf[256] = "";
    /* No Origin: Chromium refuses a WebSocket upgrade from an origin it was not told to allow. */
    c->conn = er_ws.mg_connect_websocket_client("127.0.0.1", port, 0, ebuf, sizeof ebuf, path, NULL,
                                                on_data, on_close, c);
    if (!c->conn) {
        er_cdp_close(c);
        return er_error_set(err, ER_EUNAVAIL,
                            "cannot open the DevTools WebSocket at "
                            "127.0.0.1:%d: %s",
                            port, ebuf[0] ? ebuf : "connection failed");
    }
    set_nodelay(port);
    *out = c;
    return 0;
}

void er_cdp_close(er_cdp *c)
{
    if (!c)
        return;
    if (c->conn)
        er_ws.mg_close_connection(c->conn); /* joins the reader thread */
    er_wsc_close(c->wsc);                   /* so does this */
    cJSON_Delete(c->reply);
    er_buf_release(&c->partial);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int write_message(er_cdp *c, int id, const char *session, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    er_json_add_num(m, "id", id);
    er_json_add_str(m, "method", method);
    er_json_add(m, "params", params ? params : cJSON_CreateObject());
    if (session)
        er_json_add_str(m, "sessionId", session);
    char *text = er_json_print(m);
    cJSON_Delete(m);
    int rc;
    if (c->wsc)
        rc = er_wsc_send(c->wsc, text, strlen(text));
    else
        rc = er_ws.mg_websocket_client_write(c->conn, MG_WEBSOCKET_OPCODE_TEXT, text,
                                             strlen(text)) > 0
                 ? 0
                 : -1;
    free(text);
    return rc;
}

int er_cdp_send(er_cdp *c, const char *session, const char *method, cJSON *params)
{
    pthread_mutex_lock(&c->lock);
    int id = ++c->next_id;
    bool gone = c->closed;
    pthread_mutex_unlock(&c->lock);
    if (gone) {
        cJSON_Delete(params);
        return ER_EUNAVAIL;
    }
    return write_message(c, id, session, method, params) == 0 ? 0 : ER_EUNAVAIL;
}

void er_cdp_fail(er_cdp *c, const char *why)
{
    pthread_mutex_lock(&c->lock);
    er_strlcpy(c->failed, why, sizeof c->failed);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Called with lock held. */
static int unusable(er_cdp *c, const char *method, er_error *err)
{
    if (c->failed[0])
        return er_error_set(err, ER_EUNAVAIL, "%s%s%s", c->failed, method ? " during " : "",
                            method ? method : "");
    if (c->closed)
        return er_error_set(err, ER_EUNAVAIL,
                            "the browser exited or closed its DevTools "
                            "connection%s%s",
                            method ? " during " : "", method ? method : "");
    return 0;
}

bool er_cdp_usable(er_cdp *c, er_error *err)
{
    pthread_mutex_lock(&c->lock);
    int rc = unusable(c, NULL, err);
    pthread_mutex_unlock(&c->lock);
    return rc == 0;
}

static cJSON *wait_reply(er_cdp *c, int id, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    cJSON *r = NULL;
    while (!c->reply && !c->closed && !c->failed[0])
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
            break;
    if (c->reply && c->waiting == id) {
        r = c->reply;
        c->reply = NULL;
    }
    return r;
}

int er_cdp_call(er_cdp *c, const char *session, const char *method, cJSON *params, int timeout_ms,
                cJSON **result, er_error *err)
{
    if (result)
        *result = NULL;
    pthread_mutex_lock(&c->lock);
    int rc = unusable(c, method, err);
    int id = ++c->next_id;
    c->waiting = rc ? 0 : id;
    cJSON_Delete(c->reply);
    c->reply = NULL;
    pthread_mutex_unlock(&c->lock);
    if (rc) {
        cJSON_Delete(params);
        return rc;
    }
    if (write_message(c, id, session, method, params) != 0) {
        pthread_mutex_lock(&c->lock);
        c->waiting = 0;
        pthread_mutex_unlock(&c->lock);
        return er_error_set(err, ER_EUNAVAIL,
                            "cannot send %s to the browser: the DevTools "
                            "connection is gone",
                            method);
    }
    pthread_mutex_lock(&c->lock);
    cJSON *reply = wait_reply(c, id, timeout_ms);
    if (!reply && !(rc = unusable(c, method, err)))
        rc = er_error_set(err, ER_ETIMEDOUT, "the browser did not answer %s within %d ms", method,
                          timeout_ms);
    c->waiting = 0;
    pthread_mutex_unlock(&c->lock);
    if (rc)
        return rc;
    const cJSON *e = er_json_obj(reply, "error");
    if (e) {
        rc = er_error_set(err, ER_EINVAL, "%s: %s", method,
                          er_json_str(e, "message") ? er_json_str(e, "message") : "failed");
        cJSON_Delete(reply);
        return rc;
    }
    if (er_str_eq(er_json_str(reply, "type"), "error")) { /* WebDriver BiDi's shape */
        const char *m = er_json_str(reply, "message");
        rc = er_error_set(err, ER_EINVAL, "%s: %s%s%s", method,
                          er_json_str(reply, "error") ? er_json_str(reply, "error") : "failed",
                          er_str_empty(m) ? "" : ": ", er_str_empty(m) ? "" : m);
        cJSON_Delete(reply);
        return rc;
    }
    if (result) {
        *result = cJSON_DetachItemFromObjectCaseSensitive(reply, "result");
        if (!*result)
            *result = cJSON_CreateObject();
    }
    cJSON_Delete(reply);
    return 0;
}
