/* oidc.c — OpenID Connect login for people: the authorization code flow with
 * PKCE (RFC 7636, S256) against the provider named by oauth.issuer.
 *
 *   GET /auth/oidc/login   → state, nonce and code verifier go to the cache
 *                            (oauth_state:{state}, 10 minutes), the browser
 *                            to the provider's authorization endpoint
 *   GET /auth/oidc/callback → the state is spent (once), the code exchanged at
 *                            the token endpoint (client_secret_basic), and the
 *                            ID token validated: RS256 signature by a key of
 *                            the provider's JWKS, iss, aud (and azp), exp, iat,
 *                            nonce.
 *
 * The discovery document and the JWKS are cached; the JWKS is fetched again
 * when a token names a key it does not hold (key rotation), at most every 10 s.
 * All outbound HTTP goes through er_http_request. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/http.h"
#include "errand/log.h"
#include "errand/url.h"

#include "crypto_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define STATE_TTL_MS     (10 * 60 * 1000)
#define DISCOVERY_TTL_MS (60 * 60 * 1000)
#define JWKS_REFETCH_MS  10000
#define LEEWAY_S         60
#define CALLBACK_PATH    "/api/v1/auth/oidc/callback"

typedef struct endpoints {
    char authorize[512];
    char token[512];
    char jwks[512];
} endpoints;

struct srv_oidc {
    srv *s;
    char issuer[512];
    pthread_mutex_t lock; /* guards what follows */
    endpoints ep;
    int64_t discovered_at; /* 0: not yet */
    cJSON *jwks;
    int64_t jwks_at;
};

int srv_oidc_new(srv_oidc **out, srv *s, er_error *err)
{
    const er_config *c = s->cfg;
    *out = NULL;
    int set = !er_str_empty(c->oauth_issuer) + !er_str_empty(c->oauth_client_id) +
              !er_str_empty(c->oauth_client_secret);
    if (set == 0)
        return 0;
    if (set != 3)
        return er_error_set(err, ER_EINVAL,
                            "OpenID Connect login needs all of oauth.issuer "
                            "(OAUTH_ISSUER_URL), OAUTH_CLIENT_ID and "
                            "OAUTH_CLIENT_SECRET");
    if (!er_str_starts(c->oauth_issuer, "https://") &&
        !er_str_starts(c->oauth_issuer, "http://127.0.0.1") &&
        !er_str_starts(c->oauth_issuer, "http://localhost"))
        return er_error_set(err, ER_EINVAL, "oauth.issuer '%s' must be an https:// URL",
                            c->oauth_issuer);
    srv_oidc *o = er_xcalloc(1, sizeof *o);
    o->s = s;
    er_strlcpy(o->issuer, c->oauth_issuer, sizeof o->issuer);
    size_t n = strlen(o->issuer);
    while (n > 0 && o->issuer[n - 1] == '/')
        o->issuer[--n] = '\0';
    pthread_mutex_init(&o->lock, NULL);
    *out = o;
    return 0;
}

