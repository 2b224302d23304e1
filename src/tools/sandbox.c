/* sandbox.c — runs the code tools' commands in bubblewrap with resource limits
 * and a wall-clock timeout (see sandbox.h).
 *
 * The child calls setsid() before exec, so its pid is also its process-group
 * id; the group is killed when the command ends (background jobs die with it),
 * at the timeout and on cancellation.  The child is killed before it is reaped,
 * so the group id cannot have been reused.  As root, RLIMIT_NPROC is ignored,
 * so a fork bomb is held by the run's cgroup (cgroup.h) when one can be made,
 * and by bwrap's PID namespace, which the kernel empties when its init dies. */
#include "errand/sandbox.h"
#include "errand/alloc.h"
#include "errand/cgroup.h"
#include "errand/config.h"
#include "errand/jail.h"
#include "errand/log.h"
#include "errand/proc.h"
#include "errand/str.h"
#include "errand/strv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DRAIN_MS        2000 /* reading what is left after the command ended */
#define POLL_MS         50
#define REAPER_GRACE_MS 5000 /* for the reaper to kill what the command left */
#define GIB             (1024ull * 1024 * 1024)

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static const char *detected_kind = "rlimits-only";
static char *bwrap_exe;               /* found once by detect(), so PATH changes do not matter */
static char unconfined_why[200] = ""; /* set once by detect() */

/* ---- output capture: head + tail ring + total ---- */

typedef struct capture {
    er_buf head;
    char *ring;
    size_t ring_cap, ring_len, ring_pos;
    size_t total, keep;
} capture;

static void cap_init(capture *c, size_t keep)
{
    er_buf_init(&c->head, 0);
    c->keep = keep;
    c->ring_cap = keep - keep / 2;
    c->ring = er_xmalloc(c->ring_cap ? c->ring_cap : 1);
    c->ring_len = c->ring_pos = c->total = 0;
}

static void cap_add(capture *c, const char *p, size_t n)
{
    c->total += n;
    size_t hk = c->keep / 2;
    if (c->head.len < hk) {
        size_t take = n < hk - c->head.len ? n : hk - c->head.len;
        er_buf_append(&c->head, p, take);
        p += take;
        n -= take;
    }
    if (n >= c->ring_cap) {
        memcpy(c->ring, p + n - c->ring_cap, c->ring_cap);
        c->ring_pos = 0;
        c->ring_len = c->ring_cap;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        c->ring[c->ring_pos] = p[i];
        c->ring_pos = (c->ring_pos + 1) % c->ring_cap;
    }
    c->ring_len = c->ring_len + n > c->ring_cap ? c->ring_cap : c->ring_len + n;
}

/* Moves the captured text into out (head, marker, tail) and frees c. */
static void cap_finish(capture *c, er_buf *out, size_t *total)
{
    er_buf_init(out, 0);
    er_buf_append(out, c->head.ptr ? c->head.ptr : "", c->head.len);
    size_t cut = c->total - c->head.len - c->ring_len;
    if (cut)
        er_buf_printf(out, "\n[... %zu bytes elided of %zu ...]\n", cut, c->total);
    size_t start = c->ring_len < c->ring_cap ? 0 : c->ring_pos;
    for (size_t i = 0; i < c->ring_len; i++)
        er_buf_putc(out, c->ring[(start + i) % c->ring_cap]);
    if (!out->ptr)
        er_buf_puts(out, "");
    *total = c->total;
    er_buf_release(&c->head);
    free(c->ring);
}

/* ---- argv and environment ---- */

/* Replaces or appends NAME=value. */
static void env_set(er_strv *env, const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t nl = eq ? (size_t)(eq - entry) : strlen(entry);
    for (size_t i = 0; i < env->n; i++) {
        if (strncmp(env->v[i], entry, nl) == 0 && env->v[i][nl] == '=') {
            free(env->v[i]);
            env->v[i] = er_xstrdup(entry);
            return;
        }
    }
    er_strv_push(env, entry);
}

