/* cgroup.h — one control group per sandboxed command, bounding its memory
 * (all its processes together, the pages of its tmpfs mounts included) and
 * its number of processes.  RLIMIT_AS bounds each process alone, and
 * RLIMIT_NPROC means nothing for root: a command of 1,000 processes of 2 GiB
 * each is held only here.
 *
 * The group is made beneath the cgroup errand itself runs in (read from
 * /proc/self/cgroup), so a command never leaves errand's own limits:
 *   v1  memory/<ours>/errand/<pid>-<n> and pids/<ours>/errand/<pid>-<n>
 *   v2  <ours>/errand/<pid>-<n>, where our cgroup's subtree has (or lets us
 *       enable) the memory and pids controllers — a delegated cgroup; v2
 *       forbids enabling them where processes live, so errand never moves
 *       itself to make room.
 * Where neither works (no permission, no controller), er_cgroup_new returns
 * NULL and the log says once that memory is limited per process only.
 *
 * Thread-safe: each group belongs to one run. */
#ifndef ERRAND_CGROUP_H
#define ERRAND_CGROUP_H

#include "common.h"

typedef struct er_cgroup er_cgroup;

typedef struct er_cgroup_limits {
    uint64_t memory; /* bytes, all processes together; 0: no memory limit */
    long pids;       /* processes and threads; 0: no limit */
} er_cgroup_limits;

/* OWNED (er_cgroup_free), or NULL when no group can be made here. */
er_cgroup *er_cgroup_new(const er_cgroup_limits *lim);

/* BORROWED NULL-terminated list of the cgroup.procs files a forked child
 * writes "0" to, to join (open + write: async-signal-safe). */
const char *const *er_cgroup_join_files(const er_cgroup *cg);

/* SIGKILLs every process in the group; returns how many there were. */
size_t er_cgroup_kill(er_cgroup *cg);

/* True when the memory limit made the kernel kill a process of the group. */
bool er_cgroup_oom(er_cgroup *cg);

/* "v1", "v2": which kind the group is. */
const char *er_cgroup_kind(const er_cgroup *cg);

/* Kills what is left, removes the group, frees; NULL is fine. */
void er_cgroup_free(er_cgroup *cg);

#endif
