/* cmd_mcp.c — `errand mcp list|tools|resources|read|prompts|prompt`: the
 * configured MCP servers and what each offers (mcp.h); `add` and `remove`
 * write their [mcp.NAME] sections into the config file (config_edit.h);
 * `login` and `logout` hold an OAuth login to a server (mcp_auth.h). */
#include "cli.h"
#include "errand/alloc.h"
#include "errand/config_edit.h"
#include "errand/json.h"
#include "errand/mcp.h"
#include "errand/mcp_auth.h"
#include "errand/str.h"

#include <ctype.h>
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

/* What `list` says of a server's authorisation: "token" (configured),
 * "logged in", "not logged in", or "-" (stdio). */
static const char *auth_state(const er_mcp_server_cfg *s, er_store *st)
{
    if (!s->url)
        return "-";
    if (s->token || s->token_file || s->token_env)
        return "token";
    return st && er_mcp_auth_logged_in(st, s->name, NULL) ? "logged in" : "not logged in";
}

static int mcp_list(const er_config *cfg, er_store *st, bool json)
{
    size_t n = cfg->mcp ? cfg->mcp->n : 0;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        const er_mcp_server_cfg *s = &cfg->mcp->v[i];
        const char *transport = s->url ? "http" : "stdio";
        const char *auth = auth_state(s, st);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            er_json_add_str(o, "name", s->name);
            er_json_add_str(o, "transport", transport);
            er_json_add_str(o, s->url ? "url" : "command", s->url ? s->url : s->command);
            er_json_add_str(o, "permission", er_perm_name(s->perm));
            er_json_add_str(o, "agents", s->agents ? s->agents : "*");
            if (s->url)
                er_json_add_str(o, "auth", auth);
            er_json_append(arr, o);
        } else {
            printf("%-16s %-5s %s%s%s  (permission %s; agents %s%s%s)\n", s->name, transport,
                   s->url ? s->url : s->command, s->args ? " " : "", s->args ? s->args : "",
                   er_perm_name(s->perm), s->agents ? s->agents : "all", s->url ? "; " : "",
                   s->url ? auth : "");
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

static const er_mcp_server_cfg *server_cfg(const er_config *cfg, const char *name, er_error *err)
{
    for (size_t i = 0; cfg->mcp && i < cfg->mcp->n; i++)
        if (strcmp(cfg->mcp->v[i].name, name) == 0)
            return &cfg->mcp->v[i];
    er_error_set(err, ER_ENOTFOUND, "no MCP server '%s' is configured (errand mcp list)", name);
    return NULL;
}

/* One connection for one command. */
typedef struct session {
    const er_mcp_server_cfg *s;
    er_netguard *guard;
    er_mcp_conn *conn;
} session;

/* A server reached by URL without a configured token may hold a login:
 * only then is the store opened. */
static bool may_login(const er_mcp_server_cfg *s)
{
    return s->url && !s->token && !s->token_file && !s->token_env;
}

static int session_open(session *x, cli *c, const char *name, er_error *err)
{
    *x = (session){ 0 };
    const er_config *cfg = er_env_config(c->env);
    x->s = server_cfg(cfg, name, err);
    if (!x->s)
        return err->code;
    er_store *st = NULL;
    int rc = er_netguard_new(&x->guard, cfg->web_allow_hosts, err);
    if (rc == 0 && may_login(x->s))
        rc = er_env_store(c->env, &st, err);
    if (rc == 0)
        rc = er_mcp_conn_open(&x->conn, x->s, x->guard, st, err);
    return rc;
}

static void session_close(session *x)
{
    er_mcp_conn_close(x->conn);
    er_netguard_free(x->guard);
}

static int mcp_tools(cli *c, const char *name, bool json)
{
    er_error err = { 0 };
    session x;
    cJSON *tools = NULL;
    int rc = session_open(&x, c, name, &err);
    const er_mcp_server_cfg *s = x.s;
    er_mcp_conn *conn = x.conn;
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
    session_close(&x);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* errand mcp resources|prompts NAME: every item of the list, one a line. */
static int mcp_listing(cli *c, const char *name, bool prompts, bool json)
{
    er_error err = { 0 };
    session x;
    cJSON *items = NULL, *templates = NULL;
    const char *what = prompts ? "prompts" : "resources";
    int rc = session_open(&x, c, name, &err);
    if (rc == 0 && !er_mcp_conn_offers(x.conn, what))
        rc = er_error_set(&err, ER_ENOTFOUND, "MCP server '%s' offers no %s", name, what);
    if (rc == 0)
        rc = er_mcp_conn_list(x.conn, prompts ? "prompts/list" : "resources/list", what, &items,
                              &err);
    if (rc == 0 && !prompts) {
        /* Templates are optional: a server without them is no error. */
        er_error ignored = { 0 };
        if (er_mcp_conn_list(x.conn, "resources/templates/list", "resourceTemplates", &templates,
                             &ignored))
            templates = cJSON_CreateArray();
    }
    if (rc == 0 && json) {
        cJSON *out = cJSON_CreateObject();
        er_json_add_str(out, "server", name);
        er_json_add(out, what, items);
        items = NULL;
        if (templates) {
            er_json_add(out, "resourceTemplates", templates);
            templates = NULL;
        }
        print_json(out);
    } else if (rc == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            const char *d = er_json_str(it, "description");
            if (prompts) {
                printf("%-32s %s\n", er_json_str(it, "name") ? er_json_str(it, "name") : "?",
                       d ? d : "");
                const cJSON *a;
                cJSON_ArrayForEach(a, er_json_arr(it, "arguments"))
                {
                    const char *ad = er_json_str(a, "description");
                    printf("    %s%s%s%s\n", er_json_str(a, "name") ? er_json_str(a, "name") : "?",
                           er_json_bool(a, "required", false) ? " (required)" : "", ad ? "  " : "",
                           ad ? ad : "");
                }
            } else {
                const char *mt = er_json_str(it, "mimeType");
                printf("%-40s %s%s%s%s\n", er_json_str(it, "uri") ? er_json_str(it, "uri") : "?",
                       er_json_str(it, "name") ? er_json_str(it, "name") : "", mt ? " (" : "",
                       mt ? mt : "", mt ? ")" : "");
            }
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, templates)
        {
            printf("%-40s %s (template)\n",
                   er_json_str(t, "uriTemplate") ? er_json_str(t, "uriTemplate") : "?",
                   er_json_str(t, "name") ? er_json_str(t, "name") : "");
        }
        printf("(%d %s%s)\n", cJSON_GetArraySize(items), what,
               cJSON_GetArraySize(templates) ? ", and templates" : "");
    }
    cJSON_Delete(items);
    cJSON_Delete(templates);
    session_close(&x);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* errand mcp read NAME URI: the resource's text, as is. */
static int mcp_read(cli *c, const char *name, const char *uri, bool json)
{
    er_error err = { 0 };
    session x;
    char *text = NULL, *mime = NULL;
    int rc = session_open(&x, c, name, &err);
    if (rc == 0)
        rc = er_mcp_conn_read(x.conn, uri, &text, &mime, NULL, &err);
    if (rc == 0 && json) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "server", name);
        er_json_add_str(o, "uri", uri);
        er_json_add_str(o, "mimeType", mime);
        er_json_add_str(o, "text", text);
        print_json(o);
    } else if (rc == 0) {
        fputs(text, stdout);
        if (*text && text[strlen(text) - 1] != '\n')
            putchar('\n');
    }
    free(text);
    free(mime);
    session_close(&x);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* errand mcp prompt NAME PROMPT [ARG=VALUE…]: the prompt's messages. */
static int mcp_prompt(cli *c, const cli_args *a, bool json)
{
    er_error err = { 0 };
    const char *name = a->pos[1], *prompt = a->pos[2];
    cJSON *args = cJSON_CreateObject();
    for (size_t i = 3; i < a->npos; i++) {
        const char *eq = strchr(a->pos[i], '=');
        if (!eq || eq == a->pos[i]) {
            cJSON_Delete(args);
            return cli_usage_error("mcp", "'%s': prompt arguments are ARG=VALUE", a->pos[i]);
        }
        char *key = er_xstrndup(a->pos[i], (size_t)(eq - a->pos[i]));
        er_json_add_str(args, key, eq + 1);
        free(key);
    }
    session x;
    char *text = NULL;
    int rc = session_open(&x, c, name, &err);
    if (rc == 0)
        rc = er_mcp_conn_prompt(x.conn, prompt, args, &text, &err);
    if (rc == 0 && json) {
        cJSON *o = cJSON_CreateObject();
        er_json_add_str(o, "server", name);
        er_json_add_str(o, "prompt", prompt);
        er_json_add_str(o, "text", text);
        print_json(o);
    } else if (rc == 0)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(args);
    session_close(&x);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

/* ---- login, logout ---- */

#define LOGIN_TIMEOUT 300

static void login_progress(const char *step, void *payload)
{
    fprintf(stderr, "errand: %s: %s…\n", (const char *)payload, step);
}

/* errand mcp login NAME: the MCP authorization flow, the browser played by
 * the user (or by whatever follows the printed URL). */
static int mcp_login(cli *c, const cli_args *a)
{
    const char *name = a->pos[1], *timeout_s = cli_value(a, "timeout");
    long timeout = LOGIN_TIMEOUT;
    if (timeout_s && (er_str_to_long(timeout_s, &timeout) || timeout < 1 || timeout > 3600))
        return cli_usage_error("mcp", "--timeout is 1 to 3600 seconds, not '%s'", timeout_s);
    er_error err = { 0 };
    const er_config *cfg = er_env_config(c->env);
    const er_mcp_server_cfg *s = server_cfg(cfg, name, &err);
    if (!s)
        return cli_fail(&err);
    er_store *st = NULL;
    er_netguard *guard = NULL;
    int rc = er_env_store(c->env, &st, &err);
    if (!rc)
        rc = er_netguard_new(&guard, cfg->web_allow_hosts, &err);
    er_mcp_login l = { .oauth.fd = -1 };
    char *code = NULL;
    if (!rc)
        rc = er_mcp_login_begin(&l, s, guard, login_progress, (void *)name, &err);
    if (!rc) {
        fprintf(stderr,
                "errand: to log in to MCP server '%s', open this URL in a browser and allow "
                "access\n        (waiting up to %ld s for the answer on %s; Ctrl-C stops):\n",
                name, timeout, l.oauth.redirect_uri);
        printf("%s\n", l.url);
        fflush(stdout);
        if (!cli_flag(a, "no-browser"))
            cli_open_browser(l.url);
        cli_install_sigint();
        rc = er_mcp_login_wait(&l, (int)(timeout * 1000), &cli_interrupted, &code, &err);
    }
    if (!rc) {
        fprintf(stderr, "errand: exchanging the code for tokens…\n");
        rc = er_mcp_login_finish(&l, st, code, &err);
    }
    er_oauth_wipe_free(code);
    er_mcp_login_release(&l);
    er_netguard_free(guard);
    if (rc)
        return cli_fail(&err);
    printf("logged in to MCP server '%s'\n", name);
    return EXIT_DONE;
}

static int mcp_logout(cli *c, const char *name)
{
    er_error err = { 0 };
    er_store *st = NULL;
    int rc = er_env_store(c->env, &st, &err);
    if (!rc)
        rc = er_mcp_auth_logout(st, name, &err);
    if (rc)
        return cli_fail(&err);
    printf("logged out of MCP server '%s'\n", name);
    return EXIT_DONE;
}

/* ---- add, remove: the config file's [mcp.NAME] ---- */

static void put(er_strv *keys, er_strv *values, const char *k, const char *v)
{
    er_strv_push(keys, k);
    er_strv_push(values, v);
}

/* Every value given to the repeatable option name, joined by sep. */
static char *joined(const cli_args *a, const char *name, const char *sep)
{
    er_buf b = ER_BUF_INIT;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i]->name, name) == 0)
            er_buf_printf(&b, "%s%s", b.len ? sep : "", a->values[i]);
    char *s = b.len ? er_xstrdup(er_buf_cstr(&b)) : NULL;
    er_buf_release(&b);
    return s;
}

