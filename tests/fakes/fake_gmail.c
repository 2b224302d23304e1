/* fake_gmail.c — Google's OAuth 2.0 endpoints and the Gmail API's profile,
 * for tests, speaking their wire formats:
 *
 *   GET  /o/oauth2/v2/auth   consent: checks client_id, a loopback
 *                            redirect_uri, response_type=code, PKCE S256 and
 *                            state, then redirects (302) with code and state;
 *                            login_hint=deny redirects with error=access_denied
 *   POST /token              authorization_code (one-time code, same
 *                            redirect_uri, code_verifier checked against the
 *                            challenge) and refresh_token grants; errors as
 *                            Google sends them ({"error":"invalid_grant",…})
 *   POST /revoke             token=… revokes a refresh token and its access tokens
 *   GET  /gmail/v1/users/me/profile   Bearer token checked; 401 in Google's
 *                            error shape otherwise
 *
 * Test controls (not Google's):
 *   POST /_fake/expire       every access token stops working (early revocation)
 *   POST /_fake/revoke_all   every refresh token is revoked (invalid_grant)
 *   POST /_fake/ttl?seconds=N   access tokens issued from now live N seconds
 *   GET  /_fake/stats        counters and the last tokens issued, as JSON
 *
 *   fake_gmail --client-id ID --client-secret S [--port N] [--port-file F]
 *              [--record F] [--access-ttl SECONDS] [--rotate] [--email ADDR]
 *
 * --rotate: each refresh also issues a new refresh token and retires the old
 * one.  Every request is appended to the record file as one JSON line
 * {method, path, grant_type}.  SIGTERM stops it. */
#include "fake_server.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 256

typedef struct grant {
    char code[64], redirect[256], challenge[128], scope[512];
    bool used, offline;
} grant;

typedef struct token {
    char value[80];
    int family; /* the refresh token (index) an access token came from */
    int64_t expires;
    bool valid;
} token;

static struct {
    const char *client_id, *client_secret, *email, *record;
    long access_ttl;
    bool rotate;
    pthread_mutex_t lock;
    grant grants[MAX_TOKENS];
    token access[MAX_TOKENS], refresh[MAX_TOKENS];
    int ngrants, naccess, nrefresh;
    int codes_issued, exchanges, refreshes, profiles, unauthorized, revoked, invalid_grants;
} F = { .lock = PTHREAD_MUTEX_INITIALIZER, .access_ttl = 3600, .email = "me@example.test" };

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void b64url(const void *data, size_t len, er_buf *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        er_buf_putc(out, a[v >> 18]);
        er_buf_putc(out, a[(v >> 12) & 63]);
        if (i + 1 < len)
            er_buf_putc(out, a[(v >> 6) & 63]);
        if (i + 2 < len)
            er_buf_putc(out, a[v & 63]);
    }
}

static void random_text(const char *prefix, char *out, size_t n)
{
    unsigned char raw[24];
    RAND_bytes(raw, sizeof raw);
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, prefix);
    b64url(raw, sizeof raw, &b);
    er_strlcpy(out, b.ptr, n);
    er_buf_release(&b);
}

static void record(const char *method, const char *path, const char *grant_type)
{
    if (!F.record)
        return;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "method", method);
    er_json_add_str(j, "path", path);
    if (grant_type)
        er_json_add_str(j, "grant_type", grant_type);
    char *s = er_json_print(j);
    cJSON_Delete(j);
    FILE *f = fopen(F.record, "a");
    if (f) {
        fprintf(f, "%s\n", s);
        fclose(f);
    }
    free(s);
}

static void reply(struct mg_connection *c, int status, const char *ctype, const char *extra,
                  const char *body)
{
    mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n%s", status,
              mg_get_response_code_text(c, status), ctype, strlen(body), extra ? extra : "", body);
}

static int reply_json(struct mg_connection *c, int status, cJSON *j)
{
    char *s = er_json_print(j);
    cJSON_Delete(j);
    reply(c, status, "application/json; charset=UTF-8", NULL, s);
    free(s);
    return status;
}

static int oauth_error(struct mg_connection *c, int status, const char *error, const char *desc)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "error", error);
    if (desc)
        er_json_add_str(j, "error_description", desc);
    return reply_json(c, status, j);
}

static bool var(const char *qs, const char *name, char *buf, size_t n)
{
    return qs && mg_get_var(qs, strlen(qs), name, buf, n) > 0;
}

/* ---- consent ---- */

