/* routes_ops.c — what operators and tools call: /healthz (the process
 * answers), /readyz (store, bus and cache reachable), /metrics (Prometheus),
 * /api/v1/openapi.json, and /ws when it is not a WebSocket upgrade. */
#include "server.h"
#include "errand/log.h"

#include <stdlib.h>
#include <strings.h>

int srv_route_healthz(srv_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    return srv_reply(r, 200, "application/json", NULL, body, sizeof body - 1);
}

typedef int (*check_fn)(er_env *env, er_error *err);

static int check_store(er_env *env, er_error *err)
{
    er_store *st;
    int rc = er_env_store(env, &st, err);
    return rc ? rc : er_store_ping(st, err);
}

static int check_bus(er_env *env, er_error *err)
{
    er_bus *bus;
    int rc = er_env_bus(env, &bus, err);
    return rc ? rc : er_bus_ping(bus, err);
}

static int check_cache(er_env *env, er_error *err)
{
    er_cache *c;
    int rc = er_env_cache(env, &c, err);
    return rc ? rc : er_cache_ping(c, err);
}

int srv_route_readyz(srv_req *r)
{
    static const struct {
        const char *name;
        check_fn fn;
    } checks[] = {
        { "store", check_store },
        { "bus", check_bus },
        { "cache", check_cache },
    };
    cJSON *j = cJSON_CreateObject(), *cj = cJSON_CreateObject();
    bool ready = !atomic_load(&r->s->stopping);
    for (size_t i = 0; i < ER_ARRAY_LEN(checks); i++) {
        er_error err = { 0 };
        bool ok = checks[i].fn(r->s->env, &err) == 0;
        if (!ok)
            er_log(ER_LOG_WARN, "readyz", "%s: %s", checks[i].name, err.msg);
        er_json_add_str(cj, checks[i].name, ok ? "ok" : "unavailable");
        ready = ready && ok;
    }
    er_json_add_str(j, "status", ready ? "ready" : "unavailable");
    er_json_add(j, "checks", cj);
    return srv_reply_json(r, ready ? 200 : 503, j);
}

int srv_route_metrics(srv_req *r)
{
    const char *want = r->s->cfg->metrics_token;
    if (want) {
        const char *h = srv_header(r, "Authorization");
        const char *got = h && strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : "";
        if (strlen(got) != strlen(want) || !srv_equal(got, want, strlen(want))) {
            r->extra = "WWW-Authenticate: Bearer realm=\"metrics\"\r\n";
            return srv_reply_error(r, 401, NULL,
                                   "send Authorization: Bearer "
                                   "<server.metrics_token>");
        }
    }
    er_buf b = ER_BUF_INIT;
    srv_metrics_render(r->s, &b);
    int status = srv_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.ptr, b.len);
    er_buf_release(&b);
    return status;
}

int srv_route_openapi(srv_req *r)
{
    return srv_reply(r, 200, "application/json", NULL, r->s->openapi, strlen(r->s->openapi));
}

int srv_route_ws(srv_req *r)
{
    r->extra = "Upgrade: websocket\r\n";
    return srv_reply_error(r, 426, NULL, "/ws speaks WebSocket: send an Upgrade request");
}
