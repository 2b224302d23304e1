/* supervisor.c — consumes supervisor.tasks: routes each task to one agent, or
 * fans a compound request out to child tasks, one per step. */
#include "errand/compact.h"
#include "errand/workers.h"
#include "worker_int.h"
#include "errand/alloc.h"
#include "errand/budget.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/router.h"
#include "errand/store_usage.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int publish_task(er_env *env, const char *agent, const char *task_id, er_error *err)
{
    er_bus *bus;
    int rc = er_env_bus(env, &bus, err);
    if (rc)
        return rc;
    char key[64], body[96];
    er_bus_agent_queue(agent, key, sizeof key);
    int n = snprintf(body, sizeof body, "{\"task_id\":\"%s\"}", task_id);
    return er_bus_publish(bus, ER_EXCHANGE_AGENT, key, body, (size_t)n, err);
}

/* Child ids derive from the parent's so a redelivered message finds the same children. */
static void child_id(const char *parent, size_t index, char out[ER_ID_LEN])
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = parent; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ (index + 1)) * 1099511628211ULL;
    snprintf(out, ER_ID_LEN, "%.24s%012llx", parent, (unsigned long long)(h & 0xffffffffffffULL));
}

static int create_children(er_store *st, const er_task *parent, const er_route *r, er_error *err)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        er_task c = { 0 };
        child_id(parent->id, i, c.id);
        er_strlcpy(c.parent_id, parent->id, sizeof c.parent_id);
        er_strlcpy(c.conversation_id, parent->conversation_id, sizeof c.conversation_id);
        er_strlcpy(c.user_id, parent->user_id, sizeof c.user_id);
        er_strlcpy(c.trace_id, parent->trace_id, sizeof c.trace_id);
        c.agent = r->steps[i].agent;
        c.request = r->steps[i].request;
        cJSON *meta = cJSON_Parse(parent->meta ? parent->meta : "{}");
        if (!meta)
            meta = cJSON_CreateObject();
        cJSON_DeleteItemFromObject(meta, "agent");
        er_json_add_num(meta, "index", (double)i);
        if (r->steps[i].depends_on >= 0) {
            char dep[ER_ID_LEN];
            child_id(parent->id, (size_t)r->steps[i].depends_on, dep);
            er_json_add_str(meta, "after", dep);
        }
        c.meta = er_json_print(meta);
        cJSON_Delete(meta);
        int rc = er_store_task_create(st, &c, err);
        free(c.meta);
        if (rc && rc != ER_EEXISTS)
            return rc;
    }
    return 0;
}

/* Publishes every step that is ready (no dependency); used again on redelivery. */
static int dispatch(er_env *env, er_store *st, const er_task *t, const er_route *r, er_error *err)
{
    if (r->nsteps == 1)
        return publish_task(env, r->steps[0].agent, t->id, err);
    for (size_t i = 0; i < r->nsteps; i++) {
        if (r->steps[i].depends_on >= 0)
            continue;
        char id[ER_ID_LEN];
        child_id(t->id, i, id);
        int rc = er_store_task_advance(st, id, ER_TASK_ROUTED, NULL, err);
        if (rc == ER_ECONFLICT)
            continue;
        if (!rc)
            rc = publish_task(env, r->steps[i].agent, id, err);
        if (rc)
            return rc;
    }
    return 0;
}

static void fail_task(er_env *env, const er_task *t, const char *why, int code)
{
    er_task_outcome o = { .status = ER_TASK_FAILED, .error = why, .error_code = code };
    er_error err = { 0 };
    if (er_task_finish(env, t, &o, &err))
        er_log(ER_LOG_ERROR, "supervisor", "cannot record failure of %s: %s", t->id, err.msg);
}

/* The budgets hold for the routing request too (budget.h): a task whose
 * user spent the day's budget is not even routed. */
static int routing_budget(er_env *env, er_store *st, er_llm *llm, const er_task *t, er_error *err)
{
    const er_config *cfg = er_env_config(env);
    int64_t spent = 0;
    er_error e = { 0 };
    if (!er_str_empty(cfg->max_cost) && er_store_usage_task_cost(st, t->id, &spent, &e))
        return er_error_set(err, e.code, "cannot read what the task cost so far: %s", e.msg);
    return er_budget_check(st, cfg, llm, NULL, t->user_id[0] ? t->user_id : NULL, spent, err);
}