void srv_oidc_free(srv_oidc *o)
{
    if (!o)
        return;
    cJSON_Delete(o->jwks);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* ---- small encoders ---- */

/* ---- HTTP ---- */

static int fetch_json(const char *url, const char *body, const char *const *headers, cJSON **out,
                      long *status, er_error *err)
{
    er_http_req req = { .url = url,
                        .headers = headers,
                        .body = body,
                        .body_len = body ? strlen(body) : 0,
                        .connect_timeout_ms = 5000,
                        .timeout_ms = 15000,
                        .max_body = 1 << 20,
                        .retries = body ? 0 : 1,
                        .configured_endpoint = true }; /* the issuer is a setting */
    er_http_resp resp;
    int rc = er_http_request(&resp, &req, err);
    *out = NULL;
    *status = resp.status;
    if (!rc && srv_json_parse(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len, NULL))
        rc = er_error_set(err, ER_EPROTO, "%s answered %ld with a body that is not JSON", url,
                          resp.status);
    er_http_resp_release(&resp);
    return rc;
}

static int copy_endpoint(char *dst, size_t n, const cJSON *doc, const char *key, er_error *err)
{
    const char *v = er_json_str(doc, key);
    if (!v || strlen(v) >= n || !(er_str_starts(v, "https://") || er_str_starts(v, "http://")))
        return er_error_set(err, ER_EPROTO, "the discovery document has no usable %s", key);
    er_strlcpy(dst, v, n);
    return 0;
}

static int discover(srv_oidc *o, endpoints *out, er_error *err)
{
    pthread_mutex_lock(&o->lock);
    bool fresh = o->discovered_at && er_mono_ms() - o->discovered_at < DISCOVERY_TTL_MS;
    *out = o->ep;
    pthread_mutex_unlock(&o->lock);
    if (fresh)
        return 0;
    char *url = er_xasprintf("%s/.well-known/openid-configuration", o->issuer);
    cJSON *doc = NULL;
    long status = 0;
    int rc = fetch_json(url, NULL, NULL, &doc, &status, err);
    if (!rc && status != 200)
        rc = er_error_set(err, ER_EPROTO, "%s answered %ld", url, status);
    else if (!rc && !er_str_eq(er_json_str(doc, "issuer"), o->issuer))
        rc = er_error_set(err, ER_EPROTO, "the discovery document names another issuer than '%s'",
                          o->issuer);
    endpoints ep;
    if (!rc)
        rc = copy_endpoint(ep.authorize, sizeof ep.authorize, doc, "authorization_endpoint", err);
    if (!rc)
        rc = copy_endpoint(ep.token, sizeof ep.token, doc, "token_endpoint", err);
    if (!rc)
        rc = copy_endpoint(ep.jwks, sizeof ep.jwks, doc, "jwks_uri", err);
    cJSON_Delete(doc);
    free(url);
    if (rc)
        return rc;
    pthread_mutex_lock(&o->lock);
    o->ep = ep;
    o->discovered_at = er_mono_ms();
    pthread_mutex_unlock(&o->lock);
    *out = ep;
    return 0;
}

/* ---- login ---- */

static void callback_url(srv_oidc *o, er_buf *b)
{
    er_buf_printf(b, "%s%s", o->s->base_url, CALLBACK_PATH);
}

int srv_oidc_begin(srv_oidc *o, const char *login_hint, er_buf *url_out, er_error *err)
{
    endpoints ep;
    int rc = discover(o, &ep, err);
    if (rc)
        return rc;
    er_buf state = ER_BUF_INIT, nonce = ER_BUF_INIT, verifier = ER_BUF_INIT;
    er_buf challenge = ER_BUF_INIT, redirect = ER_BUF_INIT;
    srv_random_token("", 24, &state);
    srv_random_token("", 24, &nonce);
    srv_random_token("", 32, &verifier);
    unsigned char md[32];
    srv_sha256(verifier.ptr, verifier.len, md);
    srv_b64url_encode(md, sizeof md, &challenge);
    callback_url(o, &redirect);
    cJSON *saved = cJSON_CreateObject();
    er_json_add_str(saved, "verifier", verifier.ptr);
    er_json_add_str(saved, "nonce", nonce.ptr);
    char *text = er_json_print(saved);
    cJSON_Delete(saved);
    char key[96];
    snprintf(key, sizeof key, "oauth_state:%s", state.ptr);
    er_cache *cache;
    rc = er_env_cache(o->s->env, &cache, err);
    if (!rc)
        rc = er_cache_set(cache, key, text, strlen(text), STATE_TTL_MS, err);
    free(text);
    if (!rc) {
        er_buf_puts(url_out, ep.authorize);
        er_buf_putc(url_out, strchr(ep.authorize, '?') ? '&' : '?');
        er_url_param(url_out, "response_type", "code");
        er_url_param(url_out, "client_id", o->s->cfg->oauth_client_id);
        er_url_param(url_out, "redirect_uri", redirect.ptr);
        er_url_param(url_out, "scope",
                     o->s->cfg->oauth_scopes ? o->s->cfg->oauth_scopes : "openid");
        er_url_param(url_out, "state", state.ptr);
        er_url_param(url_out, "nonce", nonce.ptr);
        er_url_param(url_out, "code_challenge", challenge.ptr);
        er_url_param(url_out, "code_challenge_method", "S256");
        if (login_hint)
            er_url_param(url_out, "login_hint", login_hint);
    }
    er_buf_release(&state);
    er_buf_release(&nonce);
    er_buf_release(&verifier);
    er_buf_release(&challenge);
    er_buf_release(&redirect);
    return rc;
}

/* Takes the saved verifier and nonce; a state works once. */
static int spend_state(srv_oidc *o, const char *state, cJSON **saved, er_error *err)
{
    er_cache *cache;
    int rc = er_env_cache(o->s->env, &cache, err);
    if (rc)
        return rc;
    char key[200], used[220];
    snprintf(key, sizeof key, "oauth_state:%s", state);
    snprintf(used, sizeof used, "oauth_state_used:%s", state);
    char *text = NULL;
    size_t len = 0;
    rc = er_cache_get(cache, key, &text, &len, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, ER_EINVAL,
                            "unknown or expired login state; start again at "
                            "/api/v1/auth/oidc/login");
    if (rc)
        return rc;
    int64_t n = 0;
    rc = er_cache_incr(cache, used, 1, STATE_TTL_MS, &n, err);
    if (!rc && n > 1)
        rc = er_error_set(err, ER_EINVAL,
                          "this login state was already used; start again at "
                          "/api/v1/auth/oidc/login");
    if (!rc && er_json_parse(saved, text, len, NULL))
        rc = er_error_set(err, ER_EINTERNAL, "saved login state is not JSON");
    er_cache_del(cache, key, NULL);
    free(text);
    return rc;
}

static void basic_auth(const er_config *c, er_buf *out)
{
    er_buf creds = ER_BUF_INIT;
    er_url_encode(&creds, c->oauth_client_id);
    er_buf_putc(&creds, ':');
    er_url_encode(&creds, c->oauth_client_secret);
    unsigned char *b64 = er_xmalloc(4 * ((creds.len + 2) / 3) + 1);
    EVP_EncodeBlock(b64, (const unsigned char *)creds.ptr, (int)creds.len);
    er_buf_printf(out, "Authorization: Basic %s", b64);
    free(b64);
    er_buf_release(&creds);
}

static int exchange_code(srv_oidc *o, const endpoints *ep, const char *code, const char *verifier,
                         char **id_token, er_error *err)
{
    er_buf body = ER_BUF_INIT, redirect = ER_BUF_INIT, auth = ER_BUF_INIT;
    callback_url(o, &redirect);
    er_url_param(&body, "grant_type", "authorization_code");
    er_url_param(&body, "code", code);
    er_url_param(&body, "redirect_uri", redirect.ptr);
    er_url_param(&body, "code_verifier", verifier);
    er_url_param(&body, "client_id", o->s->cfg->oauth_client_id);
    basic_auth(o->s->cfg, &auth);
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", auth.ptr, NULL };
    cJSON *j = NULL;
    long status = 0;
    int rc = fetch_json(ep->token, body.ptr, headers, &j, &status, err);
    if (!rc && status != 200)
        rc = er_error_set(err, status == 400 || status == 401 ? ER_EAUTH : ER_EPROTO,
                          "the token endpoint answered %ld (%.64s)", status,
                          er_json_str(j, "error") ? er_json_str(j, "error") : "no reason given");
    else if (!rc && !er_json_str(j, "id_token"))
        rc = er_error_set(err, ER_EPROTO, "the token endpoint sent no id_token");
    if (!rc)
        *id_token = er_xstrdup(er_json_str(j, "id_token"));
    cJSON_Delete(j);
    er_buf_release(&body);
    er_buf_release(&redirect);
    er_buf_release(&auth);
    return rc;
}

/* ---- the ID token ---- */

static const cJSON *find_key(const cJSON *jwks, const char *kid)
{
    const cJSON *k, *only = NULL;
    int rsa = 0;
    cJSON_ArrayForEach(k, er_json_arr(jwks, "keys"))
    {
        if (kid && er_str_eq(er_json_str(k, "kid"), kid))
            return k;
        if (er_str_eq(er_json_str(k, "kty"), "RSA")) {
            only = k;
            rsa++;
        }
    }
    return !kid && rsa == 1 ? only : NULL;
}

/* Verifies the signature with the provider's key; OWNED *key_copy not needed:
 * verification happens under the lock, the JWKS stays owned by o. */
static int verify_signature(srv_oidc *o, const endpoints *ep, const srv_jws *j, er_error *err)
{
    const char *kid = er_json_str(j->header, "kid");
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_mutex_lock(&o->lock);
        const cJSON *key = o->jwks ? find_key(o->jwks, kid) : NULL;
        int rc = key ? srv_jws_verify_rs256(j, key, err) : ER_ENOTFOUND;
        bool refetch = !key && (!o->jwks_at || er_mono_ms() - o->jwks_at > JWKS_REFETCH_MS);
        pthread_mutex_unlock(&o->lock);
        if (rc != ER_ENOTFOUND)
            return rc;
        if (!refetch)
            break;
        cJSON *jwks = NULL;
        long status = 0;
        rc = fetch_json(ep->jwks, NULL, NULL, &jwks, &status, err);
        if (!rc && (status != 200 || !er_json_arr(jwks, "keys")))
            rc = er_error_set(err, ER_EPROTO, "the JWKS at %s is not usable (status %ld)", ep->jwks,
                              status);
        if (rc) {
            cJSON_Delete(jwks);
            return rc;
        }
        pthread_mutex_lock(&o->lock);
        cJSON_Delete(o->jwks);
        o->jwks = jwks;
        o->jwks_at = er_mono_ms();
        pthread_mutex_unlock(&o->lock);
    }
    return er_error_set(err, ER_EAUTH,
                        "the ID token is signed by a key the provider does not "
                        "publish");
}

