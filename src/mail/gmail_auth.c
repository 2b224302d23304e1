/* gmail_auth.c — Gmail's OAuth 2.0 flow and tokens (see gmail_auth.h). */
#include "errand/gmail_auth.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/oauth.h"
#include "errand/secret.h"
#include "errand/store_credential.h"
#include "errand/str.h"
#include "errand/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCOPE_BASE "https://www.googleapis.com/auth/gmail."

/* ---- scopes ---- */

static const char *const scope_names[] = {
    "readonly", "compose", "send", "modify", "labels", NULL
};

int er_gmail_scopes(char **out, const char *names, er_error *err)
{
    *out = NULL;
    er_buf b = ER_BUF_INIT;
    const char *p = names ? names : "";
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n) {
            bool known = false;
            for (size_t i = 0; scope_names[i] && !known; i++)
                known = strlen(scope_names[i]) == n && strncmp(scope_names[i], p, n) == 0;
            if (!known) {
                er_buf_release(&b);
                return er_error_set(err, ER_EINVAL,
                                    "unknown Gmail scope '%.*s' (use readonly, compose, send, "
                                    "modify, labels)",
                                    (int)n, p);
            }
            er_buf_printf(&b, "%s" SCOPE_BASE "%.*s", b.len ? " " : "", (int)n, p);
        }
        p += n + (p[n] ? 1 : 0);
    }
    if (!b.len) {
        er_buf_release(&b);
        return er_error_set(err, ER_EINVAL, "no Gmail scope asked for");
    }
    *out = er_buf_detach(&b);
    return 0;
}

/* ---- small helpers ---- */

/* POSTs a form to an endpoint from the settings; *out gets the JSON answer
 * (NULL when it was not JSON), *status the HTTP status. */
static int post_form(const char *url, const er_buf *form, cJSON **out, long *status, er_error *err)
{
    int rc = er_oauth_post(out, status, url, "application/x-www-form-urlencoded", form->ptr,
                           form->len, true, NULL, err);
    if (rc)
        er_error_prefix(err, "Google's token endpoint");
    return rc;
}

static void add_client(er_buf *form, const er_config *cfg)
{
    er_url_param(form, "client_id", cfg->gmail_client_id);
    if (!er_str_empty(cfg->gmail_client_secret))
        er_url_param(form, "client_secret", cfg->gmail_client_secret);
}

/* ---- the loopback flow ---- */

int er_gmail_flow_begin(er_gmail_flow *f, const er_config *cfg, const char *scopes, er_error *err)
{
    memset(f, 0, sizeof *f);
    f->oauth.fd = -1;
    if (er_str_empty(cfg->gmail_client_id))
        return er_error_set(err, ER_EINVAL,
                            "gmail.client_id is not set: create an OAuth client (Desktop app) "
                            "in Google Cloud and set gmail.client_id and gmail.client_secret");
    int rc = er_oauth_flow_begin(&f->oauth, "errand auth gmail", err);
    if (rc)
        return rc;
    er_buf url = ER_BUF_INIT;
    er_buf_puts(&url, cfg->gmail_auth_url);
    er_buf_putc(&url, strchr(cfg->gmail_auth_url, '?') ? '&' : '?');
    er_oauth_flow_params(&f->oauth, &url, cfg->gmail_client_id);
    er_url_param(&url, "scope", scopes);
    /* A refresh token comes only with offline access, and again on a
     * repeated consent only when the consent screen is shown. */
    er_url_param(&url, "access_type", "offline");
    er_url_param(&url, "prompt", "consent");
    f->url = er_buf_detach(&url);
    return 0;
}

void er_gmail_flow_release(er_gmail_flow *f)
{
    er_oauth_flow_release(&f->oauth);
    free(f->url);
    f->url = NULL;
}

int er_gmail_flow_wait(er_gmail_flow *f, int timeout_ms, const volatile int *cancel,
                       char **code_out, er_error *err)
{
    int rc = er_oauth_flow_wait(&f->oauth, timeout_ms, cancel, code_out, err);
    if (rc == ER_EAUTH)
        er_error_prefix(err, "Google");
    return rc;
}

/* ---- stored tokens ---- */

