/* auth.c — who is calling.  A bearer token is either an API token ("ert_…",
 * issued by `errand user token`, looked up by its SHA-256 digest) or a
 * short-lived access token (an HS256 JWT this server signed).  Access tokens
 * come in pairs with a refresh token ("erf_…", stored as a digest) that is good
 * for one refresh: each refresh spends it and issues the next of its family.
 * A family is a session (store_auth.h): it ends refresh_ttl after the login
 * however often it is refreshed, and every access token names it ("sid"), so
 * revoking it ends them too (sessions.c checks it per request).
 *
 * The signing key is server.jwt_secret, or a random key generated once into
 * the data directory (mode 0600) so that restarts keep sessions valid. */
#include "server.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/log.h"
#include "errand/store_auth.h"
#include "crypto_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define ISSUER         "errand"
#define API_PREFIX     "ert_"
#define REFRESH_PREFIX "erf_"
#define MIN_SECRET     32

static int read_secret(srv *s, int fd)
{
    char buf[sizeof s->jwt_key + 1];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        return ER_EIO;
    buf[n] = '\0';
    char *t = er_str_trim(buf);
    size_t len = strlen(t);
    if (len < MIN_SECRET)
        return ER_EINVAL;
    memcpy(s->jwt_key, t, len);
    s->jwt_key_len = len;
    return 0;
}

/* O_EXCL: when two servers start at once, one writes and both read its key. */
static int secret_from_data_dir(srv *s, er_error *err)
{
    char *dir = er_xdg_dir("data", true, err);
    if (!dir)
        return err->code;
    char *path = er_xasprintf("%s/jwt.secret", dir);
    free(dir);
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        unsigned char raw[32];
        char hex[65];
        rc = srv_random(raw, sizeof raw);
        srv_hex(raw, sizeof raw, hex);
        if (!rc && write(fd, hex, 64) != 64)
            rc = ER_EIO;
        close(fd);
        if (rc)
            unlink(path);
    } else if (errno != EEXIST) {
        rc = ER_EIO;
    }
    if (!rc && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        rc = read_secret(s, fd);
        close(fd);
    } else if (!rc) {
        rc = ER_EIO;
    }
    if (rc)
        er_error_set(err, rc, "cannot set up the token key '%s': %s (or set server.jwt_secret)",
                     path, rc == ER_EINVAL ? "it is shorter than 32 characters" : strerror(errno));
    free(path);
    return rc;
}

static int key_from_config(srv *s, const char *secret, er_error *err)
{
    size_t len = strlen(secret);
    if (len < MIN_SECRET || len > sizeof s->jwt_key)
        return er_error_set(err, ER_EINVAL,
                            "server.jwt_secret must be %d to %zu characters long (it is %zu)",
                            MIN_SECRET, sizeof s->jwt_key, len);
    memcpy(s->jwt_key, secret, len);
    s->jwt_key_len = len;
    return 0;
}

int srv_auth_init(srv *s, er_error *err)
{
    const char *secret = s->cfg->jwt_secret;
    int rc = secret ? key_from_config(s, secret, err) : secret_from_data_dir(s, err);
    if (rc)
        return rc;
    s->jwt_hmac = srv_hmac_new(s->jwt_key, s->jwt_key_len);
    if (!s->jwt_hmac)
        return er_error_set(err, ER_EINTERNAL,
                            "cannot set up HMAC-SHA256 with libcrypto "
                            "(reinstall libssl3)");
    return 0;
}

void srv_user_from(srv_user *out, const er_user *u)
{
    er_strlcpy(out->id, u->id, sizeof out->id);
    er_strlcpy(out->name, u->name ? u->name : "", sizeof out->name);
    out->admin = er_str_eq(u->role, "admin");
}

static int api_token_user(srv *s, const char *token, srv_user *out, er_error *err)
{
    char digest[65];
    srv_sha256_hex(token, strlen(token), digest);
    er_store *st;
    int rc = er_env_store(s->env, &st, err);
    er_user u;
    if (!rc)
        rc = er_store_api_token_user(st, digest, &u, out->token_id, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, ER_EAUTH, "unknown or revoked API token");
    if (rc)
        return rc;
    srv_user_from(out, &u);
    er_user_release(&u);
    return 0;
}

/* The signature says this server issued the token; the store says whether
 * its user and its session still stand, and what role the user has now. */
static int access_token_user(srv *s, const char *token, srv_user *out, er_error *err)
{
    cJSON *c = NULL;
    int rc = srv_jwt_verify_hs256(s->jwt_hmac, token, er_time_ms() / 1000, &c, err);
    if (rc)
        return rc;
    const char *sub = er_json_str(c, "sub"), *sid = er_json_str(c, "sid");
    if (!er_str_eq(er_json_str(c, "iss"), ISSUER))
        rc = er_error_set(err, ER_EAUTH, "token was not issued by this server");
    else if (!sub || !er_id_valid(sub))
        rc = er_error_set(err, ER_EAUTH, "token has no valid subject");
    else if (!sid || !er_id_valid(sid))
        rc = er_error_set(err, ER_EAUTH, "token has no session (refresh it or log in again)");
    if (!rc)
        rc = srv_sessions_user(s, sub, out, err);
    if (!rc)
        rc = srv_sessions_check(s, sid, sub, out->token_id, err);
    if (!rc)
        er_strlcpy(out->session_id, sid, sizeof out->session_id);
    cJSON_Delete(c);
    return rc;
}

