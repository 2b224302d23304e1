/* test_gmail_mail.c — the mail seam's Gmail backend (src/mail/gmail.c)
 * against the fake Gmail API (tests/fakes/fake_gmail.c) over the fixture
 * mailbox tests/fixtures/gmail: labels as folders, search mapped onto q with
 * pages of two, raw reads that leave mail unread, threads, drafts, send,
 * labels changed, and a token that dies before a listing; then the
 * metadata cache (mail_cache.h) over the same account: a full listing by
 * batch gets, hits, incremental refresh by history.list, an expired history
 * id, and over-quota answers retried.  With ERRAND_TEST_MAIL_REDIS_URL
 * (backend.mail.gmail.redis) the cache part runs networked instead, in that
 * Redis database (emptied first): keys email:cached:{id} and the
 * mailbox-wide index email:cached:*:index. */
#include "check.h"
#include "fakes/fake_proc.h"
#include "tools_util.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/mail_cache.h"
#include "errand/env.h"
#include "errand/gmail_auth.h"
#include "errand/json.h"
#include "errand/mail.h"
#include "errand/untrusted.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The browser of the consent flow: the fake's redirect to errand's listener. */
static void *browse(void *arg)
{
    const char *url = arg;
    er_http_req req = { .url = url, .configured_endpoint = true };
    er_http_resp resp;
    er_error err;
    if (er_http_request(&resp, &req, &err) == 0 && resp.location) {
        char *back = er_xstrdup(resp.location);
        er_http_resp_release(&resp);
        er_http_req again = { .url = back, .configured_endpoint = true };
        er_http_request(&resp, &again, &err);
        free(back);
    }
    er_http_resp_release(&resp);
    return NULL;
}

static int authorise(er_store *st)
{
    er_error err;
    er_gmail_flow f;
    int rc = er_gmail_flow_begin(&f, &cfg, "modify", &err);
    if (rc)
        return rc;
    pthread_t th;
    pthread_create(&th, NULL, browse, f.url);
    char *code = NULL;
    rc = er_gmail_flow_wait(&f, 10000, NULL, &code, &err);
    pthread_join(th, NULL);
    if (!rc)
        rc = er_gmail_flow_finish(&f, &cfg, st, "personal", code, NULL, &err);
    free(code);
    er_gmail_flow_release(&f);
    return rc;
}

static size_t search(er_mail *m, const er_mail_query *q, er_mail_summary **v)
{
    size_t n = 0;
    er_error err;
    CHECK_OK(er_mail_search(m, q, v, &n, &err));
    return n;
}

