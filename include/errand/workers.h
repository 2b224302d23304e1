/* workers.h — the consumers of the flow: supervisor, agents, aggregator.
 *
 *   supervisor.tasks → supervisor (route) → agent.{name} → agent (runtime)
 *   → results → agent.results → aggregator (finish, fan-in)
 * The same handlers run in-process (local mode) and in `errand worker` processes. */
#ifndef ERRAND_WORKERS_H
#define ERRAND_WORKERS_H

#include "common.h"
#include "agent.h"
#include "env.h"
#include "bus.h"

/* A stage of the flow and the worker that runs it. */
typedef struct er_worker_stage {
    const char *name;          /* what `errand worker NAME` takes: "supervisor", an
                                    agent's name, "aggregator"; NULL ends the list */
    const char *queue;         /* the queue its consumers take messages from */
    er_bus_handler handle;     /* payload: er_env * */
    const er_agent_def *agent; /* an agent's stage: its definition; else NULL */
} er_worker_stage;

/* Every stage in the order a task passes them: the supervisor, one per agent
 * of er_agents[] (agent.h), the aggregator.  Derived from the agent registry
 * on first use: adding an agent adds its stage.  BORROWED for the process. */
const er_worker_stage *er_worker_stages(void);
/* The stages' names joined with ", " in that order, for help and messages.
 * BORROWED for the process. */
const char *er_worker_stage_names(void);

/* which: "all", or a stage's name.  Starts consumer threads on the bus; they
 * run until er_env_stop / er_env_close. */
int er_workers_start(er_env *env, const char *which, int concurrency, er_error *err);

/* Handlers (payload: er_env *), exposed for tests. */
er_bus_verdict er_supervisor_handle(const er_bus_msg *msg, void *payload);
er_bus_verdict er_agent_handle(const er_bus_msg *msg, void *payload);
er_bus_verdict er_aggregator_handle(const er_bus_msg *msg, void *payload);

/* A child of parent_id ended: starts the steps waiting for it, or ends the
 * parent (combined answer, or the first failure) when its children have. */
void er_aggregator_parent_progress(er_env *env, const char *parent_id);

#endif
