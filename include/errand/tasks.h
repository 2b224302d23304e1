/* tasks.h — the life of a task around the agents: submit, cancel, finish, follow.
 *
 * Submit writes the task row (and the user's message) before publishing to
 * supervisor.tasks; finish is what the aggregator does with a result (status,
 * the assistant message, the result under task:{id} in the cache, the "end"
 * event).  Followers read a task's events from the cache's pub/sub. */
#ifndef ERRAND_TASKS_H
#define ERRAND_TASKS_H

#include "common.h"
#include "env.h"
#include "store.h"
#include "strv.h"
#include <cjson/cJSON.h>

typedef struct er_submit {
    const char *request;
    const char *conversation_id; /* NULL: start a new conversation */
    const char *agent;           /* NULL: let the supervisor route */
    const char *user_id;         /* NULL: the local user */
    const char *task_id;         /* NULL: a new id (pass one to follow before submitting) */
    bool approve_all;            /* --yes */
    const char *model;           /* NULL: the configured model (the TUI's /model) */
    bool server;                 /* from errand serve: the user's own workspace, approvals by
                                     role, never unconfined (meta "server"; see runtime.h) */
} er_submit;

/* Fills task_id_out and conv_id_out (either may be NULL). */
int er_task_submit(er_env *env, const er_submit *s, char task_id_out[ER_ID_LEN],
                   char conv_id_out[ER_ID_LEN], er_error *err);

/* Several submissions with one commit (what a busy server does): the rows of
 * all are written in one transaction, each in its own savepoint so that one
 * failing spoils none of the others; then each is published.  out[i] gets
 * each one's outcome and ids. */
typedef struct er_submit_result {
    int rc;
    er_error err;
    char task_id[ER_ID_LEN];
    char conv_id[ER_ID_LEN];
} er_submit_result;
void er_task_submit_many(er_env *env, const er_submit *subs, size_t n, er_submit_result *out);
/* The ids of the tasks parked on an approval (running, holding no worker):
 * lists show them as "waiting".  At most 1000; OWNED: er_strv_free. */
er_strv er_tasks_waiting(er_store *st);
bool er_tasks_is_waiting(const er_strv *waiting, const char *task_id);
/* Cancels a task that has not ended, and its children. ER_ECONFLICT when it had ended. */
int er_task_cancel(er_env *env, const char *task_id, er_error *err);

typedef struct er_task_outcome {
    er_task_status status;
    const char *answer;
    const char *error;
    int error_code; /* ER_E* behind error, 0 when none */
    int64_t tokens_in;
    int64_t tokens_out;
    int attempt;              /* the attempt it comes from: dropped (ER_ECONFLICT) if
                                     another has the task now; 0: whoever has it */
    const cJSON *interrupted; /* BORROWED calls not repeated after a crash, or NULL */
} er_task_outcome;
/* Records a task's end once (idempotent): store, conversation, cache, "end" event. */
int er_task_finish(er_env *env, const er_task *t, const er_task_outcome *o, er_error *err);
/* Ends with o the children of parent_id that have not ended. */
void er_task_finish_children(er_env *env, const char *parent_id, const er_task_outcome *o);
/* The root of a task's tree: its parent or itself. */
const char *er_task_root(const er_task *t);

/* Following a task's events (its root channel).  kinds (NULL-terminated,
 * BORROWED for the follower's life; NULL: all) names the kinds handed over; the
 * others are dropped unparsed in the publisher's thread — each event handed
 * over wakes the reader, and most of a step's events interest no one-shot
 * command. */
typedef struct er_follow er_follow;
int er_follow_open(er_follow **out, er_env *env, const char *root_id, const char *const *kinds,
                   er_error *err);
/* Next event (OWNED JSON object: id, task_id, root, kind, data, ts); ER_ETIMEDOUT
 * after timeout_ms (-1: wait forever).  Events arrive in publish order. */
int er_follow_next(er_follow *f, int timeout_ms, cJSON **out);
void er_follow_close(er_follow *f);

#endif
