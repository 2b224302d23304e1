/* config.c — the [mcp.NAME] sections of the configuration (mcp.h). */
#include "errand/mcp.h"
#include "errand/alloc.h"
#include "errand/log.h"
#include "errand/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MCP_NAME_MAX 32

static er_mcp_server_cfg *server_named(er_mcp_servers *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i].name) == len && strncmp(s->v[i].name, name, len) == 0)
            return &s->v[i];
    s->v = er_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    er_mcp_server_cfg *c = &s->v[s->n++];
    memset(c, 0, sizeof *c);
    c->name = er_xstrndup(name, len);
    c->perm = ER_PERM_SEND;
    c->timeout = 30;
    return c;
}

static void set_str(char **field, const char *value)
{
    free(*field);
    *field = er_str_empty(value) ? NULL : er_xstrdup(value);
}

static int set_bool(bool *field, const char *key, const char *value, er_error *err)
{
    if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 || strcmp(value, "1") == 0)
        *field = true;
    else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
             strcmp(value, "0") == 0)
        *field = false;
    else
        return er_error_set(err, ER_EINVAL, "%s: '%s' is not true or false", key, value);
    return 0;
}

static int set_key(er_mcp_server_cfg *c, const char *key, const char *value, er_error *err)
{
    if (strcmp(key, "command") == 0)
        set_str(&c->command, value);
    else if (strcmp(key, "args") == 0)
        set_str(&c->args, value);
    else if (strcmp(key, "env") == 0)
        set_str(&c->env, value);
    else if (strcmp(key, "url") == 0)
        set_str(&c->url, value);
    else if (strcmp(key, "agents") == 0)
        set_str(&c->agents, value);
    else if (strcmp(key, "token") == 0) {
        set_str(&c->token, value);
        if (c->token)
            er_log_add_secret(c->token);
    } else if (strcmp(key, "token_file") == 0)
        set_str(&c->token_file, value);
    else if (strcmp(key, "token_env") == 0)
        set_str(&c->token_env, value);
    else if (strcmp(key, "client_id") == 0)
        set_str(&c->client_id, value);
    else if (strcmp(key, "client_secret") == 0) {
        set_str(&c->client_secret, value);
        if (c->client_secret)
            er_log_add_secret(c->client_secret);
    } else if (strcmp(key, "scope") == 0)
        set_str(&c->scope, value);
    else if (strcmp(key, "header") == 0) {
        if (!strchr(value, ':') || strpbrk(value, "\r\n"))
            return er_error_set(err, ER_EINVAL, "header: '%s' is not 'Name: value'", value);
        char *joined = c->headers ? er_xasprintf("%s\n%s", c->headers, value) : er_xstrdup(value);
        free(c->headers);
        c->headers = joined;
    } else if (strcmp(key, "operator_endpoint") == 0)
        return set_bool(&c->operator_endpoint, key, value, err);
    else if (strcmp(key, "permission") == 0) {
        if (er_perm_parse(value, &c->perm) || c->perm == ER_PERM_EXEC_NETWORK)
            return er_error_set(err, ER_EINVAL,
                                "permission: '%s' is not one of read, write, "
                                "exec, network, send",
                                value);
    } else if (strcmp(key, "timeout") == 0) {
        long v;
        if (er_str_to_long(value, &v) || v <= 0)
            return er_error_set(err, ER_EINVAL,
                                "timeout: '%s' is not a positive number of "
                                "seconds",
                                value);
        c->timeout = v;
    } else
        return ER_ENOTFOUND;
    return 0;
}

int er_mcp_config_set(er_mcp_servers *s, const char *name_key, const char *value, er_error *err)
{
    const char *dot = strrchr(name_key, '.');
    size_t nl = dot ? (size_t)(dot - name_key) : 0;
    if (!dot || nl == 0 || nl > MCP_NAME_MAX)
        return er_error_set(err, ER_EINVAL,
                            "mcp.%s: expected mcp.NAME.KEY (a server name of "
                            "1 to %d letters, digits, '-' or '_')",
                            name_key, MCP_NAME_MAX);
    for (size_t i = 0; i < nl; i++)
        if (!isalnum((unsigned char)name_key[i]) && name_key[i] != '-' && name_key[i] != '_')
            return er_error_set(err, ER_EINVAL,
                                "mcp.%.*s: a server name has only letters, "
                                "digits, '-' and '_'",
                                (int)nl, name_key);
    er_mcp_server_cfg *c = server_named(s, name_key, nl);
    int rc = set_key(c, dot + 1, value ? value : "", err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, ER_ENOTFOUND,
                            "unknown setting 'mcp.%s' (an MCP server has "
                            "command, args, env, url, header, token, token_file, token_env, "
                            "client_id, client_secret, scope, operator_endpoint, "
                            "permission, agents, timeout)",
                            name_key);
    if (rc)
        er_error_prefix(err, "mcp.%.*s", (int)nl, name_key);
    return rc;
}

