/* routes_auth.c — /api/v1/auth: exchanging an API token for a token pair,
 * refreshing (rotation), logging out, who-am-I, and the OpenID Connect login
 * (redirect to the provider, then the callback that finishes it).
 *
 * Failures say why (expired, revoked, replayed) but never echo a token. */
#include "server.h"
#include "errand/log.h"
#include "errand/store_auth.h"

#include <stdio.h>
#include <stdlib.h>

static int reply_pair(srv_req *r, const er_user *u, const char *family, const char *api_token_id)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    if (srv_auth_issue(r->s, u, family, api_token_id, &j, &err))
        return srv_reply_err(r, &err);
    return srv_reply_json(r, 200, j);
}

int srv_route_auth_token(srv_req *r)
{
    const char *token = er_json_str(r->body, "api_token");
    er_store *st;
    er_user u;
    er_error err = { 0 };
    char digest[65], token_id[ER_ID_LEN];
    srv_sha256_hex(token, strlen(token), digest);
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_api_token_user(st, digest, &u, token_id, &err);
    if (rc == ER_ENOTFOUND)
        return srv_reply_error(r, 401, "api_token", "unknown or revoked API token");
    if (rc)
        return srv_reply_err(r, &err);
    rc = reply_pair(r, &u, NULL, token_id);
    er_user_release(&u);
    return rc;
}

/* Spends the body's refresh token: 0 with the user and family, or the status sent. */
static int spend_refresh(srv_req *r, er_user *u, char family[ER_ID_LEN])
{
    const char *token = er_json_str(r->body, "refresh_token");
    char digest[65], uid[ER_ID_LEN];
    srv_sha256_hex(token, strlen(token), digest);
    er_store *st;
    er_error err = { 0 };
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_refresh_use(st, digest, uid, family, &err);
    if (!rc)
        rc = er_store_user_get(st, uid, u, &err);
    if (rc == ER_EAUTH || rc == ER_ENOTFOUND)
        return srv_reply_error(r, 401, "refresh_token", "%s", err.msg);
    if (rc)
        return srv_reply_err(r, &err);
    return 0;
}

int srv_route_auth_refresh(srv_req *r)
{
    er_user u;
    char family[ER_ID_LEN];
    int status = spend_refresh(r, &u, family);
    if (status)
        return status;
    status = reply_pair(r, &u, family, NULL);
    er_user_release(&u);
    return status;
}

int srv_route_auth_logout(srv_req *r)
{
    er_user u;
    char family[ER_ID_LEN];
    int status = spend_refresh(r, &u, family);
    if (status)
        return status;
    er_user_release(&u);
    er_store *st;
    er_error err = { 0 };
    if (er_env_store(r->s->env, &st, &err) || er_store_refresh_revoke(st, family, &err))
        return srv_reply_err(r, &err);
    srv_sessions_forget(r->s, family); /* its access tokens end here at once */
    return srv_reply(r, 204, "application/json", NULL, NULL, 0);
}

int srv_route_auth_me(srv_req *r)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "id", r->user.id);
    er_json_add_str(j, "name", r->user.name);
    er_json_add_str(j, "role", r->user.admin ? "admin" : "user");
    return srv_reply_json(r, 200, j);
}

static int not_configured(srv_req *r)
{
    return srv_reply_error(r, 404, NULL,
                           "OpenID Connect login is not configured (set oauth.issuer, "
                           "OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET)");
}

int srv_route_oidc_login(srv_req *r)
{
    if (!r->s->oidc)
        return not_configured(r);
    char hint[257];
    if (!srv_query(r, "login_hint", hint, sizeof hint))
        hint[0] = '\0';
    er_buf url = ER_BUF_INIT;
    er_error err = { 0 };
    if (srv_oidc_begin(r->s->oidc, hint[0] ? hint : NULL, &url, &err)) {
        er_buf_release(&url);
        er_log(ER_LOG_WARN, "oidc", "login cannot start: %s", err.msg);
        if (err.code == ER_EUNAVAIL || err.code == ER_ETIMEDOUT || err.code == ER_EPROTO)
            return srv_reply_error(r, 502, NULL, "the identity provider cannot be reached: %s",
                                   err.msg);
        return srv_reply_err(r, &err);
    }
    er_buf loc = ER_BUF_INIT;
    er_buf_printf(&loc, "Location: %s\r\n", url.ptr);
    r->extra = loc.ptr;
    int status = srv_reply(r, 302, "text/plain", NULL, NULL, 0);
    r->extra = NULL;
    er_buf_release(&loc);
    er_buf_release(&url);
    return status;
}

