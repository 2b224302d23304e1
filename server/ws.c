/* ws.c — the WebSocket endpoint /ws: follow tasks and conversations live,
 * chat, and answer approval requests (the protocol is described in the
 * OpenAPI document, openapi.c).
 *
 * After the 101 answer libmicrohttpd hands the socket over; each connection
 * then has a reader thread (frames in, messages handled) and a writer thread
 * with a queue: events arrive from the hub on cache threads (which must never
 * wait on a slow client), replies from the reader; the writer sends them in
 * queue order.  A client that lets more than MAX_QUEUED bytes pile up is cut
 * off (close 1008), and one that stays silent through a ping is dropped.
 * A task subscription queues a REPLAY marker under the hub's lock, before any
 * live event of the task: the writer then sends the stored events first and
 * drops live events it has already replayed (by event id), so a late
 * subscriber sees the whole task, in order, without duplicates. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/approval.h"
#include "errand/id.h"
#include "errand/tasks.h"
#include "errand/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#define MAX_IN         (128 * 1024) /* one client message */
#define MAX_QUEUED     (8u << 20)   /* bytes waiting for a slow client */
#define MAX_REPLAY     5000
#define MAX_MESSAGE    (64 * 1024)
#define PING_MS        30000 /* silence before a ping; another before giving up */
#define CLOSE_GRACE_MS 1000  /* shutting down: time for clients to answer a close */

typedef enum { ITEM_TEXT, ITEM_EVENT, ITEM_REPLAY, ITEM_CLOSE } item_kind;

typedef struct item {
    struct item *next;
    item_kind kind;
    char key[ER_ID_LEN]; /* ITEM_REPLAY: the root */
    size_t len;
    char text[];
} item;

typedef struct replayed {
    char root[ER_ID_LEN];
    int64_t *ids; /* sorted */
    size_t n;
} replayed;

typedef struct wsconn {
    srv_sink sink; /* first: the hub hands it back */
    srv *s;
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    pthread_mutex_t wlock; /* one frame on the wire at a time */
    srv_user user;
    struct wsconn *next;  /* in the server's set */
    pthread_mutex_t lock; /* guards the queue and the flags */
    pthread_cond_t cond;
    item *head, *tail;
    size_t queued;
    bool stop, dead;
    bool writer_started;
    pthread_t writer;
    er_buf pending; /* reader thread only: bytes read ahead */
    er_buf in;      /* reader thread only: a fragmented message */
    replayed *rp;   /* writer thread only */
    size_t nrp;
} wsconn;

struct srv_wsset {
    pthread_mutex_t lock;
    pthread_cond_t gone; /* a connection ended */
    wsconn *head;
    int count;
};

/* ---- the queue ---- */

static void push(wsconn *c, item_kind kind, const char *key, const char *text, size_t len)
{
    pthread_mutex_lock(&c->lock);
    if (c->dead || c->stop) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->queued + len > MAX_QUEUED) {
        c->dead = true; /* the writer sends the close frame */
        kind = ITEM_CLOSE;
        text = "\x03\xf0too slow: events piled up";
        len = strlen(text);
    }
    item *it = er_xmalloc(sizeof *it + len + 1);
    it->next = NULL;
    it->kind = kind;
    er_strlcpy(it->key, key ? key : "", sizeof it->key);
    it->len = len;
    memcpy(it->text, text, len);
    it->text[len] = '\0';
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    c->queued += len;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void push_json(wsconn *c, cJSON *j)
{
    char *text = er_json_print(j);
    cJSON_Delete(j);
    push(c, ITEM_TEXT, NULL, text, strlen(text));
    free(text);
}

static cJSON *reply(const char *type, const cJSON *req)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "type", type);
    const cJSON *ref = req ? cJSON_GetObjectItemCaseSensitive(req, "id") : NULL;
    if (ref && (cJSON_IsString(ref) || cJSON_IsNumber(ref)))
        er_json_add(j, "ref", cJSON_Duplicate(ref, false));
    return j;
}