void er_mcp_config_release(er_mcp_servers *s)
{
    for (size_t i = 0; i < s->n; i++) {
        er_mcp_server_cfg *c = &s->v[i];
        free(c->name);
        free(c->command);
        free(c->args);
        free(c->env);
        free(c->url);
        free(c->headers);
        free(c->token);
        free(c->token_file);
        free(c->token_env);
        free(c->client_id);
        free(c->client_secret);
        free(c->scope);
        free(c->agents);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int er_mcp_config_check(const er_mcp_server_cfg *c, er_error *err)
{
    if (!c->command && !c->url)
        return er_error_set(err, ER_EINVAL,
                            "MCP server '%s' has neither a command (stdio) nor "
                            "a url (Streamable HTTP): set mcp.%s.command or mcp.%s.url",
                            c->name, c->name, c->name);
    if (c->command && c->url)
        return er_error_set(err, ER_EINVAL,
                            "MCP server '%s' has both a command and a url: "
                            "keep one",
                            c->name);
    if (!!c->token + !!c->token_file + !!c->token_env > 1)
        return er_error_set(err, ER_EINVAL,
                            "MCP server '%s' has more than one of token, token_file and "
                            "token_env: keep one",
                            c->name);
    return 0;
}

#define TOKEN_MAX 16384

int er_mcp_config_token(const er_mcp_server_cfg *c, char **out, er_error *err)
{
    *out = NULL;
    if (c->token) {
        *out = er_xstrdup(c->token);
        return 0;
    }
    char *tok = NULL;
    if (c->token_env) {
        const char *v = getenv(c->token_env);
        if (er_str_empty(v))
            return er_error_set(err, ER_EAUTH,
                                "MCP server '%s': the environment variable %s "
                                "(mcp.%s.token_env) is not set",
                                c->name, c->token_env, c->name);
        tok = er_xstrdup(v);
    } else if (c->token_file) {
        /* Read when a connection opens, so a token rotated on disk is picked up. */
        FILE *f = fopen(c->token_file, "r");
        if (!f)
            return er_error_set(err, ER_EAUTH,
                                "MCP server '%s': cannot read %s (mcp.%s.token_file): %s", c->name,
                                c->token_file, c->name, strerror(errno));
        char buf[TOKEN_MAX + 1];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (n > TOKEN_MAX)
            return er_error_set(err, ER_EINVAL, "MCP server '%s': %s is over %d bytes: not a token",
                                c->name, c->token_file, TOKEN_MAX);
        buf[n] = '\0';
        tok = er_xstrdup(er_str_trim(buf));
        if (!*tok) {
            free(tok);
            return er_error_set(err, ER_EAUTH, "MCP server '%s': %s (mcp.%s.token_file) is empty",
                                c->name, c->token_file, c->name);
        }
    } else
        return 0;
    if (strpbrk(tok, "\r\n")) {
        free(tok);
        return er_error_set(err, ER_EINVAL, "MCP server '%s': the token has a line break", c->name);
    }
    er_log_add_secret(tok);
    *out = tok;
    return 0;
}

bool er_mcp_config_for_agent(const er_mcp_server_cfg *c, const char *agent)
{
    if (er_str_empty(c->agents) || er_str_eq(c->agents, "*"))
        return true;
    size_t al = strlen(agent);
    for (const char *p = c->agents; *p;) {
        p += strspn(p, ", ");
        size_t wl = strcspn(p, ", ");
        /* a subagent ("code/writer") goes by its agent's name */
        if (wl && strncmp(p, agent, wl) == 0 && (al == wl || agent[wl] == '/'))
            return true;
        p += wl;
    }
    return false;
}

bool er_mcp_is_tool_name(const char *name)
{
    return er_str_starts(name, ER_MCP_TOOL_PREFIX);
}

char *er_mcp_tool_name(const char *server, const char *tool)
{
    char *s = er_xasprintf(ER_MCP_TOOL_PREFIX "%s__%s", server, tool);
    for (char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            *p = '_';
    if (strlen(s) > 64)
        s[64] = '\0';
    return s;
}
