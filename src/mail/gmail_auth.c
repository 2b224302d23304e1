/* gmail_auth.c — Gmail's OAuth 2.0 flow and tokens (see gmail_auth.h). */
#include "errand/gmail_auth.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/secret.h"
#include "errand/store_credential.h"
#include "errand/str.h"
#include "errand/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCOPE_BASE        "https://www.googleapis.com/auth/gmail."
#define REFRESH_MARGIN_MS 60000
#define MAX_REQUEST       8192
#define MAX_TOKEN_JSON    (64 * 1024)

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

static int random_text(char *out, size_t outsize, size_t nbytes, er_error *err)
{
    unsigned char raw[48];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    int rc = er_secret_random(raw, nbytes, err);
    if (rc)
        return rc;
    er_buf b = ER_BUF_INIT;
    er_base64_encode(&b, raw, nbytes, true);
    er_strlcpy(out, b.ptr, outsize);
    er_buf_release(&b);
    return 0;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

/* POSTs a form to an endpoint from the settings; *out gets the JSON answer
 * (NULL when it was not JSON), *status the HTTP status. */
static int post_form(const char *url, const er_buf *form, cJSON **out, long *status, er_error *err)
{
    *out = NULL;
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL };
    er_http_req req = { .url = url,
                        .method = "POST",
                        .headers = headers,
                        .body = form->ptr ? form->ptr : "",
                        .body_len = form->len,
                        .timeout_ms = 30000,
                        .max_body = MAX_TOKEN_JSON,
                        .retries = 2,
                        .configured_endpoint = true };
    er_http_resp resp;
    int rc = er_http_request(&resp, &req, err);
    if (!rc) {
        *status = resp.status;
        if (resp.body.len)
            er_json_parse(out, resp.body.ptr, resp.body.len, NULL);
    }
    if (resp.body.ptr)
        memset(resp.body.ptr, 0, resp.body.len);
    er_http_resp_release(&resp);
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

static int listen_loopback(er_gmail_flow *f, er_error *err)
{
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return er_error_set(err, ER_EIO, "socket: %s", strerror(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(f->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->fd, 8) != 0 ||
        getsockname(f->fd, (struct sockaddr *)&a, &len) != 0)
        return er_error_set(err, ER_EIO, "cannot listen on 127.0.0.1 for the redirect: %s",
                            strerror(errno));
    f->port = ntohs(a.sin_port);
    snprintf(f->redirect_uri, sizeof f->redirect_uri, "http://127.0.0.1:%d", f->port);
    return 0;
}

int er_gmail_flow_begin(er_gmail_flow *f, const er_config *cfg, const char *scopes, er_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (er_str_empty(cfg->gmail_client_id))
        return er_error_set(err, ER_EINVAL,
                            "gmail.client_id is not set: create an OAuth client (Desktop app) "
                            "in Google Cloud and set gmail.client_id and gmail.client_secret");
    int rc = listen_loopback(f, err);
    if (!rc)
        rc = random_text(f->state, sizeof f->state, 24, err);
    if (!rc)
        rc = random_text(f->verifier, sizeof f->verifier, 32, err);
    unsigned char md[32];
    if (!rc)
        rc = er_sha256(f->verifier, strlen(f->verifier), md, err);
    if (rc)
        return rc;
    er_buf challenge = ER_BUF_INIT, url = ER_BUF_INIT;
    er_base64_encode(&challenge, md, sizeof md, true);
    er_buf_puts(&url, cfg->gmail_auth_url);
    er_buf_putc(&url, strchr(cfg->gmail_auth_url, '?') ? '&' : '?');
    er_url_param(&url, "client_id", cfg->gmail_client_id);
    er_url_param(&url, "redirect_uri", f->redirect_uri);
    er_url_param(&url, "response_type", "code");
    er_url_param(&url, "scope", scopes);
    er_url_param(&url, "state", f->state);
    er_url_param(&url, "code_challenge", challenge.ptr);
    er_url_param(&url, "code_challenge_method", "S256");
    /* A refresh token comes only with offline access, and again on a
     * repeated consent only when the consent screen is shown. */
    er_url_param(&url, "access_type", "offline");
    er_url_param(&url, "prompt", "consent");
    f->url = er_buf_detach(&url);
    er_buf_release(&challenge);
    return 0;
}

void er_gmail_flow_release(er_gmail_flow *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->url);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

static void answer(int fd, int status, const char *text)
{
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : "Not Found";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
                     status, reason, strlen(text));
    if (write(fd, head, (size_t)n) < 0 || write(fd, text, strlen(text)) < 0)
        er_log(ER_LOG_DEBUG, "gmail", "the browser went away before the answer");
}

/* Reads one request's head (up to the blank line) within 5 s. */
static bool read_head(int fd, char *buf, size_t size)
{
    size_t len = 0;
    int64_t end = er_mono_ms() + 5000;
    while (len + 1 < size) {
        struct pollfd p = { fd, POLLIN, 0 };
        int left = (int)(end - er_mono_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return false;
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return true;
    }
    return false;
}

typedef enum { REDIRECT_IGNORED, REDIRECT_CODE, REDIRECT_REFUSED } redirect_kind;

/* Looks at one request to the listener; answers it. */
static redirect_kind take_request(er_gmail_flow *f, int fd, char **code_out, er_error *err)
{
    char buf[MAX_REQUEST];
    if (!read_head(fd, buf, sizeof buf))
        return REDIRECT_IGNORED;
    char target[MAX_REQUEST];
    if (sscanf(buf, "GET %8000s HTTP/1.", target) != 1 || target[0] != '/') {
        answer(fd, 400, "errand: not a redirect\n");
        return REDIRECT_IGNORED;
    }
    char *full = er_xasprintf("http://127.0.0.1%s", target);
    er_url u;
    redirect_kind kind = REDIRECT_IGNORED;
    if (er_url_parse(&u, full, NULL) == 0) {
        char *state = er_url_query_get(&u, "state"), *code = er_url_query_get(&u, "code");
        char *error = er_url_query_get(&u, "error");
        if (!er_str_eq(u.path, "/") && !er_str_eq(u.path, "")) {
            answer(fd, 404, "errand: nothing here\n");
        } else if (!state || strcmp(state, f->state) != 0) {
            /* Not this login's redirect (a stale tab, a forged request). */
            answer(fd, 400,
                   "<p>errand: this sign-in link is not the one errand is waiting "
                   "for. Start again with <code>errand auth gmail</code>.</p>\n");
        } else if (error) {
            answer(fd, 200, "<p>errand was not given access. You may close this window.</p>\n");
            er_error_set(err, ER_EAUTH, "Google did not grant access: %.100s", error);
            kind = REDIRECT_REFUSED;
        } else if (er_str_empty(code)) {
            answer(fd, 400, "<p>errand: the redirect carried no code.</p>\n");
        } else {
            answer(fd, 200, "<p>errand is now authorised. You may close this window.</p>\n");
            *code_out = code;
            code = NULL;
            kind = REDIRECT_CODE;
        }
        free(state);
        wipe_free(code);
        free(error);
        er_url_release(&u);
    }
    memset(buf, 0, sizeof buf);
    memset(target, 0, sizeof target);
    wipe_free(full);
    return kind;
}

int er_gmail_flow_wait(er_gmail_flow *f, int timeout_ms, const volatile int *cancel,
                       char **code_out, er_error *err)
{
    *code_out = NULL;
    int64_t end = er_mono_ms() + timeout_ms;
    for (;;) {
        if (cancel && *cancel)
            return er_error_set(err, ER_ECANCELLED, "authorisation cancelled");
        int left = (int)(end - er_mono_ms());
        if (left <= 0)
            return er_error_set(err, ER_ETIMEDOUT,
                                "no answer from the browser within %d s; run `errand auth "
                                "gmail` again",
                                timeout_ms / 1000);
        struct pollfd p = { f->fd, POLLIN, 0 };
        if (poll(&p, 1, left < 200 ? left : 200) <= 0)
            continue;
        int c = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        redirect_kind k = take_request(f, c, code_out, err);
        close(c);
        if (k == REDIRECT_CODE)
            return 0;
        if (k == REDIRECT_REFUSED)
            return ER_EAUTH;
    }
}

/* ---- stored tokens ---- */

/* The sealed document: {name, access_token, refresh_token, expires_ms, scope}. */
static int seal_tokens(er_buf *out, const cJSON *doc, er_error *err)
{
    er_secret_key key;
    int rc = er_secret_key_load(&key, err);
    if (rc)
        return rc;
    char *text = er_json_print(doc);
    rc = er_secret_seal(out, &key, text, strlen(text), err);
    wipe_free(text);
    er_secret_key_wipe(&key);
    return rc;
}

static int open_tokens(cJSON **out, const er_credential *c, er_error *err)
{
    er_secret_key key;
    int rc = er_secret_key_load(&key, err);
    if (rc)
        return rc;
    er_buf plain;
    er_buf_init(&plain, MAX_TOKEN_JSON);
    rc = er_secret_open(&plain, &key, c->sealed, c->sealed_len, err);
    er_secret_key_wipe(&key);
    if (!rc && er_json_parse(out, plain.ptr ? plain.ptr : "", plain.len, NULL) != 0)
        rc = er_error_set(err, ER_EPROTO, "stored authorisation '%s' is damaged", c->name);
    /* Bound to its row: a sealed value copied under another name is refused. */
    if (!rc && !er_str_eq(er_json_str(*out, "name"), c->name)) {
        cJSON_Delete(*out);
        *out = NULL;
        rc = er_error_set(err, ER_EAUTH, "stored authorisation '%s' belongs to another name",
                          c->name);
    }
    er_secret_buf_wipe(&plain);
    if (rc)
        er_error_prefix(err, "authorisation '%s'", c->name);
    return rc;
}

static void json_wipe_delete(cJSON *doc)
{
    const char *keys[] = { "access_token", "refresh_token", "id_token" };
    for (size_t i = 0; doc && i < ER_ARRAY_LEN(keys); i++) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (cJSON_IsString(t) && t->valuestring)
            memset(t->valuestring, 0, strlen(t->valuestring));
    }
    cJSON_Delete(doc);
}

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

/* Fills access_token, expires_ms and (when sent) refresh_token and scope of doc
 * from a token endpoint's answer. */
static int take_tokens(cJSON *doc, const cJSON *answer, er_error *err)
{
    const char *access = er_json_str(answer, "access_token");
    if (er_str_empty(access))
        return er_error_set(err, ER_EPROTO, "Google's token endpoint sent no access_token");
    int64_t ttl = er_json_int(answer, "expires_in", 3600, 0, 365LL * 86400);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "access_token");
    er_json_add_str(doc, "access_token", access);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "expires_ms");
    cJSON_AddNumberToObject(doc, "expires_ms", (double)(er_time_ms() + ttl * 1000));
    const char *refresh = er_json_str(answer, "refresh_token"),
               *scope = er_json_str(answer, "scope");
    if (!er_str_empty(refresh)) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "refresh_token");
        er_json_add_str(doc, "refresh_token", refresh);
    }
    if (!er_str_empty(scope)) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "scope");
        er_json_add_str(doc, "scope", scope);
    }
    return 0;
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
    wipe_free(auth);
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
    er_url_param(&form, "redirect_uri", f->redirect_uri);
    er_url_param(&form, "code_verifier", f->verifier);
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
        rc = take_tokens(doc, answer, err);
    if (!rc && er_str_empty(er_json_str(doc, "refresh_token")))
        rc = er_error_set(err, ER_EPROTO,
                          "Google sent no refresh token (offline access was not granted)");
    char *account = NULL;
    if (!rc)
        rc = profile_address(&account, cfg, er_json_str(doc, "access_token"), err);
    er_buf sealed = ER_BUF_INIT;
    if (!rc)
        rc = seal_tokens(&sealed, doc, err);
    if (!rc)
        rc = er_store_credential_put(st, name, ER_GMAIL_KIND, account, sealed.ptr, sealed.len, NULL,
                                     err);
    if (!rc && account_out) {
        *account_out = account;
        account = NULL;
    }
    free(account);
    er_buf_release(&sealed);
    json_wipe_delete(doc);
    json_wipe_delete(answer);
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
        rc = take_tokens(doc, answer, err);
    json_wipe_delete(answer);
    return rc;
}

