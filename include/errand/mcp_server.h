/* mcp_server.h — errand as an MCP server: the JSON-RPC methods, whatever the
 * transport (`errand mcp serve` on stdio, POST /mcp on `errand serve`).
 *
 * The tools are `route` (the supervisor picks the agent) and ask_AGENT for
 * every agent; each takes {"request": TEXT}.  The host (the transport) runs a
 * request as a task and reads resources: a host without resources leaves
 * those callbacks NULL and the server does not announce them.  Both eras of
 * the protocol are answered (mcp.h): the initialize handshake and the
 * stateless server/discover. */
#ifndef ERRAND_MCP_SERVER_H
#define ERRAND_MCP_SERVER_H

#include "common.h"
#include "error.h"
#include <cjson/cJSON.h>

/* JSON-RPC error codes this server answers with. */
#define ER_MCP_PARSE_ERROR      (-32700)
#define ER_MCP_INVALID_REQUEST  (-32600)
#define ER_MCP_METHOD_NOT_FOUND (-32601)
#define ER_MCP_INVALID_PARAMS   (-32602)
#define ER_MCP_INTERNAL_ERROR   (-32603)
#define ER_MCP_NOT_FOUND        (-32002) /* resources/read of an unknown URI */

typedef struct er_mcp_host {
    void *ctx;
    /* Runs request with agent (NULL: the supervisor routes).  *text (OWNED)
     * is the final answer, or why the task failed with *failed set; an error
     * return is a request that could not be run at all. */
    int (*ask)(void *ctx, const char *agent, const char *request, char **text, bool *failed,
               er_error *err);
    /* Every resource the caller may read: *out an OWNED array of
     * {uri, name, description?, mimeType}.  NULL: no resources. */
    int (*resources)(void *ctx, cJSON **out, er_error *err);
    /* One resource: *text (OWNED) and *mime (static).  ER_ENOTFOUND for a URI
     * that is not the caller's or does not exist (the same answer, so one
     * cannot probe another's ids). */
    int (*read)(void *ctx, const char *uri, char **text, const char **mime, er_error *err);
} er_mcp_host;

/* Handles one parsed message.  Returns the answer (OWNED), or NULL when none
 * is due (a notification, or a response to us). */
cJSON *er_mcp_server_handle(const er_mcp_host *h, const cJSON *msg);
/* The same from text: what is not JSON gets a parse error. */
cJSON *er_mcp_server_handle_text(const er_mcp_host *h, const char *text, size_t len);
/* A JSON-RPC error answer (OWNED); id may be NULL. */
cJSON *er_mcp_server_error(const cJSON *id, int code, const char *message);

#endif
