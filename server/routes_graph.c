/* routes_graph.c — the memory graph over the API: GET /memory/graph (the
 * entities found by part of a name, and the relations touching them) and
 * GET /memory/entities/{id} (one entity, its names, and the relations within
 * depth steps of it, walked as the agents' memory_graph tool walks them).
 *
 * A user sees their own entities and relations and the shared ones, never
 * another user's: another user's entity is 404, as their memories are. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/store_entities.h"
#include "errand/str.h"

#include <stdlib.h>

static cJSON *entity_json(const er_memory_entity *e)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", e->id);
    er_json_add_str(j, "name", e->name);
    er_json_add_str(j, "type", e->type);
    er_json_add_str(j, "owner", e->shared ? "shared" : "user");
    er_json_add_num(j, "relations", (double)e->relations);
    char ts[40];
    er_time_iso(e->created_ms, ts, sizeof ts);
    er_json_add_str(j, "created", ts);
    return j;
}

typedef struct found {
    cJSON *arr;
    char (*ids)[ER_ID_LEN];
    size_t n;
} found;

static int add_entity(const er_memory_entity *e, void *payload)
{
    found *f = payload;
    er_json_append(f->arr, entity_json(e));
    memcpy(f->ids[f->n++], e->id, ER_ID_LEN);
    return 0;
}

static int add_link(const er_memory_link *l, void *payload)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", l->id);
    er_json_add_str(j, "subject_id", l->subject_id);
    er_json_add_str(j, "subject", l->subject);
    er_json_add_str(j, "predicate", l->predicate);
    er_json_add_str(j, "object_id", l->object_id);
    er_json_add_str(j, "object", l->object);
    er_json_add_num(j, "confidence", l->confidence);
    er_json_add_str(j, "source", l->source);
    er_json_add_str(j, "owner", l->shared ? "shared" : "user");
    er_json_append(payload, j);
    return 0;
}

int srv_route_memory_graph(srv_req *r)
{
    long limit;
    int bad = srv_query_int(r, "limit", 30, 1, ER_ENTITIES_MAX, &limit);
    if (bad)
        return bad;
    char q[513] = "";
    srv_query(r, "q", q, sizeof q);
    er_error err = { 0 };
    er_store *st;
    char(*ids)[ER_ID_LEN] = er_xcalloc((size_t)limit, ER_ID_LEN);
    found f = { cJSON_CreateArray(), ids, 0 };
    cJSON *links = cJSON_CreateArray();
    int rc = er_env_store(r->s->env, &st, &err);
    if (rc == 0)
        rc = er_store_memory_entities(st, r->user.id, q, (int)limit, add_entity, &f, &err);
    const char **idv = er_xcalloc(f.n + 1, sizeof *idv);
    for (size_t i = 0; i < f.n; i++)
        idv[i] = f.ids[i];
    if (rc == 0)
        rc = er_store_memory_links(st, r->user.id, idv, f.n, add_link, links, &err);
    free(idv);
    free(ids);
    if (rc) {
        cJSON_Delete(f.arr);
        cJSON_Delete(links);
        return srv_reply_err(r, &err);
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "entities", f.arr);
    er_json_add(j, "relations", links);
    return srv_reply_json(r, 200, j);
}

static int one_entity(const er_memory_entity *e, void *payload)
{
    cJSON **out = payload;
    *out = entity_json(e);
    er_json_add(*out, "aliases", cJSON_CreateArray());
    return 0;
}

static int one_alias(const char *alias, void *payload)
{
    cJSON **out = payload;
    er_json_append(cJSON_GetObjectItem(*out, "aliases"), cJSON_CreateString(alias));
    return 0;
}

typedef struct walk {
    srv_req *r;
    er_store *st;
    cJSON *rels;
    cJSON *names; /* name → entity id, as the requester's names resolve */
} walk;

/* The id the requester's name resolves to ("" when none does any more). */
static const char *id_of(walk *w, const char *name)
{
    cJSON *hit = cJSON_GetObjectItemCaseSensitive(w->names, name);
    if (!hit) {
        char id[ER_ID_LEN] = "";
        er_error err = { 0 };
        if (er_store_memory_entity(w->st, w->r->user.id, name, NULL, false, id, &err) != 0)
            id[0] = '\0';
        hit = cJSON_AddStringToObject(w->names, name, id);
    }
    return cJSON_GetStringValue(hit);
}

static int add_step(const er_memory_relation *rel, void *payload)
{
    walk *w = payload;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", rel->id);
    er_json_add_str(j, "subject_id", id_of(w, rel->subject));
    er_json_add_str(j, "subject", rel->subject);
    er_json_add_str(j, "predicate", rel->predicate);
    er_json_add_str(j, "object_id", id_of(w, rel->object));
    er_json_add_str(j, "object", rel->object);
    er_json_add_num(j, "confidence", rel->confidence);
    er_json_add_str(j, "source", rel->source ? rel->source : "");
    er_json_add_num(j, "depth", rel->depth);
    er_json_append(w->rels, j);
    return 0;
}

int srv_route_memory_entity(srv_req *r)
{
    long depth;
    int bad = srv_query_int(r, "depth", 1, 1, 4, &depth);
    if (bad)
        return bad;
    er_error err = { 0 };
    walk w = { r, NULL, NULL, NULL };
    cJSON *ent = NULL;
    int rc = er_env_store(r->s->env, &w.st, &err);
    if (rc == 0)
        rc = er_store_memory_entity_get(w.st, r->user.id, r->params[0], one_entity, one_alias, &ent,
                                        &err);
    if (rc == ER_ENOTFOUND) {
        cJSON_Delete(ent);
        return srv_reply_error(r, 404, NULL, "no entity '%.64s'", r->params[0]);
    }
    w.rels = cJSON_CreateArray();
    w.names = cJSON_CreateObject();
    if (rc == 0)
        rc = er_store_memory_graph(w.st, r->user.id,
                                   cJSON_GetStringValue(cJSON_GetObjectItem(ent, "name")),
                                   (int)depth, add_step, &w, &err);
    /* a name shadowed by another entity of the user's: no walk from it */
    if (rc == ER_ENOTFOUND)
        rc = 0;
    cJSON_Delete(w.names);
    if (rc) {
        cJSON_Delete(ent);
        cJSON_Delete(w.rels);
        return srv_reply_err(r, &err);
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "entity", ent);
    er_json_add(j, "relations", w.rels);
    return srv_reply_json(r, 200, j);
}