static int check_audience(const cJSON *claims, const char *client_id, er_error *err)
{
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    if (cJSON_IsString(aud) && strcmp(aud->valuestring, client_id) == 0)
        return 0;
    if (cJSON_IsArray(aud)) {
        bool found = false;
        const cJSON *a;
        cJSON_ArrayForEach(a, aud) found =
            found || (cJSON_IsString(a) && strcmp(a->valuestring, client_id) == 0);
        const char *azp = er_json_str(claims, "azp");
        if (found && (cJSON_GetArraySize(aud) == 1 || er_str_eq(azp, client_id)))
            return 0;
    }
    return er_error_set(err, ER_EAUTH, "the ID token is not meant for this client (aud)");
}

static void identity_from(srv_oidc *o, const cJSON *c, srv_identity *out)
{
    memset(out, 0, sizeof *out);
    er_strlcpy(out->issuer, o->issuer, sizeof out->issuer);
    er_strlcpy(out->subject, er_json_str(c, "sub"), sizeof out->subject);
    const char *email = er_json_str(c, "email");
    if (email)
        er_strlcpy(out->email, email, sizeof out->email);
    const char *name = er_json_str(c, "preferred_username");
    if (!name)
        name = er_json_str(c, "name");
    if (name)
        er_strlcpy(out->name, name, sizeof out->name);
    else if (email)
        snprintf(out->name, sizeof out->name, "%.*s", (int)strcspn(email, "@"), email);
}

