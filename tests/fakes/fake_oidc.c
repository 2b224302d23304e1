/* fake_oidc.c — an OpenID Connect provider for tests, speaking the real
 * protocol: discovery, the authorization endpoint (code flow, PKCE S256
 * required), the token endpoint (client_secret_basic or _post, one-time codes,
 * redirect_uri and code_verifier checked) and a JWKS with a fresh RSA key.
 * It logs every user in without asking; login_hint picks who and, after a
 * '+', how to misbehave:
 *
 *   fake_oidc [--port N] [--port-file F] --client-id ID --client-secret S
 *
 *   login_hint = NAME[+MODE]   MODE: wrong_nonce, wrong_aud, wrong_iss, expired,
 *                              bad_sig (another key), unknown_kid, alg_none,
 *                              hs256 (signed with the client secret), deny
 *
 * The subject is "sub-" NAME, the email NAME@example.test.  SIGTERM stops it. */
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include <civetweb.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CODES 64

typedef struct grant {
    char code[64];
    char redirect[512];
    char challenge[128];
    char nonce[128];
    char hint[128];
    bool used;
} grant;

static struct {
    const char *client_id, *client_secret;
    char issuer[128];
    EVP_PKEY *key, *other_key;
    pthread_mutex_t lock;
    grant codes[MAX_CODES];
    int next;
} F = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
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

static void random_text(char *out, size_t n)
{
    unsigned char raw[24];
    RAND_bytes(raw, sizeof raw);
    er_buf b = ER_BUF_INIT;
    b64url(raw, sizeof raw, &b);
    er_strlcpy(out, b.ptr, n);
    er_buf_release(&b);
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
    reply(c, status, "application/json", NULL, s);
    free(s);
    return status;
}

static int oauth_error(struct mg_connection *c, int status, const char *error)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "error", error);
    return reply_json(c, status, j);
}

static bool qvar(const char *qs, const char *name, char *buf, size_t n)
{
    return qs && mg_get_var(qs, strlen(qs), name, buf, n) > 0;
}

/* ---- discovery and keys ---- */

static int discovery(struct mg_connection *c, void *cb)
{
    (void)cb;
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "issuer", F.issuer);
    char url[256];
    snprintf(url, sizeof url, "%s/authorize", F.issuer);
    er_json_add_str(j, "authorization_endpoint", url);
    snprintf(url, sizeof url, "%s/token", F.issuer);
    er_json_add_str(j, "token_endpoint", url);
    snprintf(url, sizeof url, "%s/jwks", F.issuer);
    er_json_add_str(j, "jwks_uri", url);
    cJSON *a = cJSON_CreateArray();
    er_json_append(a, cJSON_CreateString("RS256"));
    er_json_add(j, "id_token_signing_alg_values_supported", a);
    a = cJSON_CreateArray();
    er_json_append(a, cJSON_CreateString("S256"));
    er_json_add(j, "code_challenge_methods_supported", a);
    a = cJSON_CreateArray();
    er_json_append(a, cJSON_CreateString("code"));
    er_json_add(j, "response_types_supported", a);
    return reply_json(c, 200, j);
}

static void bn_field(cJSON *k, const char *name, EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(key, param, &bn);
    int n = BN_num_bytes(bn);
    unsigned char *bytes = malloc((size_t)n);
    BN_bn2bin(bn, bytes);
    er_buf b = ER_BUF_INIT;
    b64url(bytes, (size_t)n, &b);
    er_json_add_str(k, name, b.ptr);
    er_buf_release(&b);
    free(bytes);
    BN_free(bn);
}

static int jwks(struct mg_connection *c, void *cb)
{
    (void)cb;
    cJSON *k = cJSON_CreateObject();
    er_json_add_str(k, "kty", "RSA");
    er_json_add_str(k, "kid", "k1");
    er_json_add_str(k, "use", "sig");
    er_json_add_str(k, "alg", "RS256");
    bn_field(k, "n", F.key, "n");
    bn_field(k, "e", F.key, "e");
    cJSON *keys = cJSON_CreateArray(), *j = cJSON_CreateObject();
    er_json_append(keys, k);
    er_json_add(j, "keys", keys);
    return reply_json(c, 200, j);
}

/* ---- authorization endpoint ---- */

