/* routes_agents.c — GET /agents (definitions and live status) and
 * GET|PUT /agents/{name}/config (the stored per-agent configuration).
 *
 * Live status comes from the agent's queue: how many messages wait and how many
 * consumers (in-process workers or `errand worker` processes) are attached. */
#include "server.h"
#include "errand/agent.h"
#include "errand/bus.h"
#include "errand/tool.h"

#include <stdlib.h>

static cJSON *names_of(const char *const *tools)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; tools && tools[i]; i++)
        if (er_tool_find(tools[i]))
            er_json_append(arr, cJSON_CreateString(tools[i]));
    return arr;
}

static cJSON *status_of(er_bus *bus, const char *agent)
{
    cJSON *j = cJSON_CreateObject();
    char queue[64];
    er_bus_agent_queue(agent, queue, sizeof queue);
    er_json_add_str(j, "queue", queue);
    long depth = -1, consumers = -1;
    if (!bus || er_bus_queue_info(bus, queue, &depth, &consumers, NULL) != 0) {
        er_json_add_str(j, "state", "unknown");
        return j;
    }
    er_json_add_num(j, "waiting", (double)depth);
    er_json_add_num(j, "consumers", (double)consumers);
    er_json_add_str(j, "state", consumers == 0 ? "offline" : depth > 0 ? "busy" : "idle");
    return j;
}

static cJSON *agent_json(const er_agent_def *a, er_bus *bus)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "name", a->name);
    er_json_add_str(o, "description", a->description);
    cJSON *subs = cJSON_CreateArray();
    for (size_t s = 0; s < a->nsubagents; s++) {
        cJSON *so = cJSON_CreateObject();
        er_json_add_str(so, "name", a->subagents[s].name);
        er_json_add_str(so, "description", a->subagents[s].description);
        er_json_add(so, "tools", names_of(a->subagents[s].tools));
        er_json_append(subs, so);
    }
    er_json_add(o, "subagents", subs);
    er_json_add(o, "tools", names_of(a->tools));
    er_json_add(o, "status", status_of(bus, a->name));
    return o;
}

int srv_route_agents_list(srv_req *r)
{
    er_bus *bus = NULL;
    if (er_env_bus(r->s->env, &bus, NULL))
        bus = NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; er_agents[i]; i++)
        er_json_append(arr, agent_json(er_agents[i], bus));
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "agents", arr);
    return srv_reply_json(r, 200, j);
}

static int config_reply(srv_req *r, int status, const char *agent, cJSON *config)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "agent", agent);
    er_json_add(j, "config", config);
    return srv_reply_json(r, status, j);
}

int srv_route_agent_config_get(srv_req *r)
{
    const char *name = r->params[0];
    if (!er_agent_find(name))
        return srv_reply_error(r, 404, NULL, "no agent '%.32s' (see GET /api/v1/agents)", name);
    er_store *st;
    er_error err = { 0 };
    char *text = NULL;
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_agent_config_get(st, name, &text, &err);
    cJSON *config = NULL;
    if (rc == ER_ENOTFOUND)
        config = cJSON_CreateObject();
    else if (!rc && srv_json_parse(&config, text, strlen(text), &err) != 0)
        rc = ER_EINTERNAL;
    free(text);
    if (rc && rc != ER_ENOTFOUND)
        return srv_reply_err(r, &err);
    return config_reply(r, 200, name, config);
}

int srv_route_agent_config_put(srv_req *r)
{
    const char *name = r->params[0];
    if (!er_agent_find(name))
        return srv_reply_error(r, 404, NULL, "no agent '%.32s' (see GET /api/v1/agents)", name);
    er_store *st;
    er_error err = { 0 };
    char *text = er_json_print(r->body);
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_agent_config_set(st, name, text, &err);
    free(text);
    if (rc)
        return srv_reply_err(r, &err);
    cJSON *config = r->body;
    r->body = NULL;
    return config_reply(r, 200, name, config);
}