/* Does entry's name match one of list (comma-separated, NAME or PREFIX*)? */
static bool name_listed(const char *entry, size_t nl, const char *list)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ", ");
        bool prefix = n > 0 && p[n - 1] == '*';
        size_t m = prefix ? n - 1 : n;
        if (m && (prefix ? m <= nl : m == nl) && strncmp(entry, p, m) == 0)
            return true;
        p += n;
        p += strspn(p, ", ");
    }
    return false;
}

/* The variables of errand's secret settings (OPENAI_API_KEY, DATABASE_URL…):
 * never passed, whatever sandbox.env says. */
static bool errand_secret(const char *entry, size_t nl)
{
    for (size_t i = 0; i < er_config_nkeys; i++) {
        const char *v = er_config_keys[i].env;
        if (er_config_keys[i].secret && v && strlen(v) == nl && strncmp(entry, v, nl) == 0)
            return true;
    }
    return false;
}

/* The allow-list: what every build needs, and what the policy adds. */
static bool passed(const char *entry, const char *extra)
{
    const char *eq = strchr(entry, '=');
    if (!eq)
        return false;
    size_t nl = (size_t)(eq - entry);
    if (errand_secret(entry, nl))
        return false;
    return name_listed(entry, nl, "PATH,HOME,LANG,LC_*,TERM,TZ") || name_listed(entry, nl, extra);
}

static void build_env(er_strv *env, const er_sandbox_opts *o, bool bwrap)
{
    for (char **e = environ; e && *e; e++)
        if (passed(*e, o->pass_env))
            er_strv_push(env, *e);
    if (bwrap) {
        /* Only /tmp is writable in the jail (and the workspace): HOME and
         * the caches live there. */
        static const char *const jail[] = { ("HOME=" ER_JAIL_HOME), "TMPDIR=/tmp",
                                            "XDG_CACHE_HOME=/tmp/.cache",
                                            "GOCACHE=/tmp/.cache/go-build",
                                            "npm_config_cache=/tmp/.npm" };
        for (size_t i = 0; i < ER_ARRAY_LEN(jail); i++)
            env_set(env, jail[i]);
    }
    for (const char *const *x = o->env; x && *x; x++)
        env_set(env, *x);
}

static void bwrap_args(er_strv *av, const er_sandbox_opts *o)
{
    er_strv_push(av, "bwrap");
    er_jail j = { .workspace = o->workspace,
                  .workspace_read_only = o->workspace_read_only,
                  .network = o->network,
                  .expose = o->expose,
                  .own = o->own,
                  .tmp_bytes = o->tmp_bytes ? o->tmp_bytes : ER_SANDBOX_TMP_DEFAULT };
    er_jail_args(av, &j);
    er_strv_push(av, "--");
}

/* An executable regular file the jail j shows (any, when j is NULL). */
static bool runnable(const char *cand, const er_jail *j)
{
    struct stat st;
    if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode) || access(cand, X_OK) != 0)
        return false;
    if (!j)
        return true;
    char *real = realpath(cand, NULL);
    bool ok = real && er_jail_shows(j, real);
    free(real);
    return ok;
}

static char *which(const char *name, const er_jail *j)
{
    if (!name || !*name)
        return NULL;
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? er_xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *found = NULL;
    for (const char *dir = path; dir && !found;) {
        const char *colon = strchr(dir, ':');
        size_t dl = colon ? (size_t)(colon - dir) : strlen(dir);
        char *cand = dl ? er_xasprintf("%.*s/%s", (int)dl, dir, name) : er_xasprintf("./%s", name);
        if (runnable(cand, j))
            found = cand;
        else
            free(cand);
        dir = colon ? colon + 1 : NULL;
    }
    return found;
}

char *er_sandbox_which(const char *name)
{
    return which(name, NULL);
}

char *er_sandbox_which_in(const er_sandbox_opts *o, const char *name)
{
    if (o->no_bwrap || strcmp(er_sandbox_kind(), "bwrap") != 0)
        return which(name, NULL);
    er_jail j = { .workspace = o->workspace, .expose = o->expose };
    return which(name, &j);
}

/* ---- the child ---- */

typedef struct spawn {
    char **argv, **envp;
    char *exe;                  /* absolute path of argv[0], or NULL: not found */
    const char *const *cg_join; /* cgroup.procs files to join, or NULL */
    const char *chdir_to;       /* without bwrap */
    struct rlimit cpu, as, fsize, nofile, nproc;
    bool set_nproc;
    bool merge; /* stderr into stdout */
    bool reap;  /* limits-only: a subreaper between us and the command */
} spawn;