static int authorize(struct mg_connection *c, void *cb)
{
    (void)cb;
    const char *qs = mg_get_request_info(c)->query_string;
    char type[32], client[128], redirect[512], scope[256], state[256], challenge[128], method[16],
        nonce[128], hint[128];
    if (!qvar(qs, "response_type", type, sizeof type) || strcmp(type, "code") != 0)
        return oauth_error(c, 400, "unsupported_response_type");
    if (!qvar(qs, "client_id", client, sizeof client) || strcmp(client, F.client_id) != 0)
        return oauth_error(c, 400, "unauthorized_client");
    if (!qvar(qs, "redirect_uri", redirect, sizeof redirect) ||
        !er_str_starts(redirect, "http://127.0.0.1:"))
        return oauth_error(c, 400, "invalid_request");
    if (!qvar(qs, "scope", scope, sizeof scope) || !strstr(scope, "openid"))
        return oauth_error(c, 400, "invalid_scope");
    if (!qvar(qs, "state", state, sizeof state) || !qvar(qs, "nonce", nonce, sizeof nonce) ||
        !qvar(qs, "code_challenge", challenge, sizeof challenge) ||
        !qvar(qs, "code_challenge_method", method, sizeof method) || strcmp(method, "S256") != 0)
        return oauth_error(c, 400, "invalid_request");
    if (!qvar(qs, "login_hint", hint, sizeof hint))
        snprintf(hint, sizeof hint, "alice");
    char loc[2048], enc_state[768];
    mg_url_encode(state, enc_state, sizeof enc_state);
    if (strstr(hint, "+deny")) {
        snprintf(loc, sizeof loc, "Location: %s?error=access_denied&state=%s\r\n", redirect,
                 enc_state);
        reply(c, 302, "text/plain", loc, "");
        return 302;
    }
    pthread_mutex_lock(&F.lock);
    grant *g = &F.codes[F.next++ % MAX_CODES];
    memset(g, 0, sizeof *g);
    random_text(g->code, sizeof g->code);
    er_strlcpy(g->redirect, redirect, sizeof g->redirect);
    er_strlcpy(g->challenge, challenge, sizeof g->challenge);
    er_strlcpy(g->nonce, nonce, sizeof g->nonce);
    er_strlcpy(g->hint, hint, sizeof g->hint);
    snprintf(loc, sizeof loc, "Location: %s?code=%s&state=%s\r\n", redirect, g->code, enc_state);
    pthread_mutex_unlock(&F.lock);
    reply(c, 302, "text/plain", loc, "");
    return 302;
}

/* ---- token endpoint ---- */

static bool client_ok(struct mg_connection *c, const char *body)
{
    char id[128] = "", secret[128] = "";
    const char *h = mg_get_header(c, "Authorization");
    if (h && strncmp(h, "Basic ", 6) == 0) {
        unsigned char dec[512];
        int n = EVP_DecodeBlock(dec, (const unsigned char *)h + 6, (int)strlen(h + 6));
        if (n <= 0)
            return false;
        dec[n] = '\0';
        char *colon = strchr((char *)dec, ':');
        if (!colon)
            return false;
        *colon = '\0';
        mg_url_decode((char *)dec, (int)strlen((char *)dec), id, sizeof id, 1);
        mg_url_decode(colon + 1, (int)strlen(colon + 1), secret, sizeof secret, 1);
    } else {
        qvar(body, "client_id", id, sizeof id);
        qvar(body, "client_secret", secret, sizeof secret);
    }
    return strcmp(id, F.client_id) == 0 && strcmp(secret, F.client_secret) == 0;
}

static void sign(er_buf *jwt, const char *alg, const char *kid, EVP_PKEY *key)
{
    cJSON *h = cJSON_CreateObject();
    er_json_add_str(h, "alg", alg);
    er_json_add_str(h, "typ", "JWT");
    if (kid)
        er_json_add_str(h, "kid", kid);
    char *hs = er_json_print(h);
    cJSON_Delete(h);
    er_buf head = ER_BUF_INIT;
    b64url(hs, strlen(hs), &head);
    free(hs);
    /* jwt holds the encoded claims; prepend the header. */
    er_buf out = ER_BUF_INIT;
    er_buf_printf(&out, "%s.%s", head.ptr, jwt->ptr);
    er_buf_release(&head);
    unsigned char sig[512];
    size_t siglen = 0;
    if (strcmp(alg, "RS256") == 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        siglen = sizeof sig;
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
        EVP_DigestSign(md, sig, &siglen, (unsigned char *)out.ptr, out.len);
        EVP_MD_CTX_free(md);
    } else if (strcmp(alg, "HS256") == 0) {
        unsigned int n = 32;
        HMAC(EVP_sha256(), F.client_secret, (int)strlen(F.client_secret), (unsigned char *)out.ptr,
             out.len, sig, &n);
        siglen = n;
    }
    er_buf_putc(&out, '.');
    b64url(sig, siglen, &out);
    er_buf_release(jwt);
    *jwt = out;
}

