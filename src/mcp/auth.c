/* auth.c — `errand mcp login`: the MCP authorization flow (discovery,
 * registration, code with PKCE) and the login's tokens (see mcp_auth.h). */
#include "errand/mcp_auth.h"
#include "errand/alloc.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/secret.h"
#include "errand/store_credential.h"
#include "errand/str.h"
#include "errand/url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX (256 * 1024)

char *er_mcp_auth_name(const char *server)
{
    return er_xasprintf("mcp.%s", server);
}

/* ---- what the server and the metadata say ---- */

char *er_mcp_auth_param(const char *challenge, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = challenge ? challenge : ""; *p;) {
        p += strspn(p, " \t,");
        const char *key = p;
        p += strcspn(p, "= \t,");
        size_t kl = (size_t)(p - key);
        if (*p != '=') { /* a scheme name ("Bearer") or a token68 */
            p += *p ? 1 : 0;
            continue;
        }
        p++;
        er_buf v = ER_BUF_INIT;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                er_buf_putc(&v, *p);
            }
            p += *p ? 1 : 0;
        } else {
            size_t n = strcspn(p, " \t,");
            er_buf_append(&v, p, n);
            p += n;
        }
        if (kl == nl && strncasecmp(key, name, nl) == 0)
            return er_buf_detach(&v);
        er_buf_release(&v);
    }
    return NULL;
}

static bool loopback_host(const char *host)
{
    return er_str_eq(host, "127.0.0.1") || er_str_eq(host, "::1") || er_str_eq(host, "[::1]") ||
           (host && strcasecmp(host, "localhost") == 0);
}

int er_mcp_auth_check_endpoint(const char *what, const char *url, er_error *err)
{
    if (er_str_empty(url))
        return er_error_set(err, ER_EPROTO, "the metadata has no %s", what);
    er_url u;
    if (er_url_parse(&u, url, NULL) != 0)
        return er_error_set(err, ER_EPROTO, "the metadata's %s '%.200s' is not a URL", what, url);
    bool has_host = !er_str_empty(u.host);
    bool ok =
        er_str_eq(u.scheme, "https") || (er_str_eq(u.scheme, "http") && loopback_host(u.host));
    er_url_release(&u);
    if (!has_host)
        return er_error_set(err, ER_EPROTO, "the metadata's %s '%.200s' is not a URL", what, url);
    if (!ok)
        return er_error_set(err, ER_EPROTO,
                            "the metadata's %s '%.200s' is not https:// (plain http:// is "
                            "accepted only on a loopback host)",
                            what, url);
    return 0;
}

int er_mcp_auth_check_server(const cJSON *meta, const char *issuer, er_error *err)
{
    const char *iss = er_json_str(meta, "issuer");
    if (!er_str_eq(iss, issuer))
        return er_error_set(err, ER_EPROTO,
                            "the authorization server metadata names issuer '%.200s', not "
                            "'%.200s' where it was found (RFC 8414 §3.3)",
                            iss ? iss : "(none)", issuer);
    int rc = er_mcp_auth_check_endpoint("issuer", issuer, err);
    if (!rc)
        rc = er_mcp_auth_check_endpoint("authorization_endpoint",
                                        er_json_str(meta, "authorization_endpoint"), err);
    if (!rc)
        rc = er_mcp_auth_check_endpoint("token_endpoint", er_json_str(meta, "token_endpoint"), err);
    if (!rc && er_json_str(meta, "registration_endpoint"))
        rc = er_mcp_auth_check_endpoint("registration_endpoint",
                                        er_json_str(meta, "registration_endpoint"), err);
    if (rc)
        return rc;
    bool s256 = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, er_json_arr(meta, "code_challenge_methods_supported"))
    {
        s256 |= cJSON_IsString(m) && er_str_eq(m->valuestring, "S256");
    }
    if (!s256)
        return er_error_set(err, ER_EPROTO,
                            "the authorization server does not offer PKCE with S256 "
                            "(code_challenge_methods_supported): errand will not log in without");
    return 0;
}

/* ---- fetching ---- */