static void push_error(wsconn *c, const cJSON *req, const char *field, const char *msg)
{
    cJSON *j = reply("error", req);
    er_json_add_str(j, "error", msg);
    if (field)
        er_json_add_str(j, "field", field);
    push_json(c, j);
}

static void sink_deliver(srv_sink *sink, const char *msg, size_t len)
{
    push((wsconn *)sink, ITEM_EVENT, NULL, msg, len);
}

static void sink_added(srv_sink *sink, bool conv, const char *key)
{
    if (!conv)
        push((wsconn *)sink, ITEM_REPLAY, key, "", 0);
}

/* ---- the writer ---- */

static void send_frame(wsconn *c, int opcode, const char *text, size_t len)
{
    pthread_mutex_lock(&c->wlock);
    int rc = srv_ws_write_frame(c->fd, opcode, text, len);
    pthread_mutex_unlock(&c->wlock);
    if (rc == 0)
        return;
    pthread_mutex_lock(&c->lock);
    c->dead = true;
    pthread_mutex_unlock(&c->lock);
}

static replayed *replay_of(wsconn *c, const char *root)
{
    for (size_t i = 0; i < c->nrp; i++)
        if (strcmp(c->rp[i].root, root) == 0)
            return &c->rp[i];
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct replay_ctx {
    wsconn *c;
    const char *root;
    cJSON *events;
    int n;
} replay_ctx;

static int collect_event(const er_event *e, void *payload)
{
    replay_ctx *r = payload;
    if (r->n++ >= MAX_REPLAY)
        return 1;
    er_json_append(r->events, srv_event_json(e, r->root));
    return 0;
}

static int collect_child(const er_task *t, void *payload)
{
    replay_ctx *r = payload;
    er_store *st;
    if (er_env_store(r->c->s->env, &st, NULL) == 0)
        er_store_event_list(st, t->id, 0, collect_event, r, NULL);
    return 0;
}

static int by_event_id(const void *a, const void *b)
{
    double x = er_json_num(*(cJSON *const *)a, "id", 0),
           y = er_json_num(*(cJSON *const *)b, "id", 0);
    return (x > y) - (x < y);
}

/* Sends the stored events of the tree at root, oldest first, and remembers their ids. */
static void replay(wsconn *c, const char *root)
{
    er_store *st;
    if (er_env_store(c->s->env, &st, NULL))
        return;
    replay_ctx r = { c, root, cJSON_CreateArray(), 0 };
    er_store_event_list(st, root, 0, collect_event, &r, NULL);
    er_task_filter f = { .parent_id = root, .status = -1, .limit = 200 };
    er_store_task_list(st, &f, collect_child, &r, NULL);
    int n = cJSON_GetArraySize(r.events);
    cJSON **items = er_xcalloc((size_t)n + 1, sizeof *items);
    for (int i = n - 1; i >= 0; i--)
        items[i] = cJSON_DetachItemFromArray(r.events, i);
    qsort(items, (size_t)n, sizeof *items, by_event_id);
    c->rp = er_xrealloc(c->rp, (c->nrp + 1) * sizeof *c->rp);
    replayed *rp = &c->rp[c->nrp++];
    er_strlcpy(rp->root, root, sizeof rp->root);
    rp->ids = er_xcalloc((size_t)n + 1, sizeof *rp->ids);
    rp->n = 0;
    for (int i = 0; i < n; i++) {
        rp->ids[rp->n++] = (int64_t)er_json_num(items[i], "id", 0);
        cJSON *msg = cJSON_CreateObject();
        er_json_add_str(msg, "type", "event");
        er_json_add_bool(msg, "replay", true);
        er_json_add(msg, "event", items[i]);
        char *text = er_json_print(msg);
        cJSON_Delete(msg);
        send_frame(c, 1, text, strlen(text));
        free(text);
    }
    qsort(rp->ids, rp->n, sizeof *rp->ids, cmp_id);
    free(items);
    cJSON_Delete(r.events);
}

/* A live event already sent by a replay?  Stored events start {"id":N, … "root":"…". */
static bool already_sent(wsconn *c, const char *ev)
{
    if (c->nrp == 0 || strncmp(ev, "{\"id\":", 6) != 0)
        return false;
    const char *rt = strstr(ev, "\"root\":\"");
    if (!rt)
        return false;
    char root[ER_ID_LEN];
    size_t n = strcspn(rt + 8, "\"");
    if (n >= sizeof root)
        return false;
    memcpy(root, rt + 8, n);
    root[n] = '\0';
    replayed *rp = replay_of(c, root);
    int64_t id = strtoll(ev + 6, NULL, 10);
    return rp && bsearch(&id, rp->ids, rp->n, sizeof id, cmp_id) != NULL;
}

static void write_item(wsconn *c, const item *it)
{
    switch (it->kind) {
    case ITEM_TEXT: send_frame(c, 1, it->text, it->len); break;
    case ITEM_EVENT: {
        if (already_sent(c, it->text))
            break;
        er_buf b = ER_BUF_INIT;
        er_buf_puts(&b, "{\"type\":\"event\",\"event\":");
        er_buf_append(&b, it->text, it->len);
        er_buf_putc(&b, '}');
        send_frame(c, 1, b.ptr, b.len);
        er_buf_release(&b);
        break;
    }
    case ITEM_REPLAY: replay(c, it->key); break;
    case ITEM_CLOSE:
        send_frame(c, 8, it->text, it->len);
        pthread_mutex_lock(&c->lock);
        c->dead = true; /* nothing may follow a close frame */
        pthread_mutex_unlock(&c->lock);
        break;
    }
}

static void *writer_main(void *arg)
{
    wsconn *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->head && !c->stop)
            pthread_cond_wait(&c->cond, &c->lock);
        item *it = c->head;
        if (it) {
            c->head = it->next;
            if (!c->head)
                c->tail = NULL;
            c->queued -= it->len;
        }
        bool skip = c->dead && it && it->kind != ITEM_CLOSE;
        pthread_mutex_unlock(&c->lock);
        if (!it)
            break;
        if (!skip)
            write_item(c, it);
        free(it);
    }
    return NULL;
}

