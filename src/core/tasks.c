/* tasks.c — submit, cancel and finish tasks; a task's conversation history. */
#include "errand/tasks.h"
#include "errand/alloc.h"
#include "errand/bus.h"
#include "errand/events.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/orphans.h"
#include "errand/str.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULT_TTL_MS (24LL * 3600 * 1000)

const char *er_task_root(const er_task *t)
{
    return t->parent_id[0] ? t->parent_id : t->id;
}

static char *make_title(const char *request)
{
    size_t n = strlen(request);
    if (n <= 60)
        return er_xstrdup(request);
    size_t cut = 57;
    while (cut > 40 && request[cut] != ' ')
        cut--;
    return er_xasprintf("%.*s…", (int)cut, request);
}

static int open_conversation(er_store *st, const er_submit *s, const char *user_id,
                             char conv_id[ER_ID_LEN], er_error *err)
{
    if (s->conversation_id) {
        er_conversation c;
        int rc = er_store_conv_get(st, s->conversation_id, &c, err);
        if (rc == ER_ENOTFOUND)
            return er_error_set(err, ER_ENOTFOUND, "no conversation '%s' (see `errand conv list`)",
                                s->conversation_id);
        if (rc)
            return rc;
        er_strlcpy(conv_id, c.id, ER_ID_LEN);
        er_conversation_release(&c);
        return 0;
    }
    char *title = make_title(s->request);
    int rc = er_store_conv_create(st, user_id, title, conv_id, err);
    free(title);
    return rc;
}

static int publish_json(er_env *env, const char *exchange, const char *key, cJSON *j, er_error *err)
{
    er_bus *bus;
    int rc = er_env_bus(env, &bus, err);
    char *text = er_json_print(j);
    if (!rc)
        rc = er_bus_publish(bus, exchange, key, text, strlen(text), err);
    free(text);
    return rc;
}

typedef struct submit_tx {
    const er_submit *s;
    const char *user_id;
    er_task *t;
} submit_tx;

/* The conversation, the task row and the user's message of one submission. */
static int store_submission(er_store *st, void *payload, er_error *err)
{
    submit_tx *x = payload;
    er_task *t = x->t;
    int rc = open_conversation(st, x->s, x->user_id, t->conversation_id, err);
    if (!rc)
        rc = er_store_task_create(st, t, err);
    if (!rc)
        rc = er_store_msg_append(st, t->conversation_id, "user", x->s->request, t->id, err);
    return rc;
}

typedef struct batch_tx {
    const er_submit *subs;
    size_t n;
    er_task *tasks;
    er_submit_result *out;
} batch_tx;

static int store_batch(er_store *st, void *payload, er_error *err)
{
    batch_tx *b = payload;
    if (b->n == 1) { /* alone: no savepoint of its own (two statements fewer) */
        if (b->out[0].rc)
            return 0;
        submit_tx x = { &b->subs[0], b->tasks[0].user_id, &b->tasks[0] };
        return store_submission(st, &x, err); /* its error becomes the submission's */
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->out[i].rc)
            continue;
        submit_tx x = { &b->subs[i], b->tasks[i].user_id, &b->tasks[i] };
        b->out[i].rc = er_store_transaction(st, store_submission, &x, &b->out[i].err);
    }
    return 0; /* what succeeded is committed together */
}

/* The task row of a submission, before it is stored (t->meta OWNED). */
static int prepare(er_env *env, const er_submit *s, er_task *t, er_error *err)
{
    memset(t, 0, sizeof *t);
    if (er_str_empty(s->request))
        return er_error_set(err, ER_EINVAL, "the request is empty");
    int rc = 0;
    if (s->user_id)
        er_strlcpy(t->user_id, s->user_id, sizeof t->user_id);
    else
        rc = er_env_user_id(env, t->user_id, err);
    if (rc)
        return rc;
    if (s->task_id)
        er_strlcpy(t->id, s->task_id, sizeof t->id);
    else
        er_id_new(t->id);
    er_strlcpy(t->trace_id, t->id, sizeof t->trace_id);
    t->request = (char *)s->request;
    cJSON *meta = cJSON_CreateObject();
    if (s->agent)
        er_json_add_str(meta, "agent", s->agent);
    if (s->approve_all)
        er_json_add_bool(meta, "approve_all", true);
    if (s->model)
        er_json_add_str(meta, "model", s->model);
    if (s->server)
        er_json_add_bool(meta, "server", true);
    if (!s->conversation_id) /* it opens one: no history to read back */
        er_json_add_bool(meta, "new_conversation", true);
    er_bus *bus;
    if (er_env_bus(env, &bus, NULL) == 0 && er_bus_is_local(bus))
        er_json_add_str(meta, "owner", er_owner_self()); /* this process runs it */
    t->meta = er_json_print(meta);
    cJSON_Delete(meta);
    return 0;
}

