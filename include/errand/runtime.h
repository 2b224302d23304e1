/* runtime.h — the one deep-agent loop every agent runs.
 *
 * plan (write_todos) → LLM step → tool calls (policy-checked) / delegation to a
 * subagent (task tool, fresh context) → … until a final answer or a budget ends
 * it.  Every step is an event (stored + published).  Steps are keyed by task and
 * step number, so a task redelivered after a crash replays recorded LLM answers
 * and tool results instead of repeating them.
 *
 * A run is one attempt at the task and acts for it only while it holds the
 * task's lease (store.h): each step is recorded under the lease, and each call
 * of a tool that changes the world is preceded by a check.  An attempt that
 * lost the task (another took it over, or it ended) stops and records nothing
 * more: out->abandoned.  A step an earlier attempt recorded is adopted, never
 * redone with a new, unrecorded answer.  A tool call a crash interrupted (begun,
 * no result recorded) runs again if the tool is idempotent (tool.h); otherwise
 * it is not repeated, and the result lists it (out->interrupted).
 *
 * What the model gets wrong (a tool that does not exist, bad arguments, an
 * empty or cut-off answer, the same failing call again…) gets repair turns,
 * then a precise failure: repair.h.
 *
 * A call that needs a person's approval is asked before it begins (its
 * "tool_call" mark is recorded once approved): with opts->park the run parks
 * the task and ends, and the answer, recorded as the call's "approval" event,
 * is what the next attempt replays (park.h). */
#ifndef ERRAND_RUNTIME_H
#define ERRAND_RUNTIME_H

#include "common.h"
#include "env.h"
#include "store.h"
#include <cjson/cJSON.h>

typedef struct er_run_opts {
    const char *task_id;
    const char *root_id; /* the top-level task (events channel) */
    const char *agent;   /* agent name */
    const char *request;
    const cJSON *history;       /* BORROWED earlier messages (neutral shape) or NULL */
    bool approve_all;           /* the requester said --yes: "ask" becomes "allow" */
    const char *model;          /* the model the requester chose (meta "model"), NULL: the
                                     configured one */
    const char *user_id;        /* the task's user */
    bool server;                /* from errand serve: its user's workspace, approvals by
                                     role, never unconfined (workspaces.h) */
    bool replay;                /* a redelivery: reuse recorded steps instead of redoing them */
    bool tainted;               /* the request carries outside content (a step's input from
                                     an agent that reads the web): see er_tool_untrusted */
    const volatile int *cancel; /* nonzero: stop with ER_TASK_CANCELLED */
    const er_lease *lease;      /* this attempt's hold on the task (store.h); NULL: none.
                                     Its deadline, less agent.deadline_margin, bounds the run */
    const volatile int *lost;   /* nonzero: the bus took the message back (er_bus_msg.lost):
                                     stop before the next step or side effect; NULL: never */
    bool park;                  /* a call that needs an approval parks the task (park.h)
                                     and ends the run (out->parked) instead of waiting for
                                     the answer; needs a lease */
} er_run_opts;

typedef struct er_run_result {
    er_task_status status; /* DONE, FAILED or CANCELLED (RUNNING when parked) */
    char *answer;          /* OWNED final text (DONE) */
    char *error;           /* OWNED reason (FAILED, CANCELLED) */
    int error_code;        /* ER_E* behind error */
    int64_t tokens_in;
    int64_t tokens_out;
    int steps;
    bool abandoned;     /* the attempt lost the task (error says how): the outcome
                                     is not the task's, and nothing should be published */
    bool parked;        /* the task waits for an approval (park.h): it stays
                                     running, resumed by the answer; nothing to publish */
    cJSON *interrupted; /* OWNED array of the calls a crash interrupted that were
                                     not repeated ({"tool","arguments","agent"}), or NULL */
} er_run_result;

/* Never fails as a call: what went wrong is in out->status / out->error. */
void er_runtime_run(er_env *env, const er_run_opts *opts, er_run_result *out);
void er_run_result_release(er_run_result *r);

/* The built-in tools every agent has: schemas for the model. */
extern const char er_runtime_todos_schema[];
extern const char er_runtime_task_schema[];

#endif