static void add_param(er_buf *b, const char *name, const char *value)
{
    char enc[1024];
    mg_url_encode(value, enc, sizeof enc);
    er_buf_printf(b, "%c%s=%s", strchr(b->ptr, '?') ? '&' : '?', name, enc);
}

static int authorize(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("GET", "/o/oauth2/v2/auth", NULL);
    const char *qs = mg_get_request_info(c)->query_string;
    char client[256], redirect[256], type[32], challenge[128], method[16], state[256], scope[512],
        access[32], hint[64];
    if (!var(qs, "client_id", client, sizeof client) || strcmp(client, F.client_id) != 0) {
        reply(c, 401, "text/plain", NULL, "Error 401: invalid_client\n");
        return 401;
    }
    /* Loopback redirects only, as Google requires of desktop clients. */
    if (!var(qs, "redirect_uri", redirect, sizeof redirect) ||
        !er_str_starts(redirect, "http://127.0.0.1:")) {
        reply(c, 400, "text/plain", NULL, "Error 400: redirect_uri_mismatch\n");
        return 400;
    }
    if (!var(qs, "response_type", type, sizeof type) || strcmp(type, "code") != 0 ||
        !var(qs, "code_challenge", challenge, sizeof challenge) ||
        !var(qs, "code_challenge_method", method, sizeof method) || strcmp(method, "S256") != 0 ||
        !var(qs, "state", state, sizeof state) || !var(qs, "scope", scope, sizeof scope)) {
        reply(c, 400, "text/plain", NULL, "Error 400: invalid_request\n");
        return 400;
    }
    er_buf loc = ER_BUF_INIT;
    er_buf_puts(&loc, redirect);
    if (var(qs, "login_hint", hint, sizeof hint) && strcmp(hint, "deny") == 0) {
        add_param(&loc, "error", "access_denied");
    } else {
        pthread_mutex_lock(&F.lock);
        grant *g = &F.grants[F.ngrants++ % MAX_TOKENS];
        memset(g, 0, sizeof *g);
        random_text("4/0A", g->code, sizeof g->code);
        er_strlcpy(g->redirect, redirect, sizeof g->redirect);
        er_strlcpy(g->challenge, challenge, sizeof g->challenge);
        er_strlcpy(g->scope, scope, sizeof g->scope);
        g->offline =
            var(qs, "access_type", access, sizeof access) && strcmp(access, "offline") == 0;
        F.codes_issued++;
        add_param(&loc, "code", g->code);
        add_param(&loc, "scope", scope);
        pthread_mutex_unlock(&F.lock);
    }
    add_param(&loc, "state", state);
    char *extra = er_xasprintf("Location: %s\r\n", loc.ptr);
    reply(c, 302, "text/html", extra, "");
    free(extra);
    er_buf_release(&loc);
    return 302;
}

/* ---- tokens ---- */

static bool pkce_ok(const grant *g, const char *verifier)
{
    unsigned char md[32];
    SHA256((const unsigned char *)verifier, strlen(verifier), md);
    er_buf b = ER_BUF_INIT;
    b64url(md, sizeof md, &b);
    bool ok = strcmp(b.ptr, g->challenge) == 0;
    er_buf_release(&b);
    return ok;
}

/* Under the lock: a new access token of family fam into j. */
static void issue_access(cJSON *j, int fam)
{
    token *t = &F.access[F.naccess++ % MAX_TOKENS];
    random_text("ya29.", t->value, sizeof t->value);
    t->family = fam;
    t->expires = now_s() + F.access_ttl;
    t->valid = true;
    er_json_add_str(j, "access_token", t->value);
    er_json_add_num(j, "expires_in", (double)F.access_ttl);
    er_json_add_str(j, "token_type", "Bearer");
}

static int issue_refresh(cJSON *j)
{
    int fam = F.nrefresh++ % MAX_TOKENS;
    token *r = &F.refresh[fam];
    random_text("1//0g", r->value, sizeof r->value);
    r->valid = true;
    er_json_add_str(j, "refresh_token", r->value);
    return fam;
}

static int find_refresh(const char *value)
{
    for (int i = 0; i < F.nrefresh && i < MAX_TOKENS; i++)
        if (strcmp(F.refresh[i].value, value) == 0)
            return i;
    return -1;
}

