/* routes_tasks.c — chat and tasks: POST /chat, GET /tasks, GET /tasks/{id},
 * POST /tasks/{id}/cancel.
 *
 * Ownership: a user sees only their own tasks; anything else answers 404,
 * exactly as a task that does not exist, so ids of others cannot be probed.
 * Admins see everything. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/tasks.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_STEPS 2000

/* The task's fields, into an open object. */
static void task_fields(er_buf *b, const er_task *t)
{
    srv_jw_str(b, "id", t->id);
    srv_jw_str(b, "parent_id", t->parent_id[0] ? t->parent_id : NULL);
    srv_jw_str(b, "conversation_id", t->conversation_id[0] ? t->conversation_id : NULL);
    srv_jw_str(b, "user_id", t->user_id[0] ? t->user_id : NULL);
    srv_jw_str(b, "status", er_task_status_name(t->status));
    srv_jw_str(b, "agent", t->agent);
    srv_jw_str(b, "request", t->request);
    srv_jw_str(b, "result", t->result);
    srv_jw_str(b, "error", t->error);
    srv_jw_int(b, "tokens_in", t->tokens_in);
    srv_jw_int(b, "tokens_out", t->tokens_out);
    srv_jw_time(b, "created", t->created_ms);
    srv_jw_time(b, "updated", t->updated_ms);
}

/* Checked here, stored with the chats that arrive with it (submit.c). */
int srv_route_chat(srv_req *r)
{
    const char *agent = er_json_str(r->body, "agent");
    const char *conv = er_json_str(r->body, "conversation_id");
    er_error err = { 0 };
    int rc = srv_chat_check(r->s, &r->user, conv, agent, &err);
    if (rc == ER_EINVAL)
        return srv_reply_error(r, 400, "agent", "%s", err.msg);
    if (rc)
        return srv_reply_err(r, &err);
    er_submit sub = { .request = er_json_str(r->body, "message"),
                      .conversation_id = conv,
                      .agent = agent,
                      .user_id = r->user.id,
                      .server = true };
    srv_batch_submit(r, &sub);
    return 202;
}

typedef struct list_read {
    const er_task_filter *f;
    er_buf *b;
    er_strv waiting; /* tasks parked on an approval */
} list_read;

static int add_task(const er_task *t, void *payload)
{
    list_read *x = payload;
    srv_jw_open(x->b, NULL, '{');
    task_fields(x->b, t);
    /* Parked on an approval: running still, but holding no worker (what it
     * waits for in detail: GET /tasks/{id}). */
    if (t->status == ER_TASK_RUNNING && er_tasks_is_waiting(&x->waiting, t->id)) {
        srv_jw_open(x->b, "waiting", '{');
        srv_jw_str(x->b, "for", "approval");
        srv_jw_close(x->b, '}');
    }
    srv_jw_close(x->b, '}');
    return 0;
}

static int read_task_list(er_store *st, void *payload, er_error *err)
{
    list_read *x = payload;
    x->waiting = er_tasks_waiting(st);
    return er_store_task_list(st, x->f, add_task, x, err);
}

int srv_route_tasks_list(srv_req *r)
{
    char status_s[16], conv[64], user[64];
    long limit;
    int bad = srv_query_int(r, "limit", 50, 1, 500, &limit);
    if (bad)
        return bad;
    er_task_filter f = {
        .user_id = r->user.id, .parent_id = "", .status = -1, .limit = (int)limit
    };
    if (srv_query(r, "status", status_s, sizeof status_s)) {
        er_task_status st;
        if (er_task_status_parse(status_s, &st))
            return srv_reply_error(r, 400, "status",
                                   "unknown status '%s' (queued, routed, "
                                   "running, done, failed, cancelled)",
                                   status_s);
        f.status = (int)st;
    }
    if (srv_query(r, "conversation_id", conv, sizeof conv))
        f.conversation_id = conv;
    if (r->user.admin)
        f.user_id = srv_query(r, "user_id", user, sizeof user) ? user : NULL;
    er_store *st;
    er_error err = { 0 };
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, "{");
    srv_jw_open(&b, "tasks", '[');
    int rc = er_env_store(r->s->env, &st, &err);
    list_read x = { &f, &b, ER_STRV_INIT };
    if (!rc) /* a read: beside other readers and writers (see er_store_read) */
        rc = er_store_read(st, read_task_list, &x, &err);
    er_strv_free(&x.waiting);
    if (rc) {
        er_buf_release(&b);
        return srv_reply_err(r, &err);
    }
    er_buf_puts(&b, "]}");
    return srv_reply_buf(r, 200, &b);
}

/* A step as JSON text (a slice of steps_ctx.text), with its id to order the
 * steps of several tasks by. */
typedef struct step {
    int64_t id;
    size_t off, len;
} step;

typedef struct steps_ctx {
    step *v;
    size_t n, cap;
    const char *root;
    er_buf text; /* every step's JSON, one after the other */
} steps_ctx;