static char *id_token(const grant *g)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(g->hint, "+"), g->hint);
    const char *mode = strchr(g->hint, '+') ? strchr(g->hint, '+') + 1 : "";
    long now = (long)time(NULL);
    cJSON *c = cJSON_CreateObject();
    er_json_add_str(c, "iss", strcmp(mode, "wrong_iss") == 0 ? "http://evil.example" : F.issuer);
    char sub[80], email[96];
    snprintf(sub, sizeof sub, "sub-%s", name);
    snprintf(email, sizeof email, "%s@example.test", name);
    er_json_add_str(c, "sub", sub);
    er_json_add_str(c, "aud", strcmp(mode, "wrong_aud") == 0 ? "someone-else" : F.client_id);
    er_json_add_num(c, "iat", (double)(strcmp(mode, "expired") == 0 ? now - 7200 : now));
    er_json_add_num(c, "exp", (double)(strcmp(mode, "expired") == 0 ? now - 3600 : now + 300));
    er_json_add_str(c, "nonce", strcmp(mode, "wrong_nonce") == 0 ? "not-the-nonce" : g->nonce);
    er_json_add_str(c, "preferred_username", name);
    er_json_add_str(c, "email", email);
    char *cs = er_json_print(c);
    cJSON_Delete(c);
    er_buf jwt = ER_BUF_INIT;
    b64url(cs, strlen(cs), &jwt);
    free(cs);
    if (strcmp(mode, "alg_none") == 0) {
        static const char none[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
        er_buf out = ER_BUF_INIT;
        b64url(none, sizeof none - 1, &out);
        er_buf_printf(&out, ".%s.", jwt.ptr);
        er_buf_release(&jwt);
        return er_buf_detach(&out);
    }
    if (strcmp(mode, "hs256") == 0)
        sign(&jwt, "HS256", "k1", NULL);
    else if (strcmp(mode, "bad_sig") == 0)
        sign(&jwt, "RS256", "k1", F.other_key);
    else
        sign(&jwt, "RS256", strcmp(mode, "unknown_kid") == 0 ? "k9" : "k1", F.key);
    return er_buf_detach(&jwt);
}

/* The grant a code names, spent; NULL when unknown or used (under the lock). */
static grant *spend(const char *code)
{
    for (int i = 0; i < MAX_CODES; i++) {
        if (F.codes[i].code[0] && strcmp(F.codes[i].code, code) == 0) {
            if (F.codes[i].used)
                return NULL;
            F.codes[i].used = true;
            return &F.codes[i];
        }
    }
    return NULL;
}

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

static int token(struct mg_connection *c, void *cb)
{
    (void)cb;
    char body[8192];
    int n = mg_read(c, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    if (!client_ok(c, body))
        return oauth_error(c, 401, "invalid_client");
    char type[64], code[128], redirect[512], verifier[256];
    if (!qvar(body, "grant_type", type, sizeof type) || strcmp(type, "authorization_code") != 0)
        return oauth_error(c, 400, "unsupported_grant_type");
    if (!qvar(body, "code", code, sizeof code) ||
        !qvar(body, "redirect_uri", redirect, sizeof redirect) ||
        !qvar(body, "code_verifier", verifier, sizeof verifier))
        return oauth_error(c, 400, "invalid_request");
    pthread_mutex_lock(&F.lock);
    grant *g = spend(code);
    grant copy;
    bool ok = g && strcmp(g->redirect, redirect) == 0 && pkce_ok(g, verifier);
    if (ok)
        copy = *g;
    pthread_mutex_unlock(&F.lock);
    if (!ok)
        return oauth_error(c, 400, "invalid_grant");
    char *idt = id_token(&copy);
    cJSON *j = cJSON_CreateObject();
    char at[64];
    random_text(at, sizeof at);
    er_json_add_str(j, "access_token", at);
    er_json_add_str(j, "token_type", "Bearer");
    er_json_add_num(j, "expires_in", 3600);
    er_json_add_str(j, "id_token", idt);
    free(idt);
    return reply_json(c, 200, j);
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = argv[i + 1];
        else if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--client-id") == 0)
            F.client_id = argv[i + 1];
        else if (strcmp(argv[i], "--client-secret") == 0)
            F.client_secret = argv[i + 1];
    }
    if (!F.client_id || !F.client_secret) {
        fprintf(stderr,
                "usage: fake_oidc --client-id ID --client-secret S [--port N] [--port-file F]\n");
        return 2;
    }
    F.key = EVP_RSA_gen(2048);
    F.other_key = EVP_RSA_gen(2048);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    const char *opts[] = { "listening_ports", listen, "num_threads", "8", NULL };
    struct mg_callbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    struct mg_context *ctx = mg_start(&cbs, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_oidc: cannot listen on %s\n", listen);
        return 1;
    }
    struct mg_server_port ports[1];
    mg_get_server_ports(ctx, 1, ports);
    snprintf(F.issuer, sizeof F.issuer, "http://127.0.0.1:%d", ports[0].port);
    mg_set_request_handler(ctx, "/.well-known/openid-configuration", discovery, NULL);
    mg_set_request_handler(ctx, "/authorize", authorize, NULL);
    mg_set_request_handler(ctx, "/token", token, NULL);
    mg_set_request_handler(ctx, "/jwks", jwks, NULL);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", ports[0].port);
            fclose(f);
        }
    }
    while (!stopping) {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    mg_stop(ctx);
    EVP_PKEY_free(F.key);
    EVP_PKEY_free(F.other_key);
    return 0;
}