static void child_fail(const char *what, const char *name)
{
    /* Only async-signal-safe calls here: we are a fork of a threaded process. */
    ssize_t r = write(2, what, strlen(what));
    r = write(2, name, strlen(name));
    r = write(2, "\n", 1);
    (void)r;
}

/* The command itself: limits, its streams, exec. */
static ER_NORETURN void command_exec(const spawn *sp, int out_fd, int err_fd)
{
    setrlimit(RLIMIT_CPU, &sp->cpu);
    setrlimit(RLIMIT_AS, &sp->as);
    setrlimit(RLIMIT_FSIZE, &sp->fsize);
    setrlimit(RLIMIT_NOFILE, &sp->nofile);
    if (sp->set_nproc)
        setrlimit(RLIMIT_NPROC, &sp->nproc);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(sp->merge ? out_fd : err_fd, 2);
    /* Our other descriptors (database, sockets) are none of the command's business. */
    if (close_range(3, ~0u, 0) != 0)
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (sp->chdir_to && chdir(sp->chdir_to) != 0) {
        child_fail("sandbox: cannot enter the workspace ", sp->chdir_to);
        _exit(126);
    }
    if (sp->exe)
        execve(sp->exe, sp->argv, sp->envp);
    child_fail(sp->exe ? "sandbox: cannot execute " : "sandbox: command not found: ", sp->argv[0]);
    _exit(127);
}

/* ---- the reaper (limits-only mode) ----
 *
 * Without bwrap's PID namespace a command can leave its process group and
 * session (setsid, daemon(3)) and outlive the run, and without a pids cgroup
 * nothing else finds it.  So the forked child stays behind as a subreaper:
 * whatever the command orphans is re-parented to it, and when the command
 * ends — or we send SIGTERM at the timeout — it kills its group and every
 * process it has adopted, round after round until none is left, then exits
 * as the command did.  Only async-signal-safe calls: it is a fork of a
 * threaded process that never execs. */

static volatile sig_atomic_t reaper_stop;

static void reaper_on_term(int sig)
{
    (void)sig;
    reaper_stop = 1;
}

