/* orphans.h — tasks left behind by a local errand process that died.
 *
 * In local mode the process that submits a task also runs it, on its own
 * in-process bus.  Killed (kill -9, a crash, the machine going off), it leaves
 * the task queued or running in the store with nobody to end it: the tracker
 * shows it running for ever.  So every local submission records its owner in
 * the task's meta ("owner"), and the commands that show or follow tasks end
 * those whose owner is gone, as failed and saying why — except a task parked
 * on an approval (park.h): the process that resumes it becomes its owner.  Networked tasks have
 * no owner: the broker hands a dead worker's task to another. */
#ifndef ERRAND_ORPHANS_H
#define ERRAND_ORPHANS_H

#include "common.h"
#include "env.h"

/* This process as a task owner: "HOST BOOT-ID PID START-TICKS". */
const char *er_owner_self(void);

/* False only when sure that owner is gone: the same host and boot, and its pid
 * is free or names a process started at another time. */
bool er_owner_alive(const char *owner);

/* Ends the tasks (and their open subtasks) whose owner is gone as failed.
 * Nothing in networked mode. */
int er_tasks_reap_orphans(er_env *env, er_error *err);

#endif