static int code_grant(struct mg_connection *c, const char *body)
{
    char code[128], redirect[256], verifier[256];
    if (!var(body, "code", code, sizeof code) ||
        !var(body, "redirect_uri", redirect, sizeof redirect) ||
        !var(body, "code_verifier", verifier, sizeof verifier))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter");
    pthread_mutex_lock(&F.lock);
    grant *g = NULL;
    for (int i = 0; i < F.ngrants && i < MAX_TOKENS; i++)
        if (strcmp(F.grants[i].code, code) == 0)
            g = &F.grants[i];
    bool ok = g && !g->used && strcmp(g->redirect, redirect) == 0 && pkce_ok(g, verifier);
    if (g)
        g->used = true; /* one try per code, right or wrong */
    cJSON *j = NULL;
    if (ok) {
        j = cJSON_CreateObject();
        int fam = g->offline ? issue_refresh(j) : -1;
        issue_access(j, fam);
        er_json_add_str(j, "scope", g->scope);
        F.exchanges++;
    } else {
        F.invalid_grants++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!ok)
        return oauth_error(c, 400, "invalid_grant", "Bad Request");
    return reply_json(c, 200, j);
}

static int refresh_grant(struct mg_connection *c, const char *body)
{
    char value[128];
    if (!var(body, "refresh_token", value, sizeof value))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter: refresh_token");
    pthread_mutex_lock(&F.lock);
    int fam = find_refresh(value);
    cJSON *j = NULL;
    if (fam >= 0 && F.refresh[fam].valid) {
        j = cJSON_CreateObject();
        if (F.rotate) {
            F.refresh[fam].valid = false;
            fam = issue_refresh(j);
        }
        issue_access(j, fam);
        er_json_add_str(j, "scope", "https://www.googleapis.com/auth/gmail.readonly");
        F.refreshes++;
    } else {
        F.invalid_grants++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!j)
        return oauth_error(c, 400, "invalid_grant", "Token has been expired or revoked.");
    return reply_json(c, 200, j);
}

static bool client_ok(const char *body)
{
    char id[256], secret[256];
    return var(body, "client_id", id, sizeof id) && strcmp(id, F.client_id) == 0 &&
           var(body, "client_secret", secret, sizeof secret) &&
           strcmp(secret, F.client_secret) == 0;
}

