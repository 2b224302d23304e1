/* mcp_auth.h — logging errand in to an MCP server that requires OAuth
 * (`errand mcp login NAME`), as the MCP specification's authorization
 * section describes, and keeping that login's tokens usable.
 *
 * Discovery: the server's 401 names its protected resource metadata
 * (WWW-Authenticate: Bearer resource_metadata="…", RFC 9728), or it is looked
 * for at /.well-known/oauth-protected-resource (path-inserted, then at the
 * root).  Its first authorization server's metadata is read from the
 * RFC 8414 or OpenID Connect well-known URLs (path-aware first).  Both are
 * outside documents and are checked: the resource must be the server's URL
 * (or a parent of it on the same origin), the issuer the URL it was found
 * under, the endpoints https:// (http:// only on a loopback host), and PKCE
 * with S256 offered.  Every fetch of the flow is guarded against SSRF
 * (netguard.h, web.allow_hosts the escape); only the MCP server's own origin
 * skips the guard, when the server is an operator_endpoint.
 *
 * Client: mcp.NAME.client_id (and client_secret) when set, else one is
 * registered (RFC 7591) and the registration kept with the tokens.  The
 * authorization code flow with PKCE on a loopback redirect (oauth.h) carries
 * the resource parameter (RFC 8707) to the authorization and token requests,
 * and the scope the 401 asked for, else mcp.NAME.scope, else the resource's
 * scopes_supported.
 *
 * The login is stored sealed under the credential "mcp.NAME" (kind "mcp"):
 * tokens, token endpoint, issuer, client.  A connection sends its access
 * token, refreshed a minute before expiry and on a 401; a rotated refresh
 * token replaces the stored one atomically (oauth.h).  invalid_grant ends in
 * ER_EAUTH telling the user to run `errand mcp login NAME` again. */
#ifndef ERRAND_MCP_AUTH_H
#define ERRAND_MCP_AUTH_H

#include "common.h"
#include "error.h"
#include "mcp.h"
#include "netguard.h"
#include "oauth.h"
#include "store.h"

#define ER_MCP_AUTH_KIND "mcp"

/* The credential name of server's login, "mcp.SERVER".  OWNED. */
char *er_mcp_auth_name(const char *server);

/* The value of parameter name in a Bearer challenge (WWW-Authenticate),
 * quoted or not; OWNED, or NULL when it is not there. */
char *er_mcp_auth_param(const char *challenge, const char *name);
/* 0 when meta is a usable authorization server metadata document for issuer
 * (RFC 8414 §3.3: the same issuer; endpoints https or loopback http; PKCE
 * S256); ER_EPROTO naming what is wrong otherwise. */
int er_mcp_auth_check_server(const cJSON *meta, const char *issuer, er_error *err);
/* 0 when url may be an endpoint of the flow: https://, or http:// to a
 * loopback host (127.0.0.1, ::1, localhost). */
int er_mcp_auth_check_endpoint(const char *what, const char *url, er_error *err);

typedef struct er_mcp_login {
    er_oauth_flow oauth;
    const er_mcp_server_cfg *cfg; /* BORROWED */
    const er_netguard *guard;     /* BORROWED */
    cJSON *doc;                   /* OWNED: what will be stored */
    char *url;                    /* OWNED: the consent URL to open */
} er_mcp_login;

/* Asks the server without a token, follows its 401 to its authorization
 * server, registers a client when none is configured, listens on the
 * loopback and builds the consent URL.  progress (may be NULL) hears each
 * step.  Release with er_mcp_login_release, also after a failure. */
int er_mcp_login_begin(er_mcp_login *l, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                       void (*progress)(const char *step, void *payload), void *payload,
                       er_error *err);
/* As er_oauth_flow_wait. */
int er_mcp_login_wait(er_mcp_login *l, int timeout_ms, const volatile int *cancel, char **code_out,
                      er_error *err);
/* Exchanges the code and stores the login (replacing an older one). */
int er_mcp_login_finish(er_mcp_login *l, er_store *st, const char *code, er_error *err);
void er_mcp_login_release(er_mcp_login *l);

/* The login's access token for server cfg (OWNED: er_oauth_wipe_free),
 * refreshed when due or when force.  ER_ENOTFOUND when there is no login. */
int er_mcp_auth_token(char **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                      er_store *st, bool force, er_error *err);
/* Whether server has a stored login; *updated_ms (may be NULL) gets when it
 * was last written (a login or a refresh). */
bool er_mcp_auth_logged_in(er_store *st, const char *server, int64_t *updated_ms);
/* Deletes the stored login; ER_ENOTFOUND when there is none. */
int er_mcp_auth_logout(er_store *st, const char *server, er_error *err);

#endif
