/* workers.h — the consumers of the flow: supervisor, agents, aggregator.
 *
 *   supervisor.tasks → supervisor (route) → agent.{name} → agent (runtime)
 *   → results → agent.results → aggregator (finish, fan-in)
 * The same handlers run in-process (local mode) and in `errand worker` processes. */
#ifndef ERRAND_WORKERS_H
#define ERRAND_WORKERS_H

#include "common.h"
#include "env.h"
#include "bus.h"

/* which: "all", "supervisor", "aggregator", or an agent name.  Starts consumer
 * threads on the bus; they run until er_env_stop / er_env_close. */
int er_workers_start(er_env *env, const char *which, int concurrency, er_error *err);
/* The names `which` accepts, NULL-terminated. */
extern const char *const er_worker_names[];

/* Handlers (payload: er_env *), exposed for tests. */
er_bus_verdict er_supervisor_handle(const er_bus_msg *msg, void *payload);
er_bus_verdict er_agent_handle(const er_bus_msg *msg, void *payload);
er_bus_verdict er_aggregator_handle(const er_bus_msg *msg, void *payload);

/* A child of parent_id ended: starts the steps waiting for it, or ends the
 * parent (combined answer, or the first failure) when its children have. */
void er_aggregator_parent_progress(er_env *env, const char *parent_id);

/* Shared by the handlers: the task a bus message names (0, or the verdict to give). */
int er_worker_load_task(er_env *env, const er_bus_msg *msg, er_task *out, cJSON **body_out,
                        er_bus_verdict *verdict);

#endif
