/* gmail_auth.h — Gmail's OAuth 2.0: authorising errand (`errand auth gmail`)
 * and keeping its tokens usable.
 *
 * The flow is the authorization code grant with PKCE (S256) and a loopback
 * redirect (RFC 8252), shared with other logins in oauth.h: errand listens on
 * 127.0.0.1 at a port the system picks, sends the user's browser to Google's
 * consent page, takes the code the browser brings back (its state must
 * match), exchanges it with the verifier, asks the Gmail API whose mailbox it
 * is, and stores the tokens sealed (secret.h) in the store under a name
 * (store_credential.h).
 *
 * Access tokens are refreshed a minute before they expire (a short-lived one
 * at half its life), and when the API answers 401.  A refresh that brings a new refresh token replaces the stored
 * pair with one conditional write; a process that loses that race uses the
 * winner's tokens.  invalid_grant (revoked, expired, replaced) ends in
 * ER_EAUTH telling the user to run `errand auth gmail NAME` again.
 *
 * Settings: gmail.client_id, gmail.client_secret, gmail.auth_url,
 * gmail.token_url, gmail.revoke_url, gmail.api_url (config.h).  No token is
 * ever logged.  Not thread-safe per flow; the token calls are. */
#ifndef ERRAND_GMAIL_AUTH_H
#define ERRAND_GMAIL_AUTH_H

#include "common.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "oauth.h"
#include "store.h"

/* The credential kind stored for Gmail. */
#define ER_GMAIL_KIND "gmail"

typedef struct er_gmail_flow {
    er_oauth_flow oauth; /* the loopback listener, state and PKCE verifier */
    char *url;           /* OWNED: the consent URL to open */
} er_gmail_flow;

/* Scopes from short names ("readonly", "compose", "send", "modify", "labels",
 * comma- or space-separated) as Google's scope URLs, space-separated (OWNED).
 * ER_EINVAL names an unknown one. */
int er_gmail_scopes(char **out, const char *names, er_error *err);
/* Listens on 127.0.0.1:0 and builds the consent URL.  ER_EINVAL when
 * gmail.client_id is unset.  Release with er_gmail_flow_release. */
int er_gmail_flow_begin(er_gmail_flow *f, const er_config *cfg, const char *scopes, er_error *err);
/* Waits up to timeout_ms for the browser's redirect and answers it with a
 * short page.  A request whose state does not match gets 400 and the wait
 * goes on; other paths get 404.  *code_out (OWNED) on success; ER_EAUTH when
 * the user or Google refused (error=…), ER_ETIMEDOUT, ER_ECANCELLED when
 * *cancel (may be NULL) becomes nonzero. */
int er_gmail_flow_wait(er_gmail_flow *f, int timeout_ms, const volatile int *cancel,
                       char **code_out, er_error *err);
/* Exchanges the code, finds the mailbox's address (*account_out, OWNED, may
 * be NULL) and stores the tokens sealed under name (replacing an older
 * authorisation of that name). */
int er_gmail_flow_finish(er_gmail_flow *f, const er_config *cfg, er_store *st, const char *name,
                         const char *code, char **account_out, er_error *err);
void er_gmail_flow_release(er_gmail_flow *f);

/* A usable access token of the authorisation name (OWNED, wipe and free):
 * the stored one while it has more than a minute left, unless force; else
 * refreshed.  ER_ENOTFOUND when there is no such authorisation. */
int er_gmail_access_token(char **out, const er_config *cfg, er_store *st, const char *name,
                          bool force, er_error *err);
/* One Gmail API request with the authorisation's token: path is appended to
 * gmail.api_url ("/gmail/v1/users/me/profile").  On 401 the token is
 * refreshed and the request made once more.  Returns as er_http_request does;
 * out holds the answer (release it). */
/* Over-quota answers (429, 403 rateLimitExceeded/userRateLimitExceeded) are
 * retried, Retry-After honoured, with exponential backoff and jitter, at most
 * ER_GMAIL_QUOTA_TRIES times and never past ER_GMAIL_BUDGET_MS for one call. */
#define ER_GMAIL_QUOTA_TRIES 6
#define ER_GMAIL_BUDGET_MS   120000
int er_gmail_request(er_http_resp *out, const er_config *cfg, er_store *st, const char *name,
                     const char *method, const char *path, const char *ctype, const char *body,
                     size_t body_len, er_error *err);
/* Tells Google to revoke the refresh token (best effort: *remote_err gets
 * why it failed, if it did) and deletes the stored authorisation.
 * ER_ENOTFOUND when there is none. */
int er_gmail_revoke(const er_config *cfg, er_store *st, const char *name, er_error *remote_err,
                    er_error *err);

#endif
