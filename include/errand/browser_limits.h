/* browser_limits.h — resource limits of one browser instance, for the
 * backends to apply to the browser they start (browser.h).
 *
 * Memory and process count are bounded for the browser as a whole (all its
 * processes: browser, renderers, GPU and network services) by a control group
 * (cgroup.h: v2 where a delegated subtree allows it, else v1) when one can be
 * made here; the kernel then kills a renderer that grows past the limit, the
 * page crashes, and the command fails with ER_EUNAVAIL (the pool replaces the
 * browser).  Where no group can be made, the log says so once, and memory is
 * bounded per process only (RLIMIT_DATA, at least 1 GiB: Chromium does not
 * start with less).  Every process gets RLIMIT_CORE 0 (a crashing renderer
 * leaves no core file) either way. */
#ifndef ERRAND_BROWSER_LIMITS_H
#define ERRAND_BROWSER_LIMITS_H

#include "common.h"
#include "cgroup.h"

typedef struct er_browser_limits {
    uint64_t memory;      /* bytes; 0: none */
    long pids;            /* processes and threads; 0: none */
    er_cgroup *cg;        /* OWNED; NULL: rlimits only */
    uint64_t data_rlimit; /* RLIMIT_DATA per process when there is no group; 0: none */
} er_browser_limits;

/* Before fork: makes the group (or notes that there is none). */
void er_browser_limits_prepare(er_browser_limits *l, uint64_t memory, long pids);
/* In the forked child before exec: joins the group, sets the rlimits.
 * Async-signal-safe (open, write, setrlimit only). */
void er_browser_limits_enter(const er_browser_limits *l);
/* True when the group's memory limit made the kernel kill a process. */
bool er_browser_limits_oom(er_browser_limits *l);
/* "cgroup v1", "cgroup v2" or "rlimits only", for errors and the log. */
const char *er_browser_limits_kind(const er_browser_limits *l);
/* Kills what is left in the group and removes it; accepts an empty one. */
void er_browser_limits_release(er_browser_limits *l);

#endif