int srv_auth_token(srv *s, const char *token, srv_user *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    if (er_str_empty(token))
        return er_error_set(err, ER_EAUTH, "empty bearer token");
    if (er_str_starts(token, API_PREFIX))
        return api_token_user(s, token, out, err);
    return access_token_user(s, token, out, err);
}

int srv_auth_request(srv_req *r)
{
    const char *h = srv_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        r->extra = "WWW-Authenticate: Bearer realm=\"errand\"\r\n";
        return srv_reply_error(r, 401, NULL,
                               "this route needs a bearer token: Authorization: Bearer TOKEN "
                               "(an API token from `errand user token`, or an access token "
                               "from POST /api/v1/auth/token)");
    }
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    er_error err = { 0 };
    int rc = srv_auth_token(r->s, token, &r->user, &err);
    if (rc == 0)
        return 0;
    if (rc != ER_EAUTH)
        return srv_reply_err(r, &err);
    r->extra = "WWW-Authenticate: Bearer realm=\"errand\", error=\"invalid_token\"\r\n";
    return srv_reply_error(r, 401, NULL, "%s", err.msg);
}

/* The role claim is informative only: every request looks the role up. */
static char *access_token(srv *s, const er_user *u, const char *sid, int64_t now_s, int64_t exp_s)
{
    cJSON *c = cJSON_CreateObject();
    er_json_add_str(c, "iss", ISSUER);
    er_json_add_str(c, "sub", u->id);
    er_json_add_str(c, "sid", sid);
    er_json_add_str(c, "name", u->name);
    er_json_add_str(c, "role", u->role);
    er_json_add_num(c, "iat", (double)now_s);
    er_json_add_num(c, "exp", (double)exp_s);
    er_buf jti = ER_BUF_INIT;
    srv_random_token("", 12, &jti);
    er_json_add_str(c, "jti", jti.ptr);
    er_buf_release(&jti);
    char *t = srv_jwt_sign_hs256(s->jwt_hmac, c);
    cJSON_Delete(c);
    return t;
}

/* The session of a new pair: a new one, or the one being refreshed; its end
 * (*expires_ms) is fixed when it starts. */
static int pair_session(srv *s, er_store *st, const er_user *u, const char *family,
                        const char *api_token_id, char fam[ER_ID_LEN], int64_t *expires_ms,
                        er_error *err)
{
    if (!family) {
        er_id_new(fam);
        *expires_ms = er_time_ms() + s->cfg->refresh_ttl * 1000;
        return er_store_session_start(st, fam, u->id, api_token_id, *expires_ms, err);
    }
    er_strlcpy(fam, family, ER_ID_LEN);
    er_session ses;
    int rc = er_store_session_get(st, fam, &ses, err);
    if (!rc)
        rc = er_store_session_touch(st, fam, err);
    *expires_ms = ses.expires_ms;
    return rc;
}

int srv_auth_issue(srv *s, const er_user *u, const char *family, const char *api_token_id,
                   cJSON **out, er_error *err)
{
    er_store *st;
    int rc = er_env_store(s->env, &st, err);
    if (rc)
        return rc;
    char fam[ER_ID_LEN];
    int64_t expires_ms = 0, now_ms = er_time_ms();
    rc = pair_session(s, st, u, family, api_token_id, fam, &expires_ms, err);
    if (rc)
        return rc;
    er_buf refresh = ER_BUF_INIT;
    srv_random_token(REFRESH_PREFIX, 32, &refresh);
    char digest[65];
    srv_sha256_hex(refresh.ptr, refresh.len, digest);
    rc = er_store_refresh_add(st, u->id, fam, digest, expires_ms, err);
    if (rc) {
        er_buf_release(&refresh);
        return rc;
    }
    /* Neither token outlives the session. */
    int64_t access_exp = now_ms / 1000 + s->cfg->access_ttl;
    if (access_exp > expires_ms / 1000)
        access_exp = expires_ms / 1000;
    char *access = access_token(s, u, fam, now_ms / 1000, access_exp);
    if (!access) {
        er_buf_release(&refresh);
        return er_error_set(err, ER_EINTERNAL, "cannot sign the access token (libcrypto)");
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add_str(j, "access_token", access);
    er_json_add_str(j, "token_type", "Bearer");
    er_json_add_num(j, "expires_in", (double)(access_exp - now_ms / 1000));
    er_json_add_str(j, "refresh_token", refresh.ptr);
    er_json_add_num(j, "refresh_expires_in", (double)((expires_ms - now_ms) / 1000));
    er_json_add_str(j, "session_id", fam);
    cJSON *uj = cJSON_CreateObject();
    er_json_add_str(uj, "id", u->id);
    er_json_add_str(uj, "name", u->name);
    er_json_add_str(uj, "role", u->role);
    er_json_add(j, "user", uj);
    free(access);
    er_buf_release(&refresh);
    *out = j;
    return 0;
}

int srv_api_token_issue(er_store *st, const char *user_id, const char *label,
                        char token_out[SRV_TOKEN_MAX], char id_out[ER_ID_LEN], er_error *err)
{
    int rc = srv_crypto_load(err);
    if (rc)
        return rc;
    er_buf t = ER_BUF_INIT;
    srv_random_token(API_PREFIX, 32, &t);
    char digest[65];
    srv_sha256_hex(t.ptr, t.len, digest);
    rc = er_store_api_token_add(st, user_id, label, digest, id_out, err);
    if (rc == 0)
        er_strlcpy(token_out, t.ptr, SRV_TOKEN_MAX);
    er_buf_release(&t);
    return rc;
}
