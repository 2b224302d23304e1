/* cmd_serve.c — `errand serve`: the headless REST + WebSocket server
 * (server/).  SIGTERM or SIGINT stop it cleanly, within --grace seconds (and
 * a few more for interrupted tasks to wind up). */
#include "cli.h"
#include "serve.h"
#include "errand/workspaces.h"

#include "errand/str.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_GRACE_S 30

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Runs on the main thread, the only one with SIGTERM and SIGINT unblocked. */
static void wait_for_signal(const char *url, void *payload)
{
    const sigset_t *old = payload;
    fprintf(stderr, "errand: serving on %s\n", url);
    while (!stopping)
        sigsuspend(old);
}

int cmd_serve(cli *c, cli_args *a)
{
    if (cli_flag(a, "routes")) {
        srv_print_routes(stdout);
        return EXIT_DONE;
    }
    if (a->npos)
        return cli_usage_error("serve", "unexpected argument '%s'", a->pos[0]);
    long grace = DEFAULT_GRACE_S;
    const char *g = cli_value(a, "grace");
    if (g && (er_str_to_long(g, &grace) || grace < 0 || grace > 86400))
        return cli_usage_error("serve", "--grace needs a number of seconds from 0 to 86400");
    er_error err = { 0 };
    if (cli_env(c, &err))
        return cli_fail(&err);
    /* Each user works in server.workspaces/USER-ID: none may hold errand's files. */
    if (er_workspaces_check(er_env_config(c->env), false, &err)) {
        err.code = ER_EINVAL; /* the configuration's to fix: exit 2 */
        return cli_fail(&err);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Threads inherit the blocked mask, so the signals come to this thread. */
    sigset_t stop_set, old;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old);
    srv_opts o = { .listen = cli_value(a, "listen"),
                   .serve = wait_for_signal,
                   .payload = &old,
                   .grace_s = grace };
    int rc = srv_run(c->env, &o, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (o.unfinished) {
        /* A thread still runs a task: closing what it uses would crash it. */
        fprintf(stderr, "errand: stopped (a task did not stop when interrupted)\n");
        _exit(EXIT_DONE);
    }
    if (rc)
        return cli_fail(&err);
    fprintf(stderr, "errand: stopped\n");
    return EXIT_DONE;
}
