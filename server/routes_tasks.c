/* routes_tasks.c — chat and tasks: POST /chat, GET /tasks, GET /tasks/{id},
 * POST /tasks/{id}/cancel.
 *
 * Ownership: a user sees only their own tasks; anything else answers 404,
 * exactly as a task that does not exist, so ids of others cannot be probed.
 * Admins see everything. */
#include "server.h"
#include "errand/agent.h"
#include "errand/alloc.h"
#include "errand/tasks.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_STEPS 2000

static void add_time(cJSON *j, const char *key, int64_t ms)
{
    char ts[32];
    er_time_iso(ms, ts, sizeof ts);
    er_json_add_str(j, key, ts);
}

static cJSON *task_json(const er_task *t)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", t->id);
    er_json_add_str(j, "parent_id", t->parent_id[0] ? t->parent_id : NULL);
    er_json_add_str(j, "conversation_id", t->conversation_id[0] ? t->conversation_id : NULL);
    er_json_add_str(j, "user_id", t->user_id[0] ? t->user_id : NULL);
    er_json_add_str(j, "status", er_task_status_name(t->status));
    er_json_add_str(j, "agent", t->agent);
    er_json_add_str(j, "request", t->request);
    er_json_add_str(j, "result", t->result);
    er_json_add_str(j, "error", t->error);
    er_json_add_num(j, "tokens_in", (double)t->tokens_in);
    er_json_add_num(j, "tokens_out", (double)t->tokens_out);
    add_time(j, "created", t->created_ms);
    add_time(j, "updated", t->updated_ms);
    return j;
}

cJSON *srv_event_json(const er_event *e, const char *root)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_num(j, "id", (double)e->id);
    er_json_add_str(j, "task_id", e->task_id);
    er_json_add_str(j, "root", root);
    er_json_add_str(j, "kind", e->kind);
    cJSON *d = NULL;
    if (e->data && srv_json_parse(&d, e->data, strlen(e->data), NULL) != 0)
        d = cJSON_CreateString(e->data);   /* too deep to rebuild here: keep it as text */
    else if (!d)
        d = cJSON_CreateNull();
    er_json_add(j, "data", d);
    er_json_add_num(j, "ts", (double)e->created_ms);
    return j;
}

int srv_task_visible(srv *s, const srv_user *u, const char *id, er_task *out, er_error *err)
{
    er_store *st;
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_task_get(st, id, out, err);
    if (!rc && !srv_may_see(u, out->user_id)) {
        er_task_release(out);
        rc = ER_ENOTFOUND;
    }
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no task '%.64s'", id);
    return rc;
}

int srv_chat_submit(srv *s, const srv_user *u, const char *message, const char *conv_id,
                    const char *agent, const char *task_id, char task_out[ER_ID_LEN],
                    char conv_out[ER_ID_LEN], er_error *err)
{
    if (agent && !er_agent_find(agent))
        return er_error_set(err, ER_EINVAL, "unknown agent '%.32s' (see GET /api/v1/agents)",
                            agent);
    er_store *st;
    int rc = er_env_store(s->env, &st, err);
    if (!rc && conv_id) {
        er_conversation c;
        rc = er_store_conv_get(st, conv_id, &c, err);
        if (!rc) {
            bool mine = srv_may_see(u, c.user_id);
            er_conversation_release(&c);
            if (!mine)
                rc = ER_ENOTFOUND;
        }
        if (rc == ER_ENOTFOUND)
            return er_error_set(err, rc, "no conversation '%.64s'", conv_id);
    }
    if (rc)
        return rc;
    er_submit sub = { .request = message, .conversation_id = conv_id, .agent = agent,
                      .user_id = u->id, .task_id = task_id };
    return er_task_submit(s->env, &sub, task_out, conv_out, err);
}

int srv_route_chat(srv_req *r)
{
    const char *agent = er_json_str(r->body, "agent");
    char task[ER_ID_LEN], conv[ER_ID_LEN];
    er_error err = { 0 };
    int rc = srv_chat_submit(r->s, &r->user, er_json_str(r->body, "message"),
                             er_json_str(r->body, "conversation_id"), agent, NULL, task, conv,
                             &err);
    if (rc == ER_EINVAL && agent && !er_agent_find(agent))
        return srv_reply_error(r, 400, "agent", "%s", err.msg);
    if (rc)
        return srv_reply_err(r, &err);
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "task_id", task);
    er_json_add_str(j, "conversation_id", conv);
    er_json_add_str(j, "status", "queued");
    char loc[96];
    snprintf(loc, sizeof loc, "Location: /api/v1/tasks/%s\r\n", task);
    r->extra = loc;
    int status = srv_reply_json(r, 202, j);
    r->extra = NULL;
    return status;
}

