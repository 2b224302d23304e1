/* test_gmail_auth.c — Gmail's OAuth 2.0 client (include/errand/gmail_auth.h)
 * against the fake Google (tests/fakes/fake_gmail.c): the loopback flow with
 * a thread playing the browser, tokens reused while fresh and refreshed a
 * minute before expiry, a refresh on 401, rotated refresh tokens replacing the
 * stored ones (also when two processes refresh at once), invalid_grant. */
#include "check.h"
#include "fakes/fake_proc.h"
#include "errand/alloc.h"
#include "errand/gmail_auth.h"
#include "errand/json.h"
#include "errand/store_credential.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static fake_proc fake;
static char base[64], db_url[256];
static er_config cfg;

static cJSON *fake_call(const char *method, const char *path)
{
    char *url = er_xasprintf("%s%s", base, path);
    er_http_req req = { .url = url, .method = method, .body = "", .configured_endpoint = true };
    er_http_resp resp;
    er_error err;
    cJSON *j = NULL;
    if (er_http_request(&resp, &req, &err) == 0 && resp.status == 200)
        er_json_parse(&j, resp.body.ptr, resp.body.len, NULL);
    er_http_resp_release(&resp);
    free(url);
    return j;
}

static int stat_of(const char *key)
{
    cJSON *j = fake_call("GET", "/_fake/stats");
    int v = (int)er_json_int(j, key, -1, -1, 1000000);
    cJSON_Delete(j);
    return v;
}

static char *stat_str(const char *key)
{
    cJSON *j = fake_call("GET", "/_fake/stats");
    char *v = er_xstrdup(er_json_str(j, key) ? er_json_str(j, key) : "");
    cJSON_Delete(j);
    return v;
}

/* The browser: consent URL → the fake's redirect → errand's listener. */
typedef struct browser {
    const char *url;
    long status;
} browser;

static void *browse(void *arg)
{
    browser *b = arg;
    er_http_req req = { .url = b->url, .configured_endpoint = true };
    er_http_resp resp;
    er_error err;
    if (er_http_request(&resp, &req, &err) == 0 && resp.location) {
        char *back = er_xstrdup(resp.location);
        er_http_resp_release(&resp);
        er_http_req again = { .url = back, .configured_endpoint = true };
        if (er_http_request(&resp, &again, &err) == 0)
            b->status = resp.status;
        free(back);
    }
    er_http_resp_release(&resp);
    return NULL;
}

static void test_flow(er_store *st)
{
    er_error err;
    char *scopes = NULL;
    CHECK_OK(er_gmail_scopes(&scopes, "readonly, modify", &err));
    CHECK_STR(scopes, "https://www.googleapis.com/auth/gmail.readonly "
                      "https://www.googleapis.com/auth/gmail.modify");
    char *bad = NULL;
    CHECK_INT(er_gmail_scopes(&bad, "readonly,everything", &err), ER_EINVAL);
    CHECK(bad == NULL && strstr(err.msg, "everything") != NULL);

    er_gmail_flow f;
    CHECK_OK(er_gmail_flow_begin(&f, &cfg, scopes, &err));
    CHECK(f.oauth.port > 0 && strstr(f.url, "code_challenge_method=S256"));
    browser b = { f.url, 0 };
    pthread_t th;
    pthread_create(&th, NULL, browse, &b);
    char *code = NULL, *account = NULL;
    CHECK_OK(er_gmail_flow_wait(&f, 10000, NULL, &code, &err));
    pthread_join(th, NULL);
    CHECK_INT(b.status, 200);
    CHECK(code && er_str_starts(code, "4/0A"));
    CHECK_OK(er_gmail_flow_finish(&f, &cfg, st, "gmail", code, &account, &err));
    CHECK_STR(account, "me@example.test");
    /* A code works once. */
    CHECK_INT(er_gmail_flow_finish(&f, &cfg, st, "gmail", code, NULL, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "invalid_grant") != NULL);
    CHECK_INT(stat_of("exchanges"), 1);
    free(code);
    free(account);
    free(scopes);
    er_gmail_flow_release(&f);

    /* Nobody comes: a timeout, not a hang. */
    CHECK_OK(er_gmail_flow_begin(&f, &cfg, "x", &err));
    CHECK_INT(er_gmail_flow_wait(&f, 300, NULL, &code, &err), ER_ETIMEDOUT);
    er_gmail_flow_release(&f);
}

