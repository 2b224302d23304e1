/* jwt.c — compact JWS / JWT (RFC 7515, 7519): the server's own HS256 access
 * tokens, and verification of an OpenID provider's RS256 ID tokens against a
 * key from its JWKS.
 *
 * Parsing is strict and the algorithm is never taken from the token: the
 * caller says which algorithm it expects, and a token claiming any other one
 * ("none" included) is refused before any signature is looked at. */
#include "server.h"

#include "crypto_api.h"
#include <openssl/core_names.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN 16384

static int decode_json_part(const char *s, size_t len, cJSON **out, const char *what, er_error *err)
{
    er_buf b;
    er_buf_init(&b, MAX_TOKEN);
    int rc = srv_b64url_decode(s, len, &b);
    if (rc == 0 && b.len > 0)
        rc = srv_json_parse(out, b.ptr, b.len, NULL);
    else if (rc == 0)
        rc = ER_EINVAL;
    er_buf_release(&b);
    if (rc == 0 && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        rc = ER_EINVAL;
    }
    if (rc)
        return er_error_set(err, ER_EAUTH, "token %s is not base64url JSON", what);
    return 0;
}

/* skip_header: the caller knows the header (it is ours, see below). */
static int jws_parse(const char *token, srv_jws *out, bool skip_header, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_buf_init(&out->sig, 1024);
    size_t len = token ? strlen(token) : 0;
    if (len == 0 || len > MAX_TOKEN)
        return er_error_set(err, ER_EAUTH, "token is empty or too long");
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return er_error_set(err, ER_EAUTH, "token is not a compact JWS (three parts)");
    int rc = skip_header
                 ? 0
                 : decode_json_part(token, (size_t)(d1 - token), &out->header, "header", err);
    if (!rc)
        rc = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1), &out->claims, "claims", err);
    if (!rc && srv_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), &out->sig) != 0)
        rc = er_error_set(err, ER_EAUTH, "token signature is not base64url");
    if (rc) {
        srv_jws_release(out);
        return rc;
    }
    out->signing_input = token;
    out->signing_len = (size_t)(d2 - token);
    return 0;
}

int srv_jws_parse(const char *token, srv_jws *out, er_error *err)
{
    return jws_parse(token, out, false, err);
}

void srv_jws_release(srv_jws *j)
{
    cJSON_Delete(j->header);
    cJSON_Delete(j->claims);
    er_buf_release(&j->sig);
    memset(j, 0, sizeof *j);
}

/* The header must name exactly the expected algorithm and nothing we would
 * have to understand (crit); typ, when present, must be JWT. */
static int check_header(const cJSON *h, const char *alg, er_error *err)
{
    const char *got = er_json_str(h, "alg");
    if (!got)
        return er_error_set(err, ER_EAUTH, "token header has no alg");
    if (strcmp(got, alg) != 0)
        return er_error_set(err, ER_EAUTH, "token algorithm '%.16s' is not accepted (only %s)", got,
                            alg);
    if (cJSON_GetObjectItemCaseSensitive(h, "crit"))
        return er_error_set(err, ER_EAUTH, "token header has critical extensions");
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
    if (typ && !(cJSON_IsString(typ) && strcmp(typ->valuestring, "JWT") == 0))
        return er_error_set(err, ER_EAUTH, "token type is not JWT");
    return 0;
}

/* The header of every token this server signs, {"alg":"HS256","typ":"JWT"},
 * encoded: a token that starts with it has a header that passes check_header,
 * so verifying one of ours need not decode and parse it again. */
static const char our_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

char *srv_jwt_sign_hs256(const srv_hmac *key, const cJSON *claims)
{
    er_buf b = ER_BUF_INIT;
    er_buf_puts(&b, our_header);
    er_buf_putc(&b, '.');
    char *payload = er_json_print(claims);
    srv_b64url_encode(payload, strlen(payload), &b);
    free(payload);
    unsigned char mac[32];
    if (srv_hmac_sign(key, b.ptr, b.len, mac) != 0) {
        er_buf_release(&b);
        return NULL;
    }
    er_buf_putc(&b, '.');
    srv_b64url_encode(mac, sizeof mac, &b);
    return er_buf_detach(&b);
}

