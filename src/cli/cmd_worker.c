/* cmd_worker.c — `errand worker NAME...`: one worker process of the networked mode,
 * consuming the queues of one or more workers (supervisor, aggregator, agents).
 *
 * Shutdown: the first SIGTERM or SIGINT stops the consumers taking messages and
 * lets the messages in hand finish, for up to --grace seconds.  Then (or at a
 * second signal) the runs still going are interrupted and their messages go back
 * to the queue, where another worker goes on from the steps they recorded.  A
 * third signal leaves at once; the broker redelivers what was not acked. */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/bus.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/workers.h"
#include "errand/workspaces.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_GRACE_S 30

/* The handler may run on any thread; it only counts and wakes the main thread. */
static volatile sig_atomic_t signals;
static int sig_pipe[2] = { -1, -1 };

static void on_stop(int sig)
{
    (void)sig;
    if (++signals >= 3) {
        static const char msg[] = "errand: worker: leaving now; unfinished messages will be "
                                  "redelivered\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(EXIT_INTERRUPTED);
    }
    ssize_t w = write(sig_pipe[1], "x", 1);
    (void)w;
}

static int install_handlers(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return 0;
}

/* Waits up to timeout_ms (-1: forever) for fd or a signal; true when fd is readable. */
static bool wait_fd(int fd, int timeout_ms)
{
    struct pollfd p[2] = { { sig_pipe[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
    int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    char buf[16];
    if (n > 0 && (p[0].revents & POLLIN))
        while (read(sig_pipe[0], buf, sizeof buf) > 0)
            ;
    return n > 0 && fd >= 0 && (p[1].revents & POLLIN);
}

typedef struct drainer {
    er_env *env;
    int done[2]; /* written when the consumers are gone */
} drainer;

static void *drain_main(void *arg)
{
    drainer *d = arg;
    er_env_drain(d->env);
    ssize_t w = write(d->done[1], "x", 1);
    (void)w;
    return NULL;
}

/* Threads started with the stop signals blocked, so that they reach the main thread. */
static int start_blocked(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t stop_set, old;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void shut_down(er_env *env, const char *name, long grace_s)
{
    er_log(ER_LOG_INFO, "worker",
           "worker %s stopping: finishing the messages in hand (up to "
           "%ld s; signal again to hand them back now)",
           name, grace_s);
    er_env_stop(env);
    drainer d = { env, { -1, -1 } };
    pthread_t t;
    if (pipe2(d.done, O_CLOEXEC) != 0 || start_blocked(&t, drain_main, &d) != 0) {
        er_env_interrupt(env); /* cannot wait in a thread: hand everything back now */
        er_env_drain(env);
    } else {
        int64_t deadline = er_mono_ms() + grace_s * 1000;
        int seen = signals;
        bool done = false;
        while (!done && signals == seen && er_mono_ms() < deadline)
            done = wait_fd(d.done[0], (int)(deadline - er_mono_ms()));
        if (!done) {
            er_log(ER_LOG_WARN, "worker",
                   "worker %s: interrupting the tasks in hand; they go "
                   "back to their queue",
                   name);
            er_env_interrupt(env);
        }
        pthread_join(t, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (d.done[i] >= 0)
            close(d.done[i]);
    er_log(ER_LOG_INFO, "worker", "worker %s stopped", name);
}

void cli_worker_help(void)
{
    printf("\nThe stages, in the order a task passes them:\n  %s.\n", er_worker_stage_names());
}

int cmd_worker(cli *c, cli_args *a)
{
    if (a->npos < 1)
        return cli_usage_error("worker", "which worker? (%s, or all)", er_worker_stage_names());
    long n = a->npos == 1 && strcmp(a->pos[0], "all") == 0 ? 2 : 1, grace = DEFAULT_GRACE_S;
    const char *conc = cli_value(a, "concurrency"), *g = cli_value(a, "grace");
    if (conc && (er_str_to_long(conc, &n) || n < 1 || n > 64))
        return cli_usage_error("worker", "--concurrency needs a number from 1 to 64");
    if (g && (er_str_to_long(g, &grace) || grace < 0 || grace > 86400))
        return cli_usage_error("worker", "--grace needs a number of seconds from 0 to 86400");
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    if (rc)
        return cli_fail(&err);
    /* Its tasks work in its workspace or, from errand serve, in the users'. */
    if (er_workspaces_check(er_env_config(c->env), true, &err)) {
        err.code = ER_EINVAL; /* the configuration's to fix: exit 2 */
        return cli_fail(&err);
    }
    er_alloc_keep_freed_memory();
    /* Open what every handler needs before taking messages: fail fast, clearly. */
    er_store *st;
    er_cache *cache;
    er_bus *bus;
    if ((rc = er_env_store(c->env, &st, &err)) || (rc = er_env_cache(c->env, &cache, &err)) ||
        (rc = er_env_bus(c->env, &bus, &err)))
        return cli_fail(&err);
    /* An in-process bus reaches no other process: such a worker would wait forever. */
    if (er_bus_is_local(bus))
        return cli_usage_error("worker",
                               "a worker needs a message broker: set RABBITMQ_URL "
                               "(without one, `errand ask` and `errand serve` run the workers "
                               "themselves)");
    if (install_handlers() != 0)
        return cli_fail(&(er_error){ ER_EINTERNAL, "cannot create a pipe for signals" });
    sigset_t stop_set, old;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old); /* consumer threads inherit it */
    for (size_t i = 0; !rc && i < a->npos; i++)
        rc = er_workers_start(c->env, a->pos[i], (int)n, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return cli_fail(&err);
    char *names = cli_join(a, 0);
    er_log(ER_LOG_INFO, "worker", "worker %s started (concurrency %ld)", names, n);
    fprintf(stderr, "errand: worker %s ready\n", names);
    while (!signals)
        wait_fd(-1, -1);
    shut_down(c->env, names, grace);
    free(names);
    return EXIT_DONE;
}