static void test_tokens(er_store *st)
{
    er_error err;
    char *tok = NULL, *issued = stat_str("last_access_token");
    /* Fresh: the stored token, no refresh. */
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", false, &err));
    CHECK_STR(tok, issued);
    CHECK_INT(stat_of("refreshes"), 0);
    free(tok);
    free(issued);

    /* Forced: refreshed; the fake rotates the refresh token, and only the new
     * one works from now on — a second refresh proves it was stored. */
    char *r1 = stat_str("last_refresh_token");
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", true, &err));
    free(tok);
    char *r2 = stat_str("last_refresh_token");
    CHECK(strcmp(r1, r2) != 0);
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", true, &err));
    CHECK_INT(stat_of("refreshes"), 2);
    CHECK_INT(stat_of("invalid_grants"), 1); /* the reused code above only */
    free(tok);
    free(r1);
    free(r2);

    /* A 401 from the API: one refresh, the request made again. */
    er_http_resp resp;
    CHECK_OK(er_gmail_request(&resp, &cfg, st, "gmail", "GET", "/gmail/v1/users/me/profile", NULL,
                              NULL, 0, &err));
    CHECK_INT(resp.status, 200);
    er_http_resp_release(&resp);
    cJSON_Delete(fake_call("POST", "/_fake/expire"));
    CHECK_OK(er_gmail_request(&resp, &cfg, st, "gmail", "GET", "/gmail/v1/users/me/profile", NULL,
                              NULL, 0, &err));
    CHECK_INT(resp.status, 200);
    CHECK(resp.body.ptr && strstr(resp.body.ptr, "me@example.test"));
    er_http_resp_release(&resp);
    CHECK_INT(stat_of("unauthorized"), 1);
    CHECK_INT(stat_of("refreshes"), 3);

    /* Near expiry: refreshed without being asked.  A token that lives less
     * than two minutes is due at half its life (oauth.h), not at once. */
    cJSON_Delete(fake_call("POST", "/_fake/ttl?seconds=2"));
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", true, &err));
    free(tok);
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", false, &err));
    free(tok);
    CHECK_INT(stat_of("refreshes"), 4); /* still fresh: used as it is */
    nanosleep(&(struct timespec){ 1, 200 * 1000000L }, NULL);
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", false, &err));
    free(tok);
    CHECK_INT(stat_of("refreshes"), 5);
    cJSON_Delete(fake_call("POST", "/_fake/ttl?seconds=3600"));
}

typedef struct racer {
    int rc;
    er_error err;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    er_store *st = NULL;
    r->rc = er_store_open(&st, db_url, &r->err);
    char *tok = NULL;
    if (!r->rc)
        r->rc = er_gmail_access_token(&tok, &cfg, st, "gmail", true, &r->err);
    free(tok);
    er_store_close(st);
    return NULL;
}

static void test_race_and_invalid_grant(er_store *st)
{
    er_error err;
    /* Two processes refresh the same rotating token at once: the loser's
     * refresh token is retired by the winner, yet both end with a token. */
    racer r[2] = { { .rc = 99 }, { .rc = 99 } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race, &r[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        if (r[i].rc)
            fprintf(stderr, "racer %d: %s\n", i, r[i].err.msg);
        CHECK_INT(r[i].rc, 0);
    }
    char *tok = NULL;
    CHECK_OK(er_gmail_access_token(&tok, &cfg, st, "gmail", true, &err));
    free(tok);

    /* Revoked at Google: the user is told to authorise again. */
    cJSON_Delete(fake_call("POST", "/_fake/revoke_all"));
    CHECK_INT(er_gmail_access_token(&tok, &cfg, st, "gmail", true, &err), ER_EAUTH);
    CHECK(strstr(err.msg, "invalid_grant") && strstr(err.msg, "errand auth gmail` again"));
    CHECK_INT(er_gmail_access_token(&tok, &cfg, st, "nobody", false, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "errand auth gmail nobody") != NULL);
    /* The stored authorisation is intact for a later fix (not deleted). */
    er_credential c;
    CHECK_OK(er_store_credential_get(st, "gmail", &c, &err));
    er_credential_release(&c);
}

int main(void)
{
    const char *args[] = { "--client-id", "cid", "--client-secret", "cs", "--rotate", NULL };
    int rc = fake_proc_start(&fake, "fake_gmail", args);
    if (rc == 77) {
        fprintf(stderr, "fake_gmail not built; skipping\n");
        return 77;
    }
    if (rc) {
        fprintf(stderr, "cannot start fake_gmail\n");
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", fake.port);
    char *auth = er_xasprintf("%s/o/oauth2/v2/auth", base), *token = er_xasprintf("%s/token", base);
    char *revoke = er_xasprintf("%s/revoke", base);
    cfg.gmail_client_id = "cid";
    cfg.gmail_client_secret = "cs";
    cfg.gmail_auth_url = auth;
    cfg.gmail_token_url = token;
    cfg.gmail_revoke_url = revoke;
    cfg.gmail_api_url = base;
    setenv("ERRAND_SECRET_KEY", "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
           1);
    char dir[] = "/tmp/errand-test-gmail-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(db_url, sizeof db_url, "sqlite://%s/store.db", dir);
    er_error err;
    er_store *st = NULL;
    CHECK_OK(er_store_open(&st, db_url, &err));
    CHECK_OK(er_store_migrate(st, NULL, &err));
    if (st) {
        test_flow(st);
        test_tokens(st);
        test_race_and_invalid_grant(st);
    }
    er_store_close(st);
    fake_proc_stop(&fake);
    char *cmd = er_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    free(auth);
    free(token);
    free(revoke);
    return check_done();
}