/* The section's keys and values from `add NAME URL|COMMAND [ARG...]` and its
 * options; each is then checked as a setting would be. */
static int add_section(const cli_args *a, er_strv *keys, er_strv *values, er_error *err)
{
    const char *target = a->pos[2];
    bool http = er_str_starts(target, "http://") || er_str_starts(target, "https://");
    if (http && a->npos > 3)
        return er_error_set(err, ER_EINVAL, "a URL takes no arguments after it");
    if (http) {
        put(keys, values, "url", target);
    } else {
        put(keys, values, "command", target);
        er_buf args = ER_BUF_INIT;
        for (size_t i = 3; i < a->npos; i++) {
            if (strchr(a->pos[i], '"')) {
                er_buf_release(&args);
                return er_error_set(err, ER_EINVAL,
                                    "argument '%s': a double quote cannot be written in args",
                                    a->pos[i]);
            }
            bool space = a->pos[i][strcspn(a->pos[i], " \t")] != '\0' || !*a->pos[i];
            er_buf_printf(&args, "%s%s%s%s", args.len ? " " : "", space ? "\"" : "", a->pos[i],
                          space ? "\"" : "");
        }
        if (args.len)
            put(keys, values, "args", er_buf_cstr(&args));
        er_buf_release(&args);
        char *env = joined(a, "env", " ");
        if (env)
            put(keys, values, "env", env);
        free(env);
    }
    static const char *const single[] = { "permission", "agents", "timeout", "token-env",
                                          "token-file" };
    for (size_t i = 0; i < ER_ARRAY_LEN(single); i++) {
        const char *v = cli_value(a, single[i]);
        if (!v)
            continue;
        char key[32];
        er_strlcpy(key, single[i], sizeof key);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        put(keys, values, key, v);
    }
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i]->name, "header") == 0)
            put(keys, values, "header", a->values[i]);
    if (!http && cli_value(a, "header"))
        return er_error_set(err, ER_EINVAL, "--header is for a server reached by URL");
    if (http && cli_value(a, "env"))
        return er_error_set(err, ER_EINVAL, "--env is for a server errand starts (a command)");
    /* Checked now, so the file never gets a section errand would refuse. */
    er_config probe;
    int rc = er_config_load(&probe, "/dev/null", err);
    for (size_t i = 0; rc == 0 && i < keys->n; i++) {
        char *name = er_xasprintf("mcp.%s.%s", a->pos[1], keys->v[i]);
        rc = er_config_set(&probe, name, values->v[i], err);
        free(name);
    }
    if (rc == 0 && probe.mcp && probe.mcp->n == 1)
        rc = er_mcp_config_check(&probe.mcp->v[0], err);
    er_config_release(&probe);
    return rc;
}

