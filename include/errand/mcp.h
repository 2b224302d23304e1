/* mcp.h — errand as a Model Context Protocol client: the tools of configured
 * MCP servers offered to agents.
 *
 * Servers are configured in sections [mcp.NAME] of the config file (or
 * -o mcp.NAME.KEY=VALUE):
 *   command, args, env    stdio: the program, its arguments (words, "…" quotes
 *                         one), NAME=VALUE pairs added to its environment
 *   url, header, token    Streamable HTTP: the endpoint, extra "Name: value"
 *                         headers (repeat the key), a bearer token (secret);
 *                         without one, the token of `errand mcp login NAME`
 *                         when there is a login (mcp_auth.h)
 *   token_file, token_env the bearer token read from a file (when a connection
 *                         opens) or an environment variable instead
 *   client_id, client_secret, scope
 *                         for `errand mcp login` (mcp_auth.h): a client
 *                         registered by hand (else one is registered
 *                         dynamically) and the scope to ask for
 *   operator_endpoint     true: the URL is the operator's and skips the SSRF
 *                         guard; false (default): guarded like any fetch, with
 *                         web.allow_hosts as the escape
 *   permission            the permission class of its tools (read, write, exec,
 *                         network, send; default send: policy.send decides)
 *   agents                which agents see its tools (comma list; default all)
 *   timeout               seconds one request may take (default 30)
 *
 * The client is dual-era.  It first asks server/discover with the current
 * revision (ER_MCP_VERSION) in the request's _meta, as the stateless revision
 * has every request do; a server that does not know it gets the older
 * initialize handshake (ER_MCP_LEGACY_VERSION) and, over HTTP, its session id.
 *
 * An MCP tool reaches an agent as "mcp__SERVER__TOOL".  What it returns is
 * outside text: fenced with er_untrusted_fence, and er_tool_untrusted is true
 * for it, so the runtime's taint rule holds — after an MCP result, a
 * side-effecting call needs a person's approval whatever the policy says.  A
 * call itself passes the policy like any tool of its permission class.
 *
 * Threads: one er_mcp per environment (er_env_mcp); its calls are serialised
 * per server by a mutex.  A stdio server that died is started again once; if
 * it dies again it is reported and not restarted. */
#ifndef ERRAND_MCP_H
#define ERRAND_MCP_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "config.h"
#include "tool.h"
#include "netguard.h"
#include <cjson/cJSON.h>

struct er_env;
struct er_store;

#define ER_MCP_VERSION        "2026-07-28"
#define ER_MCP_LEGACY_VERSION "2025-11-25"
#define ER_MCP_TOOL_PREFIX    "mcp__"

typedef struct er_mcp_server_cfg {
    char *name;
    char *command;
    char *args;
    char *env;
    char *url;
    char *headers; /* "Name: value" lines joined by '\n' */
    char *token;
    char *token_file;
    char *token_env;
    char *client_id, *client_secret, *scope; /* the OAuth login's (mcp_auth.h) */
    bool operator_endpoint;
    er_perm perm;
    char *agents; /* NULL: every agent */
    long timeout; /* seconds */
} er_mcp_server_cfg;

typedef struct er_mcp_servers {
    er_mcp_server_cfg *v;
    size_t n;
} er_mcp_servers;

/* Sets KEY of server NAME from "NAME.KEY" (the part after "mcp.");
 * ER_ENOTFOUND for an unknown key, ER_EINVAL for a bad value or name. */
int er_mcp_config_set(er_mcp_servers *s, const char *name_key, const char *value, er_error *err);
void er_mcp_config_release(er_mcp_servers *s);
/* ER_EINVAL naming what is missing or contradictory (neither command nor
 * url, or both). */
int er_mcp_config_check(const er_mcp_server_cfg *c, er_error *err);
/* The bearer token of c (OWNED, NULL when none is configured) from token,
 * token_env or token_file; ER_EAUTH naming the setting when it cannot be
 * had. */
int er_mcp_config_token(const er_mcp_server_cfg *c, char **out, er_error *err);
/* Whether agent may use the server's tools. */
bool er_mcp_config_for_agent(const er_mcp_server_cfg *c, const char *agent);