/* ---- client messages (the reader thread) ---- */

/* A string field of at most max bytes, or NULL with an error sent. */
static const char *want_str(wsconn *c, const cJSON *req, const char *name, bool required,
                            size_t max, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            char msg[96];
            snprintf(msg, sizeof msg, "field '%s' is required", name);
            push_error(c, req, name, msg);
            *bad = true;
        }
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "field '%s' must be a non-empty string of at most %zu bytes",
                 name, max);
        push_error(c, req, name, msg);
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static void on_subscribe(wsconn *c, const cJSON *req, bool subscribe)
{
    bool bad = false;
    const char *task = want_str(c, req, "task_id", false, 64, &bad);
    const char *conv = want_str(c, req, "conversation_id", false, 64, &bad);
    if (bad)
        return;
    if (!task == !conv) {
        push_error(c, req, "task_id", "give exactly one of task_id and conversation_id");
        return;
    }
    er_error err = { 0 };
    char key[ER_ID_LEN];
    if (task) {
        er_task t;
        if (srv_task_visible(c->s, &c->user, task, &t, &err)) {
            push_error(c, req, "task_id", err.code == ER_ENOTFOUND ? err.msg : "cannot look it up");
            return;
        }
        er_strlcpy(key, er_task_root(&t), sizeof key);
        er_task_release(&t);
    } else {
        er_store *st;
        er_conversation cv;
        int rc = er_env_store(c->s->env, &st, &err);
        if (!rc)
            rc = er_store_conv_get(st, conv, &cv, &err);
        if (!rc && !srv_may_see(&c->user, cv.user_id)) {
            er_conversation_release(&cv);
            rc = ER_ENOTFOUND;
        }
        if (rc) {
            push_error(c, req, "conversation_id",
                       rc == ER_ENOTFOUND ? "no such conversation" : "cannot look it up");
            return;
        }
        er_strlcpy(key, cv.id, sizeof key);
        er_conversation_release(&cv);
    }
    cJSON *j = reply(subscribe ? "subscribed" : "unsubscribed", req);
    er_json_add_str(j, task ? "task_id" : "conversation_id", task ? task : conv);
    if (task)
        er_json_add_str(j, "root", key);
    push_json(c, j);
    if (!subscribe)
        srv_hub_remove(c->s->hub, &c->sink, !task, key);
    else if (srv_hub_add(c->s->hub, &c->sink, !task, key, &err))
        push_error(c, req, NULL, err.msg);
}

