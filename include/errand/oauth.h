/* oauth.h — the client side of OAuth 2.0 that every errand login shares
 * (Gmail's `errand auth gmail`, an MCP server's `errand mcp login`).
 *
 * The authorization code grant with PKCE (S256, RFC 7636) and a loopback
 * redirect (RFC 8252): errand listens on 127.0.0.1 at a port the system
 * picks, the browser comes back there with the code and the state, which must
 * match.  Tokens are kept as one JSON document sealed with secret.h in the
 * store (store_credential.h); the document names its row, so a sealed value
 * copied under another name is refused.  An access token is refreshed a
 * minute before it expires (one that lives under two minutes, at half its
 * life); a refresh that rotates the refresh token replaces
 * the stored document with one conditional write, and a process that loses
 * that race uses the winner's tokens.
 *
 * What a service adds — its endpoints, client, messages — stays with it
 * (gmail_auth.h, mcp_auth.h).  No token is ever logged.  Flows are not
 * thread-safe; the token calls are. */
#ifndef ERRAND_OAUTH_H
#define ERRAND_OAUTH_H

#include "common.h"
#include "buf.h"
#include "error.h"
#include "netguard.h"
#include "store.h"
#include "store_credential.h"

#include <cjson/cJSON.h>

/* Left on an access token when it is refreshed ahead of its expiry. */
#define ER_OAUTH_REFRESH_MARGIN_MS 60000
/* Cap on an authorization server's JSON answer. */
#define ER_OAUTH_MAX_JSON (64 * 1024)

typedef struct er_oauth_flow {
    int fd; /* the loopback listener */
    int port;
    char state[48]; /* random, checked against the redirect */
    char verifier[64];
    char challenge[48]; /* BASE64URL(SHA-256(verifier)) */
    char redirect_uri[64];
    char again[96]; /* the command that starts a new login, for the messages */
} er_oauth_flow;

/* Listens on 127.0.0.1:0, draws the state and the PKCE verifier.  again is
 * the command a user runs to start over ("errand auth gmail").  Release with
 * er_oauth_flow_release, also after a failure. */
int er_oauth_flow_begin(er_oauth_flow *f, const char *again, er_error *err);
/* Appends the authorization request's common parameters to url (which
 * already ends in '?' or '&'): client_id, redirect_uri, response_type=code,
 * state, code_challenge and its method. */
void er_oauth_flow_params(const er_oauth_flow *f, er_buf *url, const char *client_id);
/* Waits up to timeout_ms for the browser's redirect and answers it with a
 * short page.  A request whose state does not match gets 400 and the wait
 * goes on; other paths get 404.  *code_out (OWNED) on success; ER_EAUTH when
 * the user or the server refused (error=…), ER_ETIMEDOUT, ER_ECANCELLED when
 * *cancel (may be NULL) becomes nonzero. */
int er_oauth_flow_wait(er_oauth_flow *f, int timeout_ms, const volatile int *cancel,
                       char **code_out, er_error *err);
void er_oauth_flow_release(er_oauth_flow *f);

/* POSTs body (form or JSON, as ctype says) to an authorization server's
 * endpoint: *out its JSON answer (OWNED; NULL when it was not JSON), *status
 * the HTTP status.  configured: an operator's URL (no SSRF guard); otherwise
 * the request is guarded, guard the allow list (may be NULL).  Returns as
 * er_http_request does. */
int er_oauth_post(cJSON **out, long *status, const char *url, const char *ctype, const char *body,
                  size_t len, bool configured, const er_netguard *guard, er_error *err);

/* Fills access_token, issued_ms, expires_ms and, when sent, refresh_token and scope of
 * doc from a token endpoint's answer; ER_EPROTO without an access_token. */
int er_oauth_take_tokens(cJSON *doc, const cJSON *answer, er_error *err);
/* The sealed form of doc (appended to out). */
int er_oauth_seal(er_buf *out, const cJSON *doc, er_error *err);
/* The document sealed in c; ER_EAUTH when it names another row. */
int er_oauth_open(cJSON **out, const er_credential *c, er_error *err);
/* Zeroes the token strings of doc, then deletes it (NULL is fine). */
void er_oauth_doc_free(cJSON *doc);
/* Zeroes a string, then frees it (NULL is fine). */
void er_oauth_wipe_free(char *s);

/* Refreshes doc's tokens in place (er_oauth_take_tokens) with its service's
 * token endpoint.  ER_EAUTH for an invalid_grant, with the message to show. */
typedef int (*er_oauth_refresh_fn)(cJSON *doc, void *payload, er_error *err);

/* A usable access token of the credential name of kind (OWNED: free with
 * er_oauth_wipe_free): the stored one while it has more than the margin
 * left, unless force; else refreshed through fn and stored again.
 * ER_ENOTFOUND when there is no such credential, ER_EINVAL when it is of
 * another kind. */
int er_oauth_access_token(char **out, er_store *st, const char *name, const char *kind, bool force,
                          er_oauth_refresh_fn fn, void *payload, er_error *err);

#endif