/* ---- one connection ---- */

typedef struct er_mcp_conn er_mcp_conn;

/* Starts or reaches the server and agrees on a protocol revision.  guard:
 * the SSRF allow list for a guarded URL (BORROWED, may be NULL).  st: the
 * store holding `errand mcp login`'s tokens (BORROWED, may be NULL: no
 * login); a server reached by URL with no token configured sends the
 * login's access token, refreshed when due and once on a 401. */
int er_mcp_conn_open(er_mcp_conn **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                     struct er_store *st, er_error *err);
void er_mcp_conn_close(er_mcp_conn *c);
/* The revision agreed on (BORROWED). */
const char *er_mcp_conn_version(const er_mcp_conn *c);
/* Sends method(params) and waits for its result.  TAKES params (may be NULL).
 * *out OWNED result object.  A JSON-RPC error is ER_EPROTO with its message;
 * a timeout ER_ETIMEDOUT; cancel (may be NULL) stops the wait, notifying the
 * server. */
int er_mcp_conn_request(er_mcp_conn *c, const char *method, cJSON *params, cJSON **out,
                        const volatile int *cancel, er_error *err);
/* Every tool of the server (following nextCursor): OWNED array of
 * {name, description, inputSchema}. */
int er_mcp_conn_tools(er_mcp_conn *c, cJSON **out, er_error *err);
/* Calls a tool: *text the text of its content (text parts joined, other parts
 * named), *is_error its isError. */
int er_mcp_conn_call(er_mcp_conn *c, const char *tool, const cJSON *args, char **text,
                     bool *is_error, const volatile int *cancel, er_error *err);
/* Every item of a paginated list method ("resources/list", "prompts/list",
 * "resources/templates/list", "tools/list"), following nextCursor: *out an
 * OWNED array of the objects under key ("resources", "prompts", …). */
int er_mcp_conn_list(er_mcp_conn *c, const char *method, const char *key, cJSON **out,
                     er_error *err);
/* Whether the server announced capability ("resources", "prompts", "tools"). */
bool er_mcp_conn_offers(const er_mcp_conn *c, const char *capability);
/* resources/read of uri: *text its contents as text (text parts joined, a
 * blob named with its size and type), *mime the first part's mimeType
 * (OWNED, may be NULL). */
int er_mcp_conn_read(er_mcp_conn *c, const char *uri, char **text, char **mime,
                     const volatile int *cancel, er_error *err);
/* prompts/get of name with args (an object of strings, may be NULL): *text
 * the messages, one "ROLE: text" block each. */
int er_mcp_conn_prompt(er_mcp_conn *c, const char *name, const cJSON *args, char **text,
                       er_error *err);
/* Whether the server said its tool list changed since er_mcp_conn_tools. */
bool er_mcp_conn_tools_changed(const er_mcp_conn *c);

/* ---- the servers of an environment, as tools ---- */

typedef struct er_mcp er_mcp;

/* env (BORROWED, may be NULL): where the store of logins is opened from,
 * when a server needs one. */
int er_mcp_new(er_mcp **out, const er_config *cfg, struct er_env *env, er_error *err);
void er_mcp_free(er_mcp *m);
/* The tools of the servers agent may use, connecting to them on first use:
 * *out an OWNED array (free()) of BORROWED tools, valid until er_mcp_free.
 * A server that cannot be reached is logged and left out; its error is also
 * in *warning (OWNED, or NULL). */
int er_mcp_agent_tools(er_mcp *m, const char *agent, const er_tool ***out, size_t *n,
                       char **warning);
/* The tool named name among those listed (BORROWED), or NULL. */
const er_tool *er_mcp_find_tool(er_mcp *m, const char *name);
/* "mcp__SERVER__TOOL" made of what the model's tool names allow
 * ([A-Za-z0-9_-], 64 bytes at most).  OWNED. */
char *er_mcp_tool_name(const char *server, const char *tool);
/* Whether a tool name is an MCP tool's. */
bool er_mcp_is_tool_name(const char *name);

#endif