static void on_chat(wsconn *c, const cJSON *req)
{
    bool bad = false;
    const char *message = want_str(c, req, "message", true, MAX_MESSAGE, &bad);
    const char *conv = want_str(c, req, "conversation_id", false, 64, &bad);
    const char *agent = want_str(c, req, "agent", false, 32, &bad);
    if (bad)
        return;
    int retry = 0;
    if (c->s->cfg->rate_limit > 0 && srv_ratelimit(c->s, c->user.id, "ws.chat", &retry)) {
        char msg[96];
        snprintf(msg, sizeof msg, "too many requests; try again in %d s", retry);
        push_error(c, req, NULL, msg);
        return;
    }
    /* Subscribed before the task exists: not one token can be missed. */
    char task[ER_ID_LEN], task_out[ER_ID_LEN], conv_out[ER_ID_LEN];
    er_id_new(task);
    er_error err = { 0 };
    int rc = srv_hub_add(c->s->hub, &c->sink, false, task, &err);
    if (!rc)
        rc = srv_chat_submit(c->s, &c->user, message, conv, agent, task, task_out, conv_out, &err);
    if (rc) {
        srv_hub_remove(c->s->hub, &c->sink, false, task);
        push_error(c, req,
                   rc == ER_EINVAL      ? "agent"
                   : rc == ER_ENOTFOUND ? "conversation_id"
                                        : NULL,
                   srv_status_of(rc) >= 500 ? "a backend is unavailable; try again later"
                                            : err.msg);
        return;
    }
    cJSON *j = reply("accepted", req);
    er_json_add_str(j, "task_id", task_out);
    er_json_add_str(j, "conversation_id", conv_out);
    push_json(c, j);
}

typedef struct asked {
    const char *call_id;
    bool admin;
} asked;

static int find_request(const er_event *e, void *payload)
{
    asked *a = payload;
    if (!er_str_eq(e->kind, "approval_request"))
        return 0;
    cJSON *d = cJSON_Parse(e->data ? e->data : "{}");
    if (d && er_str_eq(er_json_str(d, "call_id"), a->call_id))
        a->admin = er_str_eq(er_json_str(d, "approver"), "admin");
    cJSON_Delete(d);
    return 0;
}

/* Whether the request call_id of task waits for an administrator: the
 * runtime says so in the stored request (approval.h), and ignores other
 * answers; refusing here tells the user why. */
static bool needs_admin(srv *s, const char *task, const char *call_id)
{
    er_store *st;
    asked a = { call_id, false };
    if (er_env_store(s->env, &st, NULL) == 0)
        er_store_event_list(st, task, 0, find_request, &a, NULL);
    return a.admin;
}

