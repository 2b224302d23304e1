/* tools.c — the configured MCP servers of an environment, offered to agents as
 * tools named mcp__SERVER__TOOL (mcp.h).
 *
 * Servers are reached lazily: the first run of an agent that may use one
 * connects and lists its tools.  Tools are allocated one by one and kept until
 * er_mcp_free, so a pointer handed out stays valid for the environment's life. */
#include "errand/mcp.h"
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/tool_families.h"
#include "errand/untrusted.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What an offered tool does on its server. */
typedef enum { MCP_CALL, MCP_LIST_RESOURCES, MCP_READ_RESOURCE } mcp_kind;

typedef struct mcp_tool {
    er_tool tool; /* first: the runtime hands back this pointer */
    size_t server;
    mcp_kind kind;
    char *remote; /* the tool's name on its server (MCP_CALL) */
    struct mcp_tool *next;
} mcp_tool;

typedef struct server {
    const er_mcp_server_cfg *cfg;
    er_mcp_conn *conn;
    bool tried;
    char *error;          /* why it could not be reached */
    pthread_mutex_t call; /* one request at a time on a connection */
} server;

struct er_mcp {
    pthread_mutex_t lock; /* servers' connect state and the tool list */
    er_env *env;          /* BORROWED: the store of logins comes from it */
    er_netguard *guard;
    server *servers;
    size_t n;
    mcp_tool *tools;
};

