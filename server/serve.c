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

#include <stdio.h>
#include <stdlib.h>

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
    er_tasks_reap_orphans(s->env, NULL);   /* a killed server's tasks */
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

static void teardown(srv *s)
{
    srv_ws_close_all(s);
    srv_http_stop(s);
    srv_ws_free(s);
    /* Workers first (they publish events), then the hub they publish to. */
    er_env_stop(s->env);
    srv_hub_free(s->hub);
    srv_oidc_free(s->oidc);
    srv_metrics_free(s->metrics);
    srv_hmac_free(s->jwt_hmac);
    free(s->openapi);
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s->origins);
}

int srv_run(er_env *env, const srv_opts *o, er_error *err)
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
    teardown(s);
    free(s);
    return rc;
}