/* The sealed document (oauth.h): {name, access_token, refresh_token,
 * expires_ms, scope}. */

static int token_error(long status, const cJSON *j, const char *name, er_error *err)
{
    const char *e = er_json_str(j, "error");
    if (er_str_eq(e, "invalid_grant"))
        return er_error_set(err, ER_EAUTH,
                            "Gmail authorisation '%s' is no longer valid (invalid_grant: revoked, "
                            "expired or replaced): run `errand auth gmail%s%s` again",
                            name, er_str_eq(name, "gmail") ? "" : " ",
                            er_str_eq(name, "gmail") ? "" : name);
    if (er_str_eq(e, "invalid_client") || er_str_eq(e, "unauthorized_client"))
        return er_error_set(err, ER_EAUTH,
                            "Google refused the client (%s): check gmail.client_id and "
                            "gmail.client_secret",
                            e);
    if (status == 429 || status >= 500)
        return er_error_set(err, ER_EUNAVAIL, "Google's token endpoint answered %ld; try later",
                            status);
    return er_error_set(err, status == 400 || status == 401 ? ER_EAUTH : ER_EPROTO,
                        "Google's token endpoint answered %ld (%.80s)", status,
                        e ? e : "no reason given");
}

/* GET /gmail/v1/users/me/profile with a fresh token: whose mailbox it is. */
static int profile_address(char **out, const er_config *cfg, const char *access, er_error *err)
{
    *out = NULL;
    char *url = er_xasprintf("%s/gmail/v1/users/me/profile", cfg->gmail_api_url);
    char *auth = er_xasprintf("Authorization: Bearer %s", access);
    const char *headers[] = { auth, "Accept: application/json", NULL };
    er_http_req req = { .url = url,
                        .headers = headers,
                        .timeout_ms = 30000,
                        .max_body = 65536,
                        .retries = 2,
                        .configured_endpoint = true };
    er_http_resp resp;
    int rc = er_http_request(&resp, &req, err);
    cJSON *j = NULL;
    if (!rc && resp.status != 200)
        rc = er_error_set(err, resp.status == 401 || resp.status == 403 ? ER_EAUTH : ER_EPROTO,
                          "the Gmail API answered %ld to the new token", resp.status);
    if (!rc && (er_json_parse(&j, resp.body.ptr, resp.body.len, NULL) != 0 ||
                er_str_empty(er_json_str(j, "emailAddress"))))
        rc = er_error_set(err, ER_EPROTO, "the Gmail API's profile has no emailAddress");
    if (!rc)
        *out = er_xstrdup(er_json_str(j, "emailAddress"));
    cJSON_Delete(j);
    er_http_resp_release(&resp);
    er_oauth_wipe_free(auth);
    free(url);
    return rc;
}

int er_gmail_flow_finish(er_gmail_flow *f, const er_config *cfg, er_store *st, const char *name,
                         const char *code, char **account_out, er_error *err)
{
    if (account_out)
        *account_out = NULL;
    er_buf form = ER_BUF_INIT;
    er_url_param(&form, "grant_type", "authorization_code");
    er_url_param(&form, "code", code);
    er_url_param(&form, "redirect_uri", f->oauth.redirect_uri);
    er_url_param(&form, "code_verifier", f->oauth.verifier);
    add_client(&form, cfg);
    cJSON *answer = NULL;
    long status = 0;
    int rc = post_form(cfg->gmail_token_url, &form, &answer, &status, err);
    er_secret_buf_wipe(&form);
    if (!rc && status != 200)
        rc = token_error(status, answer, name, err);
    cJSON *doc = cJSON_CreateObject();
    er_json_add_str(doc, "name", name);
    if (!rc)
        rc = er_oauth_take_tokens(doc, answer, err);
    if (!rc && er_str_empty(er_json_str(doc, "refresh_token")))
        rc = er_error_set(err, ER_EPROTO,
                          "Google sent no refresh token (offline access was not granted)");
    char *account = NULL;
    if (!rc)
        rc = profile_address(&account, cfg, er_json_str(doc, "access_token"), err);
    er_buf sealed = ER_BUF_INIT;
    if (!rc)
        rc = er_oauth_seal(&sealed, doc, err);
    if (!rc)
        rc = er_store_credential_put(st, name, ER_GMAIL_KIND, account, sealed.ptr, sealed.len, NULL,
                                     err);
    if (!rc && account_out) {
        *account_out = account;
        account = NULL;
    }
    free(account);
    er_buf_release(&sealed);
    er_oauth_doc_free(doc);
    er_oauth_doc_free(answer);
    return rc;
}

