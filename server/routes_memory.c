/* routes_memory.c — shared memory over the API: GET /memory (list, or search
 * with q), POST /memory (save), GET and DELETE /memory/{id}.
 *
 * A user sees their own items and the shared ones (saved for every user),
 * never another user's: those are 404, as others' tasks are.  Everyone saves
 * and forgets their own; shared items are saved and forgotten by admins. */
#include "server.h"
#include "errand/env.h"
#include "errand/memory.h"

#include <stdlib.h>

static int add_item(const er_memory_item *m, void *payload)
{
    er_json_append(payload, er_memory_item_json(m));
    return 0;
}

/* An item the requester may see: their own or a shared one. */
static bool visible(const srv_req *r, const er_memory_item *m)
{
    return !m->user_id || !*m->user_id || strcmp(m->user_id, r->user.id) == 0;
}

static int search(srv_req *r, er_memory_filter *f, const char *q, long limit, cJSON *arr,
                  er_error *err)
{
    er_memory *mem;
    int rc = er_env_memory(r->s->env, &mem, err);
    if (rc)
        return rc;
    er_memory_query query = { .text = q, .filter = *f, .k = (int)limit };
    er_memory_hit *hits = NULL;
    size_t n = 0;
    rc = er_memory_search(mem, &query, &hits, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        cJSON *j = er_memory_item_json(&hits[i].item);
        er_json_add_num(j, "score", hits[i].score);
        er_json_append(arr, j);
    }
    er_memory_hits_free(hits, n);
    return rc;
}

int srv_route_memory_list(srv_req *r)
{
    long limit;
    int bad = srv_query_int(r, "limit", 50, 1, 500, &limit);
    if (bad)
        return bad;
    char q[1024], kind[32], scope[32];
    er_memory_filter f = { .user_id = r->user.id, .limit = (int)limit };
    if (srv_query(r, "kind", kind, sizeof kind))
        f.kind = kind;
    if (srv_query(r, "scope", scope, sizeof scope))
        f.scope = scope;
    cJSON *arr = cJSON_CreateArray();
    er_error err = { 0 };
    er_store *st;
    int rc;
    if (srv_query(r, "q", q, sizeof q) && *q)
        rc = search(r, &f, q, limit, arr, &err);
    else if ((rc = er_env_store(r->s->env, &st, &err)) == 0)
        rc = er_store_memory_list(st, &f, add_item, arr, &err);
    if (rc) {
        cJSON_Delete(arr);
        return srv_reply_err(r, &err);
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "memories", arr);
    return srv_reply_json(r, 200, j);
}

int srv_route_memory_add(srv_req *r)
{
    const char *scope = er_json_str(r->body, "scope");
    bool shared = er_json_bool(r->body, "shared", false);
    if (shared && !r->user.admin)
        return srv_reply_error(r, 403, "shared", "only admins save memories every user shares");
    er_memory_item item = { .user_id = shared ? "" : r->user.id,
                            .scope = (char *)(scope    ? scope
                                              : shared ? "global"
                                                       : "user"),
                            .scope_id = (char *)er_json_str(r->body, "scope_id"),
                            .kind = (char *)er_json_str(r->body, "kind"),
                            .text = (char *)er_json_str(r->body, "text"),
                            .source = (char *)er_json_str(r->body, "source"),
                            .untrusted = er_json_bool(r->body, "untrusted", false) };
    if (!item.kind)
        item.kind = "fact";
    er_memory *mem;
    er_error err = { 0 };
    bool created = false;
    int rc = er_env_memory(r->s->env, &mem, &err);
    if (!rc)
        rc = er_memory_save(mem, &item, 1, &created, &err);
    if (rc == ER_EINVAL)
        return srv_reply_error(r, 400, NULL, "%s", err.msg);
    if (rc)
        return srv_reply_err(r, &err);
    cJSON *j = er_memory_item_json(&item);
    er_json_add_bool(j, "new", created);
    return srv_reply_json(r, created ? 201 : 200, j);
}

/* The item r->params[0] names when the requester may see it; otherwise the
 * reply (404 for another user's) is made and returned (nonzero). */
static int visible_item(srv_req *r, er_store **st, er_memory_item *out)
{
    er_error err = { 0 };
    int rc = er_env_store(r->s->env, st, &err);
    if (!rc)
        rc = er_store_memory_get(*st, r->params[0], out, &err);
    if (!rc && !visible(r, out)) {
        er_memory_item_release(out);
        rc = ER_ENOTFOUND;
    }
    if (rc == ER_ENOTFOUND)
        return srv_reply_error(r, 404, NULL, "no memory '%.64s'", r->params[0]);
    return rc ? srv_reply_err(r, &err) : 0;
}

int srv_route_memory_get(srv_req *r)
{
    er_store *st;
    er_memory_item m;
    int status = visible_item(r, &st, &m);
    if (status)
        return status;
    cJSON *j = er_memory_item_json(&m);
    er_memory_item_release(&m);
    return srv_reply_json(r, 200, j);
}

int srv_route_memory_forget(srv_req *r)
{
    er_store *st;
    er_memory_item m;
    int status = visible_item(r, &st, &m);
    if (status)
        return status;
    bool shared = !m.user_id || !*m.user_id;
    er_memory_item_release(&m);
    if (shared && !r->user.admin)
        return srv_reply_error(r, 403, NULL, "only admins forget memories every user shares");
    er_error err = { 0 };
    int rc = er_store_memory_forget(st, r->params[0], shared ? "" : r->user.id, &err);
    if (rc == ER_ENOTFOUND)
        return srv_reply_error(r, 404, NULL, "no memory '%.64s'", r->params[0]);
    if (rc)
        return srv_reply_err(r, &err);
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", r->params[0]);
    er_json_add_bool(j, "forgotten", true);
    return srv_reply_json(r, 200, j);
}