/* Same scheme, host and port. */
static bool same_origin(const char *a, const char *b)
{
    er_url ua, ub;
    if (er_url_parse(&ua, a, NULL) != 0)
        return false;
    bool same = false;
    if (er_url_parse(&ub, b, NULL) == 0) {
        same = er_str_eq(ua.scheme, ub.scheme) && ua.host && ub.host &&
               strcasecmp(ua.host, ub.host) == 0 && ua.port == ub.port;
        er_url_release(&ub);
    }
    er_url_release(&ua);
    return same;
}

/* Whether url is the operator's (the MCP server's own origin, configured as an
 * operator endpoint) rather than one outside content pointed at. */
static bool configured(const er_mcp_server_cfg *cfg, const char *url)
{
    return cfg->operator_endpoint && same_origin(url, cfg->url);
}

/* GETs a JSON metadata document.  ER_ENOTFOUND for a 404 (the next
 * well-known URL may be tried). */
static int get_json(cJSON **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                    const char *url, er_error *err)
{
    *out = NULL;
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    const char *headers[] = { "Accept: application/json", NULL };
    er_http_req req = { .url = url,
                        .headers = headers,
                        .timeout_ms = 30000,
                        .max_body = META_MAX,
                        .retries = 1,
                        .configured_endpoint = configured(cfg, url),
                        .guard = guard };
    er_http_resp resp;
    rc = er_http_request(&resp, &req, err);
    if (rc)
        er_error_prefix(err, "%.200s", url);
    else if (resp.status == 404 || resp.status == 410)
        rc = er_error_set(err, ER_ENOTFOUND, "%.200s: HTTP %ld", url, resp.status);
    else if (resp.status != 200)
        rc = er_error_set(err, ER_EPROTO, "%.200s answered HTTP %ld", url, resp.status);
    else if (er_json_parse(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len, NULL) != 0 ||
             !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        rc = er_error_set(err, ER_EPROTO, "%.200s is not a JSON object", url);
    }
    er_http_resp_release(&resp);
    return rc;
}

/* "SCHEME://HOST[:PORT]" of u. */
static char *origin_of(const er_url *u)
{
    bool v6 = strchr(u->host, ':') != NULL;
    if (u->port)
        return er_xasprintf("%s://%s%s%s:%d", u->scheme, v6 ? "[" : "", u->host, v6 ? "]" : "",
                            u->port);
    return er_xasprintf("%s://%s%s%s", u->scheme, v6 ? "[" : "", u->host, v6 ? "]" : "");
}

/* The well-known URLs of a document named suffix for base, path-inserted
 * first (RFC 8414 §3.1, RFC 9728 §3.1), then at the root, then (OpenID
 * Connect only) appended to the path. */
static void well_known(er_strv *out, const char *base, const char *suffix, bool append)
{
    er_url u;
    if (er_url_parse(&u, base, NULL) != 0)
        return;
    if (er_str_empty(u.host)) {
        er_url_release(&u);
        return;
    }
    char *origin = origin_of(&u);
    const char *path = u.path ? u.path : "";
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/')
        pl--;
    char *s;
    if (pl) {
        s = er_xasprintf("%s/.well-known/%s%.*s", origin, suffix, (int)pl, path);
        er_strv_push(out, s);
        free(s);
    }
    if (!append || !pl) {
        s = er_xasprintf("%s/.well-known/%s", origin, suffix);
        er_strv_push(out, s);
        free(s);
    }
    if (append && pl) {
        s = er_xasprintf("%s%.*s/.well-known/%s", origin, (int)pl, path, suffix);
        er_strv_push(out, s);
        free(s);
    }
    free(origin);
    er_url_release(&u);
}

/* The first of urls that answers with a document; the last error otherwise. */
static int first_found(cJSON **out, char **found, const er_mcp_server_cfg *cfg,
                       const er_netguard *guard, const er_strv *urls, er_error *err)
{
    int rc = er_error_set(err, ER_ENOTFOUND, "no metadata URL to try");
    for (size_t i = 0; i < urls->n; i++) {
        rc = get_json(out, cfg, guard, urls->v[i], err);
        if (rc != ER_ENOTFOUND) {
            if (!rc && found)
                *found = er_xstrdup(urls->v[i]);
            return rc;
        }
    }
    return rc;
}

/* Whether resource names the server at url: the same URL, or a parent of it
 * on the same origin. */
