/* cmd_mcp.c — `errand mcp list|tools NAME`: the configured MCP servers and
 * what each offers the agents (mcp.h). */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_json(cJSON *j)
{
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

static int mcp_list(const er_config *cfg, bool json)
{
    size_t n = cfg->mcp ? cfg->mcp->n : 0;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const er_mcp_server_cfg *s = &cfg->mcp->v[i];
        const char *transport = s->url ? "http" : "stdio";
        if (json) {
            cJSON *o = cJSON_CreateObject();
            er_json_add_str(o, "name", s->name);
            er_json_add_str(o, "transport", transport);
            er_json_add_str(o, s->url ? "url" : "command", s->url ? s->url : s->command);
            er_json_add_str(o, "permission", er_perm_name(s->perm));
            er_json_add_str(o, "agents", s->agents ? s->agents : "*");
            er_json_append(arr, o);
        } else {
            printf("%-16s %-5s %s%s%s  (permission %s; agents %s)\n", s->name, transport,
                   s->url ? s->url : s->command, s->args ? " " : "", s->args ? s->args : "",
                   er_perm_name(s->perm), s->agents ? s->agents : "all");
        }
    }
    if (json)
        print_json(arr);
    else {
        cJSON_Delete(arr);
        if (!n)
            printf("no MCP servers configured: add a [mcp.NAME] section (errand.conf(5))\n");
    }
    return EXIT_DONE;
}

static int mcp_tools(const er_config *cfg, const char *name, bool json)
{
    const er_mcp_server_cfg *s = NULL;
    for (size_t i = 0; cfg->mcp && i < cfg->mcp->n; i++)
        if (strcmp(cfg->mcp->v[i].name, name) == 0)
            s = &cfg->mcp->v[i];
    er_error err = { 0 };
    if (!s) {
        er_error_set(&err, ER_ENOTFOUND, "no MCP server '%s' is configured (errand mcp list)",
                     name);
        return cli_fail(&err);
    }
    er_netguard *guard = NULL;
    er_mcp_conn *conn = NULL;
    cJSON *tools = NULL;
    int rc = er_netguard_new(&guard, cfg->web_allow_hosts, &err);
    if (rc == 0)
        rc = er_mcp_conn_open(&conn, s, guard, &err);
    if (rc == 0)
        rc = er_mcp_conn_tools(conn, &tools, &err);
    if (rc == 0) {
        cJSON *out = cJSON_CreateObject();
        er_json_add_str(out, "server", s->name);
        er_json_add_str(out, "revision", er_mcp_conn_version(conn));
        cJSON *list = cJSON_CreateArray();
        const cJSON *t;
        cJSON_ArrayForEach(t, tools)
        {
            char *agent_name = er_mcp_tool_name(s->name, er_json_str(t, "name"));
            const char *desc = er_json_str(t, "description");
            if (json) {
                cJSON *o = cJSON_CreateObject();
                er_json_add_str(o, "name", agent_name);
                er_json_add_str(o, "remote", er_json_str(t, "name"));
                er_json_add_str(o, "description", desc);
                er_json_add_str(o, "permission", er_perm_name(s->perm));
                er_json_append(list, o);
            } else {
                printf("%-40s %s\n", agent_name, desc ? desc : "");
            }
            free(agent_name);
        }
        er_json_add(out, "tools", list);
        if (json)
            print_json(out);
        else {
            printf("(%d tools, revision %s, permission %s)\n", cJSON_GetArraySize(tools),
                   er_mcp_conn_version(conn), er_perm_name(s->perm));
            cJSON_Delete(out);
        }
    }
    cJSON_Delete(tools);
    er_mcp_conn_close(conn);
    er_netguard_free(guard);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

int cmd_mcp(cli *c, cli_args *a)
{
    er_error err = { 0 };
    if (a->npos < 1)
        return cli_usage_error("mcp", "say list, tools NAME or serve");
    const char *sub = a->pos[0];
    bool json = cli_flag(a, "json");
    if (strcmp(sub, "list") == 0 && a->npos == 1) {
        if (cli_env(c, &err))
            return cli_fail(&err);
        return mcp_list(er_env_config(c->env), json);
    }
    if (strcmp(sub, "tools") == 0 && a->npos == 2) {
        if (cli_env(c, &err))
            return cli_fail(&err);
        return mcp_tools(er_env_config(c->env), a->pos[1], json);
    }
    if (strcmp(sub, "serve") == 0 && a->npos == 1)
        return cli_mcp_serve(c);
    return cli_usage_error("mcp", "'%s': say list, tools NAME or serve", sub);
}