static int login_failed(srv_req *r, const er_error *err)
{
    er_log(ER_LOG_WARN, "oidc", "login failed: %s", err->msg);
    switch (err->code) {
    case ER_EINVAL: return srv_reply_error(r, 400, NULL, "%s", err->msg);
    case ER_EAUTH: return srv_reply_error(r, 401, NULL, "login refused: %s", err->msg);
    case ER_EUNAVAIL:
    case ER_ETIMEDOUT:
    case ER_EPROTO:
        return srv_reply_error(r, 502, NULL, "the identity provider failed: %s", err->msg);
    default: return srv_reply_err(r, err);
    }
}

/* Sec-Fetch-Mode: navigate — the browser itself came back from the
 * provider (a script's request says cors or same-origin, curl says nothing). */
static bool browser_navigation(srv_req *r)
{
    const char *mode = srv_header(r, "Sec-Fetch-Mode");
    return mode && strcmp(mode, "navigate") == 0;
}

/* The web interface takes the login over: it finds the session's refresh
 * token in the URL fragment (which browsers never send to a server nor put
 * in a Referer), spends it at once for a pair of its own and drops it from
 * the address bar; spent, the token is refused if anyone tries it again
 * (refresh tokens rotate).  The access token issued with it is not shown. */
static int hand_to_page(srv_req *r, const er_user *u)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    if (srv_auth_issue(r->s, u, NULL, NULL, &j, &err))
        return srv_reply_err(r, &err);
    er_buf loc = ER_BUF_INIT;
    er_buf_printf(&loc, "Location: /#/oidc/%s\r\nReferrer-Policy: no-referrer\r\n",
                  er_json_str(j, "refresh_token"));
    r->extra = loc.ptr;
    int status = srv_reply(r, 302, "text/plain", NULL, NULL, 0);
    r->extra = NULL;
    er_buf_release(&loc);
    cJSON_Delete(j);
    return status;
}

int srv_route_oidc_callback(srv_req *r)
{
    if (!r->s->oidc)
        return not_configured(r);
    char code[2049], state[129], perr[257];
    if (srv_query(r, "error", perr, sizeof perr))
        return srv_reply_error(r, 401, "error", "the identity provider refused the login: %s",
                               perr);
    if (!srv_query(r, "code", code, sizeof code) || !code[0])
        return srv_reply_error(r, 400, "code", "query parameter 'code' is required");
    if (!srv_query(r, "state", state, sizeof state) || !state[0])
        return srv_reply_error(r, 400, "state", "query parameter 'state' is required");
    srv_identity id;
    er_error err = { 0 };
    if (srv_oidc_finish(r->s->oidc, code, state, &id, &err))
        return login_failed(r, &err);
    er_store *st;
    char uid[ER_ID_LEN];
    er_user u;
    int rc = er_env_store(r->s->env, &st, &err);
    if (!rc)
        rc = er_store_identity_user(st, id.issuer, id.subject, id.name,
                                    id.email[0] ? id.email : NULL, uid, &err);
    if (!rc)
        rc = er_store_user_get(st, uid, &u, &err);
    if (rc)
        return srv_reply_err(r, &err);
    er_log(ER_LOG_INFO, "oidc", "user %s logged in through %s", u.id, id.issuer);
    rc = browser_navigation(r) ? hand_to_page(r, &u) : reply_pair(r, &u, NULL, NULL);
    er_user_release(&u);
    return rc;
}
