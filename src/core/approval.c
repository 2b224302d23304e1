/* approval.c — ask the requester before a side-effecting tool runs (see approval.h). */
#include "errand/approval.h"
#include "errand/alloc.h"
#include "errand/events.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/park.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = { "deny", "allow", "always" };

const char *er_approval_name(er_approval_decision d)
{
    return (unsigned)d < ER_ARRAY_LEN(names) ? names[d] : "deny";
}

int er_approval_parse(const char *s, er_approval_decision *out)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(names); i++) {
        if (er_str_eq(s, names[i])) {
            *out = (er_approval_decision)i;
            return 0;
        }
    }
    return ER_EINVAL;
}

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const char *call_id;
    bool admin_only;
    bool answered;
    er_approval_decision decision;
} waiter;

/* An answer counts when the request takes anyone's, or it is an admin's. */
static bool acceptable(const waiter *w, const cJSON *j)
{
    if (!w->admin_only || er_json_bool(j, "admin", false))
        return true;
    er_log(ER_LOG_WARN, "approval",
           "ignored the answer of user %s to %s: it needs an "
           "administrator's (server.admin_approval)",
           er_json_str(j, "by") ? er_json_str(j, "by") : "?", w->call_id);
    return false;
}

static void on_answer(const char *channel, const char *msg, size_t len, void *payload)
{
    (void)channel;
    waiter *w = payload;
    cJSON *j = NULL;
    if (er_json_parse(&j, msg, len, NULL))
        return;
    er_approval_decision d;
    if (er_str_eq(er_json_str(j, "call_id"), w->call_id) &&
        er_approval_parse(er_json_str(j, "decision"), &d) == 0 && acceptable(w, j)) {
        pthread_mutex_lock(&w->lock);
        w->answered = true;
        w->decision = d;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    cJSON_Delete(j);
}

static void channel_for(const char *task_id, char *out, size_t n)
{
    snprintf(out, n, "approval:%s", task_id);
}

/* Waits in short slices so cancellation is noticed promptly. */
static const char *wait_answer(waiter *w, const er_approval_req *req)
{
    int64_t deadline = er_mono_ms() + req->timeout_ms;
    const char *why = NULL;
    pthread_mutex_lock(&w->lock);
    while (!w->answered) {
        if (req->cancel && *req->cancel) {
            why = "the task was cancelled";
            break;
        }
        int64_t now = er_mono_ms();
        if (now >= deadline) {
            why = "no answer to the approval request in time";
            break;
        }
        int64_t slice = deadline - now < 100 ? deadline - now : 100;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)slice * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    }
    pthread_mutex_unlock(&w->lock);
    return why;
}

int er_approval_announce(er_env *env, const er_approval_req *req, er_error *err)
{
    cJSON *data = cJSON_CreateObject();
    er_json_add_str(data, "call_id", req->call_id);
    er_json_add_str(data, "tool", req->tool);
    cJSON *args = cJSON_Parse(req->arguments ? req->arguments : "{}");
    er_json_add(data, "arguments", args ? args : cJSON_CreateString(req->arguments));
    er_json_add_str(data, "perm", er_perm_name(req->perm));
    er_json_add_str(data, "agent", req->agent);
    er_json_add_str(data, "approver", req->admin_only ? "admin" : "requester");
    if (req->reason)
        er_json_add_str(data, "reason", req->reason);
    if (req->preview)
        er_json_add_str(data, "preview", req->preview);
    /* No step key: a replayed step must ask again, not wait on an old question. */
    return er_event_emit(env, req->root_id, req->task_id, NULL, "approval_request", data, err);
}

int er_approval_ask(er_env *env, const er_approval_req *req, er_approval_decision *out,
                    const char **why, er_error *err)
{
    er_cache *cache;
    int rc = er_env_cache(env, &cache, err);
    if (rc)
        return rc;
    waiter w = { .call_id = req->call_id,
                 .admin_only = req->admin_only,
                 .decision = ER_APPROVAL_DENY };
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    char channel[96];
    channel_for(req->task_id, channel, sizeof channel);
    er_cache_sub *sub = NULL;
    /* Subscribe before asking so an instant answer is not missed. */
    rc = er_cache_subscribe(cache, channel, on_answer, &w, &sub, err);
    if (!rc)
        rc = er_approval_announce(env, req, err);
    if (!rc) {
        *why = wait_answer(&w, req);
        *out = w.answered ? w.decision : ER_APPROVAL_DENY;
    }
    er_cache_unsubscribe(sub);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return rc;
}

/* A parked task (park.h) is resumed with the answer; a run that waits in its
 * worker gets it on the cache's channel. */
static int publish_answer(er_env *env, const char *task_id, const char *call_id,
                          er_approval_decision d, const char *by_id, bool by_admin, er_error *err)
{
    bool resumed = false;
    int rc = er_park_answer(env, task_id, call_id, d, by_id, by_admin, NULL, &resumed, err);
    if (rc || resumed)
        return rc;
    er_cache *cache;
    rc = er_env_cache(env, &cache, err);
    if (rc)
        return rc;
    char channel[96];
    channel_for(task_id, channel, sizeof channel);
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "call_id", call_id);
    er_json_add_str(j, "decision", er_approval_name(d));
    if (by_id)
        er_json_add_str(j, "by", by_id);
    er_json_add_bool(j, "admin", by_admin);
    char *text = er_json_print(j);
    rc = er_cache_publish(cache, channel, text, strlen(text), err);
    free(text);
    cJSON_Delete(j);
    return rc;
}

int er_approval_answer(er_env *env, const char *task_id, const char *call_id,
                       er_approval_decision d, er_error *err)
{
    /* The local user: the terminal that runs errand owns its store and all. */
    return publish_answer(env, task_id, call_id, d, NULL, true, err);
}

int er_approval_answer_as(er_env *env, const char *task_id, const char *call_id,
                          er_approval_decision d, const char *by_id, bool by_admin, er_error *err)
{
    return publish_answer(env, task_id, call_id, d, by_id, by_admin, err);
}
