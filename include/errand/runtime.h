/* runtime.h — the one deep-agent loop every agent runs.
 *
 * plan (write_todos) → LLM step → tool calls (policy-checked) / delegation to a
 * subagent (task tool, fresh context) → … until a final answer or a budget ends
 * it.  Every step is an event (stored + published).  Steps are keyed by task and
 * step number, so a task redelivered after a crash replays recorded LLM answers
 * and tool results instead of repeating them. */
#ifndef ERRAND_RUNTIME_H
#define ERRAND_RUNTIME_H

#include "common.h"
#include "env.h"
#include "store.h"
#include <cjson/cJSON.h>

typedef struct er_run_opts {
    const char *task_id;
    const char *root_id;          /* the top-level task (events channel) */
    const char *agent;            /* agent name */
    const char *request;
    const cJSON *history;         /* BORROWED earlier messages (neutral shape) or NULL */
    bool approve_all;             /* the requester said --yes: "ask" becomes "allow" */
    bool replay;                  /* a redelivery: reuse recorded steps instead of redoing them */
    bool tainted;                 /* the request carries outside content (a step's input from
                                     an agent that reads the web): see er_tool_untrusted */
    const volatile int *cancel;   /* nonzero: stop with ER_TASK_CANCELLED */
} er_run_opts;

typedef struct er_run_result {
    er_task_status status;        /* DONE, FAILED or CANCELLED */
    char *answer;                 /* OWNED final text (DONE) */
    char *error;                  /* OWNED reason (FAILED, CANCELLED) */
    int error_code;               /* ER_E* behind error */
    int64_t tokens_in;
    int64_t tokens_out;
    int steps;
} er_run_result;

/* Never fails as a call: what went wrong is in out->status / out->error. */
void er_runtime_run(er_env *env, const er_run_opts *opts, er_run_result *out);
void er_run_result_release(er_run_result *r);

/* The built-in tools every agent has: schemas for the model. */
extern const char er_runtime_todos_schema[];
extern const char er_runtime_task_schema[];

#endif
