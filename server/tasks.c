/* tasks.c — tasks as both the REST routes (routes_tasks.c) and the WebSocket
 * (ws.c) see them: which tasks a user may see, checking and submitting a chat,
 * a stored event as the JSON the cache publishes.
 *
 * Ownership: a user sees only their own tasks and conversations; anything else
 * is ER_ENOTFOUND, exactly as one that does not exist, so ids of others cannot
 * be probed.  Admins see everything. */
#include "server.h"
#include "errand/agent.h"
#include "errand/tasks.h"

cJSON *srv_event_json(const er_event *e, const char *root)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_num(j, "id", (double)e->id);
    er_json_add_str(j, "task_id", e->task_id);
    er_json_add_str(j, "root", root);
    er_json_add_str(j, "kind", e->kind);
    cJSON *d = NULL;
    if (e->data && srv_json_parse(&d, e->data, strlen(e->data), NULL) != 0)
        d = cJSON_CreateString(e->data); /* too deep to rebuild here: keep it as text */
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

static int count_task(const er_task *t, void *payload)
{
    (void)t;
    (*(long *)payload)++;
    return 0;
}

/* A user's tasks not ended (queued, running, parked on an approval: park.h)
 * stay under server.max_tasks_per_user, so one user's pile cannot queue
 * everyone else's behind it.  Counted when a chat comes: chats that arrive
 * together may pass it by the few of them. */
static int check_cap(srv *s, const srv_user *u, er_error *err)
{
    long cap = s->cfg->max_tasks_per_user, open = 0;
    if (cap <= 0)
        return 0;
    er_store *st;
    er_task_filter f = { .user_id = u->id,
                         .parent_id = "",
                         .status = -1,
                         .limit = (int)(cap < 100000 ? cap : 100000),
                         .open = true };
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_task_list(st, &f, count_task, &open, err);
    if (!rc && open >= cap)
        rc = er_error_set(err, ER_EBUDGET,
                          "you have %ld tasks not ended (queued, running or "
                          "waiting for an approval), the most server.max_tasks_per_user allows; "
                          "answer or cancel one, or wait for one to end",
                          open);
    return rc;
}

int srv_chat_check(srv *s, const srv_user *u, const char *conv_id, const char *agent, er_error *err)
{
    if (agent && !er_agent_find(agent))
        return er_error_set(err, ER_EINVAL, "unknown agent '%.32s' (see GET /api/v1/agents)",
                            agent);
    int rc = check_cap(s, u, err);
    if (rc || !conv_id)
        return rc;
    er_store *st;
    er_conversation c;
    rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_store_conv_get(st, conv_id, &c, err);
    if (!rc) {
        bool mine = srv_may_see(u, c.user_id);
        er_conversation_release(&c);
        if (!mine)
            rc = ER_ENOTFOUND;
    }
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no conversation '%.64s'", conv_id);
    return rc;
}

int srv_chat_submit(srv *s, const srv_user *u, const char *message, const char *conv_id,
                    const char *agent, const char *task_id, char task_out[ER_ID_LEN],
                    char conv_out[ER_ID_LEN], er_error *err)
{
    int rc = srv_chat_check(s, u, conv_id, agent, err);
    if (rc)
        return rc;
    er_submit sub = { .request = message,
                      .conversation_id = conv_id,
                      .agent = agent,
                      .user_id = u->id,
                      .task_id = task_id,
                      .server = true };
    return er_task_submit(s->env, &sub, task_out, conv_out, err);
}