static void on_approval(wsconn *c, const cJSON *req)
{
    bool bad = false;
    const char *task = want_str(c, req, "task_id", true, 64, &bad);
    const char *call = want_str(c, req, "call_id", true, 256, &bad);
    const char *decision = want_str(c, req, "decision", true, 16, &bad);
    if (bad)
        return;
    er_approval_decision d;
    if (er_approval_parse(decision, &d)) {
        push_error(c, req, "decision", "decision must be allow, deny or always");
        return;
    }
    er_task t;
    er_error err = { 0 };
    if (srv_task_visible(c->s, &c->user, task, &t, &err)) {
        push_error(c, req, "task_id", err.code == ER_ENOTFOUND ? err.msg : "cannot look it up");
        return;
    }
    er_task_release(&t);
    if (!c->user.admin && needs_admin(c->s, task, call)) {
        push_error(c, req, "call_id",
                   "this call needs an administrator's approval "
                   "(server.admin_approval); an admin must answer it");
        return;
    }
    if (er_approval_answer_as(c->s->env, task, call, d, c->user.id, c->user.admin, &err)) {
        push_error(c, req, NULL, "cannot pass the answer on; try again");
        return;
    }
    cJSON *j = reply("approval_sent", req);
    er_json_add_str(j, "task_id", task);
    er_json_add_str(j, "call_id", call);
    er_json_add_str(j, "decision", er_approval_name(d));
    push_json(c, j);
}

static void on_message(wsconn *c, const char *text, size_t len)
{
    cJSON *req = NULL;
    er_error err = { 0 };
    if (srv_json_has_nul(text, len)) {
        push_error(c, NULL, NULL, "strings must not contain NUL (\\u0000)");
        return;
    }
    if (srv_json_parse(&req, text, len, &err) || !cJSON_IsObject(req)) {
        cJSON_Delete(req);
        push_error(c, NULL, NULL, "messages must be JSON objects with a \"type\"");
        return;
    }
    const char *type = er_json_str(req, "type");
    if (er_str_eq(type, "subscribe") || er_str_eq(type, "unsubscribe"))
        on_subscribe(c, req, strcmp(type, "subscribe") == 0);
    else if (er_str_eq(type, "chat"))
        on_chat(c, req);
    else if (er_str_eq(type, "approval"))
        on_approval(c, req);
    else if (er_str_eq(type, "ping"))
        push_json(c, reply("pong", req));
    else
        push_error(c, req, "type", "unknown type (subscribe, unsubscribe, chat, approval, ping)");
    cJSON_Delete(req);
}

/* ---- the upgrade ---- */

static const char *ws_token(srv_req *r, char *buf, size_t n)
{
    const char *h = srv_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        return h + 7;
    return srv_query(r, "access_token", buf, n) && buf[0] ? buf : NULL;
}

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh);