/* After the commit: to the supervisor (a failed publish fails the task). */
static int publish_task(er_env *env, er_store *st, const er_task *t, er_error *err)
{
    cJSON *msg = cJSON_CreateObject();
    er_json_add_str(msg, "task_id", t->id);
    int rc = publish_json(env, ER_EXCHANGE_SUPERVISOR, ER_KEY_SUPERVISOR, msg, err);
    cJSON_Delete(msg);
    if (rc) {
        er_task_update u = { .error = err->msg };
        er_store_task_advance(st, t->id, ER_TASK_FAILED, &u, NULL);
        return rc;
    }
    char task_ctx[40], trace_ctx[40];
    er_log_get_context(task_ctx, trace_ctx);
    er_log_set_context(t->id, t->trace_id[0] ? t->trace_id : t->id);
    er_log(ER_LOG_INFO, "tasks", "submitted task %s", t->id);
    er_log_set_context(task_ctx, trace_ctx);
    return 0;
}

void er_task_submit_many(er_env *env, const er_submit *subs, size_t n, er_submit_result *out)
{
    memset(out, 0, n * sizeof *out);
    er_task *tasks = er_xcalloc(n ? n : 1, sizeof *tasks);
    er_store *st;
    er_error err = { 0 };
    int rc = er_env_store(env, &st, &err);
    for (size_t i = 0; i < n; i++) {
        out[i].rc = rc ? rc : prepare(env, &subs[i], &tasks[i], &out[i].err);
        if (rc)
            out[i].err = err;
    }
    batch_tx b = { subs, n, tasks, out };
    if (!rc && (rc = er_store_transaction(st, store_batch, &b, &err)) != 0) {
        for (size_t i = 0; i < n; i++) {
            out[i].rc = rc;
            out[i].err = err;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!out[i].rc)
            out[i].rc = publish_task(env, st, &tasks[i], &out[i].err);
        if (!out[i].rc) {
            memcpy(out[i].task_id, tasks[i].id, ER_ID_LEN);
            memcpy(out[i].conv_id, tasks[i].conversation_id, ER_ID_LEN);
        }
        free(tasks[i].meta);
    }
    free(tasks);
}

int er_task_submit(er_env *env, const er_submit *s, char task_id_out[ER_ID_LEN],
                   char conv_id_out[ER_ID_LEN], er_error *err)
{
    er_submit_result r;
    er_task_submit_many(env, s, 1, &r);
    if (r.rc) {
        if (err)
            *err = r.err;
        return r.rc;
    }
    if (task_id_out)
        memcpy(task_id_out, r.task_id, ER_ID_LEN);
    if (conv_id_out)
        memcpy(conv_id_out, r.conv_id, ER_ID_LEN);
    return 0;
}

static void cache_result(er_env *env, const er_task *t, const er_task_outcome *o)
{
    er_cache *cache;
    if (er_env_cache(env, &cache, NULL))
        return;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "task_id", t->id);
    er_json_add_str(j, "status", er_task_status_name(o->status));
    er_json_add_str(j, "agent", t->agent);
    er_json_add_str(j, "answer", o->answer);
    er_json_add_str(j, "error", o->error);
    char *text = er_json_print(j);
    char key[64];
    snprintf(key, sizeof key, "task:%s", t->id);
    er_error err = { 0 };
    if (er_cache_set(cache, key, text, strlen(text), RESULT_TTL_MS, &err))
        er_log(ER_LOG_WARN, "tasks", "cannot cache result of %s: %s", t->id, err.msg);
    free(text);
    cJSON_Delete(j);
}