static bool resource_matches(const char *resource, const char *url)
{
    if (er_str_empty(resource) || !same_origin(resource, url))
        return false;
    size_t rl = strlen(resource);
    while (rl && resource[rl - 1] == '/')
        rl--;
    return strncmp(url, resource, rl) == 0 && (url[rl] == '\0' || url[rl] == '/');
}

/* ---- discovery ---- */

static void say(void (*progress)(const char *, void *), void *payload, const char *step)
{
    if (progress)
        progress(step, payload);
}

/* Asks the server as a client without a token would: *challenge its
 * WWW-Authenticate (OWNED) when it answers 401. */
static int probe(char **challenge, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                 er_error *err)
{
    *challenge = NULL;
    const char *body =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":"
        "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" ER_MCP_VERSION "\"}}}";
    const char *headers[] = { "Content-Type: application/json",
                              "Accept: application/json, text/event-stream",
                              "MCP-Protocol-Version: " ER_MCP_VERSION, NULL };
    er_http_req req = { .method = "POST",
                        .url = cfg->url,
                        .headers = headers,
                        .body = body,
                        .body_len = strlen(body),
                        .timeout_ms = 30000,
                        .max_body = META_MAX,
                        .configured_endpoint = cfg->operator_endpoint,
                        .guard = guard };
    er_http_resp resp;
    int rc = er_http_request(&resp, &req, err);
    if (rc)
        er_error_prefix(err, "MCP server '%s'", cfg->name);
    else if (resp.status != 401)
        rc = er_error_set(err, ER_EINVAL,
                          "MCP server '%s' answered HTTP %ld without a token, not 401: it does "
                          "not ask for a login",
                          cfg->name, resp.status);
    else if (resp.authenticate)
        *challenge = er_xstrdup(resp.authenticate);
    er_http_resp_release(&resp);
    return rc;
}

/* The protected resource metadata (RFC 9728) of the server. */
static int resource_metadata(cJSON **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                             const char *challenge, er_error *err)
{
    char *pointed = er_mcp_auth_param(challenge, "resource_metadata");
    er_strv urls = ER_STRV_INIT;
    if (pointed)
        er_strv_push(&urls, pointed);
    else
        well_known(&urls, cfg->url, "oauth-protected-resource", false);
    int rc = first_found(out, NULL, cfg, guard, &urls, err);
    er_strv_free(&urls);
    free(pointed);
    if (rc) {
        er_error_prefix(err, "protected resource metadata of MCP server '%s'", cfg->name);
        return rc;
    }
    const char *resource = er_json_str(*out, "resource");
    if (!resource_matches(resource, cfg->url))
        rc = er_error_set(err, ER_EPROTO,
                          "the protected resource metadata of MCP server '%s' is for "
                          "'%.200s', not %.200s (RFC 9728 §3.3)",
                          cfg->name, resource ? resource : "(no resource)", cfg->url);
    else if (!cJSON_IsString(cJSON_GetArrayItem(er_json_arr(*out, "authorization_servers"), 0)))
        rc = er_error_set(err, ER_EPROTO,
                          "the protected resource metadata of MCP server '%s' names no "
                          "authorization server",
                          cfg->name);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* The authorization server's metadata (RFC 8414, else OpenID Connect). */
static int server_metadata(cJSON **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                           const char *issuer, er_error *err)
{
    er_strv urls = ER_STRV_INIT;
    well_known(&urls, issuer, "oauth-authorization-server", false);
    well_known(&urls, issuer, "openid-configuration", true);
    int rc = er_mcp_auth_check_endpoint("authorization server", issuer, err);
    if (!rc)
        rc = first_found(out, NULL, cfg, guard, &urls, err);
    er_strv_free(&urls);
    if (!rc)
        rc = er_mcp_auth_check_server(*out, issuer, err);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
        er_error_prefix(err, "authorization server '%.200s' of MCP server '%s'", issuer, cfg->name);
    }
    return rc;
}

/* Dynamic client registration (RFC 7591): a public client with the loopback
 * redirect; client_id (and a client_secret, if issued) go into doc. */