static void test_backend(er_mail *m)
{
    er_error err;
    er_strv folders = ER_STRV_INIT;
    CHECK_OK(er_mail_folders(m, &folders, &err));
    bool inbox = false, projects = false;
    for (size_t i = 0; i < folders.n; i++) {
        inbox |= strcmp(folders.v[i], "INBOX") == 0;
        projects |= strcmp(folders.v[i], "Projects") == 0;
    }
    CHECK(inbox && projects);
    er_strv_free(&folders);

    /* Three messages over pages of two, newest first. */
    int lists = stat_of("lists");
    er_mail_summary *v = NULL;
    er_mail_query all = { .limit = 10 };
    size_t n = search(m, &all, &v);
    CHECK_INT((int)n, 3);
    CHECK_INT(stat_of("lists") - lists, 2);
    if (n == 3) {
        CHECK_STR(v[0].subject, "Re: Budget for Q3");
        CHECK_STR(v[2].message_id, "<budget-1@example.test>");
        CHECK(v[0].unread && strstr(v[0].from, "alice@example.test") && v[0].size > 100);
    }
    char *reply = n ? er_xstrdup(v[0].id) : er_xstrdup("none");
    char *lunch = n > 1 ? er_xstrdup(v[1].id) : er_xstrdup("none");
    er_mail_summaries_free(v, n);

    /* The limit stops the listing; the fields become Gmail's q. */
    er_mail_query one = { .limit = 1 };
    n = search(m, &one, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query from = { .from = "alice", .limit = 10 };
    n = search(m, &from, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 2);
    er_mail_query subj = { .subject = "budget for", .since = "2026-11-03", .limit = 10 };
    n = search(m, &subj, &v);
    CHECK_INT((int)n, 1);
    if (n)
        CHECK_STR(v[0].id, reply);
    er_mail_summaries_free(v, n);
    er_mail_query before = { .before = "2026-11-03", .text = "Friday", .limit = 10 };
    n = search(m, &before, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query mid = { .message_id = "<lunch-1@example.test>", .limit = 1 };
    n = search(m, &mid, &v);
    CHECK(n == 1 && strcmp(v[0].id, lunch) == 0);
    er_mail_summaries_free(v, n);

    /* A raw read, and the message still unread. */
    er_buf raw = ER_BUF_INIT;
    CHECK_OK(er_mail_fetch(m, reply, &raw, &err));
    CHECK(raw.ptr && strstr(raw.ptr, "figures are due on Friday") &&
          strstr(raw.ptr, "In-Reply-To: <budget-1@example.test>"));
    er_buf_release(&raw);
    er_mail_query unread = { .unread = true, .limit = 10 };
    n = search(m, &unread, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 3);
    CHECK_INT(er_mail_fetch(m, "0000000000000000", &raw, &err), ER_ENOTFOUND);
    er_buf_release(&raw);

    /* The thread: both budget messages, oldest first. */
    er_strv ids = ER_STRV_INIT;
    CHECK(m->be->thread != NULL);
    CHECK_OK(m->be->thread(m, reply, &ids, &err));
    CHECK_INT((int)ids.n, 2);
    if (ids.n == 2)
        CHECK_STR(ids.v[1], reply);
    er_strv_free(&ids);

    /* A 401 before a listing: refreshed once, the listing completes. */
    int refreshes = stat_of("refreshes");
    cJSON_Delete(fake_call("POST", "/_fake/expire"));
    n = search(m, &all, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 3);
    CHECK_INT(stat_of("refreshes") - refreshes, 1);
    /* …and between the first page and the second. */
    refreshes = stat_of("refreshes");
    lists = stat_of("lists");
    cJSON_Delete(fake_call("POST", "/_fake/expire_after?requests=2"));
    n = search(m, &all, &v);
    CHECK_INT((int)n, 3);
    if (n == 3)
        CHECK_STR(v[2].message_id, "<budget-1@example.test>");
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("refreshes") - refreshes, 1);
    CHECK_INT(stat_of("lists") - lists, 2);

    /* Labels: read, starred, moved. */
    CHECK_OK(er_mail_flag(m, lunch, "\\Seen", true, &err));
    n = search(m, &unread, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 2);
    char *moved = NULL;
    CHECK_OK(er_mail_move(m, lunch, "Projects", &moved, &err));
    CHECK_STR(moved, lunch);
    free(moved);
    er_mail_query proj = { .folder = "Projects", .limit = 10 };
    n = search(m, &proj, &v);
    CHECK(n == 1 && strcmp(v[0].id, lunch) == 0 && !v[0].unread);
    er_mail_summaries_free(v, n);
    n = search(m, &all, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 2);
    CHECK_INT(er_mail_move(m, lunch, "Nowhere", NULL, &err), ER_ENOTFOUND);

    /* A draft through drafts.create, found by its Message-ID. */
    const char *draft = "From: me@example.test\r\nTo: alice@example.test\r\n"
                        "Subject: Re: Budget for Q3\r\nMessage-ID: <draft-1@example.test>\r\n"
                        "In-Reply-To: <budget-2@example.test>\r\n\r\nFigures attached.\r\n";
    CHECK_OK(er_mail_append(m, "DRAFT", "\\Draft \\Seen", draft, strlen(draft), &err));
    CHECK_INT(stat_of("drafts"), 1);
    er_mail_query d = { .folder = "DRAFT", .message_id = "draft-1@example.test", .limit = 1 };
    n = search(m, &d, &v);
    CHECK_INT((int)n, 1);
    /* The reply's draft joins the budget thread: its threadId was given. */
    if (n == 1) {
        CHECK_OK(m->be->thread(m, v[0].id, &ids, &err));
        CHECK_INT((int)ids.n, 3);
        er_strv_free(&ids);
    }
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("sent"), 0);

    /* Send: Gmail files it under SENT; found there by rfc822msgid. */
    CHECK(m->be->files_sent);
    er_strv rcpts = ER_STRV_INIT;
    er_strv_push(&rcpts, "alice@example.test");
    const char *out = "From: me@example.test\r\nTo: alice@example.test\r\n"
                      "Subject: Figures\r\nMessage-ID: <sent-1@example.test>\r\n\r\nHere.\r\n";
    CHECK_OK(er_mail_send(m, "me@example.test", &rcpts, out, strlen(out), &err));
    er_strv_free(&rcpts);
    CHECK_INT(stat_of("sent"), 1);
    er_mail_query s = { .folder = "SENT", .message_id = "<sent-1@example.test>", .limit = 1 };
    n = search(m, &s, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);

    /* An operator Gmail's fake does not know is the API's 400, passed on. */
    er_mail_query bad = { .text = "has:attachment", .limit = 1 };
    CHECK_INT(er_mail_search(m, &bad, &v, &n, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "Invalid search query") != NULL);
    er_mail_summaries_free(v, n);
    free(reply);
    free(lunch);
}

