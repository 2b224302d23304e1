/* oauth.c — the OAuth 2.0 client pieces every errand login shares: the
 * loopback flow with PKCE, the token endpoint's answers, sealed token
 * documents and their refresh (see oauth.h). */
#include "errand/oauth.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/digest.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/secret.h"
#include "errand/str.h"
#include "errand/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST 8192

void er_oauth_wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

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

/* ---- the loopback flow ---- */

static int listen_loopback(er_oauth_flow *f, er_error *err)
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

int er_oauth_flow_begin(er_oauth_flow *f, const char *again, er_error *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    er_strlcpy(f->again, again, sizeof f->again);
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
    er_buf challenge = ER_BUF_INIT;
    er_base64_encode(&challenge, md, sizeof md, true);
    er_strlcpy(f->challenge, challenge.ptr, sizeof f->challenge);
    er_buf_release(&challenge);
    return 0;
}

void er_oauth_flow_params(const er_oauth_flow *f, er_buf *url, const char *client_id)
{
    er_url_param(url, "client_id", client_id);
    er_url_param(url, "redirect_uri", f->redirect_uri);
    er_url_param(url, "response_type", "code");
    er_url_param(url, "state", f->state);
    er_url_param(url, "code_challenge", f->challenge);
    er_url_param(url, "code_challenge_method", "S256");
}

void er_oauth_flow_release(er_oauth_flow *f)
{
    if (f->fd >= 0)
        close(f->fd);
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
        er_log(ER_LOG_DEBUG, "oauth", "the browser went away before the answer");
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

/* Looks at one redirect that reached the right path; answers it. */
static redirect_kind take_redirect(er_oauth_flow *f, int fd, const er_url *u, char **code_out,
                                   er_error *err)
{
    char *state = er_url_query_get(u, "state"), *code = er_url_query_get(u, "code");
    char *error = er_url_query_get(u, "error");
    redirect_kind kind = REDIRECT_IGNORED;
    if (!state || strcmp(state, f->state) != 0) {
        /* Not this login's redirect (a stale tab, a forged request). */
        char *page = er_xasprintf("<p>errand: this sign-in link is not the one errand is waiting "
                                  "for. Start again with <code>%s</code>.</p>\n",
                                  f->again);
        answer(fd, 400, page);
        free(page);
    } else if (error) {
        answer(fd, 200, "<p>errand was not given access. You may close this window.</p>\n");
        er_error_set(err, ER_EAUTH, "the authorization server did not grant access: %.100s", error);
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
    er_oauth_wipe_free(code);
    free(error);
    return kind;
}

static redirect_kind take_request(er_oauth_flow *f, int fd, char **code_out, er_error *err)
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
        if (!er_str_eq(u.path, "/") && !er_str_eq(u.path, ""))
            answer(fd, 404, "errand: nothing here\n");
        else
            kind = take_redirect(f, fd, &u, code_out, err);
        er_url_release(&u);
    }
    memset(buf, 0, sizeof buf);
    memset(target, 0, sizeof target);
    er_oauth_wipe_free(full);
    return kind;
}

int er_oauth_flow_wait(er_oauth_flow *f, int timeout_ms, const volatile int *cancel,
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
                                "no answer from the browser within %d s; run `%s` again",
                                timeout_ms / 1000, f->again);
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

/* ---- the token endpoint ---- */

int er_oauth_post(cJSON **out, long *status, const char *url, const char *ctype, const char *body,
                  size_t len, bool configured, const er_netguard *guard, er_error *err)
{
    *out = NULL;
    *status = 0;
    char *ct = er_xasprintf("Content-Type: %s", ctype);
    const char *headers[] = { ct, "Accept: application/json", NULL };
    er_http_req req = { .url = url,
                        .method = "POST",
                        .headers = headers,
                        .body = body ? body : "",
                        .body_len = len,
                        .timeout_ms = 30000,
                        .max_body = ER_OAUTH_MAX_JSON,
                        .retries = 2,
                        .configured_endpoint = configured,
                        .guard = guard };
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
    free(ct);
    return rc;
}

static void replace_str(cJSON *doc, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
    er_json_add_str(doc, key, value);
}