static int register_client(cJSON *doc, const er_mcp_login *l, const char *endpoint,
                           const char *scope, er_error *err)
{
    cJSON *meta = cJSON_CreateObject();
    er_json_add_str(meta, "client_name", "errand");
    cJSON *uris = cJSON_CreateArray();
    er_json_append(uris, cJSON_CreateString(l->oauth.redirect_uri));
    er_json_add(meta, "redirect_uris", uris);
    cJSON *grants = cJSON_CreateArray();
    er_json_append(grants, cJSON_CreateString("authorization_code"));
    er_json_append(grants, cJSON_CreateString("refresh_token"));
    er_json_add(meta, "grant_types", grants);
    cJSON *types = cJSON_CreateArray();
    er_json_append(types, cJSON_CreateString("code"));
    er_json_add(meta, "response_types", types);
    er_json_add_str(meta, "token_endpoint_auth_method", "none");
    if (!er_str_empty(scope))
        er_json_add_str(meta, "scope", scope);
    char *body = er_json_print(meta);
    cJSON_Delete(meta);
    cJSON *answer = NULL;
    long status = 0;
    int rc = er_oauth_post(&answer, &status, endpoint, "application/json", body, strlen(body),
                           configured(l->cfg, endpoint), l->guard, err);
    free(body);
    const char *id = er_json_str(answer, "client_id");
    if (rc)
        er_error_prefix(err, "client registration");
    else if (status != 201 && status != 200)
        rc = er_error_set(err, status == 429 || status >= 500 ? ER_EUNAVAIL : ER_EPROTO,
                          "the authorization server refused to register errand (HTTP %ld: "
                          "%.80s%s%.120s): set mcp.%s.client_id to a client registered by hand",
                          status, er_json_str(answer, "error") ? er_json_str(answer, "error") : "",
                          er_json_str(answer, "error_description") ? " — " : "",
                          er_json_str(answer, "error_description")
                              ? er_json_str(answer, "error_description")
                              : "",
                          l->cfg->name);
    else if (er_str_empty(id))
        rc = er_error_set(err, ER_EPROTO, "the client registration answer has no client_id");
    if (!rc) {
        er_json_add_str(doc, "client_id", id);
        if (!er_str_empty(er_json_str(answer, "client_secret")))
            er_json_add_str(doc, "client_secret", er_json_str(answer, "client_secret"));
        er_json_add_bool(doc, "registered", true);
    }
    er_oauth_doc_free(answer);
    return rc;
}

/* The scope to ask for: the 401's, else the setting's, else the resource's. */
static char *pick_scope(const er_mcp_server_cfg *cfg, const char *challenge, const cJSON *prm)
{
    char *s = er_mcp_auth_param(challenge, "scope");
    if (s)
        return s;
    if (!er_str_empty(cfg->scope))
        return er_xstrdup(cfg->scope);
    er_buf b = ER_BUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, er_json_arr(prm, "scopes_supported"))
    {
        if (cJSON_IsString(it))
            er_buf_printf(&b, "%s%s", b.len ? " " : "", it->valuestring);
    }
    return b.len ? er_buf_detach(&b) : (er_buf_release(&b), NULL);
}

static void consent_url(er_mcp_login *l, const char *endpoint, const char *scope)
{
    er_buf url = ER_BUF_INIT;
    er_buf_puts(&url, endpoint);
    er_buf_putc(&url, strchr(endpoint, '?') ? '&' : '?');
    er_oauth_flow_params(&l->oauth, &url, er_json_str(l->doc, "client_id"));
    if (!er_str_empty(scope))
        er_url_param(&url, "scope", scope);
    er_url_param(&url, "resource", er_json_str(l->doc, "resource"));
    l->url = er_buf_detach(&url);
}

