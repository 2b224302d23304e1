/* cmd_worker.c — `errand worker NAME`: one worker process of the networked mode. */
#include "cli.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/workers.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

int cmd_worker(cli *c, cli_args *a)
{
    if (a->npos != 1)
        return cli_usage_error("worker", "which worker? (supervisor, aggregator, code, research, "
                                         "data, email, browser, all)");
    long n = strcmp(a->pos[0], "all") == 0 ? 2 : 1;
    const char *conc = cli_value(a, "concurrency");
    if (conc && (er_str_to_long(conc, &n) || n < 1 || n > 64))
        return cli_usage_error("worker", "--concurrency needs a number from 1 to 64");
    er_error err = { 0 };
    int rc = cli_env(c, &err);
    if (rc)
        return cli_fail(&err);
    /* Open what every handler needs before taking messages: fail fast, clearly. */
    er_store *st;
    er_cache *cache;
    if ((rc = er_env_store(c->env, &st, &err)) || (rc = er_env_cache(c->env, &cache, &err)))
        return cli_fail(&err);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Consumer threads inherit the blocked mask, so the signals come to this thread. */
    sigset_t stop_set, old;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old);
    rc = er_workers_start(c->env, a->pos[0], (int)n, &err);
    if (rc)
        return cli_fail(&err);
    er_log(ER_LOG_INFO, "worker", "worker %s started (concurrency %ld)", a->pos[0], n);
    fprintf(stderr, "errand: worker %s ready\n", a->pos[0]);
    while (!stopping)
        sigsuspend(&old);
    er_log(ER_LOG_INFO, "worker", "worker %s stopping", a->pos[0]);
    er_env_stop(c->env);
    return EXIT_DONE;
}