static bool same_ids(er_mail_summary *a, size_t na, er_mail_summary *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].id, b[i].id) != 0 || a[i].unread != b[i].unread ||
            strcmp(a[i].subject, b[i].subject) != 0)
            return false;
    return true;
}

/* A cached search checked against the server's own answer. */
static size_t both(er_mail *m, const er_mail_query *q, er_mail_summary **v)
{
    er_mail_summary *direct = NULL;
    size_t nd = 0, n = search(m, q, v);
    er_error err;
    CHECK_OK(m->be->search(m, q, &direct, &nd, &err));
    CHECK(same_ids(*v, n, direct, nd));
    er_mail_summaries_free(direct, nd);
    return n;
}

/* The raw value at key in the shared cache ("" when absent). */
static char *cached_value(er_cache *c, const char *key)
{
    char *v = NULL;
    er_error err = { 0 };
    if (er_cache_get(c, key, &v, NULL, &err) != 0)
        return er_xstrdup("");
    return v;
}

/* shared: the networked run's cache, or NULL (the store's). */
static void test_cache(er_store *st, er_cache *shared)
{
    er_error err;
    er_config c = { 0 };
    CHECK_OK(er_config_set(&c, "mail.cached.provider", "gmail", &err));
    CHECK_OK(er_config_set(&c, "mail.cached.from", "me@example.test", &err));
    CHECK_OK(er_config_set(&c, "mail.cached.credential", "personal", &err));
    er_mail_account a;
    CHECK_OK(er_mail_account_resolve(&a, &c, "cached", &err));
    a.cfg = &cfg;
    a.store = st;
    a.cache = shared;
    er_mail *m = NULL;
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    CHECK(m->cache != NULL);
    if (m->cache)
        CHECK_STR(m->cache->ops->name, shared ? "cache" : "store");
    er_mail_summary *v = NULL;
    size_t n;
    er_mail_query inbox = { .limit = 10 }, unread = { .unread = true, .limit = 10 };

    /* The first search lists the mailbox and gets its metadata in batches. */
    int lists = stat_of("lists"), gets = stat_of("gets"), batches = stat_of("batches");
    int messages = stat_of("messages");
    n = search(m, &inbox, &v);
    CHECK(n >= 2);
    er_mail_summaries_free(v, n);
    CHECK(stat_of("lists") - lists >= 1); /* pages of two */
    CHECK(stat_of("batches") - batches >= 1);
    CHECK_INT(stat_of("gets") - gets, messages);
    n = both(m, &inbox, &v);
    char *index0 = NULL;
    if (shared) { /* one summary per message, one index for the mailbox */
        for (size_t i = 0; i < n; i++) {
            char *key = er_xasprintf("email:cached:%s", v[i].id), *val = cached_value(shared, key);
            CHECK(strstr(val, v[i].id) != NULL);
            free(val);
            free(key);
        }
        index0 = cached_value(shared, "email:cached:*:index");
        CHECK(strstr(index0, "\"ids\"") != NULL);
    }
    er_mail_summaries_free(v, n);

    /* A hit: one history.list, nothing listed or fetched (nor written). */
    lists = stat_of("lists");
    gets = stat_of("gets");
    int histories = stat_of("histories");
    n = search(m, &inbox, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("lists"), lists);
    CHECK_INT(stat_of("gets"), gets);
    CHECK_INT(stat_of("histories") - histories, 1);
    size_t before = n;
    if (shared) {
        char *index1 = cached_value(shared, "email:cached:*:index");
        CHECK_STR(index1, index0);
        free(index1);
    }
    free(index0);

    /* A new message: the history brings it, and only it is fetched. */
    const char *raw = "From: Erin <erin@example.test>\r\nTo: me@example.test\r\n"
                      "Subject: Cache news\r\nDate: Tue, 10 Nov 2026 10:00:00 +0000\r\n"
                      "Message-ID: <cache-1@example.test>\r\n\r\nHello.\r\n";
    CHECK_OK(er_mail_append(m, "INBOX", "", raw, strlen(raw), &err));
    gets = stat_of("gets");
    n = search(m, &inbox, &v);
    CHECK_INT((int)n, (int)before + 1);
    if (n)
        CHECK(strcmp(v[0].subject, "Cache news") == 0 && v[0].unread);
    char *erin = n ? er_xstrdup(v[0].id) : er_xstrdup("");
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("gets") - gets, 1);
    CHECK_INT(stat_of("lists"), lists);
    er_mail_query from = { .from = "ERIN", .limit = 5 };
    n = both(m, &from, &v);
    CHECK_INT((int)n, 1);
    er_mail_summaries_free(v, n);
    er_mail_query mid = { .message_id = "cache-1@example.test", .limit = 1 };
    n = both(m, &mid, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query day = { .since = "2026-11-10", .before = "2026-11-11", .limit = 5 };
    n = both(m, &day, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);

    /* A label changed elsewhere: labelsRemoved UNREAD. */
    CHECK_OK(m->be->flag(m, erin, "\\Seen", true, &err));
    lists = stat_of("lists");
    n = search(m, &unread, &v);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(v[i].id, erin) != 0);
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("lists"), lists);
    n = both(m, &unread, &v);
    er_mail_summaries_free(v, n);

    /* Deleted for good elsewhere: messagesDeleted takes it out. */
    char *del = er_xasprintf("/gmail/v1/users/me/messages/%s", erin);
    er_http_resp dr;
    char *auth_hdr = NULL;
    {
        cJSON *st_j = fake_call("GET", "/_fake/stats");
        auth_hdr = er_xasprintf(
            "Authorization: Bearer %s",
            er_json_str(st_j, "last_access_token") ? er_json_str(st_j, "last_access_token") : "");
        cJSON_Delete(st_j);
    }
    char *del_url = er_xasprintf("%s%s", base, del);
    const char *hdrs[] = { auth_hdr, NULL };
    er_http_req dreq = {
        .url = del_url, .method = "DELETE", .headers = hdrs, .configured_endpoint = true
    };
    CHECK_OK(er_http_request(&dr, &dreq, &err));
    CHECK_INT((int)dr.status, 204);
    er_http_resp_release(&dr);
    free(del_url);
    free(auth_hdr);
    free(del);
    lists = stat_of("lists");
    n = search(m, &inbox, &v);
    CHECK_INT((int)n, (int)before);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(v[i].id, erin) != 0);
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("lists"), lists);
    n = both(m, &inbox, &v);
    er_mail_summaries_free(v, n);
    if (shared) { /* its summary left the cache with it */
        char *key = er_xasprintf("email:cached:%s", erin), *val = cached_value(shared, key);
        CHECK_STR(val, "");
        free(val);
        free(key);
    }

    /* Body text is the server's to search. */
    lists = stat_of("lists");
    er_mail_query text = { .text = "Friday", .limit = 5 };
    n = search(m, &text, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT(stat_of("lists") - lists, 1);

    /* History too old: 404, and the cache is listed again. */
    cJSON_Delete(fake_call("POST", "/_fake/expire_history"));
    lists = stat_of("lists");
    n = both(m, &inbox, &v);
    CHECK_INT((int)n, (int)before);
    er_mail_summaries_free(v, n);
    CHECK(stat_of("lists") - lists >= 2); /* the relisting, and both's own */

    /* Over quota: 429s and 403 userRateLimitExceeded, retried. */
    int throttled = stat_of("throttled");
    cJSON_Delete(fake_call("POST", "/_fake/throttle?count=2&status=429&retry_after=0"));
    n = search(m, &inbox, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, (int)before);
    CHECK_INT(stat_of("throttled") - throttled, 2);
    cJSON_Delete(fake_call("POST", "/_fake/throttle?count=3&status=403"));
    n = search(m, &inbox, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, (int)before);
    CHECK_INT(stat_of("throttled") - throttled, 5);
    /* …but not forever: past the tries the caller hears of it. */
    cJSON_Delete(fake_call("POST", "/_fake/throttle?count=50&status=403&retry_after=0"));
    CHECK(er_mail_search(m, &inbox, &v, &n, &err) != 0);
    CHECK(strstr(err.msg, "403") != NULL);
    cJSON_Delete(fake_call("POST", "/_fake/throttle?count=0"));

    /* A search outside the cache's batches still uses one: the plain search. */
    batches = stat_of("batches");
    er_mail_summary *direct = NULL;
    size_t nd = 0;
    CHECK_OK(m->be->search(m, &inbox, &direct, &nd, &err));
    CHECK_INT((int)nd, (int)before);
    CHECK_INT(stat_of("batches") - batches, 1);
    er_mail_summaries_free(direct, nd);
    free(erin);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_config_release(&c);
}