/* A NumericDate claim: a finite number that fits in int64. */
static int numeric_date(const cJSON *claims, const char *name, bool required, int64_t *out,
                        er_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!v) {
        if (required)
            return er_error_set(err, ER_EAUTH, "token has no %s claim", name);
        *out = 0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 9.0e15)
        return er_error_set(err, ER_EAUTH, "token claim %s is not a date", name);
    *out = (int64_t)v->valuedouble;
    return 0;
}

int srv_jwt_check_time(const cJSON *claims, int64_t now_s, int64_t leeway_s, er_error *err)
{
    int64_t exp = 0, nbf = 0, iat = 0; /* set on success; gcc -O2 cannot tell */
    int rc = numeric_date(claims, "exp", true, &exp, err);
    if (!rc)
        rc = numeric_date(claims, "nbf", false, &nbf, err);
    if (!rc)
        rc = numeric_date(claims, "iat", false, &iat, err);
    if (rc)
        return rc;
    if (now_s >= exp + leeway_s)
        return er_error_set(err, ER_EAUTH, "token expired");
    if (nbf && now_s + leeway_s < nbf)
        return er_error_set(err, ER_EAUTH, "token is not valid yet");
    if (iat && now_s + leeway_s < iat)
        return er_error_set(err, ER_EAUTH, "token was issued in the future");
    return 0;
}

int srv_jwt_verify_hs256(const srv_hmac *key, const char *token, int64_t now_s, cJSON **claims_out,
                         er_error *err)
{
    *claims_out = NULL;
    srv_jws j;
    size_t hl = sizeof our_header - 1;
    bool ours = token && strncmp(token, our_header, hl) == 0 && token[hl] == '.';
    int rc = jws_parse(token, &j, ours, err);
    if (rc)
        return rc;
    if (!ours)
        rc = check_header(j.header, "HS256", err);
    if (!rc) {
        unsigned char mac[32];
        if (srv_hmac_sign(key, j.signing_input, j.signing_len, mac) != 0)
            rc = er_error_set(err, ER_EINTERNAL, "cannot compute HMAC-SHA256 (libcrypto)");
        else if (j.sig.len != sizeof mac || !srv_equal(mac, j.sig.ptr, sizeof mac))
            rc = er_error_set(err, ER_EAUTH, "token signature does not match");
    }
    if (!rc)
        rc = srv_jwt_check_time(j.claims, now_s, 5, err);
    if (!rc) {
        *claims_out = j.claims;
        j.claims = NULL;
    }
    srv_jws_release(&j);
    return rc;
}

/* ---- RS256 against a JWK ---- */

static BIGNUM *jwk_bignum(const cJSON *jwk, const char *name)
{
    const char *s = er_json_str(jwk, name);
    if (!s)
        return NULL;
    er_buf b;
    er_buf_init(&b, 2048);
    BIGNUM *bn = NULL;
    if (srv_b64url_decode(s, strlen(s), &b) == 0 && b.len > 0)
        bn = BN_bin2bn((const unsigned char *)b.ptr, (int)b.len, NULL);
    er_buf_release(&b);
    return bn;
}

static EVP_PKEY *rsa_key_from_jwk(const cJSON *jwk)
{
    if (!er_str_eq(er_json_str(jwk, "kty"), "RSA"))
        return NULL;
    BIGNUM *n = jwk_bignum(jwk, "n"), *e = jwk_bignum(jwk, "e");
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (n && e && bld && ctx && BN_num_bits(n) >= 2048 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL; /* fromdata leaves it NULL too; said for the reader */
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

int srv_jws_verify_rs256(const srv_jws *j, const cJSON *jwk, er_error *err)
{
    int rc = check_header(j->header, "RS256", err);
    if (rc)
        return rc;
    const char *alg = er_json_str(jwk, "alg"), *use = er_json_str(jwk, "use");
    if ((alg && strcmp(alg, "RS256") != 0) || (use && strcmp(use, "sig") != 0))
        return er_error_set(err, ER_EAUTH, "the provider's key is not an RS256 signing key");
    EVP_PKEY *pkey = rsa_key_from_jwk(jwk);
    if (!pkey)
        return er_error_set(err, ER_EAUTH, "the provider's key is not a usable RSA key");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) > 0 &&
             EVP_DigestVerify(md, (const unsigned char *)j->sig.ptr, j->sig.len,
                              (const unsigned char *)j->signing_input, j->signing_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    if (!ok)
        return er_error_set(err, ER_EAUTH, "ID token signature does not verify");
    return 0;
}
