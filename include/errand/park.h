/* park.h — a task waiting on a person holds no worker.
 *
 * When a tool call needs an approval, the worker's attempt parks the task
 * instead of waiting: the wait is recorded in the store (store.h, task waits),
 * the approval_request event goes out, and the run ends, leaving the task
 * running and the worker free for the next task.  The answer (er_park_answer,
 * which every front end reaches through er_approval_answer*) is recorded as
 * the call's approval event and sends the task back to its agent's queue; the
 * next attempt replays the recorded steps up to the call and goes on with the
 * answer.  A wait nobody answers in agent.approval_timeout seconds is denied by
 * er_park_sweep (the watchdog's tick in every process that runs workers).
 * Everything is in the store and on the bus: a worker that dies or restarts
 * loses no parked task, in local mode or networked. */
#ifndef ERRAND_PARK_H
#define ERRAND_PARK_H

#include "common.h"
#include "approval.h"
#include "env.h"
#include "store.h"

/* The step key of the approval event of call_id at step `step` of the scope
 * whose step keys start with prefix. */
void er_park_key(char *out, size_t outsize, const char *prefix, int step, const char *call_id);

/* Parks req's task for the lease's attempt, the answer to be recorded under
 * key; the request event goes out once (not again for a redelivered attempt
 * that parks on the same call).  ER_ECONFLICT when the lease is lost. */
int er_park(er_env *env, const er_lease *lease, const er_approval_req *req, const char *key,
            er_error *err);

/* Answers the wait of task_id for call_id, if it has one: records the decision
 * (why: the reason of a denial nobody gave, or NULL) and resumes the task.
 * *resumed false (and 0) when the task does not wait for that call, or another
 * answer ended the wait first.  ER_EDENIED when only an administrator may
 * answer and by_admin is false. */
int er_park_answer(er_env *env, const char *task_id, const char *call_id, er_approval_decision d,
                   const char *by_id, bool by_admin, const char *why, bool *resumed, er_error *err);

/* Denies the waits past their expiry and drops those of tasks that ended;
 * *resumed (may be NULL) counts the tasks sent back to their agents. */
int er_park_sweep(er_env *env, int *resumed, er_error *err);

#endif