static void test_account(er_store *st)
{
    er_error err;
    er_config c = { 0 };
    CHECK_OK(er_config_set(&c, "mail.personal.provider", "gmail", &err));
    CHECK_OK(er_config_set(&c, "mail.personal.from", "me@example.test", &err));
    er_mail_account a;
    CHECK_OK(er_mail_account_resolve(&a, &c, "personal", &err));
    CHECK_STR(a.provider, "gmail");
    CHECK_STR(a.credential, "personal");
    CHECK_STR(a.sent, "SENT");
    CHECK_STR(a.drafts, "DRAFT");
    /* The real API client needs the test's URLs. */
    a.cfg = &cfg;
    a.store = st;
    er_mail *m = NULL;
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (m) {
        CHECK(m->be == &er_mail_gmail_backend);
        CHECK(m->cache == NULL); /* cache = off */
        test_backend(m);
    }
    er_mail_close(m);
    er_mail_account_release(&a);
    CHECK_OK(er_config_set(&c, "mail.other.provider", "yahoo", &err));
    CHECK_INT(er_mail_account_resolve(&a, &c, "other", &err), ER_EINVAL);
    CHECK(strstr(err.msg, "yahoo") != NULL);
    er_config_release(&c);
}

static cJSON *call(er_env *env, const char *tool, const char *args)
{
    er_tool_ctx ctx = tu_ctx("/tmp");
    ctx.env = env;
    cJSON *r = NULL;
    er_error err = { 0 };
    int rc = tu_call(&r, tool, &ctx, args, &err);
    if (rc)
        fprintf(stderr, "%s %s: %s\n", tool, args, err.msg);
    CHECK(rc == 0);
    return r;
}