static int decide(er_env *env, const er_task *t, cJSON *meta, er_route *r, er_error *err)
{
    const char *forced = er_json_str(meta, "agent");
    if (forced)
        return er_route_forced(r, forced, t->request, err);
    er_store *st;
    er_llm *llm;
    int rc = er_env_store(env, &st, err);
    if (rc == 0)
        rc = er_env_llm(env, &llm, err);
    if (rc == 0)
        rc = routing_budget(env, st, llm, t, err);
    if (rc)
        return rc;
    cJSON *history = er_compact_recent(env, t, meta, 6);
    int64_t started = er_mono_ms();
    rc = er_router_decide(env, t->request, history, r, err);
    cJSON_Delete(history);
    if (rc == 0) { /* the routing request was answered: priced and counted like a step */
        er_usage who = { .task_id = t->id,
                         .root_id = t->id,
                         .user_id = t->user_id[0] ? t->user_id : NULL,
                         .agent = "supervisor",
                         .elapsed_ms = er_mono_ms() - started };
        er_budget_account(st, er_env_config(env), llm, &who, &r->usage);
    }
    return rc;
}

static er_bus_verdict route_new(er_env *env, er_store *st, er_task *t)
{
    er_error err = { 0 };
    cJSON *meta = cJSON_Parse(t->meta ? t->meta : "{}");
    if (!meta)
        meta = cJSON_CreateObject();
    er_route r;
    int rc = decide(env, t, meta, &r, &err);
    if (rc) {
        cJSON_Delete(meta);
        /* An unreachable model fails the task at once: the user is waiting. */
        fail_task(env, t, err.msg, rc);
        return ER_BUS_ACK;
    }
    cJSON_DeleteItemFromObject(meta, "route");
    er_json_add(meta, "route", er_route_to_json(&r));
    char *meta_text = er_json_print(meta);
    const char *agent = r.nsteps == 1 ? r.steps[0].agent : "supervisor";
    if (r.nsteps > 1)
        rc = create_children(st, t, &r, &err);
    er_task_update u = { .agent = agent, .meta = meta_text };
    if (!rc)
        rc = er_store_task_advance(st, t->id, ER_TASK_ROUTED, &u, &err);
    free(meta_text);
    if (!rc) {
        er_event_emit(env, t->id, t->id, "routed", "routed", er_route_to_json(&r), NULL);
        rc = dispatch(env, st, t, &r, &err);
    }
    er_route_release(&r);
    cJSON_Delete(meta);
    if (rc == ER_ECONFLICT) /* cancelled meanwhile */
        return ER_BUS_ACK;
    if (rc) {
        er_log(ER_LOG_ERROR, "supervisor", "task %s: %s", t->id, err.msg);
        return ER_BUS_RETRY;
    }
    return ER_BUS_ACK;
}

/* A redelivered message for a task already routed: publish again what may not have gone. */
static er_bus_verdict reroute(er_env *env, er_store *st, const er_task *t)
{
    cJSON *meta = cJSON_Parse(t->meta ? t->meta : "{}");
    const cJSON *rj = er_json_obj(meta, "route");
    er_route r;
    er_error err = { 0 };
    er_bus_verdict v = ER_BUS_ACK;
    if (rj && er_route_from_json(&r, rj, &err) == 0) {
        if (dispatch(env, st, t, &r, &err))
            v = ER_BUS_RETRY;
        er_route_release(&r);
    }
    cJSON_Delete(meta);
    return v;
}

er_bus_verdict er_supervisor_handle(const er_bus_msg *msg, void *payload)
{
    er_env *env = payload;
    er_task t;
    er_bus_verdict v;
    if (er_worker_load_task(env, msg, &t, NULL, &v))
        return v;
    er_store *st;
    er_error err = { 0 };
    if (er_env_store(env, &st, &err)) {
        er_task_release(&t);
        return ER_BUS_RETRY;
    }
    if (t.status == ER_TASK_QUEUED)
        v = route_new(env, st, &t);
    else if (t.status == ER_TASK_ROUTED)
        v = reroute(env, st, &t);
    else
        v = ER_BUS_ACK;
    er_task_release(&t);
    er_log_set_context(NULL, NULL);
    return v;
}