/* SIGKILLs every process whose parent is us. */
static void kill_adopted(void)
{
    long me = (long)getpid();
    int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[8192];
    ssize_t n;
    while ((n = getdents64(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9')
                continue;
            long pid = 0;
            for (const char *p = d->d_name; *p >= '0' && *p <= '9'; p++)
                pid = pid * 10 + (*p - '0');
            unsigned long long ppid;
            if (er_proc_stat_field(pid, 4, &ppid) && (long)ppid == me)
                kill((pid_t)pid, SIGKILL);
        }
    }
    close(fd);
}

/* Kills the command's group and all we adopted until we have no children. */
static void reaper_sweep(pid_t cmd)
{
    struct timespec ms = { 0, 1000 * 1000 };
    kill(-cmd, SIGKILL);
    for (int round = 0; round < 10000; round++) {
        kill_adopted();
        pid_t w;
        while ((w = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (w < 0 && errno == ECHILD)
            return;
        nanosleep(&ms, NULL);
    }
}

static ER_NORETURN void reaper_main(const spawn *sp, int out_fd, int err_fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reaper_on_term; /* no SA_RESTART: waitid returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* errand gone: clean up all the same */
    pid_t cmd = fork();
    if (cmd == 0) {
        setpgid(0, 0);
        command_exec(sp, out_fd, err_fd);
    }
    if (cmd < 0) {
        child_fail("sandbox: cannot start ", sp->argv[0]);
        _exit(126);
    }
    setpgid(cmd, cmd);
    /* errand's descriptors (the pipes, database and listening sockets) must
     * not live on in us while the command runs. */
    if (close_range(3, ~0u, 0) != 0) {
        close(out_fd);
        close(err_fd);
    }
    int status = 0;
    while (!reaper_stop) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) != 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (si.si_pid == cmd) { /* its group first, while its id is still held */
            kill(-cmd, SIGKILL);
            waitpid(cmd, &status, 0);
            break;
        }
        waitpid(si.si_pid, NULL, 0);
    }
    reaper_sweep(cmd);
    int sig = reaper_stop ? SIGKILL : WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (sig) { /* die as the command died, so the result reports its signal */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        kill(getpid(), sig);
        _exit(128 + sig);
    }
    _exit(WEXITSTATUS(status));
}

static ER_NORETURN void child_exec(const spawn *sp, int out_fd, int err_fd)
{
    setsid();
    for (const char *const *p = sp->cg_join; p && *p; p++) {
        int fd = open(*p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t r = write(fd, "0", 1); /* 0 means the writer */
            (void)r;
            close(fd);
        }
    }
    struct rlimit zero = { 0, 0 };
    setrlimit(RLIMIT_CORE, &zero);
    if (sp->reap)
        reaper_main(sp, out_fd, err_fd);
    command_exec(sp, out_fd, err_fd);
}

static void set_limits(spawn *sp, const er_sandbox_opts *o, int timeout_s)
{
    rlim_t cpu = (rlim_t)timeout_s + 5;
    sp->cpu = (struct rlimit){ cpu, cpu + 5 };
    rlim_t as = o->max_memory ? (rlim_t)o->max_memory : (rlim_t)(2 * GIB);
    sp->as = (struct rlimit){ as, as };
    sp->fsize = (struct rlimit){ (rlim_t)GIB, (rlim_t)GIB };
    sp->nofile = (struct rlimit){ 4096, 4096 };
    /* NPROC counts every process of the real uid and means nothing for root. */
    sp->set_nproc = getuid() != 0;
    struct rlimit cur;
    if (getrlimit(RLIMIT_NPROC, &cur) == 0) {
        rlim_t n = cur.rlim_cur < 4096 ? cur.rlim_cur : 4096;
        sp->nproc = (struct rlimit){ n, cur.rlim_max < n ? cur.rlim_max : n };
    } else {
        sp->set_nproc = false;
    }
}

/* ---- running ---- */

typedef struct run_state {
    pid_t pid;
    bool reaper;        /* pid is the reaper, which we ask to stop with SIGTERM */
    int64_t stop_asked; /* when we first asked it (ms), 0: not yet */
    er_cgroup *cgroup;
    capture out, err;
    bool exited, timed_out, cancelled;
    int status;
} run_state;

/* Until it has been reaped the child's pid cannot be reused; right after
 * fork it may not have made its process group yet, so it is killed by pid too. */
static void kill_all(run_state *st)
{
    bool hard = true;
    if (!st->exited && st->reaper) {
        /* It kills the command and everything it left behind; SIGKILL would
         * orphan those to init.  Asked again each round, forced if it hangs. */
        int64_t now = er_mono_ms();
        if (!st->stop_asked)
            st->stop_asked = now;
        kill(st->pid, SIGTERM);
        hard = now - st->stop_asked > REAPER_GRACE_MS;
    }
    if (!st->exited && hard) {
        kill(st->pid, SIGKILL);
        kill(-st->pid, SIGKILL);
    }
    if (st->cgroup)
        er_cgroup_kill(st->cgroup);
}

/* Reads what is available on fd; closes it (-1) at EOF. */
static void read_some(int *fd, capture *c)
{
    char chunk[65536];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n > 0) {
            cap_add(c, chunk, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(*fd);
            *fd = -1;
        }
        return;
    }
}

/* Checks whether the child ended without reaping it, so its group can still be
 * killed safely; then kills the stragglers and reaps. */
static void check_exit(run_state *st)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)st->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
        return;
    kill(-st->pid, SIGKILL);
    if (st->cgroup)
        er_cgroup_kill(st->cgroup);
    while (waitpid(st->pid, &st->status, 0) < 0 && errno == EINTR)
        ;
    st->exited = true;
}