int er_mcp_login_begin(er_mcp_login *l, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                       void (*progress)(const char *step, void *payload), void *payload,
                       er_error *err)
{
    memset(l, 0, sizeof *l);
    l->oauth.fd = -1;
    l->cfg = cfg;
    l->guard = guard;
    if (!cfg->url)
        return er_error_set(err, ER_EINVAL,
                            "MCP server '%s' is started by errand (stdio): it takes no login",
                            cfg->name);
    char *challenge = NULL, *again = er_xasprintf("errand mcp login %s", cfg->name);
    cJSON *prm = NULL, *asm_ = NULL;
    say(progress, payload, "asking the server");
    int rc = probe(&challenge, cfg, guard, err);
    if (!rc) {
        say(progress, payload, "reading its protected resource metadata");
        rc = resource_metadata(&prm, cfg, guard, challenge, err);
    }
    const char *issuer =
        prm ? cJSON_GetArrayItem(er_json_arr(prm, "authorization_servers"), 0)->valuestring : NULL;
    if (!rc) {
        say(progress, payload, "reading its authorization server's metadata");
        rc = server_metadata(&asm_, cfg, guard, issuer, err);
    }
    if (!rc)
        rc = er_oauth_flow_begin(&l->oauth, again, err);
    char *scope = rc ? NULL : pick_scope(cfg, challenge, prm);
    if (!rc) {
        l->doc = cJSON_CreateObject();
        char *name = er_mcp_auth_name(cfg->name);
        er_json_add_str(l->doc, "name", name);
        free(name);
        er_json_add_str(l->doc, "resource", er_json_str(prm, "resource"));
        er_json_add_str(l->doc, "issuer", issuer);
        er_json_add_str(l->doc, "token_endpoint", er_json_str(asm_, "token_endpoint"));
        if (er_json_str(asm_, "revocation_endpoint"))
            er_json_add_str(l->doc, "revocation_endpoint",
                            er_json_str(asm_, "revocation_endpoint"));
        if (!er_str_empty(cfg->client_id)) {
            er_json_add_str(l->doc, "client_id", cfg->client_id);
        } else if (er_str_empty(er_json_str(asm_, "registration_endpoint"))) {
            rc =
                er_error_set(err, ER_EINVAL,
                             "the authorization server of MCP server '%s' offers no client "
                             "registration: register errand there by hand and set mcp.%s.client_id",
                             cfg->name, cfg->name);
        } else {
            say(progress, payload, "registering errand as a client");
            rc = register_client(l->doc, l, er_json_str(asm_, "registration_endpoint"), scope, err);
        }
    }
    if (!rc)
        consent_url(l, er_json_str(asm_, "authorization_endpoint"), scope);
    free(scope);
    free(challenge);
    free(again);
    cJSON_Delete(prm);
    cJSON_Delete(asm_);
    return rc;
}

int er_mcp_login_wait(er_mcp_login *l, int timeout_ms, const volatile int *cancel, char **code_out,
                      er_error *err)
{
    return er_oauth_flow_wait(&l->oauth, timeout_ms, cancel, code_out, err);
}

void er_mcp_login_release(er_mcp_login *l)
{
    er_oauth_flow_release(&l->oauth);
    er_oauth_doc_free(l->doc);
    free(l->url);
    l->doc = NULL;
    l->url = NULL;
}

/* ---- tokens ---- */

static void add_client(er_buf *form, const cJSON *doc, const er_mcp_server_cfg *cfg)
{
    er_url_param(form, "client_id", er_json_str(doc, "client_id"));
    const char *secret = er_json_str(doc, "client_secret");
    if (er_str_empty(secret) && !er_json_bool(doc, "registered", false))
        secret = cfg->client_secret;
    if (!er_str_empty(secret))
        er_url_param(form, "client_secret", secret);
    er_url_param(form, "resource", er_json_str(doc, "resource"));
}

static int token_error(long status, const cJSON *j, const char *server, er_error *err)
{
    const char *e = er_json_str(j, "error");
    if (er_str_eq(e, "invalid_grant"))
        return er_error_set(err, ER_EAUTH,
                            "the login to MCP server '%s' is no longer valid (invalid_grant: "
                            "revoked, expired or replaced): run `errand mcp login %s` again",
                            server, server);
    if (er_str_eq(e, "invalid_client") || er_str_eq(e, "unauthorized_client"))
        return er_error_set(err, ER_EAUTH,
                            "the authorization server of MCP server '%s' refused the client "
                            "(%s): run `errand mcp login %s` again, or check mcp.%s.client_id",
                            server, e, server, server);
    if (status == 429 || status >= 500)
        return er_error_set(err, ER_EUNAVAIL,
                            "the token endpoint of MCP server '%s' answered %ld; try later", server,
                            status);
    return er_error_set(err, status == 400 || status == 401 ? ER_EAUTH : ER_EPROTO,
                        "the token endpoint of MCP server '%s' answered %ld (%.80s)", server,
                        status, e ? e : "no reason given");
}

