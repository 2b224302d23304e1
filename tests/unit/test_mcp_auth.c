/* test_mcp_auth.c — what `errand mcp login` reads from outside and must
 * check (mcp_auth.h): the Bearer challenge's parameters, the authorization
 * server metadata's issuer, endpoints and PKCE; the login's settings; and
 * the shared OAuth pieces it uses (oauth.h): the PKCE challenge and the
 * token endpoint's answer. */
#include "check.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/config.h"
#include "errand/digest.h"
#include "errand/json.h"
#include "errand/mcp_auth.h"
#include "errand/oauth.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

static void test_challenge(void)
{
    const char *ch = "Bearer realm=\"x\", resource_metadata=\"https://a.example/.well-known/"
                     "oauth-protected-resource/mcp\", scope=\"files:read files:write\", "
                     "error=invalid_token, error_description=\"say \\\"hi\\\"\"";
    char *v = er_mcp_auth_param(ch, "resource_metadata");
    CHECK_STR(v, "https://a.example/.well-known/oauth-protected-resource/mcp");
    free(v);
    v = er_mcp_auth_param(ch, "SCOPE"); /* parameter names are case-insensitive */
    CHECK_STR(v, "files:read files:write");
    free(v);
    v = er_mcp_auth_param(ch, "error"); /* a token, not a quoted string */
    CHECK_STR(v, "invalid_token");
    free(v);
    v = er_mcp_auth_param(ch, "error_description");
    CHECK_STR(v, "say \"hi\"");
    free(v);
    CHECK(er_mcp_auth_param(ch, "realmx") == NULL);
    CHECK(er_mcp_auth_param(ch, "Bearer") == NULL);
    CHECK(er_mcp_auth_param("Bearer", "scope") == NULL);
    CHECK(er_mcp_auth_param(NULL, "scope") == NULL);
    v = er_mcp_auth_param("Bearer scope=\"unterminated", "scope");
    CHECK_STR(v, "unterminated");
    free(v);
}

static void test_endpoints(void)
{
    er_error err = { 0 };
    CHECK_OK(er_mcp_auth_check_endpoint("token_endpoint", "https://as.example/token", &err));
    CHECK_OK(er_mcp_auth_check_endpoint("token_endpoint", "http://127.0.0.1:8080/token", &err));
    CHECK_OK(er_mcp_auth_check_endpoint("token_endpoint", "http://localhost/token", &err));
    CHECK_OK(er_mcp_auth_check_endpoint("token_endpoint", "http://[::1]:9/token", &err));
    CHECK_INT(er_mcp_auth_check_endpoint("token_endpoint", "http://as.example/token", &err),
              ER_EPROTO);
    CHECK(strstr(err.msg, "token_endpoint") && strstr(err.msg, "https"));
    CHECK_INT(er_mcp_auth_check_endpoint("token_endpoint", "http://169.254.169.254/t", &err),
              ER_EPROTO);
    CHECK_INT(er_mcp_auth_check_endpoint("token_endpoint", "javascript:alert(1)", &err), ER_EPROTO);
    CHECK_INT(er_mcp_auth_check_endpoint("token_endpoint", NULL, &err), ER_EPROTO);
    CHECK(strstr(err.msg, "no token_endpoint") != NULL);
}

static cJSON *meta(const char *issuer, const char *token, const char *methods)
{
    char *text = er_xasprintf("{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/authorize\","
                              "\"token_endpoint\":\"%s\",\"code_challenge_methods_supported\":%s}",
                              issuer, issuer, token, methods);
    cJSON *j = NULL;
    er_json_parse(&j, text, strlen(text), NULL);
    free(text);
    return j;
}

static void test_server_metadata(void)
{
    er_error err = { 0 };
    cJSON *m = meta("https://as.example/t1", "https://as.example/t1/token", "[\"plain\",\"S256\"]");
    CHECK_OK(er_mcp_auth_check_server(m, "https://as.example/t1", &err));
    /* RFC 8414 §3.3: the issuer must be the one it was looked up for. */
    CHECK_INT(er_mcp_auth_check_server(m, "https://as.example/t2", &err), ER_EPROTO);
    CHECK(strstr(err.msg, "issuer") != NULL);
    cJSON_Delete(m);
    m = meta("https://as.example", "http://as.example/token", "[\"S256\"]");
    CHECK_INT(er_mcp_auth_check_server(m, "https://as.example", &err), ER_EPROTO);
    CHECK(strstr(err.msg, "token_endpoint") != NULL);
    cJSON_Delete(m);
    m = meta("https://as.example", "https://as.example/token", "[\"plain\"]");
    CHECK_INT(er_mcp_auth_check_server(m, "https://as.example", &err), ER_EPROTO);
    CHECK(strstr(err.msg, "S256") != NULL);
    cJSON_Delete(m);
    /* No code_challenge_methods_supported at all: no PKCE, no login. */
    m = meta("https://as.example", "https://as.example/token", "null");
    CHECK_INT(er_mcp_auth_check_server(m, "https://as.example", &err), ER_EPROTO);
    cJSON_Delete(m);
}