int er_mcp_new(er_mcp **out, const er_config *cfg, er_env *env, er_error *err)
{
    *out = NULL;
    er_mcp *m = er_xcalloc(1, sizeof *m);
    m->env = env;
    pthread_mutex_init(&m->lock, NULL);
    int rc = er_netguard_new(&m->guard, cfg->web_allow_hosts, err);
    size_t n = cfg->mcp ? cfg->mcp->n : 0;
    m->servers = er_xcalloc(n ? n : 1, sizeof *m->servers);
    for (size_t i = 0; i < n; i++) {
        m->servers[i].cfg = &cfg->mcp->v[i];
        pthread_mutex_init(&m->servers[i].call, NULL);
    }
    m->n = n;
    if (rc) {
        er_mcp_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void er_mcp_free(er_mcp *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        er_mcp_conn_close(m->servers[i].conn);
        free(m->servers[i].error);
        pthread_mutex_destroy(&m->servers[i].call);
    }
    for (mcp_tool *t = m->tools, *next; t; t = next) {
        next = t->next;
        free((char *)t->tool.name);
        free((char *)t->tool.description);
        free((char *)t->tool.parameters);
        free(t->remote);
        free(t);
    }
    free(m->servers);
    er_netguard_free(m->guard);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int mcp_run(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err);

static void add_tool(er_mcp *m, size_t si, const cJSON *spec)
{
    const server *s = &m->servers[si];
    const char *remote = er_json_str(spec, "name");
    mcp_tool *t = er_xcalloc(1, sizeof *t);
    t->server = si;
    t->remote = er_xstrdup(remote);
    const char *desc = er_json_str(spec, "description");
    /* The description is the server's text too: said to be so, and kept short. */
    t->tool.description = er_xasprintf("[MCP tool '%s' of server '%s'; what it returns is "
                                       "outside data] %.1000s",
                                       remote, s->cfg->name, desc ? desc : "");
    const cJSON *schema = er_json_obj(spec, "inputSchema");
    t->tool.parameters =
        schema ? er_json_print(schema) : er_xstrdup("{\"type\":\"object\",\"properties\":{}}");
    t->tool.name = er_mcp_tool_name(s->cfg->name, remote);
    t->tool.perm = s->cfg->perm;
    t->tool.run = mcp_run;
    t->next = m->tools;
    m->tools = t;
}

/* The resource tools of a server that offers resources: reading is all they
 * do, but what they read is the server's text, so they are MCP tools (untrusted
 * results) of the server's permission class like the rest. */
static void add_resource_tools(er_mcp *m, size_t si)
{
    const server *s = &m->servers[si];
    static const struct {
        mcp_kind kind;
        const char *suffix, *desc, *params;
    } defs[] = {
        { MCP_LIST_RESOURCES, "list_resources",
          "[MCP server '%s'; what it returns is outside data] The resources (documents, "
          "records) the server offers: their URIs, names and descriptions.",
          "{\"type\":\"object\",\"properties\":{}}" },
        { MCP_READ_RESOURCE, "read_resource",
          "[MCP server '%s'; what it returns is outside data] Reads one resource of the "
          "server by its URI (see list_resources).",
          "{\"type\":\"object\",\"properties\":{\"uri\":{\"type\":\"string\","
          "\"description\":\"The resource's URI\"}},\"required\":[\"uri\"]}" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(defs); i++) {
        char *name = er_mcp_tool_name(s->cfg->name, defs[i].suffix);
        if (er_mcp_find_tool(m, name)) { /* a server tool of that name wins */
            free(name);
            continue;
        }
        mcp_tool *t = er_xcalloc(1, sizeof *t);
        t->server = si;
        t->kind = defs[i].kind;
        t->remote = er_xstrdup(defs[i].suffix);
        t->tool.name = name;
        t->tool.description = er_xasprintf(defs[i].desc, s->cfg->name);
        t->tool.parameters = er_xstrdup(defs[i].params);
        t->tool.perm = s->cfg->perm;
        t->tool.run = mcp_run;
        t->tool.idempotent = true;
        t->next = m->tools;
        m->tools = t;
    }
}

/* Connects to server si and lists its tools; called under m->lock. */
static void reach(er_mcp *m, size_t si)
{
    server *s = &m->servers[si];
    if (s->tried && (!s->conn || !er_mcp_conn_tools_changed(s->conn)))
        return;
    er_error err = { 0 };
    int rc = 0;
    if (!s->conn) {
        s->tried = true;
        /* Only a server reached by URL without a configured token may hold
         * a login: the store is opened for it alone. */
        er_store *st = NULL;
        const er_mcp_server_cfg *c = s->cfg;
        if (c->url && !c->token && !c->token_file && !c->token_env && m->env)
            rc = er_env_store(m->env, &st, &err);
        if (rc == 0)
            rc = er_mcp_conn_open(&s->conn, s->cfg, m->guard, st, &err);
    }
    cJSON *tools = NULL;
    if (rc == 0) {
        pthread_mutex_lock(&s->call);
        rc = er_mcp_conn_tools(s->conn, &tools, &err);
        pthread_mutex_unlock(&s->call);
    }
    if (rc) {
        free(s->error);
        s->error = er_xstrdup(err.msg);
        er_log(ER_LOG_WARN, "mcp", "%s", err.msg);
        return;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        char *name = er_mcp_tool_name(s->cfg->name, er_json_str(t, "name"));
        if (!er_mcp_find_tool(m, name)) /* a relisting adds what is new */
            add_tool(m, si, t);
        free(name);
    }
    cJSON_Delete(tools);
    if (er_mcp_conn_offers(s->conn, "resources"))
        add_resource_tools(m, si);
}

int er_mcp_agent_tools(er_mcp *m, const char *agent, const er_tool ***out, size_t *n,
                       char **warning)
{
    *out = NULL;
    *n = 0;
    if (warning)
        *warning = NULL;
    er_buf warn = ER_BUF_INIT;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        if (!er_mcp_config_for_agent(m->servers[i].cfg, agent))
            continue;
        reach(m, i);
        if (m->servers[i].error)
            er_buf_printf(&warn, "%s%s", warn.len ? "; " : "", m->servers[i].error);
    }
    size_t count = 0;
    for (mcp_tool *t = m->tools; t; t = t->next)
        count += er_mcp_config_for_agent(m->servers[t->server].cfg, agent);
    const er_tool **v = er_xcalloc(count ? count : 1, sizeof *v);
    for (mcp_tool *t = m->tools; t; t = t->next)
        if (er_mcp_config_for_agent(m->servers[t->server].cfg, agent))
            v[(*n)++] = &t->tool;
    pthread_mutex_unlock(&m->lock);
    *out = v;
    if (warning && warn.len)
        *warning = er_buf_detach(&warn);
    er_buf_release(&warn);
    return 0;
}

const er_tool *er_mcp_find_tool(er_mcp *m, const char *name)
{
    for (mcp_tool *t = m->tools; t; t = t->next)
        if (strcmp(t->tool.name, name) == 0)
            return &t->tool;
    return NULL;
}

/* One line a resource: "URI  name — description (type)". */
static int list_resources(er_mcp_conn *conn, char **text, er_error *err)
{
    cJSON *list = NULL;
    int rc = er_mcp_conn_list(conn, "resources/list", "resources", &list, err);
    if (rc)
        return rc;
    er_buf b = ER_BUF_INIT;
    const cJSON *r;
    cJSON_ArrayForEach(r, list)
    {
        const char *d = er_json_str(r, "description"), *mt = er_json_str(r, "mimeType");
        er_buf_printf(&b, "%s  %s%s%.300s%s%s%s\n",
                      er_json_str(r, "uri") ? er_json_str(r, "uri") : "?",
                      er_json_str(r, "name") ? er_json_str(r, "name") : "", d ? " — " : "",
                      d ? d : "", mt ? " (" : "", mt ? mt : "", mt ? ")" : "");
    }
    if (!b.len)
        er_buf_puts(&b, "(no resources)");
    cJSON_Delete(list);
    *text = er_buf_detach(&b);
    return 0;
}

/* What the model reads: the result, fenced as outside data.  A failure the
 * server reports is outside text too, so it is fenced after "error:". */
static int mcp_run(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_mcp *m = NULL;
    int rc = er_env_mcp(ctx->env, &m, err);
    if (rc)
        return rc;
    const mcp_tool *t = (const mcp_tool *)ctx->tool;
    server *s = &m->servers[t->server];
    pthread_mutex_lock(&m->lock);
    er_mcp_conn *conn = s->conn;
    pthread_mutex_unlock(&m->lock);
    if (!conn)
        return er_error_set(err, ER_EUNAVAIL, "MCP server '%s' is not connected", s->cfg->name);
    char *text = NULL;
    bool failed = false;
    const char *uri = er_json_str(args, "uri");
    if (t->kind == MCP_READ_RESOURCE && er_str_empty(uri))
        return er_error_set(err, ER_EINVAL, "read_resource: say the resource's uri");
    pthread_mutex_lock(&s->call);
    if (t->kind == MCP_CALL)
        rc = er_mcp_conn_call(conn, t->remote, args, &text, &failed, ctx->cancel, err);
    else if (t->kind == MCP_READ_RESOURCE)
        rc = er_mcp_conn_read(conn, uri, &text, NULL, ctx->cancel, err);
    else
        rc = list_resources(conn, &text, err);
    pthread_mutex_unlock(&s->call);
    if (rc)
        return rc;
    er_buf clipped = ER_BUF_INIT;
    er_tools_clip(&clipped, text, strlen(text), ER_TOOLS_BUDGET / 2);
    free(text);
    char *source =
        er_xasprintf("%s/%s", s->cfg->name, t->kind == MCP_READ_RESOURCE ? uri : t->remote);
    if (failed)
        er_buf_puts(out, "error: the MCP tool reported a failure:\n");
    er_untrusted_fence(out, "mcp-result", source, clipped.ptr ? clipped.ptr : "", clipped.len);
    free(source);
    er_buf_release(&clipped);
    return 0;
}