int er_task_finish(er_env *env, const er_task *t, const er_task_outcome *o, er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    if (rc)
        return rc;
    er_task_update u = { .result = o->answer,
                         .error = o->error,
                         .tokens_in = o->tokens_in,
                         .tokens_out = o->tokens_out,
                         .attempt = o->attempt };
    rc = er_store_task_advance(st, t->id, o->status, &u, err);
    bool first = rc == 0;
    if (rc && rc != ER_ECONFLICT)
        return rc;
    er_task_status now;
    if (rc && o->attempt && er_store_task_status(st, t->id, &now, NULL) == 0 &&
        !er_task_status_final(now))
        return rc; /* a stale attempt's outcome: the task goes on with another */
    if (first && !t->parent_id[0] && t->conversation_id[0] && o->status == ER_TASK_DONE)
        er_store_msg_append(st, t->conversation_id, "assistant", o->answer ? o->answer : "", t->id,
                            NULL);
    if (first)
        cache_result(env, t, o);
    cJSON *d = cJSON_CreateObject();
    er_json_add_str(d, "status", er_task_status_name(o->status));
    er_json_add_str(d, "agent", t->agent);
    er_json_add_str(d, "answer", o->answer);
    er_json_add_str(d, "error", o->error);
    if (o->error_code)
        er_json_add_str(d, "code", er_error_name(o->error_code));
    er_json_add_num(d, "tokens_in", (double)o->tokens_in);
    er_json_add_num(d, "tokens_out", (double)o->tokens_out);
    if (o->interrupted)
        er_json_add(d, "interrupted", cJSON_Duplicate(o->interrupted, true));
    /* Keyed "end": a second finish of the same task publishes nothing. */
    return er_event_emit(env, er_task_root(t), t->id, "end", "end", d, err);
}

typedef struct children_ctx {
    er_env *env;
    const er_task_outcome *o;
} children_ctx;

static int finish_child(const er_task *child, void *payload)
{
    children_ctx *c = payload;
    er_task_finish(c->env, child, c->o, NULL);
    return 0;
}

void er_task_finish_children(er_env *env, const char *parent_id, const er_task_outcome *o)
{
    er_store *st;
    if (er_env_store(env, &st, NULL))
        return;
    children_ctx c = { env, o };
    er_task_filter f = { .parent_id = parent_id, .status = -1, .open = true, .limit = 1000 };
    er_store_task_list(st, &f, finish_child, &c, NULL);
}

int er_task_cancel(er_env *env, const char *task_id, er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    er_task t;
    if (!rc)
        rc = er_store_task_get(st, task_id, &t, err);
    if (rc)
        return rc;
    if (er_task_status_final(t.status)) {
        rc = er_error_set(err, ER_ECONFLICT, "task %s has already ended (%s)", t.id,
                          er_task_status_name(t.status));
        er_task_release(&t);
        return rc;
    }
    er_task_outcome o = { .status = ER_TASK_CANCELLED, .error = "cancelled by the user" };
    rc = er_task_finish(env, &t, &o, err);
    er_task_finish_children(env, t.id, &o);
    /* Tell running agents, here and in other processes. */
    er_env_cancel_local(env, t.id);
    er_cache *cache;
    if (er_env_cache(env, &cache, NULL) == 0) {
        cJSON *j = cJSON_CreateObject();
        er_json_add_str(j, "cancel", t.id);
        char *text = er_json_print(j);
        er_cache_publish(cache, ER_CHANNEL_CONTROL, text, strlen(text), NULL);
        free(text);
        cJSON_Delete(j);
    }
    er_task_release(&t);
    return rc;
}

static int add_waiting(const er_task_wait *w, void *payload)
{
    er_strv_push(payload, w->task_id);
    return 0;
}

er_strv er_tasks_waiting(er_store *st)
{
    er_strv v = ER_STRV_INIT;
    /* Every wait is due at the end of time: that lists them all. */
    er_store_waits_due(st, INT64_MAX, 1000, add_waiting, &v, NULL);
    return v;
}

bool er_tasks_is_waiting(const er_strv *waiting, const char *task_id)
{
    for (size_t i = 0; i < waiting->n; i++)
        if (strcmp(waiting->v[i], task_id) == 0)
            return true;
    return false;
}