static void test_settings(void)
{
    er_config cfg;
    er_error err = { 0 };
    CHECK_OK(er_config_load(&cfg, "/dev/null", &err));
    CHECK_OK(er_config_set(&cfg, "mcp.s.url", "https://x.example/mcp", &err));
    CHECK_OK(er_config_set(&cfg, "mcp.s.client_id", "cid", &err));
    CHECK_OK(er_config_set(&cfg, "mcp.s.client_secret", "csecret", &err));
    CHECK_OK(er_config_set(&cfg, "mcp.s.scope", "a b", &err));
    const er_mcp_server_cfg *s = &cfg.mcp->v[0];
    CHECK_STR(s->client_id, "cid");
    CHECK_STR(s->client_secret, "csecret");
    CHECK_STR(s->scope, "a b");
    CHECK_OK(er_mcp_config_check(s, &err));
    char *name = er_mcp_auth_name("s");
    CHECK_STR(name, "mcp.s");
    free(name);
    er_config_release(&cfg);
}

static void test_flow_pkce(void)
{
    er_oauth_flow f;
    er_error err = { 0 };
    CHECK_OK(er_oauth_flow_begin(&f, "errand mcp login s", &err));
    CHECK(f.port > 0 && f.fd >= 0);
    CHECK(strlen(f.verifier) >= 43 && strlen(f.state) >= 32);
    /* RFC 7636 §4.2: challenge = BASE64URL(SHA256(ASCII(verifier))), unpadded. */
    unsigned char md[32];
    CHECK_OK(er_sha256(f.verifier, strlen(f.verifier), md, &err));
    er_buf want = ER_BUF_INIT, url = ER_BUF_INIT;
    er_base64_encode(&want, md, sizeof md, true);
    CHECK_STR(f.challenge, want.ptr);
    CHECK_INT((int)strlen(f.challenge), 43);
    er_buf_puts(&url, "https://as.example/authorize?");
    er_oauth_flow_params(&f, &url, "cid");
    CHECK(strstr(url.ptr, "?client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A") != NULL);
    CHECK(strstr(url.ptr, "&code_challenge_method=S256") != NULL);
    CHECK(strstr(url.ptr, f.verifier) == NULL); /* the verifier never leaves */
    er_buf_release(&want);
    er_buf_release(&url);
    er_oauth_flow_release(&f);
    CHECK(f.fd == -1);
}

static void test_take_tokens(void)
{
    er_error err = { 0 };
    cJSON *doc = cJSON_CreateObject(), *a = NULL;
    er_json_add_str(doc, "refresh_token", "r1");
    const char *answer = "{\"access_token\":\"a2\",\"token_type\":\"Bearer\",\"expires_in\":120}";
    CHECK_OK(er_json_parse(&a, answer, strlen(answer), &err));
    int64_t before = er_time_ms();
    CHECK_OK(er_oauth_take_tokens(doc, a, &err));
    CHECK_STR(er_json_str(doc, "access_token"), "a2");
    CHECK_STR(er_json_str(doc, "refresh_token"), "r1"); /* kept when none is sent */
    int64_t exp = er_json_int(doc, "expires_ms", 0, 0, INT64_MAX);
    CHECK(exp >= before + 120000 && exp <= er_time_ms() + 120000);
    cJSON_Delete(a);
    answer = "{\"access_token\":\"a3\",\"refresh_token\":\"r2\",\"scope\":\"s\"}";
    CHECK_OK(er_json_parse(&a, answer, strlen(answer), &err));
    CHECK_OK(er_oauth_take_tokens(doc, a, &err));
    CHECK_STR(er_json_str(doc, "refresh_token"), "r2"); /* a rotation replaces it */
    CHECK_STR(er_json_str(doc, "scope"), "s");
    cJSON_Delete(a);
    CHECK_OK(er_json_parse(&a, "{\"token_type\":\"Bearer\"}", 23, &err));
    CHECK_INT(er_oauth_take_tokens(doc, a, &err), ER_EPROTO);
    cJSON_Delete(a);
    er_oauth_doc_free(doc);
}

int main(void)
{
    test_challenge();
    test_endpoints();
    test_server_metadata();
    test_settings();
    test_flow_pkce();
    test_take_tokens();
    return check_done();
}