/* ---- refreshing ---- */

static int refresh(cJSON *doc, const er_config *cfg, const char *name, er_error *err)
{
    if (er_str_empty(cfg->gmail_client_id))
        return er_error_set(err, ER_EINVAL,
                            "gmail.client_id is not set: it is needed to refresh "
                            "Gmail tokens");
    er_buf form = ER_BUF_INIT;
    er_url_param(&form, "grant_type", "refresh_token");
    er_url_param(&form, "refresh_token",
                 er_json_str(doc, "refresh_token") ? er_json_str(doc, "refresh_token") : "");
    add_client(&form, cfg);
    cJSON *answer = NULL;
    long status = 0;
    int rc = post_form(cfg->gmail_token_url, &form, &answer, &status, err);
    er_secret_buf_wipe(&form);
    if (!rc && status != 200)
        rc = token_error(status, answer, name, err);
    if (!rc)
        rc = er_oauth_take_tokens(doc, answer, err);
    er_oauth_doc_free(answer);
    return rc;
}

typedef struct refresh_ctx {
    const er_config *cfg;
    const char *name;
} refresh_ctx;

static void not_found_hint(const char *name, er_error *err)
{
    er_error_set(err, ER_ENOTFOUND,
                 "no Gmail authorisation named '%s': run `errand auth gmail%s%s`", name,
                 er_str_eq(name, "gmail") ? "" : " ", er_str_eq(name, "gmail") ? "" : name);
}

static int refresh_cb(cJSON *doc, void *payload, er_error *err)
{
    const refresh_ctx *r = payload;
    return refresh(doc, r->cfg, r->name, err);
}

int er_gmail_access_token(char **out, const er_config *cfg, er_store *st, const char *name,
                          bool force, er_error *err)
{
    refresh_ctx r = { cfg, name };
    int rc = er_oauth_access_token(out, st, name, ER_GMAIL_KIND, force, refresh_cb, &r, err);
    if (rc == ER_ENOTFOUND)
        not_found_hint(name, err);
    return rc;
}

/* ---- API requests ---- */

static int api_once(er_http_resp *out, const er_config *cfg, const char *token, const char *method,
                    const char *path, const char *ctype, const char *body, size_t body_len,
                    int64_t deadline_ms, er_error *err)
{
    char *url = er_xasprintf("%s%s", cfg->gmail_api_url, path);
    char *auth = er_xasprintf("Authorization: Bearer %s", token);
    char *ct = ctype ? er_xasprintf("Content-Type: %s", ctype) : NULL;
    const char *headers[] = { auth, "Accept: application/json", ct, NULL };
    er_http_req req = { .url = url,
                        .method = method,
                        .headers = headers,
                        .body = body,
                        .body_len = body_len,
                        .timeout_ms = 60000,
                        .max_body = 64 * 1024 * 1024,
                        .retries = 3,
                        .deadline_ms = deadline_ms,
                        .want_header = "Retry-After",
                        .configured_endpoint = true };
    int rc = er_http_request(out, &req, err);
    er_oauth_wipe_free(auth);
    free(ct);
    free(url);
    return rc;
}

/* Google's "slow down": 429, or 403 whose reason is a rate limit (a 403
 * for anything else, a missing scope say, is final). */
static bool over_quota(const er_http_resp *r)
{
    if (r->status == 429)
        return true;
    if (r->status != 403)
        return false;
    cJSON *e = NULL;
    er_error ignore = { 0 };
    bool limit = false;
    if (er_json_parse(&e, r->body.ptr, r->body.len, &ignore) == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, er_json_arr(er_json_obj(e, "error"), "errors"))
        {
            const char *reason = er_json_str(it, "reason");
            limit |= er_str_eq(reason, "rateLimitExceeded") ||
                     er_str_eq(reason, "userRateLimitExceeded");
        }
    }
    cJSON_Delete(e);
    return limit;
}