static int validate_id_token(srv_oidc *o, const endpoints *ep, const char *token, const char *nonce,
                             srv_identity *out, er_error *err)
{
    srv_jws j;
    int rc = srv_jws_parse(token, &j, err);
    if (rc)
        return rc;
    rc = verify_signature(o, ep, &j, err);
    const cJSON *c = j.claims;
    if (!rc && !er_str_eq(er_json_str(c, "iss"), o->issuer))
        rc = er_error_set(err, ER_EAUTH, "the ID token was issued by someone else (iss)");
    if (!rc)
        rc = check_audience(c, o->s->cfg->oauth_client_id, err);
    if (!rc)
        rc = srv_jwt_check_time(c, er_time_ms() / 1000, LEEWAY_S, err);
    if (!rc && !er_str_eq(er_json_str(c, "nonce"), nonce))
        rc = er_error_set(err, ER_EAUTH, "the ID token's nonce is not this login's");
    if (!rc && er_str_empty(er_json_str(c, "sub")))
        rc = er_error_set(err, ER_EAUTH, "the ID token has no subject");
    if (!rc)
        identity_from(o, c, out);
    srv_jws_release(&j);
    return rc;
}

int srv_oidc_finish(srv_oidc *o, const char *code, const char *state, srv_identity *out,
                    er_error *err)
{
    cJSON *saved = NULL;
    int rc = spend_state(o, state, &saved, err);
    endpoints ep;
    if (!rc)
        rc = discover(o, &ep, err);
    char *id_token = NULL;
    if (!rc)
        rc = exchange_code(o, &ep, code, er_json_str(saved, "verifier"), &id_token, err);
    if (!rc)
        rc = validate_id_token(o, &ep, id_token, er_json_str(saved, "nonce"), out, err);
    free(id_token);
    cJSON_Delete(saved);
    return rc;
}
