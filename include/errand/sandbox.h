/* sandbox.h — running untrusted commands for the code tools (run, test, lint, diff).
 *
 * A command runs in bubblewrap when bwrap works on this machine, in the jail
 * jail.h describes: /usr, /bin, /lib*, a minimal /etc, the workspace
 * (read-write or read-only), a private /dev, /proc and size-capped /tmp with
 * HOME in it — nothing else of the host, errand's own files least of all;
 * every namespace unshared (the network too unless granted), capabilities
 * dropped, a new session, and death with its parent.  Whether or not bwrap
 * is used, the child gets resource limits before exec (CPU, address space,
 * file size, open files, no core dumps; RLIMIT_NPROC for non-root users)
 * and joins a cgroup of its own where one can be made (cgroup.h): memory of
 * all its processes together and their number, since RLIMIT_AS holds each
 * process alone and RLIMIT_NPROC is ignored for uid 0.  It runs in its own
 * process group, and is killed — the whole group and cgroup — at the
 * wall-clock timeout, on cancellation and when it exits.  stdout and stderr
 * are read through pipes; each keeps its head and tail up to a cap and
 * counts the total.
 *
 * Without bwrap (no PID namespace to empty) the forked child stays between
 * errand and the command as a subreaper: what the command daemonises out of
 * its group and session is re-parented to it and killed with the rest.
 *
 * Whether bwrap works is found out once per process (the jail running
 * `true`); when it does not, commands run with limits only — they see the
 * whole filesystem and the network — the log says so once and results say
 * "rlimits-only".  A caller that must not run anything unconfined (a task
 * from errand serve) sets refuse_unconfined and gets ER_EDENIED instead.
 * ERRAND_SANDBOX=none in the environment forces the limits-only mode.
 *
 * The environment is an allow-list: PATH, HOME, LANG, LC_*, TERM and TZ,
 * the names opts->pass_env adds (sandbox.env), and the caller's opts->env;
 * never a variable of errand's own secret settings.  In the jail HOME is
 * /tmp/home and caches point into /tmp.
 *
 * Thread-safe: every call is independent; detection is guarded by pthread_once. */
#ifndef ERRAND_SANDBOX_H
#define ERRAND_SANDBOX_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "own_files.h"

#define ER_SANDBOX_TIMEOUT_DEFAULT 60 /* seconds */
#define ER_SANDBOX_TIMEOUT_MAX     600
#define ER_SANDBOX_KEEP_DEFAULT    (64 * 1024)     /* bytes kept per stream */
#define ER_SANDBOX_MEMORY_DEFAULT  (2048ull << 20) /* a command's processes together */
#define ER_SANDBOX_PIDS_DEFAULT    1024
#define ER_SANDBOX_TMP_DEFAULT     (512ull << 20) /* /tmp and /dev/shm in the jail */

typedef struct er_sandbox_opts {
    const char *workspace; /* bound at its own path and made the cwd; NULL: cwd */
    bool workspace_read_only;
    bool network;               /* share the host network (policy granted it) */
    int timeout_s;              /* wall clock; <= 0 means the default */
    size_t keep;                /* bytes kept per stream (head + tail); 0: default */
    uint64_t max_memory;        /* RLIMIT_AS in bytes, per process; 0: 2 GiB */
    uint64_t memory_total;      /* the cgroup's memory, all processes; 0: the default */
    long pids;                  /* the cgroup's process count; 0: the default */
    uint64_t tmp_bytes;         /* size of the jail's /tmp and /dev/shm; 0: the default */
    const char *expose;         /* extra read-only paths, comma-separated (sandbox.expose) */
    const er_own_files *own;    /* errand's files, covered where the jail shows them */
    const char *pass_env;       /* more variable names to pass, comma-separated; NAME* is
                                      a prefix (sandbox.env) */
    bool refuse_unconfined;     /* without bwrap: ER_EDENIED instead of limits only */
    const volatile int *cancel; /* nonzero: kill and return ER_ECANCELLED */
    const char *const *env;     /* extra "NAME=value" entries, NULL-terminated, or NULL */
    bool merge_stderr;          /* stderr into the stdout capture, in order */
    bool no_bwrap;              /* force limits-only (tests, detection) */
} er_sandbox_opts;

typedef struct er_sandbox_result {
    int exit_code;  /* valid when signal == 0 */
    int signal;     /* the signal that killed the command, else 0; under bwrap,
                               which exits 128 + N for it, read back from that status */
    bool timed_out; /* killed at the timeout */
    int64_t duration_ms;
    er_buf out, err;             /* kept bytes: head, an elision marker, tail (raw bytes) */
    size_t out_total, err_total; /* bytes the command wrote */
    const char *sandbox;         /* "bwrap" or "rlimits-only" (static) */
    bool oom;                    /* the cgroup's memory limit killed a process */
    uint64_t memory_limit;       /* that limit, bytes; 0 when there was no cgroup */
} er_sandbox_result;

/* Runs argv (argv[0] looked up in PATH) and waits for it.  0 when the command
 * ran, whatever its exit status or timeout; ER_ECANCELLED when cancelled;
 * ER_EDENIED when it would run unconfined and refuse_unconfined is set;
 * ER_EIO / ER_EINTERNAL when it could not be started.  *out is filled on 0 and
 * on ER_ECANCELLED and must be released with er_sandbox_result_release(). */
int er_sandbox_run(er_sandbox_result *out, const er_sandbox_opts *opts, const char *const *argv,
                   er_error *err);
void er_sandbox_result_release(er_sandbox_result *r);

/* "bwrap" or "rlimits-only": what er_sandbox_run uses here (detected once). */
const char *er_sandbox_kind(void);
/* Why bwrap is not used ("" when it is): for messages. */
const char *er_sandbox_why_unconfined(void);

/* OWNED: the absolute path of an executable found in PATH, or NULL. */
char *er_sandbox_which(const char *name);
/* OWNED: what a command run with o would find for name in PATH: under
 * bwrap, directories the jail does not show (~/.pyenv/shims, ~/.cargo/bin)
 * are skipped. */
char *er_sandbox_which_in(const er_sandbox_opts *o, const char *name);

#endif