/* Retry-After in seconds (the HTTP-date form is not used by Google), or -1. */
static long retry_after_ms(const er_http_resp *r)
{
    char *end = NULL;
    long s = r->header ? strtol(r->header, &end, 10) : -1;
    return r->header && end != r->header && s >= 0 && s <= 3600 ? s * 1000 : -1;
}

/* One request through the quota: over-quota answers are retried with
 * bounded exponential backoff and jitter (Retry-After when given) until the
 * call's time budget would be passed. */
static int api_paced(er_http_resp *out, const er_config *cfg, const char *token, const char *method,
                     const char *path, const char *ctype, const char *body, size_t body_len,
                     er_error *err)
{
    int64_t deadline = er_mono_ms() + ER_GMAIL_BUDGET_MS;
    for (int n = 0;; n++) {
        int rc = api_once(out, cfg, token, method, path, ctype, body, body_len, deadline, err);
        if (rc || !over_quota(out) || n + 1 >= ER_GMAIL_QUOTA_TRIES)
            return rc;
        long wait = er_http_backoff_ms(n, retry_after_ms(out));
        if (er_mono_ms() + wait >= deadline)
            return rc; /* the caller sees the 429/403 */
        er_log(ER_LOG_INFO, "gmail", "Gmail API over quota (HTTP %ld); trying again in %ld ms",
               out->status, wait);
        er_http_resp_release(out);
        struct timespec ts = { wait / 1000, (wait % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
}

int er_gmail_request(er_http_resp *out, const er_config *cfg, er_store *st, const char *name,
                     const char *method, const char *path, const char *ctype, const char *body,
                     size_t body_len, er_error *err)
{
    char *token = NULL;
    int rc = er_gmail_access_token(&token, cfg, st, name, false, err);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = api_paced(out, cfg, token, method, path, ctype, body, body_len, err);
    if (!rc && out->status == 401) {
        /* Revoked early or expired before its time: one refresh, one retry. */
        er_log(ER_LOG_INFO, "gmail", "the Gmail API refused the access token; refreshing it");
        er_http_resp_release(out);
        er_oauth_wipe_free(token);
        token = NULL;
        rc = er_gmail_access_token(&token, cfg, st, name, true, err);
        if (rc)
            memset(out, 0, sizeof *out);
        else
            rc = api_paced(out, cfg, token, method, path, ctype, body, body_len, err);
    }
    er_oauth_wipe_free(token);
    return rc;
}

int er_gmail_revoke(const er_config *cfg, er_store *st, const char *name, er_error *remote_err,
                    er_error *err)
{
    er_error_clear(remote_err);
    er_credential c;
    int rc = er_store_credential_get(st, name, &c, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no authorisation named '%s' (see `errand auth list`)", name);
    if (rc)
        return rc;
    /* A key errand must not use stops here; a token sealed with an older key
     * is only deleted (remote_err says Google was not told). */
    er_secret_key key;
    rc = er_secret_key_load(&key, err);
    er_secret_key_wipe(&key);
    if (rc) {
        er_credential_release(&c);
        return rc;
    }
    cJSON *doc = NULL;
    if (er_str_eq(c.kind, ER_GMAIL_KIND) && er_oauth_open(&doc, &c, remote_err) == 0 &&
        !er_str_empty(cfg->gmail_revoke_url)) {
        er_buf form = ER_BUF_INIT;
        er_url_param(&form, "token",
                     er_json_str(doc, "refresh_token") ? er_json_str(doc, "refresh_token") : "");
        cJSON *answer = NULL;
        long status = 0;
        int r = post_form(cfg->gmail_revoke_url, &form, &answer, &status, remote_err);
        if (!r && status != 200)
            token_error(status, answer, name, remote_err);
        er_secret_buf_wipe(&form);
        cJSON_Delete(answer);
    }
    er_oauth_doc_free(doc);
    er_credential_release(&c);
    return er_store_credential_delete(st, name, err);
}