int srv_ws_upgrade(srv_req *r)
{
    const char *origin = srv_header(r, "Origin");
    if (origin && !srv_origin_allowed(r->s, origin))
        return srv_reply_error(r, 403, NULL, "origin not allowed (see server.cors_origins)");
    const char *version = srv_header(r, "Sec-WebSocket-Version");
    const char *key = srv_header(r, "Sec-WebSocket-Key");
    if (!er_str_eq(version, "13") || !key || strlen(key) != 24) {
        r->extra = "Sec-WebSocket-Version: 13\r\n";
        int status = srv_reply_error(r, 400, NULL,
                                     "a WebSocket handshake needs "
                                     "Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key");
        r->extra = NULL;
        return status;
    }
    char buf[1024];
    const char *token = ws_token(r, buf, sizeof buf);
    er_error err = { 0 };
    if (!token)
        return srv_reply_error(r, 401, NULL,
                               "send Authorization: Bearer TOKEN or "
                               "?access_token=TOKEN");
    if (srv_auth_token(r->s, token, &r->user, &err))
        return srv_reply_error(r, 401, NULL, "%s",
                               err.code == ER_EAUTH ? err.msg : "cannot check the token");
    r->upgrade = MHD_create_response_for_upgrade(on_upgraded, r->s);
    if (!r->upgrade)
        return srv_reply_error(r, 500, NULL, "cannot upgrade (request %s)", r->request_id);
    char accept[32], extra[160];
    srv_ws_accept_key(key, accept);
    snprintf(extra, sizeof extra,
             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", accept);
    return srv_reply(r, 101, NULL, extra, NULL, 0);
}

/* ---- the reader ---- */

/* The close frame's status code, for the log. */
static void close_with(wsconn *c, unsigned code, const char *why)
{
    char frame[128];
    int n = snprintf(frame, sizeof frame, "%c%c%s", (char)(code >> 8), (char)(code & 0xff), why);
    push(c, ITEM_CLOSE, NULL, frame, (size_t)n);
}

/* One frame handled; false when the connection is over. */
static bool on_frame(wsconn *c, srv_wsframe *f)
{
    switch (f->opcode) {
    case 8:
        push(c, ITEM_CLOSE, NULL, f->payload.ptr ? f->payload.ptr : "",
             f->payload.len >= 2 ? 2 : 0);
        return false;
    case 9: send_frame(c, 10, f->payload.ptr ? f->payload.ptr : "", f->payload.len); return true;
    case 10: return true;
    case 2: push_error(c, NULL, NULL, "send JSON in text frames"); return true;
    case 0:
    case 1:
        if (er_buf_append(&c->in, f->payload.ptr ? f->payload.ptr : "", f->payload.len)) {
            close_with(c, 1009, "message too big");
            return false;
        }
        if (f->fin && !srv_utf8_valid(c->in.ptr ? c->in.ptr : "", c->in.len)) {
            close_with(c, 1007, "text is not valid UTF-8"); /* RFC 6455 8.1 */
            return false;
        }
        if (f->fin) {
            on_message(c, c->in.ptr ? c->in.ptr : "", c->in.len);
            er_buf_reset(&c->in);
        }
        return true;
    default: close_with(c, 1002, "unknown opcode"); return false;
    }
}

static void read_loop(wsconn *c)
{
    srv_wsframe f = { 0, false, ER_BUF_INIT };
    er_buf_init(&f.payload, MAX_IN);
    bool pinged = false;
    for (;;) {
        int rc = srv_ws_read_frame(c->fd, &c->pending, MAX_IN, PING_MS, &f);
        if (rc == ER_ETIMEDOUT && !pinged) {
            send_frame(c, 9, "", 0);
            pinged = true;
            continue;
        }
        if (rc == ER_ETOOBIG)
            close_with(c, 1009, "message too big");
        else if (rc == ER_EPROTO)
            close_with(c, 1002, "protocol error");
        if (rc || !on_frame(c, &f))
            break;
        pinged = false;
    }
    er_buf_release(&f.payload);
}

static void free_conn(wsconn *c)
{
    while (c->head) {
        item *it = c->head;
        c->head = it->next;
        free(it);
    }
    for (size_t i = 0; i < c->nrp; i++)
        free(c->rp[i].ids);
    free(c->rp);
    er_buf_release(&c->pending);
    er_buf_release(&c->in);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->wlock);
    free(c);
}