static int add_step(const er_event *e, void *payload)
{
    steps_ctx *c = payload;
    if (c->n >= MAX_STEPS)
        return 1;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = er_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    er_buf *b = &c->text;
    size_t off = b->len;
    er_buf_putc(b, '{');
    srv_jw_int(b, "id", e->id);
    srv_jw_str(b, "task_id", e->task_id);
    srv_jw_str(b, "root", c->root);
    srv_jw_str(b, "kind", e->kind);
    srv_jw_raw(b, "data", e->data);
    srv_jw_int(b, "ts", e->created_ms);
    er_buf_putc(b, '}');
    c->v[c->n++] = (step){ e->id, off, b->len - off };
    return 0;
}

typedef struct children_ctx {
    er_buf *b;
    char (*ids)[ER_ID_LEN];
    size_t n;
} children_ctx;

static int add_child(const er_task *t, void *payload)
{
    children_ctx *c = payload;
    srv_jw_open(c->b, NULL, '{');
    srv_jw_str(c->b, "id", t->id);
    srv_jw_str(c->b, "agent", t->agent);
    srv_jw_str(c->b, "status", er_task_status_name(t->status));
    srv_jw_str(c->b, "request", t->request);
    srv_jw_close(c->b, '}');
    c->ids = er_xrealloc(c->ids, (c->n + 1) * sizeof *c->ids);
    memcpy(c->ids[c->n++], t->id, ER_ID_LEN);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const step *)a)->id, y = ((const step *)b)->id;
    return (x > y) - (x < y);
}

/* "steps": the task's events and its subtasks', in the order they happened. */
static void write_steps(er_buf *b, er_store *st, const er_task *t, const children_ctx *ch)
{
    steps_ctx c = { NULL, 0, 0, er_task_root(t), ER_BUF_INIT };
    er_store_event_list(st, t->id, 0, add_step, &c, NULL);
    for (size_t i = 0; i < ch->n; i++)
        er_store_event_list(st, ch->ids[i], 0, add_step, &c, NULL);
    if (ch->n)
        qsort(c.v, c.n, sizeof *c.v, by_id);
    srv_jw_open(b, "steps", '[');
    for (size_t i = 0; i < c.n; i++) {
        if (i)
            er_buf_putc(b, ',');
        er_buf_append(b, c.text.ptr + c.v[i].off, c.v[i].len);
    }
    srv_jw_close(b, ']');
    er_buf_release(&c.text);
    free(c.v);
}

typedef struct task_view {
    srv_req *r;
    er_buf b;
} task_view;

/* A task parked on an approval (park.h): what it waits for, no worker held. */
static void waiting_field(er_buf *b, er_store *st, const er_task *t)
{
    er_task_wait w;
    if (t->status != ER_TASK_RUNNING || er_store_wait_get(st, t->id, &w, NULL))
        return;
    srv_jw_open(b, "waiting", '{');
    srv_jw_str(b, "for", "approval");
    srv_jw_str(b, "call_id", w.call_id);
    srv_jw_str(b, "tool", w.tool);
    srv_jw_str(b, "approver", w.admin_only ? "admin" : "requester");
    srv_jw_time(b, "since", w.created_ms);
    srv_jw_time(b, "expires", w.expires_ms);
    srv_jw_close(b, '}');
    er_task_wait_release(&w);
}

/* The task, its subtasks and the steps of both, read in one snapshot. */
static int write_task(er_store *st, void *payload, er_error *err)
{
    task_view *v = payload;
    er_task t;
    int rc = srv_task_visible(v->r->s, &v->r->user, v->r->params[0], &t, err);
    if (rc)
        return rc;
    er_buf *b = &v->b, subs = ER_BUF_INIT;
    er_buf_putc(b, '{');
    task_fields(b, &t);
    waiting_field(b, st, &t);
    children_ctx ch = { &subs, NULL, 0 };
    er_buf_putc(&subs, '[');
    er_task_filter f = { .parent_id = t.id, .status = -1, .limit = 200 };
    er_store_task_list(st, &f, add_child, &ch, NULL);
    er_buf_putc(&subs, ']');
    write_steps(b, st, &t, &ch);
    srv_jw_key(b, "subtasks");
    er_buf_append(b, subs.ptr, subs.len);
    er_buf_putc(b, '}');
    free(ch.ids);
    er_buf_release(&subs);
    er_task_release(&t);
    return 0;
}

int srv_route_task_get(srv_req *r)
{
    er_store *st;
    er_error err = { 0 };
    task_view v = { r, ER_BUF_INIT };
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_read(st, write_task, &v, &err);
    if (rc) {
        er_buf_release(&v.b);
        return srv_reply_err(r, &err);
    }
    return srv_reply_buf(r, 200, &v.b);
}

int srv_route_task_cancel(srv_req *r)
{
    er_task t;
    er_error err = { 0 };
    int rc = srv_task_visible(r->s, &r->user, r->params[0], &t, &err);
    if (rc)
        return srv_reply_err(r, &err);
    er_task_release(&t);
    rc = er_task_cancel(r->s->env, r->params[0], &err);
    if (!rc)
        rc = srv_task_visible(r->s, &r->user, r->params[0], &t, &err);
    if (rc)
        return srv_reply_err(r, &err);
    er_buf b = ER_BUF_INIT;
    er_buf_putc(&b, '{');
    task_fields(&b, &t);
    er_buf_putc(&b, '}');
    er_task_release(&t);
    return srv_reply_buf(r, 200, &b);
}