static void pump(run_state *st, int fds[2], const er_sandbox_opts *o, int timeout_s)
{
    int64_t deadline = er_mono_ms() + (int64_t)timeout_s * 1000;
    int64_t drain_until = 0;
    while (fds[0] >= 0 || fds[1] >= 0 || !st->exited) {
        int64_t now = er_mono_ms();
        if (!st->exited && !st->timed_out && now >= deadline)
            st->timed_out = true;
        if (!st->exited && o->cancel && *o->cancel)
            st->cancelled = true;
        if (!st->exited && (st->timed_out || st->cancelled))
            kill_all(st);
        if (st->exited && drain_until == 0)
            drain_until = now + DRAIN_MS;
        if (drain_until && now >= drain_until)
            break;
        struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
        if (poll(p, 2, POLL_MS) > 0) {
            if (fds[0] >= 0 && p[0].revents)
                read_some(&fds[0], &st->out);
            if (fds[1] >= 0 && p[1].revents)
                read_some(&fds[1], &st->err);
        }
        if (!st->exited)
            check_exit(st);
    }
}

/* bwrap cannot die of its command's signal and exits 128 + N instead, as a
 * shell reports it: read that back for the signals whose default is death. */
static int bwrap_signal(int code)
{
    int sig = code - 128;
    bool deadly = (sig >= SIGHUP && sig <= SIGTERM) || sig == SIGXCPU || sig == SIGXFSZ ||
                  sig == SIGSYS || sig == SIGVTALRM || sig == SIGPROF;
    return code > 128 && deadly ? sig : 0;
}

static void fill_result(er_sandbox_result *r, run_state *st, int64_t t0, const char *kind)
{
    memset(r, 0, sizeof *r);
    if (WIFSIGNALED(st->status))
        r->signal = WTERMSIG(st->status);
    else if (strcmp(kind, "bwrap") == 0 && bwrap_signal(WEXITSTATUS(st->status)))
        r->signal = bwrap_signal(WEXITSTATUS(st->status));
    else
        r->exit_code = WEXITSTATUS(st->status);
    r->timed_out = st->timed_out;
    r->duration_ms = er_mono_ms() - t0;
    cap_finish(&st->out, &r->out, &r->out_total);
    cap_finish(&st->err, &r->err, &r->err_total);
    r->sandbox = kind;
    r->oom = st->cgroup && er_cgroup_oom(st->cgroup);
}

static int start_child(run_state *st, const spawn *sp, int fds[2], er_error *err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return er_error_set(err, ER_EIO, "cannot create a pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return er_error_set(err, ER_EIO, "cannot create a pipe: %s", strerror(errno));
    }
    st->pid = fork();
    if (st->pid == 0)
        child_exec(sp, po[1], pe[1]);
    close(po[1]);
    close(pe[1]);
    if (st->pid < 0) {
        close(po[0]);
        close(pe[0]);
        return er_error_set(err, ER_EIO, "cannot start a process: %s", strerror(errno));
    }
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    fds[0] = po[0];
    fds[1] = pe[0];
    return 0;
}

static void prepare(spawn *sp, er_strv *av, er_strv *env, const er_sandbox_opts *o,
                    const char *const *argv, bool bwrap, int timeout_s)
{
    memset(sp, 0, sizeof *sp);
    if (bwrap)
        bwrap_args(av, o);
    er_strv_push_all(av, argv);
    build_env(env, o, bwrap);
    sp->argv = av->v;
    sp->envp = env->v;
    sp->exe = bwrap ? er_xstrdup(bwrap_exe) : er_sandbox_which(av->v[0]);
    sp->chdir_to = bwrap ? NULL : o->workspace;
    sp->merge = o->merge_stderr;
    sp->reap = !bwrap; /* bwrap's PID namespace does that job */
    set_limits(sp, o, timeout_s);
}

static int refuse(er_error *err)
{
    return er_error_set(err, ER_EDENIED,
                        "commands cannot be confined here (%s), and this task "
                        "may not run them unconfined (sandbox.fallback = limits accepts that "
                        "risk)",
                        er_sandbox_why_unconfined());
}

