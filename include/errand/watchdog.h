/* watchdog.h — ending the tasks that no worker will finish.
 *
 * A task can be left open with nobody working on it, in either mode:
 *  - its message was dead-lettered: its worker died (or lost the broker) at
 *    each of ER_BUS_MAX_ATTEMPTS attempts, or the handler failed as often (its
 *    result could not be published).  er_watchdog_dead_letter, which
 *    er_workers_start installs on the bus, fails the task with that reason
 *    as the message goes to errand.dead;
 *  - anything else (a worker frozen for good, a lost message, a bug): its
 *    deadline passes (store.h, leases: agent.max_seconds plus
 *    agent.deadline_margin after its first start).  er_watchdog_sweep fails the
 *    overdue tasks; workers run it every few seconds, and `errand ask` checks
 *    the task it follows, so no task stays running for ever.
 * Failing is er_task_finish (forward-only: whoever notices first wins), the
 * task's open children with it, and its parent's progress, as the aggregator
 * does for a failed result; followers get the "end" event. */
#ifndef ERRAND_WATCHDOG_H
#define ERRAND_WATCHDOG_H

#include "common.h"
#include "bus.h"
#include "env.h"
#include "store.h"

/* An er_bus_dead_fn; payload: the er_env. */
void er_watchdog_dead_letter(const er_bus_msg *msg, const char *reason, void *payload);
/* Fails every task past its deadline; *failed (may be NULL) gets how many this
 * call ended. */
int er_watchdog_sweep(er_env *env, int *failed, er_error *err);
/* Fails t if it is past its deadline and not ended; true when this call ended it. */
bool er_watchdog_check(er_env *env, const er_task *t);
/* How often workers sweep: a quarter of the margin, within 0.25 to 10 s. */
int er_watchdog_interval_ms(const er_config *cfg);

#endif
