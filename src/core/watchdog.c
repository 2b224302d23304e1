/* watchdog.c — ending the tasks that no worker will finish (see watchdog.h). */
#include "errand/watchdog.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tasks.h"
#include "errand/workers.h"

#include <stdlib.h>
#include <string.h>

#define SWEEP_MAX 200 /* overdue tasks ended per sweep; the next sweep takes the rest */

/* Ends t as failed, its open children with it, and moves its parent on.  True
 * when this call ended it (someone else may have, a moment before). */
static bool fail_task(er_env *env, const er_task *t, const char *why, int code)
{
    er_task_outcome o = { .status = ER_TASK_FAILED, .error = why, .error_code = code };
    er_store *st;
    er_task_status before;
    if (er_env_store(env, &st, NULL) || er_store_task_status(st, t->id, &before, NULL) ||
        er_task_status_final(before))
        return false;
    er_error err = { 0 };
    if (er_task_finish(env, t, &o, &err)) {
        er_log(ER_LOG_ERROR, "tasks", "cannot fail task %s (%s): %s", t->id, why, err.msg);
        return false;
    }
    er_task_finish_children(env, t->id, &o);
    if (t->parent_id[0])
        er_aggregator_parent_progress(env, t->parent_id);
    return true;
}

void er_watchdog_dead_letter(const er_bus_msg *msg, const char *reason, void *payload)
{
    er_env *env = payload;
    cJSON *body = NULL;
    er_store *st;
    er_task t;
    if (er_json_parse(&body, msg->body, msg->len, NULL) || !er_json_str(body, "task_id") ||
        er_env_store(env, &st, NULL) ||
        er_store_task_get(st, er_json_str(body, "task_id"), &t, NULL)) {
        cJSON_Delete(body); /* not a task's message, or one we cannot find: nothing to end */
        return;
    }
    char *why = er_xasprintf("%s gave up on it: %s (its message is kept in the dead-letter queue "
                             "%s)",
                             msg->queue, reason, ER_QUEUE_DEAD);
    if (fail_task(env, &t, why, 0))
        er_log(ER_LOG_WARN, "tasks", "task %s failed: %s", t.id, why);
    free(why);
    er_task_release(&t);
    cJSON_Delete(body);
}

bool er_watchdog_check(er_env *env, const er_task *t)
{
    if (er_task_status_final(t->status) || !t->deadline_ms || er_time_ms() <= t->deadline_ms)
        return false;
    er_store *st;
    er_task_wait w;
    if (er_env_store(env, &st, NULL) == 0 && er_store_wait_get(st, t->id, &w, NULL) == 0) {
        er_task_wait_release(&w); /* parked (park.h): nobody works on it, nobody is late */
        return false;
    }
    const er_config *cfg = er_env_config(env);
    char *why = er_xasprintf("no worker finished it by its deadline (agent.max_seconds %ld s + "
                             "agent.deadline_margin %ld s after it first started; %d attempt%s)",
                             cfg->max_seconds, cfg->deadline_margin, t->attempt,
                             t->attempt == 1 ? "" : "s");
    bool ended = fail_task(env, t, why, ER_EBUDGET);
    free(why);
    return ended;
}

typedef struct overdue {
    er_task *v;
    size_t n;
} overdue;

static int collect(const er_task *t, void *payload)
{
    overdue *o = payload;
    er_task_copy(&o->v[o->n++], t);
    return o->n == SWEEP_MAX;
}

int er_watchdog_sweep(er_env *env, int *failed, er_error *err)
{
    if (failed)
        *failed = 0;
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    overdue o = { er_xcalloc(SWEEP_MAX, sizeof *o.v), 0 };
    /* Not while the store lists: failing a task writes, and may list its children. */
    rc = er_store_tasks_overdue(st, er_time_ms(), SWEEP_MAX, collect, &o, err);
    for (size_t i = 0; i < o.n; i++) {
        bool ended = er_watchdog_check(env, &o.v[i]);
        if (ended) /* logged here, not in a follower: it prints the task's end */
            er_log(ER_LOG_WARN, "tasks",
                   "task %s failed: no worker finished it by its "
                   "deadline (%d attempt%s)",
                   o.v[i].id, o.v[i].attempt, o.v[i].attempt == 1 ? "" : "s");
        if (ended && failed)
            (*failed)++;
        er_task_release(&o.v[i]);
    }
    free(o.v);
    return rc;
}

int er_watchdog_interval_ms(const er_config *cfg)
{
    long ms = cfg->deadline_margin * 1000 / 4;
    return ms < 250 ? 250 : ms > 10000 ? 10000 : (int)ms;
}
