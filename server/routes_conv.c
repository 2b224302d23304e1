/* routes_conv.c — conversations: GET /conversations and GET /conversations/{id}
 * (with its messages).  Same ownership rule as tasks: others' are 404. */
#include "server.h"

#include <stdlib.h>

static void add_time(cJSON *j, const char *key, int64_t ms)
{
    char ts[32];
    er_time_iso(ms, ts, sizeof ts);
    er_json_add_str(j, key, ts);
}

static cJSON *conv_json(const er_conversation *c)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", c->id);
    er_json_add_str(j, "user_id", c->user_id);
    er_json_add_str(j, "title", c->title ? c->title : "");
    add_time(j, "created", c->created_ms);
    add_time(j, "updated", c->updated_ms);
    return j;
}

static int add_conv(const er_conversation *c, void *payload)
{
    er_json_append(payload, conv_json(c));
    return 0;
}

typedef struct convs_read {
    const char *who;
    int limit;
    cJSON *arr;
} convs_read;

static int read_convs(er_store *st, void *payload, er_error *err)
{
    convs_read *x = payload;
    return er_store_conv_list(st, x->who, x->limit, add_conv, x->arr, err);
}

int srv_route_convs_list(srv_req *r)
{
    long limit;
    int bad = srv_query_int(r, "limit", 50, 1, 500, &limit);
    if (bad)
        return bad;
    char user[64];
    const char *who = r->user.id;
    if (r->user.admin)
        who = srv_query(r, "user_id", user, sizeof user) ? user : NULL;
    er_store *st;
    er_error err = { 0 };
    cJSON *arr = cJSON_CreateArray();
    int rc = er_env_store(r->s->env, &st, &err);
    convs_read x = { who, (int)limit, arr };
    if (!rc) /* a read: beside other readers and writers (see er_store_read) */
        rc = er_store_read(st, read_convs, &x, &err);
    if (rc) {
        cJSON_Delete(arr);
        return srv_reply_err(r, &err);
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "conversations", arr);
    return srv_reply_json(r, 200, j);
}

static int add_msg(const er_message *m, void *payload)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_num(j, "id", (double)m->id);
    er_json_add_str(j, "role", m->role);
    er_json_add_str(j, "content", m->content);
    er_json_add_str(j, "task_id", m->task_id[0] ? m->task_id : NULL);
    add_time(j, "created", m->created_ms);
    er_json_append(payload, j);
    return 0;
}

int srv_route_conv_get(srv_req *r)
{
    er_store *st;
    er_conversation c;
    er_error err = { 0 };
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_conv_get(st, r->params[0], &c, &err);
    if (!rc && !srv_may_see(&r->user, c.user_id)) {
        er_conversation_release(&c);
        rc = ER_ENOTFOUND;
    }
    if (rc == ER_ENOTFOUND)
        return srv_reply_error(r, 404, NULL, "no conversation '%.64s'", r->params[0]);
    if (rc)
        return srv_reply_err(r, &err);
    cJSON *j = conv_json(&c);
    cJSON *msgs = cJSON_CreateArray();
    rc = er_store_msg_list(st, c.id, 0, add_msg, msgs, &err);
    er_conversation_release(&c);
    if (rc) {
        cJSON_Delete(msgs);
        cJSON_Delete(j);
        return srv_reply_err(r, &err);
    }
    er_json_add(j, "messages", msgs);
    return srv_reply_json(r, 200, j);
}