/* The connection's life after the upgrade, on its own thread. */
static void *reader_main(void *arg)
{
    wsconn *c = arg;
    srv *s = c->s;
    read_loop(c);
    srv_hub_remove_all(s->hub, &c->sink);
    pthread_mutex_lock(&c->lock);
    c->stop = true; /* the writer sends what is queued (a close frame), then ends */
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (c->writer_started)
        pthread_join(c->writer, NULL);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    pthread_mutex_lock(&s->ws->lock);
    for (wsconn **pp = &s->ws->head; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    s->ws->count--;
    pthread_cond_broadcast(&s->ws->gone);
    pthread_mutex_unlock(&s->ws->lock);
    srv_metrics_ws(s->metrics, -1);
    free_conn(c);
    return NULL;
}

static wsconn *conn_new(srv *s, const srv_user *user, int fd, struct MHD_UpgradeResponseHandle *urh)
{
    wsconn *c = er_xcalloc(1, sizeof *c);
    c->sink.deliver = sink_deliver;
    c->sink.added = sink_added;
    c->s = s;
    c->fd = fd;
    c->urh = urh;
    c->user = *user;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->wlock, NULL);
    pthread_cond_init(&c->cond, NULL);
    er_buf_init(&c->pending, MAX_IN + 16);
    er_buf_init(&c->in, MAX_IN);
    /* Blocking I/O on the connection's own threads; a client that takes nothing
     * for server.timeout_ms fails the send (and is dropped). */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    long ms = s->cfg->timeout_ms > 0 ? s->cfg->timeout_ms : 10000;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return c;
}

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    srv *s = cls;
    srv_req *r = req_cls;
    wsconn *c = conn_new(s, &r->user, sock, urh);
    if (extra_in_size)
        er_buf_append(&c->pending, extra_in, extra_in_size);
    pthread_mutex_lock(&s->ws->lock);
    c->next = s->ws->head;
    s->ws->head = c;
    s->ws->count++;
    pthread_mutex_unlock(&s->ws->lock);
    srv_metrics_ws(s->metrics, 1);
    cJSON *j = reply("hello", NULL), *u = cJSON_CreateObject();
    er_json_add_str(u, "id", c->user.id);
    er_json_add_str(u, "name", c->user.name);
    er_json_add_str(u, "role", c->user.admin ? "admin" : "user");
    er_json_add(j, "user", u);
    push_json(c, j);
    c->writer_started = pthread_create(&c->writer, NULL, writer_main, c) == 0;
    pthread_t reader;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&reader, &attr, reader_main, c) != 0) {
        er_log(ER_LOG_ERROR, "ws", "cannot start a reader thread; closing the WebSocket");
        shutdown(sock, SHUT_RDWR);
        reader_main(c); /* cleans up right here */
    }
    pthread_attr_destroy(&attr);
}

/* ---- the set of connections ---- */

void srv_ws_init(srv *s)
{
    s->ws = er_xcalloc(1, sizeof *s->ws);
    pthread_mutex_init(&s->ws->lock, NULL);
    pthread_cond_init(&s->ws->gone, NULL);
}

static void wait_gone(srv *s, int64_t ms)
{
    int64_t deadline = er_mono_ms() + ms;
    while (s->ws->count > 0 && er_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->ws->gone, &s->ws->lock, &ts);
    }
}

void srv_ws_close_all(srv *s)
{
    if (!s->ws)
        return;
    static const char going_away[] = "\x03\xe9server shutting down";
    pthread_mutex_lock(&s->ws->lock);
    for (wsconn *c = s->ws->head; c; c = c->next)
        push(c, ITEM_CLOSE, NULL, going_away, sizeof going_away - 1);
    wait_gone(s, CLOSE_GRACE_MS);
    /* Clients that did not answer the close: end their readers. */
    for (wsconn *c = s->ws->head; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    while (s->ws->count > 0)
        pthread_cond_wait(&s->ws->gone, &s->ws->lock);
    pthread_mutex_unlock(&s->ws->lock);
}

int srv_ws_close_for(srv *s, const char *kind, const char *id)
{
    static const char revoked[] = "\x03\xf0"
                                  "credentials revoked or changed";
    if (!s->ws)
        return 0;
    int n = 0;
    pthread_mutex_lock(&s->ws->lock);
    for (wsconn *c = s->ws->head; c; c = c->next) {
        const char *cred = strcmp(kind, "token") == 0     ? c->user.token_id
                           : strcmp(kind, "session") == 0 ? c->user.session_id
                                                          : c->user.id;
        if (!cred[0] || strcmp(cred, id) != 0)
            continue;
        push(c, ITEM_CLOSE, NULL, revoked, sizeof revoked - 1); /* 1008, policy violation */
        shutdown(c->fd, SHUT_RD); /* the reader ends: nothing more is taken from it */
        n++;
    }
    pthread_mutex_unlock(&s->ws->lock);
    return n;
}

void srv_ws_free(srv *s)
{
    if (!s->ws)
        return;
    pthread_cond_destroy(&s->ws->gone);
    pthread_mutex_destroy(&s->ws->lock);
    free(s->ws);
    s->ws = NULL;
}