static int mcp_edit(cli *c, const cli_args *a)
{
    er_error err = { 0 };
    bool add = strcmp(a->pos[0], "add") == 0;
    const char *name = a->pos[1];
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return cli_usage_error("mcp", "server name '%s': use letters, digits, - and _", name);
    er_strv keys = ER_STRV_INIT, values = ER_STRV_INIT;
    char *path = NULL, *section = er_xasprintf("mcp.%s", name);
    int rc = cli_env(c, &err);
    if (rc == 0 && add)
        rc = add_section(a, &keys, &values, &err);
    if (rc == 0)
        rc = er_config_edit_path(&path, er_env_config(c->env), &err);
    if (rc == 0 && add && !cli_flag(a, "force") && er_config_file_has(path, section))
        rc = er_error_set(&err, ER_EEXISTS, "[%s] is already in %s (--force replaces it)", section,
                          path);
    if (rc == 0)
        rc = er_config_file_put(path, section, add ? &keys : NULL, add ? &values : NULL, &err);
    if (rc == 0)
        printf("%s [%s] %s %s\n", add ? "wrote" : "removed", section, add ? "to" : "from", path);
    er_strv_free(&keys);
    er_strv_free(&values);
    free(section);
    free(path);
    return rc ? cli_fail(&err) : EXIT_DONE;
}