int er_sandbox_run(er_sandbox_result *out, const er_sandbox_opts *opts, const char *const *argv,
                   er_error *err)
{
    memset(out, 0, sizeof *out);
    if (!argv || !argv[0])
        return er_error_set(err, ER_EINVAL, "no command to run");
    bool bwrap = !opts->no_bwrap && strcmp(er_sandbox_kind(), "bwrap") == 0;
    if (!bwrap && opts->refuse_unconfined)
        return refuse(err);
    int timeout_s = opts->timeout_s > 0 ? opts->timeout_s : ER_SANDBOX_TIMEOUT_DEFAULT;
    size_t keep = opts->keep ? opts->keep : ER_SANDBOX_KEEP_DEFAULT;
    er_strv av = ER_STRV_INIT, env = ER_STRV_INIT;
    spawn sp;
    prepare(&sp, &av, &env, opts, argv, bwrap, timeout_s);
    run_state st;
    memset(&st, 0, sizeof st);
    st.reaper = sp.reap;
    er_cgroup_limits lim = { opts->memory_total ? opts->memory_total : ER_SANDBOX_MEMORY_DEFAULT,
                             opts->pids ? opts->pids : ER_SANDBOX_PIDS_DEFAULT };
    st.cgroup = er_cgroup_new(&lim);
    sp.cg_join = st.cgroup ? er_cgroup_join_files(st.cgroup) : NULL;
    cap_init(&st.out, keep);
    cap_init(&st.err, keep);
    int64_t t0 = er_mono_ms();
    int fds[2] = { -1, -1 };
    int rc = start_child(&st, &sp, fds, err);
    if (rc == 0)
        pump(&st, fds, opts, timeout_s);
    for (int i = 0; i < 2 && rc == 0; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    fill_result(out, &st, t0, bwrap ? "bwrap" : "rlimits-only");
    out->memory_limit = st.cgroup ? lim.memory : 0;
    er_cgroup_free(st.cgroup);
    free(sp.exe);
    er_strv_free(&av);
    er_strv_free(&env);
    if (rc)
        er_sandbox_result_release(out);
    else if (st.cancelled)
        rc = er_error_set(err, ER_ECANCELLED, "cancelled; the command was killed");
    return rc;
}

void er_sandbox_result_release(er_sandbox_result *r)
{
    er_buf_release(&r->out);
    er_buf_release(&r->err);
}

/* ---- detection ---- */

static void unconfined(const char *why)
{
    snprintf(unconfined_why, sizeof unconfined_why, "%s", why);
    er_log(ER_LOG_WARN, "sandbox",
           "%s; commands run with rlimits only, without filesystem or "
           "network isolation (tasks from errand serve refuse to: sandbox.fallback)",
           why);
}

static void detect(void)
{
    const char *force = getenv("ERRAND_SANDBOX");
    if (force && strcmp(force, "none") == 0) {
        snprintf(unconfined_why, sizeof unconfined_why, "ERRAND_SANDBOX=none");
        er_log(ER_LOG_INFO, "sandbox", "ERRAND_SANDBOX=none: running commands with rlimits only");
        return;
    }
    bwrap_exe = er_sandbox_which("bwrap");
    if (!bwrap_exe) {
        unconfined("bubblewrap (bwrap) is not installed");
        return;
    }
    /* The jail itself, without a workspace, running `true`. */
    er_sandbox_opts o = { .no_bwrap = true, .timeout_s = 10, .keep = 1024 };
    er_strv probe = ER_STRV_INIT;
    bwrap_args(&probe, &o);
    free(probe.v[0]);
    probe.v[0] = er_xstrdup(bwrap_exe);
    er_strv_push(&probe, "true");
    er_sandbox_result r;
    er_error e = { 0, "" };
    int rc = er_sandbox_run(&r, &o, (const char *const *)probe.v, &e);
    if (rc == 0 && r.signal == 0 && r.exit_code == 0) {
        detected_kind = "bwrap";
    } else {
        char why[180];
        snprintf(why, sizeof why, "bubblewrap does not work here (%.120s)",
                 rc ? e.msg : (r.err.len ? er_str_trim(r.err.ptr) : "bwrap failed"));
        unconfined(why);
    }
    if (rc == 0)
        er_sandbox_result_release(&r);
    er_strv_free(&probe);
}

const char *er_sandbox_kind(void)
{
    pthread_once(&detect_once, detect);
    return detected_kind;
}

const char *er_sandbox_why_unconfined(void)
{
    pthread_once(&detect_once, detect);
    return unconfined_why;
}
