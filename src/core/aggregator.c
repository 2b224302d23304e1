/* aggregator.c — consumes agent.results: records each task's end, and for the
 * children of a compound request starts the steps that were waiting and
 * combines the answers when all are done. */
#include "errand/workers.h"
#include "worker_int.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tasks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 16

typedef struct children {
    er_task t[MAX_STEPS];
    int index[MAX_STEPS];
    char after[MAX_STEPS][ER_ID_LEN];
    size_t n;
} children;

static int collect(const er_task *c, void *payload)
{
    children *ch = payload;
    if (ch->n >= MAX_STEPS)
        return 1;
    er_task_copy(&ch->t[ch->n], c);
    cJSON *meta = cJSON_Parse(c->meta ? c->meta : "{}");
    ch->index[ch->n] = (int)er_json_int(meta, "index", (int64_t)ch->n, 0, MAX_STEPS);
    er_strlcpy(ch->after[ch->n], er_json_str(meta, "after") ? er_json_str(meta, "after") : "",
               ER_ID_LEN);
    cJSON_Delete(meta);
    ch->n++;
    return 0;
}

static void children_release(children *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        er_task_release(&ch->t[i]);
}

static const er_task *find(const children *ch, const char *id)
{
    for (size_t i = 0; i < ch->n; i++)
        if (strcmp(ch->t[i].id, id) == 0)
            return &ch->t[i];
    return NULL;
}

static void start_ready(er_env *env, er_store *st, const children *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        const er_task *c = &ch->t[i];
        const er_task *dep = ch->after[i][0] ? find(ch, ch->after[i]) : NULL;
        if (c->status != ER_TASK_QUEUED || !dep || dep->status != ER_TASK_DONE)
            continue;
        /* The forward-only move makes exactly one aggregator thread publish it. */
        if (er_store_task_advance(st, c->id, ER_TASK_ROUTED, NULL, NULL))
            continue;
        er_bus *bus;
        er_error err = { 0 };
        char key[64], body[96];
        er_bus_agent_queue(c->agent, key, sizeof key);
        int n = snprintf(body, sizeof body, "{\"task_id\":\"%s\"}", c->id);
        if (er_env_bus(env, &bus, &err) ||
            er_bus_publish(bus, ER_EXCHANGE_AGENT, key, body, (size_t)n, &err))
            er_log(ER_LOG_ERROR, "aggregator", "cannot start step %s: %s", c->id, err.msg);
    }
}

/* Adds what routing task t cost (meta.route.usage, set by the supervisor). */
static void add_route_tokens(const er_task *t, int64_t *tin, int64_t *tout)
{
    cJSON *meta = cJSON_Parse(t->meta ? t->meta : "{}");
    const cJSON *u = er_json_obj(er_json_obj(meta, "route"), "usage");
    *tin += er_json_int(u, "input", 0, 0, INT64_MAX);
    *tout += er_json_int(u, "output", 0, 0, INT64_MAX);
    cJSON_Delete(meta);
}

static char *combine(const children *ch, int64_t *tin, int64_t *tout)
{
    er_buf b = ER_BUF_INIT;
    for (int want = 0; want < (int)ch->n; want++) {
        for (size_t i = 0; i < ch->n; i++) {
            if (ch->index[i] != want)
                continue;
            const er_task *c = &ch->t[i];
            er_buf_printf(&b, "%s## %s: %s\n\n%s\n", b.len ? "\n" : "", c->agent, c->request,
                          c->result ? c->result : "");
            *tin += c->tokens_in;
            *tout += c->tokens_out;
        }
    }
    return er_buf_detach(&b);
}

void er_aggregator_parent_progress(er_env *env, const char *parent_id)
{
    er_store *st;
    er_task parent;
    if (er_env_store(env, &st, NULL) || er_store_task_get(st, parent_id, &parent, NULL))
        return;
    children ch = { .n = 0 };
    er_task_filter f = { .parent_id = parent_id, .status = -1, .limit = MAX_STEPS };
    if (!er_task_status_final(parent.status) &&
        er_store_task_list(st, &f, collect, &ch, NULL) == 0 && ch.n) {
        size_t done = 0;
        const er_task *bad = NULL;
        for (size_t i = 0; i < ch.n; i++) {
            if (ch.t[i].status == ER_TASK_DONE)
                done++;
            else if (er_task_status_final(ch.t[i].status) && !bad)
                bad = &ch.t[i];
        }
        er_task_outcome o = { .status = ER_TASK_DONE };
        char *answer = NULL, *why = NULL;
        if (bad) {
            why = er_xasprintf("step '%s' (%s) %s: %s", bad->request, bad->agent,
                               er_task_status_name(bad->status), bad->error ? bad->error : "");
            o.status = bad->status == ER_TASK_CANCELLED ? ER_TASK_CANCELLED : ER_TASK_FAILED;
            o.error = why;
            er_task_finish(env, &parent, &o, NULL);
            for (size_t i = 0; i < ch.n; i++) {
                er_task_outcome c = { .status = ER_TASK_CANCELLED,
                                      .error = "another step of the request failed" };
                if (!er_task_status_final(ch.t[i].status))
                    er_task_finish(env, &ch.t[i], &c, NULL);
            }
        } else if (done == ch.n) {
            answer = combine(&ch, &o.tokens_in, &o.tokens_out);
            add_route_tokens(&parent, &o.tokens_in, &o.tokens_out);
            o.answer = answer;
            er_task_finish(env, &parent, &o, NULL);
        } else {
            start_ready(env, st, &ch);
        }
        free(answer);
        free(why);
    }
    children_release(&ch);
    er_task_release(&parent);
}

er_bus_verdict er_aggregator_handle(const er_bus_msg *msg, void *payload)
{
    er_env *env = payload;
    er_task t;
    cJSON *body;
    er_bus_verdict v;
    if (er_worker_load_task(env, msg, &t, &body, &v))
        return v;
    er_task_status status = ER_TASK_FAILED;
    er_task_status_parse(er_json_str(body, "status"), &status);
    if (!er_task_status_final(status))
        status = ER_TASK_FAILED;
    er_task_outcome o = { .status = status,
                          .answer = er_json_str(body, "answer"),
                          .error = er_json_str(body, "error"),
                          .tokens_in = er_json_int(body, "tokens_in", 0, 0, INT64_MAX),
                          .tokens_out = er_json_int(body, "tokens_out", 0, 0, INT64_MAX) };
    o.error_code = er_error_from_name(er_json_str(body, "code"));
    o.attempt = (int)er_json_int(body, "attempt", 0, 0, INT32_MAX);
    o.interrupted = er_json_arr(body, "interrupted");
    if (!t.parent_id[0])
        add_route_tokens(&t, &o.tokens_in, &o.tokens_out);
    er_error err = { 0 };
    v = ER_BUS_ACK;
    int rc = er_task_finish(env, &t, &o, &err);
    if (rc == ER_ECONFLICT) {
        /* A stale attempt's outcome (store.h, leases): the task goes on with another. */
        er_log(ER_LOG_INFO, "aggregator", "dropped a result: %s", err.msg);
    } else if (rc) {
        er_log(ER_LOG_ERROR, "aggregator", "cannot record the end of %s: %s", t.id, err.msg);
        if (msg->why)
            er_error_set(msg->why, rc, "its end could not be recorded: %s", err.msg);
        v = ER_BUS_RETRY;
    } else if (t.parent_id[0]) {
        er_aggregator_parent_progress(env, t.parent_id);
    }
    cJSON_Delete(body);
    er_task_release(&t);
    er_log_set_context(NULL, NULL);
    return v;
}
