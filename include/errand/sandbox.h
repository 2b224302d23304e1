/* sandbox.h — running untrusted commands for the code tools (run, test, lint, diff).
 *
 * A command runs in bubblewrap when bwrap works on this machine: read-only /,
 * private /dev, /proc and /tmp, the workspace bound read-write (or read-only),
 * every namespace unshared (the network too unless granted), capabilities
 * dropped, a new session, and death with its parent.  Whether or not bwrap is
 * used, the child gets resource limits before exec (CPU, address space, file
 * size, open files, no core dumps; RLIMIT_NPROC for non-root users, a pids
 * cgroup when one can be created, since RLIMIT_NPROC is ignored for uid 0),
 * runs in its own process group, and is killed — the whole group and cgroup —
 * at the wall-clock timeout, on cancellation and when it exits.  stdout and
 * stderr are read through pipes; each keeps its head and tail up to a cap and
 * counts the total.
 *
 * Without bwrap (no PID namespace to empty) the forked child stays between
 * errand and the command as a subreaper: what the command daemonises out of
 * its group and session is re-parented to it and killed with the rest.
 *
 * Whether bwrap works is found out once per process (`bwrap --ro-bind / / true`
 * with our flags); when it does not, commands run with limits only, the log
 * says so once and results say "rlimits-only".  ERRAND_SANDBOX=none in the
 * environment forces the limits-only mode.
 *
 * Secrets in the environment (names containing KEY, TOKEN, SECRET, PASSWORD,
 * CREDENTIAL, and the backend URLs) are not passed to the command.
 *
 * Thread-safe: every call is independent; detection is guarded by pthread_once. */
#ifndef ERRAND_SANDBOX_H
#define ERRAND_SANDBOX_H

#include "common.h"
#include "error.h"
#include "buf.h"

#define ER_SANDBOX_TIMEOUT_DEFAULT 60   /* seconds */
#define ER_SANDBOX_TIMEOUT_MAX 600
#define ER_SANDBOX_KEEP_DEFAULT (64 * 1024)  /* bytes kept per stream */

typedef struct er_sandbox_opts {
    const char *workspace;         /* bound at its own path and made the cwd; NULL: cwd */
    bool workspace_read_only;
    bool network;                  /* share the host network (policy granted it) */
    int timeout_s;                 /* wall clock; <= 0 means the default */
    size_t keep;                   /* bytes kept per stream (head + tail); 0: default */
    uint64_t max_memory;           /* RLIMIT_AS in bytes; 0: 2 GiB */
    const volatile int *cancel;    /* nonzero: kill and return ER_ECANCELLED */
    const char *const *env;        /* extra "NAME=value" entries, NULL-terminated, or NULL */
    bool merge_stderr;             /* stderr into the stdout capture, in order */
    bool no_bwrap;                 /* force limits-only (tests, detection) */
} er_sandbox_opts;

typedef struct er_sandbox_result {
    int exit_code;          /* valid when signal == 0 */
    int signal;             /* the signal that killed the command, else 0; under bwrap,
                               which exits 128 + N for it, read back from that status */
    bool timed_out;         /* killed at the timeout */
    int64_t duration_ms;
    er_buf out, err;        /* kept bytes: head, an elision marker, tail (raw bytes) */
    size_t out_total, err_total;  /* bytes the command wrote */
    const char *sandbox;    /* "bwrap" or "rlimits-only" (static) */
} er_sandbox_result;

/* Runs argv (argv[0] looked up in PATH) and waits for it.  0 when the command
 * ran, whatever its exit status or timeout; ER_ECANCELLED when cancelled;
 * ER_EIO / ER_EINTERNAL when it could not be started.  *out is filled on 0 and
 * on ER_ECANCELLED and must be released with er_sandbox_result_release(). */
int er_sandbox_run(er_sandbox_result *out, const er_sandbox_opts *opts,
                   const char *const *argv, er_error *err);
void er_sandbox_result_release(er_sandbox_result *r);

/* "bwrap" or "rlimits-only": what er_sandbox_run uses here (detected once). */
const char *er_sandbox_kind(void);

/* OWNED: the absolute path of an executable found in PATH, or NULL. */
char *er_sandbox_which(const char *name);

#endif
