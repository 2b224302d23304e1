/* park.c — parking a task on an approval and resuming it (see park.h). */
#include "errand/park.h"
#include "errand/alloc.h"
#include "errand/bus.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/orphans.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_MAX 200 /* waits ended per sweep; the next sweep takes the rest */

void er_park_key(char *out, size_t outsize, const char *prefix, int step, const char *call_id)
{
    snprintf(out, outsize, "%sapproval:%d:%.60s", prefix, step, call_id);
}

int er_park(er_env *env, const er_lease *lease, const er_approval_req *req, const char *key,
            er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    int64_t now = er_time_ms();
    er_task_wait w = { .call_id = (char *)req->call_id,
                       .step_key = (char *)key,
                       .tool = (char *)req->tool,
                       .admin_only = req->admin_only,
                       .created_ms = now,
                       .expires_ms = now + req->timeout_ms };
    bool fresh = false;
    /* The wait before the question: an answer that comes at once must find it. */
    rc = er_store_wait_park(st, lease, &w, &fresh, err);
    if (rc == 0 && fresh)
        rc = er_approval_announce(env, req, err);
    if (rc == 0)
        er_log(ER_LOG_INFO, "park", "task %s parked until %s call %s is answered (within %lld s)",
               req->task_id, req->tool, req->call_id, (long long)(req->timeout_ms / 1000));
    return rc;
}

/* In local mode the process whose bus runs a task is its owner (orphans.h):
 * the one resuming it now, whatever became of the one that parked it. */
static int adopt(er_env *env, const er_task *t, er_error *err)
{
    er_store *st;
    cJSON *meta = cJSON_Parse(t->meta ? t->meta : "{}");
    if (!meta || !er_json_str(meta, "owner")) {
        cJSON_Delete(meta);
        return 0;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(meta, "owner", cJSON_CreateString(er_owner_self()));
    char *text = er_json_print(meta);
    er_task_update upd = { .meta = text };
    int rc = er_env_store(env, &st, err);
    if (!rc)
        rc = er_store_task_advance(st, t->id, ER_TASK_RUNNING, &upd, err);
    free(text);
    cJSON_Delete(meta);
    return rc;
}

static int resume(er_env *env, const er_task *t, er_error *err)
{
    er_bus *bus;
    char key[64], body[96];
    int rc = er_env_bus(env, &bus, err);
    if (!rc && er_bus_is_local(bus))
        rc = adopt(env, t, err);
    if (rc)
        return rc;
    er_bus_agent_queue(t->agent, key, sizeof key);
    int n = snprintf(body, sizeof body, "{\"task_id\":\"%s\"}", t->id);
    return er_bus_publish(bus, ER_EXCHANGE_AGENT, key, body, (size_t)n, err);
}

/* The decision, as the event the resumed attempt finds under the wait's key. */
static int record_answer(er_env *env, const er_task *t, const er_task_wait *w,
                         er_approval_decision d, const char *by_id, const char *why, er_error *err)
{
    cJSON *data = cJSON_CreateObject();
    er_json_add_str(data, "call_id", w->call_id);
    er_json_add_str(data, "tool", w->tool);
    er_json_add_str(data, "decision", er_approval_name(d));
    if (by_id)
        er_json_add_str(data, "by", by_id);
    if (why)
        er_json_add_str(data, "why", why);
    /* Keyed: of two answers, the first recorded is the one the task goes on with. */
    return er_event_emit(env, er_task_root(t), t->id, w->step_key, "approval", data, err);
}

int er_park_answer(er_env *env, const char *task_id, const char *call_id, er_approval_decision d,
                   const char *by_id, bool by_admin, const char *why, bool *resumed, er_error *err)
{
    *resumed = false;
    er_store *st;
    er_task_wait w;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    rc = er_store_wait_get(st, task_id, &w, err);
    if (rc == ER_ENOTFOUND || (rc == 0 && !er_str_eq(w.call_id, call_id))) {
        er_task_wait_release(&w);
        return 0; /* not parked on that call: a waiting run, if any, takes the answer */
    }
    if (rc)
        return rc;
    er_task t = { .agent = NULL };
    if (w.admin_only && !by_admin)
        rc = er_error_set(err, ER_EDENIED,
                          "%s call %s needs an administrator's approval "
                          "(server.admin_approval)",
                          w.tool, call_id);
    if (rc == 0)
        rc = er_store_task_get(st, task_id, &t, err);
    if (rc == 0)
        rc = record_answer(env, &t, &w, d, by_id, why, err);
    if (rc == 0) {
        rc = er_store_wait_end(st, task_id, call_id, err);
        if (rc == ER_ENOTFOUND) /* another answer ended it a moment before */
            rc = 0;
        else if (rc == 0 && !er_task_status_final(t.status))
            *resumed = (rc = resume(env, &t, err)) == 0;
    }
    if (*resumed)
        er_log(ER_LOG_INFO, "park", "task %s resumed: %s call %s answered %s", task_id, w.tool,
               call_id, er_approval_name(d));
    er_task_release(&t);
    er_task_wait_release(&w);
    return rc;
}

typedef struct due {
    er_task_wait *v;
    size_t n;
} due;

static int collect(const er_task_wait *w, void *payload)
{
    due *d = payload;
    er_task_wait *c = &d->v[d->n++];
    *c = *w;
    c->call_id = er_xstrdup(w->call_id);
    c->step_key = er_xstrdup(w->step_key);
    c->tool = er_xstrdup(w->tool);
    return d->n == SWEEP_MAX;
}

int er_park_sweep(er_env *env, int *resumed, er_error *err)
{
    if (resumed)
        *resumed = 0;
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    due d = { er_xcalloc(SWEEP_MAX, sizeof *d.v), 0 };
    /* Not while the store lists: ending a wait writes. */
    rc = er_store_waits_due(st, er_time_ms(), SWEEP_MAX, collect, &d, err);
    char why[160];
    snprintf(why, sizeof why,
             "no answer to the approval request in time (agent.approval_timeout "
             "%ld s)",
             er_env_config(env)->approval_timeout);
    for (size_t i = 0; i < d.n; i++) {
        er_error e = { 0 };
        bool back = false;
        er_task_status status;
        if (er_store_task_status(st, d.v[i].task_id, &status, &e) == 0 &&
            er_task_status_final(status)) /* ended while it waited (cancelled): nothing to do */
            er_store_wait_end(st, d.v[i].task_id, d.v[i].call_id, &e);
        else if (er_park_answer(env, d.v[i].task_id, d.v[i].call_id, ER_APPROVAL_DENY, NULL, true,
                                why, &back, &e))
            er_log(ER_LOG_WARN, "park", "cannot end the wait of task %s: %s", d.v[i].task_id,
                   e.msg);
        if (back && resumed)
            (*resumed)++;
        er_task_wait_release(&d.v[i]);
    }
    free(d.v);
    return rc;
}