/* The mail tools over a configured Gmail account (the runtime's approval
 * sits above them: e2e.gmail_injection). */
static void test_tools(void)
{
    er_config *c = er_xcalloc(1, sizeof *c);
    er_error err = { 0 };
    CHECK_OK(er_config_load(c, "/dev/null", &err));
    CHECK_OK(er_config_set(c, "store.database_url", db_url, &err));
    CHECK_OK(er_config_set(c, "gmail.client_id", "cid", &err));
    CHECK_OK(er_config_set(c, "gmail.client_secret", "cs", &err));
    CHECK_OK(er_config_set(c, "gmail.token_url", cfg.gmail_token_url, &err));
    CHECK_OK(er_config_set(c, "gmail.api_url", base, &err));
    CHECK_OK(er_config_set(c, "mail.g.provider", "gmail", &err));
    CHECK_OK(er_config_set(c, "mail.g.credential", "personal", &err));
    CHECK_OK(er_config_set(c, "mail.g.from", "me@example.test", &err));
    er_env *env = NULL;
    CHECK_OK(er_env_new(&env, c, &err));
    if (!env)
        return;
    cJSON *r = call(env, "mail_search", "{\"from\":\"alice\",\"folder\":\"INBOX\"}");
    CHECK_INT((int)er_json_num(r, "count", -1), 2);
    CHECK(tu_contains(er_json_str(r, "listing"), ER_UNTRUSTED_OPEN));
    const cJSON *first = cJSON_GetArrayItem(er_json_arr(r, "messages"), 0);
    char *reply = er_xstrdup(er_json_str(first, "id") ? er_json_str(first, "id") : "");
    cJSON_Delete(r);

    /* read: fenced, and Gmail still has it unread */
    int modified = stat_of("modified");
    char *args = TU_ARGS("{\"id\":\"%s\"}", reply);
    r = call(env, "mail_read", args);
    CHECK(tu_contains(er_json_str(r, "message"), "figures are due on Friday"));
    CHECK(tu_contains(er_json_str(r, "message"), ER_UNTRUSTED_OPEN));
    cJSON_Delete(r);
    CHECK_INT(stat_of("modified"), modified);
    r = call(env, "mail_thread", args);
    CHECK_INT((int)er_json_num(r, "count", 0), 3); /* with the draft of test_backend */
    cJSON_Delete(r);
    free(args);

    /* a reply drafted, then sent once: the second send finds it in SENT */
    int sent = stat_of("sent");
    args = TU_ARGS("{\"reply_to\":\"%s\",\"to\":\"alice@example.test\","
                   "\"subject\":\"Re: Budget for Q3\",\"body\":\"Attached.\"}",
                   reply);
    r = call(env, "mail_draft", args);
    free(args);
    char *draft = er_xstrdup(er_json_str(r, "draft_id") ? er_json_str(r, "draft_id") : "");
    CHECK(draft[0] != '\0');
    cJSON_Delete(r);
    CHECK_INT(stat_of("sent"), sent);
    args = TU_ARGS("{\"draft_id\":\"%s\"}", draft);
    r = call(env, "mail_send", args);
    CHECK(er_json_bool(r, "sent", false));
    cJSON_Delete(r);
    CHECK_INT(stat_of("sent"), sent + 1);
    r = call(env, "mail_send", args);
    CHECK(er_json_bool(r, "already_sent", false) && !er_json_bool(r, "sent", true));
    cJSON_Delete(r);
    CHECK_INT(stat_of("sent"), sent + 1);
    free(args);
    free(draft);
    free(reply);
    er_env_close(env);
}