/* POSTs a form to the token endpoint stored in doc and takes the tokens. */
static int token_request(cJSON *doc, er_buf *form, const er_mcp_server_cfg *cfg,
                         const er_netguard *guard, er_error *err)
{
    const char *endpoint = er_json_str(doc, "token_endpoint");
    int rc = er_mcp_auth_check_endpoint("token_endpoint", endpoint, err);
    cJSON *answer = NULL;
    long status = 0;
    if (!rc)
        rc = er_oauth_post(&answer, &status, endpoint, "application/x-www-form-urlencoded",
                           form->ptr, form->len, configured(cfg, endpoint), guard, err);
    er_secret_buf_wipe(form);
    if (rc)
        er_error_prefix(err, "the token endpoint of MCP server '%s'", cfg->name);
    else if (status != 200)
        rc = token_error(status, answer, cfg->name, err);
    if (!rc)
        rc = er_oauth_take_tokens(doc, answer, err);
    er_oauth_doc_free(answer);
    return rc;
}

int er_mcp_login_finish(er_mcp_login *l, er_store *st, const char *code, er_error *err)
{
    er_buf form = ER_BUF_INIT;
    er_url_param(&form, "grant_type", "authorization_code");
    er_url_param(&form, "code", code);
    er_url_param(&form, "redirect_uri", l->oauth.redirect_uri);
    er_url_param(&form, "code_verifier", l->oauth.verifier);
    add_client(&form, l->doc, l->cfg);
    int rc = token_request(l->doc, &form, l->cfg, l->guard, err);
    er_buf sealed = ER_BUF_INIT;
    if (!rc)
        rc = er_oauth_seal(&sealed, l->doc, err);
    if (!rc)
        rc = er_store_credential_put(st, er_json_str(l->doc, "name"), ER_MCP_AUTH_KIND, l->cfg->url,
                                     sealed.ptr, sealed.len, NULL, err);
    er_buf_release(&sealed);
    return rc;
}

typedef struct refresh_ctx {
    const er_mcp_server_cfg *cfg;
    const er_netguard *guard;
} refresh_ctx;

static int refresh(cJSON *doc, void *payload, er_error *err)
{
    const refresh_ctx *r = payload;
    const char *rt = er_json_str(doc, "refresh_token");
    if (er_str_empty(rt))
        return er_error_set(err, ER_EAUTH,
                            "the login to MCP server '%s' has expired and holds no refresh "
                            "token: run `errand mcp login %s` again",
                            r->cfg->name, r->cfg->name);
    er_buf form = ER_BUF_INIT;
    er_url_param(&form, "grant_type", "refresh_token");
    er_url_param(&form, "refresh_token", rt);
    add_client(&form, doc, r->cfg);
    er_log(ER_LOG_INFO, "mcp", "refreshing the access token of MCP server '%s'", r->cfg->name);
    return token_request(doc, &form, r->cfg, r->guard, err);
}

int er_mcp_auth_token(char **out, const er_mcp_server_cfg *cfg, const er_netguard *guard,
                      er_store *st, bool force, er_error *err)
{
    char *name = er_mcp_auth_name(cfg->name);
    refresh_ctx r = { cfg, guard };
    int rc = er_oauth_access_token(out, st, name, ER_MCP_AUTH_KIND, force, refresh, &r, err);
    free(name);
    if (!rc)
        er_log_add_secret(*out);
    return rc;
}

bool er_mcp_auth_logged_in(er_store *st, const char *server, int64_t *updated_ms)
{
    char *name = er_mcp_auth_name(server);
    er_credential c = { 0 };
    bool in =
        er_store_credential_get(st, name, &c, NULL) == 0 && er_str_eq(c.kind, ER_MCP_AUTH_KIND);
    if (in && updated_ms)
        *updated_ms = c.updated_ms;
    er_credential_release(&c);
    free(name);
    return in;
}

int er_mcp_auth_logout(er_store *st, const char *server, er_error *err)
{
    char *name = er_mcp_auth_name(server);
    int rc = er_store_credential_delete(st, name, err);
    free(name);
    if (rc == ER_ENOTFOUND)
        er_error_set(err, rc, "MCP server '%s' is not logged in", server);
    return rc;
}