static int token_endpoint(struct mg_connection *c, void *cb)
{
    (void)cb;
    char body[8192], type[64];
    int n = mg_read(c, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    bool typed = var(body, "grant_type", type, sizeof type);
    record("POST", "/token", typed ? type : NULL);
    if (strcmp(mg_get_request_info(c)->request_method, "POST") != 0)
        return oauth_error(c, 405, "invalid_request", "POST only");
    if (!client_ok(body))
        return oauth_error(c, 401, "invalid_client", "Unauthorized");
    if (typed && strcmp(type, "authorization_code") == 0)
        return code_grant(c, body);
    if (typed && strcmp(type, "refresh_token") == 0)
        return refresh_grant(c, body);
    return oauth_error(c, 400, "unsupported_grant_type", "Invalid grant_type");
}

static int revoke_endpoint(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("POST", "/revoke", NULL);
    char body[4096], value[128];
    int n = mg_read(c, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    if (!var(body, "token", value, sizeof value))
        return oauth_error(c, 400, "invalid_request", "Missing required parameter: token");
    pthread_mutex_lock(&F.lock);
    int fam = find_refresh(value);
    bool ok = fam >= 0 && F.refresh[fam].valid;
    if (ok) {
        F.refresh[fam].valid = false;
        for (int i = 0; i < F.naccess && i < MAX_TOKENS; i++)
            if (F.access[i].family == fam)
                F.access[i].valid = false;
        F.revoked++;
    }
    pthread_mutex_unlock(&F.lock);
    if (!ok)
        return oauth_error(c, 400, "invalid_token", "Token expired or revoked");
    reply(c, 200, "application/json", NULL, "{}");
    return 200;
}

/* ---- the API ---- */

static bool bearer_ok(struct mg_connection *c)
{
    const char *h = mg_get_header(c, "Authorization");
    if (!h || !er_str_starts(h, "Bearer "))
        return false;
    bool ok = false;
    pthread_mutex_lock(&F.lock);
    for (int i = 0; i < F.naccess && i < MAX_TOKENS && !ok; i++)
        ok = strcmp(F.access[i].value, h + 7) == 0 && F.access[i].valid &&
             F.access[i].expires > now_s();
    if (!ok)
        F.unauthorized++;
    pthread_mutex_unlock(&F.lock);
    return ok;
}

static int unauthenticated(struct mg_connection *c)
{
    cJSON *j = cJSON_CreateObject(), *e = cJSON_CreateObject();
    er_json_add_num(e, "code", 401);
    er_json_add_str(e, "message",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.");
    er_json_add_str(e, "status", "UNAUTHENTICATED");
    er_json_add(j, "error", e);
    char *s = er_json_print(j);
    cJSON_Delete(j);
    reply(
        c, 401, "application/json; charset=UTF-8",
        "WWW-Authenticate: Bearer realm=\"https://accounts.google.com/\", error=invalid_token\r\n",
        s);
    free(s);
    return 401;
}

static int profile(struct mg_connection *c, void *cb)
{
    (void)cb;
    record("GET", "/gmail/v1/users/me/profile", NULL);
    if (!bearer_ok(c))
        return unauthenticated(c);
    pthread_mutex_lock(&F.lock);
    F.profiles++;
    pthread_mutex_unlock(&F.lock);
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "emailAddress", F.email);
    er_json_add_num(j, "messagesTotal", 0);
    er_json_add_num(j, "threadsTotal", 0);
    er_json_add_str(j, "historyId", "1");
    return reply_json(c, 200, j);
}

/* ---- test controls ---- */

static int control(struct mg_connection *c, void *cb)
{
    (void)cb;
    const char *uri = mg_get_request_info(c)->local_uri;
    pthread_mutex_lock(&F.lock);
    cJSON *j = cJSON_CreateObject();
    if (strcmp(uri, "/_fake/expire") == 0) {
        for (int i = 0; i < F.naccess && i < MAX_TOKENS; i++)
            F.access[i].valid = false;
    } else if (strcmp(uri, "/_fake/ttl") == 0) {
        char secs[32];
        if (var(mg_get_request_info(c)->query_string, "seconds", secs, sizeof secs))
            F.access_ttl = strtol(secs, NULL, 10);
    } else if (strcmp(uri, "/_fake/revoke_all") == 0) {
        for (int i = 0; i < F.nrefresh && i < MAX_TOKENS; i++)
            F.refresh[i].valid = false;
    }
    er_json_add_num(j, "codes_issued", F.codes_issued);
    er_json_add_num(j, "exchanges", F.exchanges);
    er_json_add_num(j, "refreshes", F.refreshes);
    er_json_add_num(j, "profiles", F.profiles);
    er_json_add_num(j, "unauthorized", F.unauthorized);
    er_json_add_num(j, "revoked", F.revoked);
    er_json_add_num(j, "invalid_grants", F.invalid_grants);
    if (F.naccess)
        er_json_add_str(j, "last_access_token", F.access[(F.naccess - 1) % MAX_TOKENS].value);
    if (F.nrefresh)
        er_json_add_str(j, "last_refresh_token", F.refresh[(F.nrefresh - 1) % MAX_TOKENS].value);
    pthread_mutex_unlock(&F.lock);
    return reply_json(c, 200, j);
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        bool more = i + 1 < argc;
        if (strcmp(argv[i], "--rotate") == 0)
            F.rotate = true;
        else if (more && strcmp(argv[i], "--port") == 0)
            port = argv[++i];
        else if (more && strcmp(argv[i], "--port-file") == 0)
            port_file = argv[++i];
        else if (more && strcmp(argv[i], "--record") == 0)
            F.record = argv[++i];
        else if (more && strcmp(argv[i], "--client-id") == 0)
            F.client_id = argv[++i];
        else if (more && strcmp(argv[i], "--client-secret") == 0)
            F.client_secret = argv[++i];
        else if (more && strcmp(argv[i], "--email") == 0)
            F.email = argv[++i];
        else if (more && strcmp(argv[i], "--access-ttl") == 0)
            F.access_ttl = strtol(argv[++i], NULL, 10);
    }
    if (!F.client_id || !F.client_secret) {
        fprintf(stderr, "usage: fake_gmail --client-id ID --client-secret S [--port N] "
                        "[--port-file F] [--record F] [--access-ttl S] [--rotate] [--email A]\n");
        return 2;
    }
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    const char *opts[] = { "listening_ports", listen, "num_threads", "8", NULL };
    struct mg_callbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    struct mg_context *ctx = mg_start(&cbs, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_gmail: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/o/oauth2/v2/auth", authorize, NULL);
    mg_set_request_handler(ctx, "/token", token_endpoint, NULL);
    mg_set_request_handler(ctx, "/revoke", revoke_endpoint, NULL);
    mg_set_request_handler(ctx, "/gmail/v1/users/me/profile", profile, NULL);
    mg_set_request_handler(ctx, "/_fake/", control, NULL);
    if (fake_publish_port(ctx, port_file) < 0) {
        mg_stop(ctx);
        return 1;
    }
    fake_serve_until_stopped(ctx);
    return 0;
}