int main(void)
{
    const char *data = getenv("ERRAND_TEST_FIXTURES");
    char *box = er_xasprintf("%s/gmail", data ? data : "tests/fixtures");
    const char *args[] = { "--client-id", "cid", "--client-secret", "cs",       "--mailbox", box,
                           "--page",      "2",   "--label",         "Projects", NULL };
    int rc = fake_proc_start(&fake, "fake_gmail", args);
    if (rc == 77) {
        fprintf(stderr, "fake_gmail not built; skipping\n");
        free(box);
        return 77;
    }
    if (rc) {
        fprintf(stderr, "cannot start fake_gmail\n");
        free(box);
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", fake.port);
    char *auth = er_xasprintf("%s/o/oauth2/v2/auth", base), *token = er_xasprintf("%s/token", base);
    cfg.gmail_client_id = "cid";
    cfg.gmail_client_secret = "cs";
    cfg.gmail_auth_url = auth;
    cfg.gmail_token_url = token;
    cfg.gmail_api_url = base;
    setenv("ERRAND_SECRET_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
           1);
    char dir[] = "/tmp/errand-test-gmail-mail-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(db_url, sizeof db_url, "sqlite://%s/store.db", dir);
    er_error err;
    er_store *st = NULL;
    CHECK_OK(er_store_open(&st, db_url, &err));
    CHECK_OK(er_store_migrate(st, NULL, &err));
    /* The first account asks Gmail every time (its counts are checked). */
    CHECK_OK(er_config_set(&cfg, "mail.personal.cache", "off", &err));
    setenv("ERRAND_HTTP_BACKOFF_MS", "5", 1);
    if (st) {
        CHECK_OK(authorise(st));
        test_account(st);
        /* Networked, the cache part runs in Redis instead of the store
         * (the fake's mailbox and history as the local run finds them). */
        const char *redis_url = getenv("ERRAND_TEST_MAIL_REDIS_URL");
        er_cache *shared = NULL;
        if (!er_str_empty(redis_url)) { /* the database is this test's alone */
            char *flush = er_xasprintf("redis-cli -u '%s' flushdb >/dev/null", redis_url);
            CHECK_INT(system(flush), 0);
            free(flush);
            CHECK_OK(er_cache_open(&shared, redis_url, &err));
        }
        if (er_str_empty(redis_url) || shared)
            test_cache(st, shared);
        er_cache_close(shared);
    }
    er_store_close(st);
    st = NULL;
    test_tools();
    er_store_close(st);
    fake_proc_stop(&fake);
    char *cmd = er_xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
    free(auth);
    free(token);
    free(box);
    return check_done();
}