static int add_task(const er_task *t, void *payload)
{
    er_json_append(payload, task_json(t));
    return 0;
}

int srv_route_tasks_list(srv_req *r)
{
    char status_s[16], conv[64], user[64];
    long limit;
    int bad = srv_query_int(r, "limit", 50, 1, 500, &limit);
    if (bad)
        return bad;
    er_task_filter f = { .user_id = r->user.id, .parent_id = "", .status = -1,
                         .limit = (int)limit };
    if (srv_query(r, "status", status_s, sizeof status_s)) {
        er_task_status st;
        if (er_task_status_parse(status_s, &st))
            return srv_reply_error(r, 400, "status", "unknown status '%s' (queued, routed, "
                                   "running, done, failed, cancelled)", status_s);
        f.status = (int)st;
    }
    if (srv_query(r, "conversation_id", conv, sizeof conv))
        f.conversation_id = conv;
    if (r->user.admin)
        f.user_id = srv_query(r, "user_id", user, sizeof user) ? user : NULL;
    er_store *st;
    er_error err = { 0 };
    cJSON *arr = cJSON_CreateArray();
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_task_list(st, &f, add_task, arr, &err);
    if (rc) {
        cJSON_Delete(arr);
        return srv_reply_err(r, &err);
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "tasks", arr);
    return srv_reply_json(r, 200, j);
}

typedef struct steps_ctx {
    cJSON *arr;
    const char *root;
    int n;
    er_store *st;
} steps_ctx;

static int add_step(const er_event *e, void *payload)
{
    steps_ctx *c = payload;
    if (c->n++ >= MAX_STEPS)
        return 1;
    er_json_append(c->arr, srv_event_json(e, c->root));
    return 0;
}

static int add_child(const er_task *t, void *payload)
{
    cJSON **ctx = payload;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", t->id);
    er_json_add_str(j, "agent", t->agent);
    er_json_add_str(j, "status", er_task_status_name(t->status));
    er_json_add_str(j, "request", t->request);
    er_json_append(ctx[0], j);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    double x = er_json_num(*(cJSON *const *)a, "id", 0);
    double y = er_json_num(*(cJSON *const *)b, "id", 0);
    return (x > y) - (x < y);
}

/* The task's events and its subtasks', in the order they happened. */
static cJSON *steps_of(er_store *st, const er_task *t, cJSON *children)
{
    steps_ctx c = { cJSON_CreateArray(), er_task_root(t), 0, st };
    er_store_event_list(st, t->id, 0, add_step, &c, NULL);
    int nchildren = cJSON_GetArraySize(children);
    if (nchildren == 0)
        return c.arr;
    const cJSON *ch;
    cJSON_ArrayForEach(ch, children)
        er_store_event_list(st, er_json_str(ch, "id"), 0, add_step, &c, NULL);
    int n = cJSON_GetArraySize(c.arr);
    cJSON **items = er_xcalloc((size_t)n + 1, sizeof *items);
    for (int i = n - 1; i >= 0; i--)
        items[i] = cJSON_DetachItemFromArray(c.arr, i);
    qsort(items, (size_t)n, sizeof *items, by_id);
    for (int i = 0; i < n; i++)
        er_json_append(c.arr, items[i]);
    free(items);
    return c.arr;
}

int srv_route_task_get(srv_req *r)
{
    er_task t;
    er_error err = { 0 };
    int rc = srv_task_visible(r->s, &r->user, r->params[0], &t, &err);
    if (rc)
        return srv_reply_err(r, &err);
    er_store *st;
    er_env_store(r->s->env, &st, NULL);
    cJSON *j = task_json(&t);
    cJSON *children = cJSON_CreateArray();
    er_task_filter f = { .parent_id = t.id, .status = -1, .limit = 200 };
    cJSON *ctx[1] = { children };
    er_store_task_list(st, &f, add_child, ctx, NULL);
    er_json_add(j, "steps", steps_of(st, &t, children));
    er_json_add(j, "subtasks", children);
    er_task_release(&t);
    return srv_reply_json(r, 200, j);
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
    cJSON *j = task_json(&t);
    er_task_release(&t);
    return srv_reply_json(r, 200, j);
}