#define MCP_SUBS                                                                         \
    "list, tools NAME, resources NAME, read NAME URI, prompts NAME, prompt NAME PROMPT " \
    "[ARG=VALUE…], add NAME URL|COMMAND [ARG…], remove NAME, login NAME, logout NAME or serve"

int cmd_mcp(cli *c, cli_args *a)
{
    er_error err = { 0 };
    if (a->npos < 1)
        return cli_usage_error("mcp", "say " MCP_SUBS);
    const char *sub = a->pos[0];
    bool json = cli_flag(a, "json");
    if (strcmp(sub, "serve") == 0 && a->npos == 1)
        return cli_mcp_serve(c);
    if ((strcmp(sub, "add") == 0 && a->npos >= 3) || (strcmp(sub, "remove") == 0 && a->npos == 2))
        return mcp_edit(c, a);
    bool known = (strcmp(sub, "list") == 0 && a->npos == 1) ||
                 ((strcmp(sub, "tools") == 0 || strcmp(sub, "resources") == 0 ||
                   strcmp(sub, "prompts") == 0) &&
                  a->npos == 2) ||
                 ((strcmp(sub, "login") == 0 || strcmp(sub, "logout") == 0) && a->npos == 2) ||
                 (strcmp(sub, "read") == 0 && a->npos == 3) ||
                 (strcmp(sub, "prompt") == 0 && a->npos >= 3);
    if (!known)
        return cli_usage_error("mcp", "'%s': say " MCP_SUBS, sub);
    if (cli_env(c, &err))
        return cli_fail(&err);
    const er_config *cfg = er_env_config(c->env);
    if (strcmp(sub, "list") == 0) {
        er_store *st = NULL;
        bool any = false;
        for (size_t i = 0; cfg->mcp && i < cfg->mcp->n; i++)
            any |= may_login(&cfg->mcp->v[i]);
        if (any && er_env_store(c->env, &st, &err))
            return cli_fail(&err);
        return mcp_list(cfg, st, json);
    }
    if (strcmp(sub, "login") == 0)
        return mcp_login(c, a);
    if (strcmp(sub, "logout") == 0)
        return mcp_logout(c, a->pos[1]);
    if (strcmp(sub, "tools") == 0)
        return mcp_tools(c, a->pos[1], json);
    if (strcmp(sub, "resources") == 0 || strcmp(sub, "prompts") == 0)
        return mcp_listing(c, a->pos[1], sub[0] == 'p', json);
    if (strcmp(sub, "read") == 0)
        return mcp_read(c, a->pos[1], a->pos[2], json);
    return mcp_prompt(c, a, json);
}