static char *not_found_hint(const char *name, er_error *err)
{
    er_error_set(err, ER_ENOTFOUND,
                 "no Gmail authorisation named '%s': run `errand auth gmail%s%s`", name,
                 er_str_eq(name, "gmail") ? "" : " ", er_str_eq(name, "gmail") ? "" : name);
    return NULL;
}

/* Whether the row was rewritten since generation gen was read. */
static bool moved_now(er_store *st, const char *name, int64_t gen)
{
    er_credential now;
    if (er_store_credential_get(st, name, &now, NULL) != 0)
        return false;
    bool moved = now.generation != gen;
    er_credential_release(&now);
    return moved;
}

/* After an invalid_grant: whether another process rotated the token.  Its
 * refresh at Google may have won while its write to the store is still on
 * the way, so the row is looked at for up to RACE_WAIT_MS. */
#define RACE_WAIT_MS 3000
static bool moved_on(er_store *st, const char *name, int64_t gen)
{
    for (int waited = 0;; waited += 100) {
        if (moved_now(st, name, gen))
            return true;
        if (waited >= RACE_WAIT_MS)
            return false;
        nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
    }
}

int er_gmail_access_token(char **out, const er_config *cfg, er_store *st, const char *name,
                          bool force, er_error *err)
{
    *out = NULL;
    /* A lost race re-reads the row: the winner's token is at most seconds old. */
    for (int attempt = 0; attempt < 4; attempt++) {
        er_credential c;
        int rc = er_store_credential_get(st, name, &c, err);
        if (rc == ER_ENOTFOUND)
            return not_found_hint(name, err), ER_ENOTFOUND;
        if (rc)
            return rc;
        cJSON *doc = NULL;
        rc = open_tokens(&doc, &c, err);
        if (!rc && !er_str_eq(c.kind, ER_GMAIL_KIND))
            rc = er_error_set(err, ER_EINVAL, "authorisation '%s' is for %s, not Gmail", name,
                              c.kind);
        int64_t expires = rc ? 0 : er_json_int(doc, "expires_ms", 0, 0, INT64_MAX);
        bool fresh = !force && expires - REFRESH_MARGIN_MS > er_time_ms();
        er_buf sealed = ER_BUF_INIT;
        if (!rc && !fresh) {
            rc = refresh(doc, cfg, name, err);
            if (rc == ER_EAUTH && moved_on(st, name, c.generation))
                rc = ER_ECONFLICT; /* another process rotated it first: use theirs */
            if (!rc)
                rc = seal_tokens(&sealed, doc, err);
            if (!rc)
                rc = er_store_credential_replace(st, name, c.generation, sealed.ptr, sealed.len,
                                                 err);
        }
        if (!rc)
            *out = er_xstrdup(er_json_str(doc, "access_token"));
        er_buf_release(&sealed);
        json_wipe_delete(doc);
        er_credential_release(&c);
        if (rc != ER_ECONFLICT)
            return rc;
        force = false;
    }
    return er_error_set(err, ER_ECONFLICT, "authorisation '%s' keeps changing; try again", name);
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
    wipe_free(auth);
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
        wipe_free(token);
        token = NULL;
        rc = er_gmail_access_token(&token, cfg, st, name, true, err);
        if (rc)
            memset(out, 0, sizeof *out);
        else
            rc = api_paced(out, cfg, token, method, path, ctype, body, body_len, err);
    }
    wipe_free(token);
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
    if (er_str_eq(c.kind, ER_GMAIL_KIND) && open_tokens(&doc, &c, remote_err) == 0 &&
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
    json_wipe_delete(doc);
    er_credential_release(&c);
    return er_store_credential_delete(st, name, err);
}