int er_oauth_take_tokens(cJSON *doc, const cJSON *answer, er_error *err)
{
    const char *access = er_json_str(answer, "access_token");
    if (er_str_empty(access))
        return er_error_set(err, ER_EPROTO, "the token endpoint sent no access_token");
    int64_t ttl = er_json_int(answer, "expires_in", 3600, 0, 365LL * 86400);
    replace_str(doc, "access_token", access);
    int64_t now = er_time_ms();
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "issued_ms");
    cJSON_AddNumberToObject(doc, "issued_ms", (double)now);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "expires_ms");
    cJSON_AddNumberToObject(doc, "expires_ms", (double)(now + ttl * 1000));
    const char *refresh = er_json_str(answer, "refresh_token"),
               *scope = er_json_str(answer, "scope");
    if (!er_str_empty(refresh))
        replace_str(doc, "refresh_token", refresh);
    if (!er_str_empty(scope))
        replace_str(doc, "scope", scope);
    return 0;
}

/* ---- sealed documents ---- */

int er_oauth_seal(er_buf *out, const cJSON *doc, er_error *err)
{
    er_secret_key key;
    int rc = er_secret_key_load(&key, err);
    if (rc)
        return rc;
    char *text = er_json_print(doc);
    rc = er_secret_seal(out, &key, text, strlen(text), err);
    er_oauth_wipe_free(text);
    er_secret_key_wipe(&key);
    return rc;
}

int er_oauth_open(cJSON **out, const er_credential *c, er_error *err)
{
    *out = NULL;
    er_secret_key key;
    int rc = er_secret_key_load(&key, err);
    if (rc)
        return rc;
    er_buf plain;
    er_buf_init(&plain, ER_OAUTH_MAX_JSON);
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

void er_oauth_doc_free(cJSON *doc)
{
    const char *keys[] = { "access_token", "refresh_token", "id_token", "client_secret" };
    for (size_t i = 0; doc && i < ER_ARRAY_LEN(keys); i++) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (cJSON_IsString(t) && t->valuestring)
            memset(t->valuestring, 0, strlen(t->valuestring));
    }
    cJSON_Delete(doc);
}

/* ---- refreshing ---- */

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
 * refresh may have won at the server while its write to the store is still
 * on the way, so the row is looked at for up to RACE_WAIT_MS. */
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

/* One look at the row: its token, refreshed and stored again when due.
 * ER_ECONFLICT when another writer got there first. */
static int token_once(char **out, er_store *st, const er_credential *c, const char *kind,
                      bool force, er_oauth_refresh_fn fn, void *payload, er_error *err)
{
    cJSON *doc = NULL;
    int rc = er_oauth_open(&doc, c, err);
    if (!rc && !er_str_eq(c->kind, kind))
        rc = er_error_set(err, ER_EINVAL, "authorisation '%s' is for %s, not %s", c->name, c->kind,
                          kind);
    int64_t expires = rc ? 0 : er_json_int(doc, "expires_ms", 0, 0, INT64_MAX);
    /* A token that lives less than twice the margin is refreshed at half its
     * life: with the whole margin it would be refreshed at every use. */
    int64_t issued = rc ? 0 : er_json_int(doc, "issued_ms", 0, 0, INT64_MAX);
    int64_t margin = ER_OAUTH_REFRESH_MARGIN_MS;
    if (issued && expires > issued && (expires - issued) / 2 < margin)
        margin = (expires - issued) / 2;
    bool fresh = !force && expires - margin > er_time_ms();
    er_buf sealed = ER_BUF_INIT;
    if (!rc && !fresh) {
        rc = fn(doc, payload, err);
        if (rc == ER_EAUTH && moved_on(st, c->name, c->generation))
            rc = ER_ECONFLICT; /* another process rotated it first: use theirs */
        if (!rc)
            rc = er_oauth_seal(&sealed, doc, err);
        if (!rc)
            rc = er_store_credential_replace(st, c->name, c->generation, sealed.ptr, sealed.len,
                                             err);
    }
    if (!rc)
        *out = er_xstrdup(er_json_str(doc, "access_token"));
    er_buf_release(&sealed);
    er_oauth_doc_free(doc);
    return rc;
}

int er_oauth_access_token(char **out, er_store *st, const char *name, const char *kind, bool force,
                          er_oauth_refresh_fn fn, void *payload, er_error *err)
{
    *out = NULL;
    /* A lost race re-reads the row: the winner's token is at most seconds old. */
    for (int attempt = 0; attempt < 4; attempt++) {
        er_credential c;
        int rc = er_store_credential_get(st, name, &c, err);
        if (rc)
            return rc;
        rc = token_once(out, st, &c, kind, force, fn, payload, err);
        er_credential_release(&c);
        if (rc != ER_ECONFLICT)
            return rc;
        force = false;
    }
    return er_error_set(err, ER_ECONFLICT, "authorisation '%s' keeps changing; try again", name);
}
