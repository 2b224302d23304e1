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

int srv_chat_check(srv *s, const srv_user *u, const char *conv_id, const char *agent,
                   er_error *err)
{
    if (agent && !er_agent_find(agent))
        return er_error_set(err, ER_EINVAL, "unknown agent '%.32s' (see GET /api/v1/agents)",
                            agent);
    if (!conv_id)
        return 0;
    er_store *st;
    er_conversation c;
    int rc = er_env_store(s->env, &st, err);
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
    er_submit sub = { .request = message, .conversation_id = conv_id, .agent = agent,
                      .user_id = u->id, .task_id = task_id, .server = true };
    return er_task_submit(s->env, &sub, task_out, conv_out, err);
}
