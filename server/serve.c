/* serve.c — the life of `errand serve`: set everything up in order (store and
 * migrations, token key, OpenID Connect, metrics, the event hub, in-process
 * workers in local mode, the HTTP server), serve, and take it down in the
 * reverse order. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/orphans.h"
#include "errand/workers.h"
#include "crypto_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void split_origins(srv *s)
{
    const char *list = s->cfg->cors_origins;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ", ");
        if (n) {
            s->origins = er_xrealloc(s->origins, (s->norigins + 1) * sizeof *s->origins);
            s->origins[s->norigins] = er_xstrndup(p, n);
            size_t len = strlen(s->origins[s->norigins]);
            while (len > 0 && s->origins[s->norigins][len - 1] == '/')
                s->origins[s->norigins][--len] = '\0';
            s->norigins++;
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

static void set_base_url(srv *s)
{
    if (s->cfg->public_url)
        snprintf(s->base_url, sizeof s->base_url, "%s", s->cfg->public_url);
    else
        srv_http_url(s, s->base_url, sizeof s->base_url);
    size_t n = strlen(s->base_url);
    while (n > 0 && s->base_url[n - 1] == '/')
        s->base_url[--n] = '\0';
}

/* Local mode: the bus never leaves this process, so the agents run here. */
static int start_workers(srv *s, er_error *err)
{
    er_bus *bus;
    int rc = er_env_bus(s->env, &bus, err);
    if (rc || !er_bus_is_local(bus))
        return rc;
    if (s->cfg->server_workers <= 0) {
        er_log(ER_LOG_WARN, "serve", "server.workers is 0: tasks will stay queued");
        return 0;
    }
    er_tasks_reap_orphans(s->env, NULL); /* a killed server's tasks */
    return er_workers_start(s->env, "all", (int)s->cfg->server_workers, err);
}

static int setup(srv *s, er_error *err)
{
    er_store *st;
    er_cache *cache;
    int rc = er_env_store(s->env, &st, err);
    if (!rc)
        rc = er_env_cache(s->env, &cache, err);
    if (!rc)
        rc = srv_auth_init(s, err);
    if (!rc)
        rc = srv_sessions_start(s, err);
    if (!rc)
        rc = srv_oidc_new(&s->oidc, s, err);
    if (!rc)
        rc = srv_metrics_new(&s->metrics);
    if (!rc)
        rc = srv_hub_new(&s->hub, s->env, err);
    if (!rc)
        rc = start_workers(s, err);
    if (!rc)
        s->openapi = srv_openapi_build();
    return rc;
}

/* ---- stopping the in-process workers within the grace period ---- */

#define INTERRUPT_WAIT_MS 5000

typedef struct drainer {
    er_env *env;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} drainer;

static void *drain_main(void *arg)
{
    drainer *d = arg;
    er_env_drain(d->env); /* joins the consumers */
    pthread_mutex_lock(&d->lock);
    d->done = true;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static bool wait_drained(drainer *d, int64_t ms)
{
    int64_t deadline = er_mono_ms() + ms;
    pthread_mutex_lock(&d->lock);
    while (!d->done && er_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    }
    bool done = d->done;
    pthread_mutex_unlock(&d->lock);
    return done;
}

/* The tasks in hand may finish for grace_s; then their runs are interrupted
 * (every long loop of the tools looks at the flag).  False when a handler
 * still runs after that: the caller leaves without waiting for it. */
static bool stop_workers(srv *s, long grace_s)
{
    er_env_stop(s->env);
    static drainer d = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    d.env = s->env;
    pthread_t t;
    if (pthread_create(&t, NULL, drain_main, &d) != 0) {
        er_env_interrupt(s->env);
        er_env_drain(s->env);
        return true;
    }
    if (!wait_drained(&d, grace_s * 1000)) {
        er_log(ER_LOG_WARN, "serve",
               "tasks still running after the %ld s grace period: "
               "interrupting them",
               grace_s);
        er_env_interrupt(s->env);
        if (!wait_drained(&d, INTERRUPT_WAIT_MS)) {
            er_log(ER_LOG_ERROR, "serve",
                   "a task did not stop %d s after its interruption; "
                   "leaving without it",
                   INTERRUPT_WAIT_MS / 1000);
            pthread_detach(t);
            return false;
        }
    }
    pthread_join(t, NULL);
    return true;
}

static bool teardown(srv *s, long grace_s)
{
    srv_ws_close_all(s);
    srv_http_stop(s);
    srv_ws_free(s);
    /* Workers first (they publish events), then the hub they publish to. */
    if (!stop_workers(s, grace_s))
        return false; /* a thread still uses everything: nothing is freed */
    srv_hub_free(s->hub);
    srv_sessions_stop(s);
    srv_oidc_free(s->oidc);
    srv_metrics_free(s->metrics);
    srv_hmac_free(s->jwt_hmac);
    free(s->openapi);
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s->origins);
    return true;
}

int srv_run(er_env *env, srv_opts *o, er_error *err)
{
    er_alloc_keep_freed_memory();
    /* Loaded now, not at start-up: no other command needs them. */
    int rc = srv_mhd_load(err);
    if (!rc)
        rc = srv_crypto_load(err);
    if (rc)
        return rc;
    srv *s = er_xcalloc(1, sizeof *s);
    s->env = env;
    s->cfg = er_env_config(env);
    split_origins(s);
    srv_ws_init(s);
    srv_openai_init(s);
    const char *listen = o->listen ? o->listen : s->cfg->listen;
    rc = setup(s, err);
    if (!rc)
        rc = srv_http_start(s, listen, err);
    if (!rc) {
        set_base_url(s);
        char url[256];
        srv_http_url(s, url, sizeof url);
        er_log(ER_LOG_INFO, "serve", "listening on %s (public URL %s, %s mode)", url, s->base_url,
               s->cfg->rabbitmq_url ? "networked" : "local");
        o->serve(url, o->payload);
        er_log(ER_LOG_INFO, "serve", "stopping");
        atomic_store(&s->stopping, 1);
    }
    o->unfinished = !teardown(s, o->grace_s);
    if (!o->unfinished)
        free(s);
    return rc;
}
