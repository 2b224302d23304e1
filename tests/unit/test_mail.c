/* test_mail.c — the mail seam, MIME reading/writing and the mail tools.
 *
 * The first part needs nothing.  With ERRAND_TEST_IMAP_PORT and
 * ERRAND_TEST_SMTP_PORT set (backend.mail.imap: the dovecot fixture,
 * tests/servers/dovecot.sh) the tools run against a real Dovecot and
 * OpenSMTPD delivering into its Maildirs, as carol (the reader, variable
 * `alice`) and dave (the recipient, `bob`): the e2e tests use alice and bob.
 * What was sent is checked in the files OpenSMTPD delivered, after its queue
 * drained (ERRAND_TEST_MAIL_STATE, dovecot.sh settle).  Last, the metadata
 * cache (mail_cache.h) over carol's mailbox: answers checked against the
 * server's own search, hits, new mail, flags, expunges and a folder recreated
 * under a new UIDVALIDITY.
 *
 * With ERRAND_TEST_MAIL_REDIS_URL too (backend.mail.imap.redis), the same
 * cache tests run networked, over erin's mailbox, the cache in that Redis
 * database (which the test empties): its keys are looked at there, and
 * other processes (this program again, `test_mail --list FOLDER LIMIT`)
 * list from it without fetching, side by side, while mail arrives and
 * leaves. */
#include "check.h"
#include "tools_util.h"
#include "errand/config.h"
#include "errand/env.h"
#include "errand/mail.h"
#include "errand/mail_analyze.h"
#include "errand/mime.h"
#include "errand/store.h"
#include "errand/cache.h"
#include "errand/mail_cache.h"
#include "errand/backend/store_backend.h"
#include "errand/str.h"
#include "errand/untrusted.h"
#include <dirent.h>

static char *data_file(const char *name, size_t *len)
{
    const char *dir = getenv("ERRAND_TEST_DATA");
    char *path = er_xasprintf("%s/mail/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read test data %s\n", path);
        exit(1);
    }
    er_buf b = ER_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        er_buf_append(&b, chunk, n);
    fclose(f);
    free(path);
    *len = b.len;
    return er_buf_detach(&b);
}

static void test_config(void)
{
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    er_error err = { 0 };
    CHECK_OK(er_config_set(&cfg, "mail.work.imap_url", "imaps://imap.example.com/", &err));
    CHECK_OK(er_config_set(&cfg, "mail.work.user", "me@example.com", &err));
    CHECK_OK(er_config_set(&cfg, "mail.home.imap_url", "imaps://h.example.org", &err));
    CHECK(er_config_set(&cfg, "mail.work.pasword", "x", &err) == ER_ENOTFOUND);
    CHECK(er_config_set(&cfg, "mail.b@d.imap_url", "x", &err) == ER_EINVAL);
    CHECK_STR(er_config_mail(&cfg, "work", "user"), "me@example.com");
    CHECK(er_config_mail(&cfg, "home", "user") == NULL);
    er_mail_account a;
    CHECK_OK(er_mail_account_resolve(&a, &cfg, NULL, &err));
    CHECK_STR(a.name, "work");
    CHECK_STR(a.from, "me@example.com");
    CHECK_STR(a.sent, "Sent");
    er_mail_account_release(&a);
    CHECK_OK(er_mail_account_resolve(&a, &cfg, "home", &err));
    CHECK_STR(a.imap_url, "imaps://h.example.org");
    er_mail_account_release(&a);
    /* Networked, the metadata cache goes to the shared cache; cache_ttl in
     * seconds, checked (no server is reached by opening). */
    er_cache *shared = NULL;
    CHECK_OK(er_cache_open(&shared, NULL, &err));
    CHECK_OK(er_config_set(&cfg, "mail.work.cache_ttl", "soon", &err));
    CHECK_OK(er_mail_account_resolve(&a, &cfg, "work", &err));
    a.cfg = &cfg;
    a.cache = shared;
    er_mail *m = NULL;
    CHECK(er_mail_open(&m, &a, &err) == ER_EINVAL);
    CHECK(m == NULL && strstr(err.msg, "cache_ttl") != NULL);
    CHECK_OK(er_config_set(&cfg, "mail.work.cache_ttl", "60", &err));
    CHECK_OK(er_mail_open(&m, &a, &err));
    CHECK(m && m->cache && strcmp(m->cache->ops->name, "cache") == 0);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_cache_close(shared);
    CHECK(er_mail_account_resolve(&a, &cfg, "nope", &err) == ER_ENOTFOUND);
    CHECK_OK(er_config_set(&cfg, "mail.home.password_env", "ERRAND_TEST_UNSET_PW", &err));
    unsetenv("ERRAND_TEST_UNSET_PW");
    CHECK(er_mail_account_resolve(&a, &cfg, "home", &err) == ER_ENOTFOUND);
    CHECK(tu_contains(err.msg, "ERRAND_TEST_UNSET_PW"));
    er_config_release(&cfg);
}

static void test_tls_rule(void)
{
    er_error err = { 0 };
    bool lo = true;
    CHECK(er_mail_check_url("imap://imap.example.com/", &lo, &err) == ER_EDENIED);
    CHECK_OK(er_mail_check_url("imaps://imap.example.com/", &lo, &err));
    CHECK(!lo);
    CHECK_OK(er_mail_check_url("imap://127.0.0.1:143/", &lo, &err));
    CHECK(lo);
    CHECK_OK(er_mail_check_url("imap://[::1]:143/", &lo, &err));
    CHECK(lo);
    CHECK_OK(er_mail_check_url("smtp://smtp.example.com:587", &lo, &err)); /* STARTTLS forced */
    CHECK(!lo);
    CHECK(er_mail_check_url("http://example.com/", &lo, &err) == ER_EINVAL);
}

static void test_mime(void)
{
    er_error err = { 0 };
    size_t len;
    char *raw = data_file("alternative.eml", &len);
    cJSON *m = NULL;
    CHECK_OK(er_mime_parse(&m, raw, len, &err));
    CHECK_STR(er_json_str(m, "subject"), "Réunion on Friday");
    CHECK(tu_contains(er_json_str(m, "from"), "André Carol"));
    CHECK(tu_contains(er_json_str(m, "text"), "Café at 10, the agenda is long and this line is "
                                              "soft-wrapped here."));
    CHECK_STR(er_json_str(m, "text_from"), "plain");
    CHECK_STR(er_json_str(m, "message_id"), "<alt-1@example.test>");
    cJSON_Delete(m);
    free(raw);

    raw = data_file("mixed.eml", &len);
    CHECK_OK(er_mime_parse(&m, raw, len, &err));
    CHECK(tu_contains(er_json_str(m, "text"), "Grüße"));
    const cJSON *atts = er_json_arr(m, "attachments");
    CHECK_INT(cJSON_GetArraySize(atts), 1);
    const cJSON *a0 = cJSON_GetArrayItem(atts, 0);
    CHECK_STR(er_json_str(a0, "filename"), "report.pdf");
    CHECK_STR(er_json_str(a0, "content_type"), "application/pdf");
    CHECK_INT((int)er_json_num(a0, "size", 0), 52);
    er_buf content = ER_BUF_INIT;
    char *fn = NULL;
    CHECK_OK(er_mime_attachment(&content, &fn, raw, len, 0, &err));
    CHECK(content.len == 52 && memcmp(content.ptr, "%PDF-1.4", 8) == 0);
    CHECK_STR(fn, "report.pdf");
    free(fn);
    er_buf_release(&content);
    CHECK(er_mime_attachment(&content, &fn, raw, len, 1, &err) == ER_ENOTFOUND);
    er_buf_release(&content);
    cJSON_Delete(m);
    free(raw);

    raw = data_file("html_hidden.eml", &len);
    CHECK_OK(er_mime_parse(&m, raw, len, &err));
    CHECK_STR(er_json_str(m, "text_from"), "html");
    CHECK(tu_contains(er_json_str(m, "text"), "your mailbox is full"));
    CHECK(!tu_contains(er_json_str(m, "text"), "<p>"));
    cJSON_Delete(m);
    free(raw);

    raw = data_file("broken.eml", &len);
    CHECK_OK(er_mime_parse(&m, raw, len, &err));
    CHECK(tu_contains(er_json_str(m, "text"), "never closes"));
    cJSON_Delete(m);
    free(raw);
}

static void test_build(void)
{
    er_error err = { 0 };
    er_buf b = ER_BUF_INIT;
    er_mime_draft d = { .from = "alice@example.test",
                        .to = "Bob <bob@example.test>",
                        .subject = "Grüße aus Köln, ein ziemlich langer Betreff über mehrere "
                                   "Wörter hinweg",
                        .body = "Line one\nZeile zwei: äöü\n" };
    CHECK_OK(er_mime_build(&b, &d, &err));
    CHECK(tu_contains(er_buf_cstr(&b), "Message-ID: <"));
    CHECK(tu_contains(er_buf_cstr(&b), "@example.test>\r\n"));
    CHECK(tu_contains(er_buf_cstr(&b), "Subject: =?UTF-8?B?"));
    cJSON *m = NULL;
    CHECK_OK(er_mime_parse(&m, b.ptr, b.len, &err));
    CHECK_STR(er_json_str(m, "subject"), d.subject);
    CHECK(!tu_contains(er_json_str(m, "text"), "\r"));
    CHECK(tu_contains(er_json_str(m, "text"), "Zeile zwei: äöü\n"));
    cJSON_Delete(m);
    er_buf_release(&b);

    er_mime_draft evil = { .from = "a@example.test",
                           .to = "b@example.test",
                           .subject = "hi\r\nBcc: attacker@evil.test",
                           .body = "x" };
    CHECK(er_mime_build(&b, &evil, &err) == ER_EINVAL);
    er_buf_release(&b);
    er_mime_draft bad_to = { .from = "a@example.test", .to = "not an address", .body = "x" };
    CHECK(er_mime_build(&b, &bad_to, &err) == ER_EINVAL);
    er_buf_release(&b);

    er_strv v = ER_STRV_INIT;
    CHECK_OK(er_mime_addresses(&v, "\"Doe, Jane\" <jane@example.test>, bob@example.test", &err));
    CHECK_INT((int)v.n, 2);
    CHECK_STR(v.v[0], "jane@example.test");
    CHECK_STR(v.v[1], "bob@example.test");
    er_strv_free(&v);
}

static void test_analyze(void)
{
    cJSON *a = er_mail_analyze("URGENT: invoice overdue", "Billing <billing@example.test>",
                               "Hello,\nunfortunately your payment failed. Please pay the invoice "
                               "by Friday. Thanks.\nCould you also send me the receipt before "
                               "2026-12-10?\nRegards");
    CHECK_STR(er_json_str(a, "importance"), "high");
    CHECK_STR(er_json_str(a, "category"), "finance");
    CHECK_STR(er_json_str(a, "sentiment"), "negative");
    char *reasons = er_json_print(er_json_arr(a, "reasons"));
    CHECK(tu_contains(reasons, "urgent"));
    CHECK(tu_contains(reasons, "overdue"));
    free(reasons);
    const cJSON *items = er_json_arr(a, "action_items");
    CHECK_INT(cJSON_GetArraySize(items), 2);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(items, 0), "due"), "friday");
    CHECK_STR(er_json_str(cJSON_GetArrayItem(items, 1), "due"), "2026-12-10");
    CHECK(tu_contains(er_json_str(cJSON_GetArrayItem(items, 0), "text"), "Please pay"));
    cJSON_Delete(a);
    a = er_mail_analyze("Weekly digest", "news@example.test",
                        "Great news this week! Thank you for reading. Unsubscribe here.");
    CHECK_STR(er_json_str(a, "importance"), "low");
    CHECK_STR(er_json_str(a, "category"), "newsletter");
    CHECK_STR(er_json_str(a, "sentiment"), "positive");
    CHECK_INT(cJSON_GetArraySize(er_json_arr(a, "action_items")), 0);
    cJSON_Delete(a);
    a = er_mail_analyze(NULL, NULL, NULL);
    CHECK_STR(er_json_str(a, "importance"), "normal");
    cJSON_Delete(a);
}

/* ---- against the real servers ---- */

static char store_dir[] = "/tmp/errand-test-mail-XXXXXX";
/* Networked: the shared cache's URL; the cache tests' mailbox. */
static const char *redis_url;
static const char *cache_user = "carol@example.test", *cache_pw = "carolpw",
                  *cache_pw_var = "ERRAND_TEST_CAROL_PW";

static er_env *env_for(const char *user, const char *pw_var, int imap_port, int smtp_port)
{
    er_config *cfg = er_xcalloc(1, sizeof *cfg);
    er_error err = { 0 };
    CHECK_OK(er_config_load(cfg, "/dev/null", &err));
    char *imap = er_xasprintf("imap://127.0.0.1:%d/", imap_port);
    char *smtp = er_xasprintf("smtp://127.0.0.1:%d", smtp_port);
    CHECK_OK(er_config_set(cfg, "mail.t.imap_url", imap, &err));
    CHECK_OK(er_config_set(cfg, "mail.t.smtp_url", smtp, &err));
    CHECK_OK(er_config_set(cfg, "mail.t.user", user, &err));
    CHECK_OK(er_config_set(cfg, "mail.t.password_env", pw_var, &err));
    /* the tools keep the metadata cache in the store: a private one */
    char *db = er_xasprintf("sqlite://%s/%s.db", store_dir, user);
    CHECK_OK(er_config_set(cfg, "store.database_url", db, &err));
    if (redis_url)
        CHECK_OK(er_config_set(cfg, "cache.redis_url", redis_url, &err));
    free(db);
    free(imap);
    free(smtp);
    er_env *env = NULL;
    CHECK_OK(er_env_new(&env, cfg, &err));
    return env;
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

static int count_search(er_env *env, const char *args)
{
    cJSON *r = call(env, "mail_search", args);
    int n = r ? (int)er_json_num(r, "count", -1) : -1;
    cJSON_Delete(r);
    return n;
}

/* OpenSMTPD answers 250 before it delivers: wait until its queue is empty. */
static void settle(void)
{
    const char *servers = getenv("ERRAND_TEST_SERVERS"), *state = getenv("ERRAND_TEST_MAIL_STATE");
    CHECK(servers && state);
    if (!servers || !state)
        return;
    char *cmd = er_xasprintf("bash '%s/dovecot.sh' settle '%s'", servers, state);
    CHECK_INT(system(cmd), 0);
    free(cmd);
}

/* The messages with this Message-ID that OpenSMTPD delivered into user's
 * Maildir (new/, or cur/ once Dovecot has seen them); *raw the last one. */
static int delivered(const char *user, const char *message_id, er_buf *raw)
{
    int found = 0;
    const char *state = getenv("ERRAND_TEST_MAIL_STATE");
    for (int sub = 0; state && sub < 2; sub++) {
        char *dir = er_xasprintf("%s/mail/%s/Maildir/%s", state, user, sub ? "cur" : "new");
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char *path = er_xasprintf("%s/%s", dir, e->d_name);
            FILE *f = fopen(path, "rb");
            er_buf b = ER_BUF_INIT;
            char chunk[4096];
            size_t n;
            while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
                er_buf_append(&b, chunk, n);
            if (f)
                fclose(f);
            char *from, *to, *subject, *date, *mid;
            er_mime_summary(b.ptr, b.len, &from, &to, &subject, &date, &mid);
            if (strcmp(mid, message_id) == 0) {
                found++;
                er_buf_reset(raw);
                er_buf_append(raw, b.ptr, b.len);
            }
            free(from);
            free(to);
            free(subject);
            free(date);
            free(mid);
            er_buf_release(&b);
            free(path);
        }
        if (d)
            closedir(d);
        free(dir);
    }
    return found;
}

static void seed(er_env *env)
{
    er_mail_account a;
    er_mail *m = NULL;
    er_error err = { 0 };
    CHECK_OK(er_mail_account_resolve(&a, er_env_config(env), NULL, &err));
    CHECK_OK(er_mail_open(&m, &a, &err));
    static const char *const files[] = { "alternative.eml", "mixed.eml", "html_hidden.eml",
                                         "forward.eml", "broken.eml" };
    for (size_t i = 0; i < ER_ARRAY_LEN(files); i++) {
        size_t len;
        char *raw = data_file(files[i], &len);
        CHECK_OK(er_mail_append(m, "INBOX", "", raw, len, &err));
        free(raw);
    }
    er_strv f = ER_STRV_INIT;
    CHECK_OK(er_mail_folders(m, &f, &err));
    bool inbox = false, sent = false, drafts = false;
    for (size_t i = 0; i < f.n; i++) {
        inbox |= strcmp(f.v[i], "INBOX") == 0;
        sent |= strcmp(f.v[i], "Sent") == 0;
        drafts |= strcmp(f.v[i], "Drafts") == 0;
    }
    CHECK(inbox && sent && drafts);
    er_strv_free(&f);
    er_mail_close(m);
    er_mail_account_release(&a);
}

static void test_server(int imap_port, int smtp_port)
{
    setenv("ERRAND_TEST_CAROL_PW", "carolpw", 1);
    setenv("ERRAND_TEST_DAVE_PW", "davepw", 1);
    setenv("ERRAND_TEST_BAD_PW", "wrong", 1);
    er_env *alice = env_for("carol@example.test", "ERRAND_TEST_CAROL_PW", imap_port, smtp_port);
    er_env *bob = env_for("dave@example.test", "ERRAND_TEST_DAVE_PW", imap_port, smtp_port);
    seed(alice);

    /* search: ids outside the fence, senders and subjects inside */
    cJSON *r = call(alice, "mail_search", "{\"from\":\"carol\"}");
    CHECK_INT((int)er_json_num(r, "count", 0), 1);
    const cJSON *msg0 = cJSON_GetArrayItem(er_json_arr(r, "messages"), 0);
    char *alt_id = er_xstrdup(er_json_str(msg0, "id"));
    CHECK(er_json_bool(msg0, "unread", false));
    CHECK(tu_contains(er_json_str(r, "listing"), ER_UNTRUSTED_OPEN));
    CHECK(tu_contains(er_json_str(r, "listing"), "Réunion on Friday"));
    cJSON_Delete(r);
    CHECK_INT(count_search(alice, "{}"), 5);
    CHECK_INT(count_search(alice, "{\"subject\":\"quarterly\"}"), 1);
    CHECK_INT(count_search(alice, "{\"text\":\"attacker\"}"), 2);
    CHECK_INT(count_search(alice, "{\"since\":\"2026-12-05\",\"before\":\"2026-12-06\"}"), 1);
    CHECK_INT(count_search(alice, "{\"limit\":2}"), 2);

    /* read: decoded, fenced, and still unread afterwards */
    char *args = TU_ARGS("{\"id\":\"%s\"}", alt_id);
    r = call(alice, "mail_read", args);
    const char *text = er_json_str(r, "message");
    CHECK(tu_contains(text, ER_UNTRUSTED_OPEN));
    CHECK(tu_contains(text, "Café at 10"));
    CHECK(tu_contains(text, "Subject: Réunion on Friday"));
    CHECK_STR(er_json_str(r, "message_id"), "<alt-1@example.test>");
    cJSON_Delete(r);
    CHECK_INT(count_search(alice, "{\"unread\":true}"), 5);
    free(args);
    args = TU_ARGS("{\"id\":\"%s\",\"read\":true}", alt_id);
    cJSON_Delete(call(alice, "mail_mark", args));
    CHECK_INT(count_search(alice, "{\"unread\":true}"), 4);
    free(args);

    /* attachments listed with their decoded size */
    r = call(alice, "mail_search", "{\"subject\":\"Quarterly\"}");
    args = TU_ARGS("{\"id\":\"%s\"}",
                   er_json_str(cJSON_GetArrayItem(er_json_arr(r, "messages"), 0), "id"));
    cJSON_Delete(r);
    r = call(alice, "mail_read", args);
    const cJSON *att = cJSON_GetArrayItem(er_json_arr(r, "attachments"), 0);
    CHECK_INT((int)er_json_num(att, "size", 0), 52);
    CHECK(tu_contains(er_json_str(r, "attachment_names"), "report.pdf"));
    cJSON_Delete(r);
    free(args);
    /* saved into the workspace, decoded; never over an existing file or outside */
    r = call(alice, "mail_search", "{\"subject\":\"Quarterly\"}");
    char *mixed_id =
        er_xstrdup(er_json_str(cJSON_GetArrayItem(er_json_arr(r, "messages"), 0), "id"));
    cJSON_Delete(r);
    char *ws = tu_tempdir("mail");
    er_tool_ctx wctx = tu_ctx(ws);
    wctx.env = alice;
    args = TU_ARGS("{\"id\":\"%s\",\"part\":0,\"path\":\"in/report.pdf\"}", mixed_id);
    er_error aerr = { 0 };
    CHECK(tu_call(&r, "mail_attachment", &wctx, args, &aerr) == 0);
    CHECK_INT((int)er_json_num(r, "bytes", 0), 52);
    cJSON_Delete(r);
    char *pdf = tu_read(ws, "in/report.pdf");
    CHECK(pdf && strncmp(pdf, "%PDF-1.4", 8) == 0);
    free(pdf);
    CHECK(tu_call(&r, "mail_attachment", &wctx, args, &aerr) == ER_EEXISTS);
    free(args);
    args = TU_ARGS("{\"id\":\"%s\",\"part\":0,\"path\":\"../escape.pdf\"}", mixed_id);
    CHECK(tu_call(&r, "mail_attachment", &wctx, args, &aerr) == ER_EDENIED);
    free(args);
    tu_rmrf(ws);
    free(ws);
    free(mixed_id);

    /* a reply draft, threaded; nothing delivered */
    args = TU_ARGS("{\"to\":\"dave@example.test\",\"subject\":\"Re: Réunion\",\"body\":\"Yes, "
                   "see you there.\",\"reply_to\":\"%s\"}",
                   alt_id);
    r = call(alice, "mail_draft", args);
    free(args);
    char *draft_id = er_xstrdup(er_json_str(r, "draft_id"));
    char *mid = er_xstrdup(er_json_str(r, "message_id"));
    CHECK(er_str_starts(draft_id, "Drafts:"));
    cJSON_Delete(r);
    CHECK_INT(count_search(bob, "{}"), 0);
    args = TU_ARGS("{\"id\":\"%s\"}", draft_id);
    r = call(alice, "mail_read", args);
    CHECK(tu_contains(er_json_str(r, "message"), "Subject: Re: Réunion"));
    cJSON_Delete(r);
    free(args);

    /* send the draft: delivered once, recorded in Sent without the pending flag */
    args = TU_ARGS("{\"draft_id\":\"%s\"}", draft_id);
    r = call(alice, "mail_send", args);
    CHECK(er_json_bool(r, "sent", false));
    cJSON_Delete(r);
    settle();
    CHECK_INT(count_search(bob, "{\"subject\":\"Réunion\"}"), 1);
    /* what OpenSMTPD delivered: once, with the draft's headers and threading */
    er_buf got = ER_BUF_INIT;
    CHECK_INT(delivered("dave@example.test", mid, &got), 1);
    cJSON *dm = NULL;
    {
        er_error err = { 0 };
        CHECK_OK(er_mime_parse(&dm, got.ptr, got.len, &err));
    }
    CHECK_STR(er_json_str(dm, "subject"), "Re: Réunion");
    CHECK(tu_contains(er_json_str(dm, "from"), "carol@example.test"));
    CHECK(tu_contains(er_json_str(dm, "to"), "dave@example.test"));
    CHECK_STR(er_json_str(dm, "in_reply_to"), "<alt-1@example.test>");
    CHECK(tu_contains(er_json_str(dm, "references"), "<alt-1@example.test>"));
    CHECK(tu_contains(er_json_str(dm, "text"), "Yes, see you there."));
    cJSON_Delete(dm);
    char *q = TU_ARGS("{\"folder\":\"Sent\",\"message_id\":\"%s\"}", mid);
    CHECK_INT(count_search(alice, q), 1);
    free(q);
    q = TU_ARGS("{\"message_id\":\"%s\"}", mid);
    r = call(bob, "mail_search", q);
    free(q);
    cJSON_Delete(r);
    /* the same draft again: found in Sent, not delivered twice */
    r = call(alice, "mail_send", args);
    CHECK(er_json_bool(r, "already_sent", false));
    CHECK(!er_json_bool(r, "sent", true));
    cJSON_Delete(r);
    settle();
    CHECK_INT(count_search(bob, "{\"subject\":\"Réunion\"}"), 1);
    CHECK_INT(delivered("dave@example.test", mid, &got), 1);
    free(args);

    /* a draft with an attachment goes out byte for byte: the attachment
     * decodes to the original 52 bytes at the far end */
    {
        size_t len;
        char *orig = data_file("mixed.eml", &len);
        er_buf fixed = ER_BUF_INIT;
        /* carol sends it to dave under a Message-ID of its own */
        const char *body = strstr(orig, "MIME-Version:");
        CHECK(body != NULL);
        er_buf_printf(&fixed,
                      "From: Carol <carol@example.test>\r\nTo: dave@example.test\r\n"
                      "Subject: Report for you\r\nMessage-ID: <att-1@example.test>\r\n%s",
                      body ? body : "");
        er_mail_account aa;
        er_mail *am = NULL;
        er_error err = { 0 };
        CHECK_OK(er_mail_account_resolve(&aa, er_env_config(alice), NULL, &err));
        CHECK_OK(er_mail_open(&am, &aa, &err));
        CHECK_OK(er_mail_append(am, "Drafts", "\\Draft", fixed.ptr, fixed.len, &err));
        er_mail_query aq = { .folder = "Drafts", .message_id = "<att-1@example.test>" };
        er_mail_summary *av = NULL;
        size_t an = 0;
        CHECK_OK(er_mail_search(am, &aq, &av, &an, &err));
        CHECK_INT((int)an, 1);
        char *sargs = TU_ARGS("{\"draft_id\":\"%s\"}", an ? av[0].id : "");
        er_mail_summaries_free(av, an);
        r = call(alice, "mail_send", sargs);
        CHECK(er_json_bool(r, "sent", false));
        cJSON_Delete(r);
        free(sargs);
        settle();
        CHECK_INT(delivered("dave@example.test", "<att-1@example.test>", &got), 1);
        er_buf want = ER_BUF_INIT, have = ER_BUF_INIT;
        char *wname = NULL, *hname = NULL;
        CHECK_OK(er_mime_attachment(&want, &wname, fixed.ptr, fixed.len, 0, &err));
        CHECK_OK(er_mime_attachment(&have, &hname, got.ptr, got.len, 0, &err));
        CHECK_INT((int)have.len, 52);
        CHECK(have.len == want.len && memcmp(have.ptr, want.ptr, have.len) == 0);
        CHECK_STR(hname, "report.pdf");
        free(wname);
        free(hname);
        er_buf_release(&want);
        er_buf_release(&have);
        er_buf_release(&fixed);
        free(orig);
        er_mail_close(am);
        er_mail_account_release(&aa);
    }
    er_buf_release(&got);

    /* the offline analysis: scores plain, the sender's sentences fenced */
    args = TU_ARGS("{\"id\":\"%s\"}", alt_id);
    r = call(alice, "mail_analyze", args);
    CHECK_STR(er_json_str(r, "category"), "meeting");
    CHECK(er_json_str(r, "importance") != NULL);
    cJSON_Delete(r);
    free(args);

    /* the thread: the original in INBOX and the reply in Sent, both fenced */
    args = TU_ARGS("{\"id\":\"%s\"}", alt_id);
    r = call(alice, "mail_thread", args);
    CHECK_INT((int)er_json_num(r, "count", 0), 2);
    const cJSON *th = er_json_arr(r, "messages");
    CHECK(tu_contains(er_json_str(cJSON_GetArrayItem(th, 0), "message"), "Café at 10"));
    CHECK(tu_contains(er_json_str(cJSON_GetArrayItem(th, 1), "message"), "see you there"));
    CHECK(tu_contains(er_json_str(cJSON_GetArrayItem(th, 1), "message"), ER_UNTRUSTED_OPEN));
    cJSON_Delete(r);
    free(args);

    /* a crash after recording and before SMTP leaves a pending copy in Sent:
     * the retry does not send */
    er_buf raw = ER_BUF_INIT;
    er_error err = { 0 };
    er_mime_draft d = { .from = "carol@example.test",
                        .to = "dave@example.test",
                        .subject = "crash test",
                        .body = "once",
                        .message_id = "<crash-1@example.test>" };
    CHECK_OK(er_mime_build(&raw, &d, &err));
    er_mail_account a;
    er_mail *m = NULL;
    CHECK_OK(er_mail_account_resolve(&a, er_env_config(alice), NULL, &err));
    CHECK_OK(er_mail_open(&m, &a, &err));
    CHECK_OK(er_mail_append(m, "Sent", "\\Seen $ErrandPending", raw.ptr, raw.len, &err));
    CHECK_OK(er_mail_append(m, "Drafts", "\\Draft", raw.ptr, raw.len, &err));
    er_mail_query dq = { .folder = "Drafts", .message_id = "<crash-1@example.test>" };
    er_mail_summary *v = NULL;
    size_t n = 0;
    CHECK_OK(er_mail_search(m, &dq, &v, &n, &err));
    CHECK_INT((int)n, 1);
    args = TU_ARGS("{\"draft_id\":\"%s\"}", n ? v[0].id : "");
    er_mail_summaries_free(v, n);
    r = call(alice, "mail_send", args);
    CHECK(er_json_bool(r, "already_sent", false));
    cJSON_Delete(r);
    free(args);
    settle();
    CHECK_INT(count_search(bob, "{\"subject\":\"crash test\"}"), 0);
    er_buf none = ER_BUF_INIT;
    CHECK_INT(delivered("dave@example.test", "<crash-1@example.test>", &none), 0);
    er_buf_release(&none);

    /* move, bad ids, wrong password */
    args = TU_ARGS("{\"id\":\"%s\",\"folder\":\"Archive\"}", alt_id);
    cJSON_Delete(call(alice, "mail_move", args));
    free(args);
    CHECK_INT(count_search(alice, "{\"folder\":\"Archive\"}"), 1);
    CHECK_INT(count_search(alice, "{}"), 4);
    er_buf body = ER_BUF_INIT;
    CHECK(er_mail_fetch(m, "INBOX:999999", &body, &err) == ER_ENOTFOUND);
    CHECK(er_mail_fetch(m, "INBOX", &body, &err) == ER_EINVAL);
    CHECK(er_mail_flag(m, "INBOX:1", "\\Seen) UID EXPUNGE 1:* (", true, &err) == ER_EINVAL);
    er_buf_release(&body);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_env *bad = env_for("carol@example.test", "ERRAND_TEST_BAD_PW", imap_port, smtp_port);
    er_tool_ctx ctx = tu_ctx("/tmp");
    ctx.env = bad;
    CHECK(tu_call(&r, "mail_folders", &ctx, "{}", &err) == ER_EAUTH);
    er_env_close(bad);

    /* a listing longer than one UID FETCH batch, with a raw 8-bit subject
     * (an IMAP literal in its ENVELOPE: fetched on its own): every message,
     * decoded, flags right, nothing marked read */
    er_mail *bm = NULL;
    er_mail_account ba;
    CHECK_OK(er_mail_account_resolve(&ba, er_env_config(bob), NULL, &err));
    CHECK_OK(er_mail_open(&bm, &ba, &err));
    int unread_before = count_search(bob, "{\"unread\":true,\"limit\":200}");
    for (int i = 0; i < 30; i++) {
        er_buf bulk = ER_BUF_INIT;
        er_buf_printf(&bulk,
                      "From: \"Sender, %d\" <s%d@example.test>\r\nTo: dave@example.test\r\n"
                      "Subject: %s %d\r\nMessage-ID: <bulk-%d@example.test>\r\n"
                      "Date: Mon, 07 Dec 2026 10:%02d:00 +0000\r\n\r\nbody %d\r\n",
                      i, i,
                      i == 7 ? "Gr\xc3\xbc\xc3\x9f"
                               "e raw"
                             : "=?UTF-8?Q?Bulk_=C3=A9?=",
                      i, i, i, i);
        CHECK_OK(er_mail_append(bm, "INBOX", i % 3 ? "\\Seen" : "", bulk.ptr, bulk.len, &err));
        er_buf_release(&bulk);
    }
    er_mail_query bq = { .folder = "INBOX", .limit = 200 };
    er_mail_summary *bv = NULL;
    size_t bn = 0;
    CHECK_OK(er_mail_search(bm, &bq, &bv, &bn, &err));
    int bulk_seen = 0, bulk_unread = 0;
    bool raw8 = false;
    for (size_t i = 0; i < bn; i++) {
        if (strncmp(bv[i].message_id, "<bulk-", 6) != 0)
            continue;
        int num = (int)strtol(bv[i].message_id + 6, NULL, 10);
        bulk_seen++;
        bulk_unread += bv[i].unread;
        CHECK(bv[i].unread == (num % 3 == 0));
        char *want = er_xasprintf("%s %d", num == 7 ? "Grüße raw" : "Bulk é", num);
        CHECK_STR(bv[i].subject, want);
        free(want);
        CHECK(tu_contains(bv[i].from, "Sender, "));
        raw8 |= num == 7;
    }
    CHECK_INT(bulk_seen, 30);
    CHECK_INT(bulk_unread, 10);
    CHECK(raw8);
    CHECK(bn > 1 && strcmp(bv[0].message_id, "<bulk-29@example.test>") == 0); /* newest first */
    er_mail_summaries_free(bv, bn);
    CHECK_INT(count_search(bob, "{\"unread\":true,\"limit\":200}"), unread_before + 10);
    er_mail_close(bm);
    er_mail_account_release(&ba);

    er_buf_release(&raw);
    free(alt_id);
    free(draft_id);
    free(mid);
    er_env_close(alice);
    er_env_close(bob);
}

static bool same_ids(er_mail_summary *a, size_t na, er_mail_summary *b, size_t nb)
{
    if (na != nb) {
        fprintf(stderr, "cache: %zu messages, server: %zu\n", na, nb);
        return false;
    }
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].id, b[i].id) != 0 || a[i].unread != b[i].unread ||
            strcmp(a[i].message_id, b[i].message_id) != 0) {
            fprintf(stderr, "cache: %s, server: %s\n", a[i].id, b[i].id);
            return false;
        }
    return true;
}

/* A cached search, checked against the server's own answer. */
static size_t both(er_mail *m, const er_mail_query *q, er_mail_summary **v)
{
    er_mail_summary *direct = NULL;
    size_t n = 0, nd = 0;
    er_error err = { 0 };
    CHECK_OK(er_mail_search(m, q, v, &n, &err));
    CHECK_OK(m->be->search(m, q, &direct, &nd, &err));
    CHECK(same_ids(*v, n, direct, nd));
    er_mail_summaries_free(direct, nd);
    return n;
}

/* The cached copy of id says subject (a hit then shows it): the row in the
 * store, or the summary under email:t:{id} in the shared cache. */
static void mark_cached(const er_mail_account *a, const char *id, const char *subject)
{
    er_error err = { 0 };
    if (!a->cache) {
        er_sql_value p[] = { ER_SQL_S(subject), ER_SQL_S(id) };
        int64_t changes = 0;
        CHECK_OK(er_sql_exec(a->store, "UPDATE mail_meta SET subject = ? WHERE id = ?", p, 2,
                             &changes, &err));
        CHECK_INT((int)changes, 1);
        return;
    }
    char *key = er_xasprintf("email:t:%s", id), *val = NULL;
    size_t len = 0;
    cJSON *o = NULL;
    CHECK_OK(er_cache_get(a->cache, key, &val, &len, &err));
    if (val)
        CHECK_OK(er_json_parse(&o, val, len, &err));
    if (o) {
        CHECK(er_str_eq(er_json_str(o, "id"), id));
        cJSON_ReplaceItemInObject(o, "subject", cJSON_CreateString(subject));
        char *next = er_json_print(o);
        CHECK_OK(er_cache_set(a->cache, key, next, strlen(next), 60000, &err));
        free(next);
    }
    cJSON_Delete(o);
    free(val);
    free(key);
}

/* The shared cache's index of folder (NULL when there is none). */
static cJSON *shared_index(er_cache *c, const char *folder)
{
    char *key = er_xasprintf("email:t:%s:index", folder), *val = NULL;
    size_t len = 0;
    cJSON *o = NULL;
    er_error err = { 0 };
    if (er_cache_get(c, key, &val, &len, &err) == 0)
        CHECK_OK(er_json_parse(&o, val, len, &err));
    free(val);
    free(key);
    return o;
}

static bool shared_has(er_cache *c, const char *id)
{
    char *key = er_xasprintf("email:t:%s", id), *val = NULL;
    er_error err = { 0 };
    int rc = er_cache_get(c, key, &val, NULL, &err);
    free(val);
    free(key);
    return rc == 0;
}

static bool has_subject(er_mail_summary *v, size_t n, const char *id, const char *subject)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0)
            return strcmp(v[i].subject, subject) == 0;
    return false;
}

/* IMAP commands the backend does not have, through Python's imaplib. */
static int imap_admin(int port, const char *script)
{
    char *cmd =
        er_xasprintf("/usr/bin/python3 -c 'import imaplib; c = imaplib.IMAP4(\"127.0.0.1\", "
                     "%d); c.login(\"%s\", \"%s\"); %s; c.logout()'",
                     port, cache_user, cache_pw, script);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* The account of the cache tests: the store's cache, or the shared one. */
static er_env *open_cached(er_mail_account *a, int imap_port, int smtp_port)
{
    er_env *env = env_for(cache_user, cache_pw_var, imap_port, smtp_port);
    er_error err = { 0 };
    CHECK_OK(er_mail_account_resolve(a, er_env_config(env), NULL, &err));
    CHECK_OK(er_env_store(env, &a->store, &err));
    if (redis_url)
        CHECK_OK(er_env_cache(env, &a->cache, &err));
    return env;
}

static void test_cache(int imap_port, int smtp_port)
{
    er_mail_account a;
    er_env *env = open_cached(&a, imap_port, smtp_port);
    er_mail *m = NULL;
    er_error err = { 0 };
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    CHECK(m->cache != NULL);
    CHECK_STR(m->cache->ops->name, redis_url ? "cache" : "store");
    er_mail_summary *v = NULL;
    size_t n;
    er_mail_query all = { .limit = 50 }, unread = { .unread = true, .limit = 50 };

    /* The first search fills the cache; a hit answers from it (a row
     * changed in the store shows). */
    n = both(m, &all, &v);
    CHECK(n >= 3);
    char *oldest = n ? er_xstrdup(v[n - 1].id) : er_xstrdup("");
    er_mail_summaries_free(v, n);
    mark_cached(&a, oldest, "from the cache");
    CHECK_OK(er_mail_search(m, &all, &v, &n, &err));
    CHECK(has_subject(v, n, oldest, "from the cache"));
    size_t before = n;
    er_mail_summaries_free(v, n);

    /* New mail, one with an 8-bit subject (a literal in its ENVELOPE): only
     * the new ones are fetched, the cached row stays as it was. */
    const char *raw = "From: Erin <erin@example.test>\r\nTo: carol@example.test\r\n"
                      "Subject: Caf\xc3\xa9 cache\r\nDate: Tue, 10 Nov 2026 10:00:00 +0000\r\n"
                      "Message-ID: <cache-1@example.test>\r\n\r\nHello.\r\n";
    CHECK_OK(er_mail_append(m, "INBOX", "", raw, strlen(raw), &err));
    const char *raw2 = "From: Frank <frank@example.test>\r\nTo: carol@example.test\r\n"
                       "Subject: Plain cache\r\nDate: Wed, 11 Nov 2026 10:00:00 +0000\r\n"
                       "Message-ID: <cache-2@example.test>\r\n\r\nHello.\r\n";
    CHECK_OK(er_mail_append(m, "INBOX", "", raw2, strlen(raw2), &err));
    CHECK_OK(er_mail_search(m, &all, &v, &n, &err));
    CHECK_INT((int)n, (int)before + 2);
    CHECK(has_subject(v, n, oldest, "from the cache"));
    if (n >= 2) {
        CHECK_STR(v[0].subject, "Plain cache");
        CHECK_STR(v[1].subject, "Caf\xc3\xa9 cache");
        CHECK(v[0].unread && v[1].unread);
        CHECK(strstr(v[0].from, "frank@example.test") != NULL);
    }
    char *erin = n >= 2 ? er_xstrdup(v[1].id) : er_xstrdup("");
    char *frank = n >= 1 ? er_xstrdup(v[0].id) : er_xstrdup("");
    er_mail_summaries_free(v, n);
    er_mail_query from = { .from = "FRANK", .limit = 5 };
    n = both(m, &from, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query mid = { .message_id = "cache-1@example.test", .limit = 1 };
    n = both(m, &mid, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    er_mail_query day = { .since = "2026-11-10", .before = "2026-11-11", .limit = 5 };
    n = both(m, &day, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);

    /* Flags changed (CONDSTORE's CHANGEDSINCE brings them). */
    CHECK_OK(er_mail_flag(m, erin, "\\Seen", true, &err));
    n = both(m, &unread, &v);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(v[i].id, erin) != 0);
    er_mail_summaries_free(v, n);
    CHECK_OK(er_mail_flag(m, frank, "\\Deleted", true, &err));
    n = both(m, &all, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, (int)before + 1);

    /* Expunged: moved away, gone from the cache too. */
    CHECK_OK(er_mail_move(m, erin, "Archive", NULL, &err));
    n = both(m, &all, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, (int)before);
    if (a.cache) { /* its summary deleted, frank's (\Deleted, still there) kept */
        CHECK(!shared_has(a.cache, erin));
        CHECK(shared_has(a.cache, frank));
    }

    /* A folder deleted and made again: a new UIDVALIDITY, the same UIDs;
     * what was cached under the old one is dropped. */
    CHECK_INT(imap_admin(imap_port, "c.create(\"Cachebox\")"), 0);
    CHECK_OK(er_mail_append(m, "Cachebox", "", raw2, strlen(raw2), &err));
    er_mail_query box = { .folder = "Cachebox", .limit = 5 };
    n = both(m, &box, &v);
    CHECK_INT((int)n, 1);
    char *boxed = n ? er_xstrdup(v[0].id) : er_xstrdup("");
    er_mail_summaries_free(v, n);
    mark_cached(&a, boxed, "stale");
    sleep(1); /* Dovecot's UIDVALIDITY is a time in seconds */
    CHECK_INT(imap_admin(imap_port, "c.delete(\"Cachebox\"); c.create(\"Cachebox\")"), 0);
    /* Dovecot disconnects whoever had the deleted folder selected: a new
     * connection, as the next tool call would have */
    er_mail_close(m);
    m = NULL;
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    CHECK_OK(er_mail_append(m, "Cachebox", "", raw, strlen(raw), &err));
    n = both(m, &box, &v);
    CHECK_INT((int)n, 1);
    if (n) {
        CHECK_STR(v[0].id, boxed);                    /* the same UID… */
        CHECK_STR(v[0].subject, "Caf\xc3\xa9 cache"); /* …another message */
    }
    er_mail_summaries_free(v, n);
    if (a.cache) { /* the folder's index starts again: one entry, the new UIDVALIDITY */
        cJSON *ix = shared_index(a.cache, "Cachebox");
        CHECK(ix && cJSON_GetArraySize(er_json_arr(ix, "ids")) == 1);
        CHECK(ix && er_json_int(ix, "validity", 0, 0, INT64_MAX) > 0);
        cJSON_Delete(ix);
    }
    /* Body text goes to the server. */
    er_mail_query text = { .text = "Hello", .folder = "Cachebox", .limit = 5 };
    n = both(m, &text, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 1);
    free(boxed);
    free(erin);
    free(frank);
    free(oldest);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_env_close(env);
}

static int count_row(const er_sql_value *c, int ncols, void *payload)
{
    (void)c;
    (void)ncols;
    (*(int *)payload)++;
    return 0;
}

/* Messages the cache holds for one folder, or (id set) whether it holds
 * that one: rows of the store, or the entries of the shared index — each
 * with its summary under email:t:{id}, and no summary left of one gone. */
static int cached_rows(const er_mail_account *a, const char *folder, const char *id)
{
    int n = 0;
    er_error err = { 0 };
    if (!a->cache) {
        er_sql_value p[] = { ER_SQL_S(folder), ER_SQL_S(id ? id : "%") };
        CHECK_OK(er_sql_query(a->store, "SELECT id FROM mail_meta WHERE scope = ? AND id LIKE ?", p,
                              2, count_row, &n, &err));
        return n;
    }
    cJSON *ix = shared_index(a->cache, folder);
    const cJSON *item;
    cJSON_ArrayForEach(item, er_json_arr(ix, "ids"))
    {
        const char *eid = cJSON_GetStringValue(cJSON_GetArrayItem(item, 0));
        if (eid && (!id || strcmp(eid, id) == 0))
            n++;
    }
    cJSON_Delete(ix);
    if (id)
        CHECK(shared_has(a->cache, id) == (n > 0));
    else if (n > 0) /* the newest message of the folder: its summary is there */
        CHECK(shared_has(a->cache, "Bigbox:1500"));
    return n;
}

/* Forgets the folder's HIGHESTMODSEQ, as a server without CONDSTORE gives. */
static void forget_modseq(const er_mail_account *a, const char *folder)
{
    er_error err = { 0 };
    if (!a->cache) {
        er_sql_value p[] = { ER_SQL_S(folder) };
        CHECK_OK(er_sql_exec(a->store, "UPDATE mail_sync SET modseq = 0 WHERE scope = ?", p, 1,
                             NULL, &err));
        return;
    }
    cJSON *ix = shared_index(a->cache, folder);
    CHECK(ix != NULL);
    if (!ix)
        return;
    cJSON_ReplaceItemInObject(ix, "modseq", cJSON_CreateNumber(0));
    char *key = er_xasprintf("email:t:%s:index", folder), *val = er_json_print(ix);
    CHECK_OK(er_cache_set(a->cache, key, val, strlen(val), 60000, &err));
    free(val);
    free(key);
    cJSON_Delete(ix);
}

/* A folder far past libcurl's 16 KB cut of a command's answer: the first
 * refresh caches every message, an expunge prunes exactly that one, both
 * with CHANGEDSINCE and with every message's flags asked for. */
static void test_cache_big(int imap_port, int smtp_port)
{
    enum { BIG = 1500 };
    er_mail_account a;
    er_env *env = open_cached(&a, imap_port, smtp_port);
    er_mail *m = NULL;
    er_error err = { 0 };
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    char *script = er_xasprintf(
        "c.create(\"Bigbox\"); [c.append(\"Bigbox\", None, None, (\"From: \\\"Big %%d\\\" "
        "<big%%d@example.test>\\r\\nTo: carol@example.test\\r\\nSubject: big message "
        "number %%d\\r\\nMessage-ID: <big-%%d@example.test>\\r\\n\\r\\nx\\r\\n\" %% (i, i, i, "
        "i)).encode()) for i in range(%d)]",
        BIG);
    CHECK_INT(imap_admin(imap_port, script), 0);
    free(script);
    er_mail_query box = { .folder = "Bigbox", .limit = 2 * BIG };
    er_mail_summary *v = NULL;
    size_t n = both(m, &box, &v);
    CHECK_INT((int)n, BIG);
    CHECK_INT(cached_rows(&a, "Bigbox", NULL), BIG);
    /* the 701st message's UID is 701: the folder is new */
    er_mail_summaries_free(v, n);
    CHECK_INT(cached_rows(&a, "Bigbox", "Bigbox:701"), 1);

    /* One expunged (CONDSTORE: the count tells, the survivors are listed). */
    CHECK_INT(imap_admin(imap_port, "c.select(\"Bigbox\"); c.uid(\"STORE\", \"701\", \"+FLAGS\", "
                                    "\"(\\\\Deleted)\"); c.expunge()"),
              0);
    /* a new connection, as the next tool call makes: this one's view of
     * the selected folder predates the expunge */
    er_mail_close(m);
    m = NULL;
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    n = both(m, &box, &v);
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, BIG - 1);
    CHECK_INT(cached_rows(&a, "Bigbox", NULL), BIG - 1);
    CHECK_INT(cached_rows(&a, "Bigbox", "Bigbox:701"), 0);

    /* Without mod-sequences: every message's flags, in windows, then the
     * survivors; one read and one expunged. */
    forget_modseq(&a, "Bigbox");
    CHECK_INT(imap_admin(imap_port, "c.select(\"Bigbox\"); c.uid(\"STORE\", \"1400\", \"+FLAGS\", "
                                    "\"(\\\\Seen)\"); c.uid(\"STORE\", \"5\", \"+FLAGS\", "
                                    "\"(\\\\Deleted)\"); c.expunge()"),
              0);
    er_mail_close(m);
    m = NULL;
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    n = both(m, &box, &v); /* same ids and unread flags as the server's */
    bool read = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, "Bigbox:1400") == 0)
            read = !v[i].unread;
    er_mail_summaries_free(v, n);
    CHECK(read);
    CHECK_INT((int)n, BIG - 2);
    CHECK_INT(cached_rows(&a, "Bigbox", NULL), BIG - 2);
    CHECK_INT(cached_rows(&a, "Bigbox", "Bigbox:5"), 0);
    CHECK_INT(imap_admin(imap_port, "c.delete(\"Bigbox\")"), 0);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_env_close(env);
}

/* ---- other workers (networked) ---- */

static const er_mail_backend *real_be;
static er_mail_backend counting_be;
static int n_fresh, n_flags, n_server;

/* The backend's refresh, counting the summaries it fetched. */
static int counting_refresh(er_mail *m, const char *folder, er_mail_sync *state, size_t max,
                            er_mail_delta *d, char **label, er_error *err)
{
    int rc = real_be->refresh(m, folder, state, max, d, label, err);
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].flags_only)
            n_flags++;
        else
            n_fresh++;
    }
    return rc;
}

static int counting_search(er_mail *m, const er_mail_query *q, er_mail_summary **out, size_t *n,
                           er_error *err)
{
    n_server++;
    return real_be->search(m, q, out, n, err);
}

/* `test_mail --list FOLDER LIMIT`: one worker's search through the shared
 * cache (no store), printing what it listed, the summaries its refresh
 * fetched, the flags it read again and its searches of the server. */
static int list_worker(const char *folder, const char *limit)
{
    er_mail_account a;
    er_env *env =
        env_for(cache_user, cache_pw_var, (int)strtol(getenv("ERRAND_TEST_IMAP_PORT"), NULL, 10),
                (int)strtol(getenv("ERRAND_TEST_SMTP_PORT"), NULL, 10));
    er_error err = { 0 };
    er_mail *m = NULL;
    CHECK_OK(er_mail_account_resolve(&a, er_env_config(env), NULL, &err));
    CHECK_OK(er_env_cache(env, &a.cache, &err));
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return 1;
    real_be = m->be;
    counting_be = *real_be;
    counting_be.refresh = counting_refresh;
    counting_be.search = counting_search;
    m->be = &counting_be;
    er_mail_query q = { .folder = folder, .limit = (size_t)strtoul(limit, NULL, 10) };
    er_mail_summary *v = NULL;
    size_t n = 0;
    CHECK_OK(er_mail_search(m, &q, &v, &n, &err));
    printf("%zu %d %d %d\n", n, n_fresh, n_flags, n_server);
    er_mail_summaries_free(v, n);
    m->be = real_be;
    er_mail_close(m);
    er_mail_account_release(&a);
    er_env_close(env);
    return check_done();
}

static char self_path[4096];

typedef struct listing {
    int listed, fresh, flags, server;
} listing;

static FILE *spawn_worker(const char *folder, int limit)
{
    char *cmd = er_xasprintf("'%s' --list '%s' %d", self_path, folder, limit);
    FILE *f = popen(cmd, "r");
    free(cmd);
    CHECK(f != NULL);
    return f;
}

static listing reap_worker(FILE *f)
{
    listing l = { -1, -1, -1, -1 };
    if (!f)
        return l;
    CHECK_INT(fscanf(f, "%d %d %d %d", &l.listed, &l.fresh, &l.flags, &l.server), 4);
    CHECK_INT(pclose(f), 0);
    return l;
}

/* Milliseconds key has left to live in Redis (-2: no such key). */
static long redis_pttl(const char *key)
{
    char *cmd = er_xasprintf("redis-cli -u '%s' pttl '%s'", redis_url, key);
    FILE *f = popen(cmd, "r");
    long ms = -3;
    if (f) {
        if (fscanf(f, "%ld", &ms) != 1)
            ms = -3;
        pclose(f);
    }
    free(cmd);
    return ms;
}

static char *raw_value(er_cache *c, const char *key)
{
    char *v = NULL;
    er_error err = { 0 };
    if (er_cache_get(c, key, &v, NULL, &err) != 0)
        return er_xstrdup("");
    return v;
}

static void append_n(er_mail *m, int first, int count)
{
    er_error err = { 0 };
    for (int i = first; i < first + count; i++) {
        char *raw = er_xasprintf("From: Worker %d <w%d@example.test>\r\nTo: %s\r\n"
                                 "Subject: work item %d\r\nDate: Thu, 12 Nov 2026 10:%02d:00 "
                                 "+0000\r\nMessage-ID: <work-%d@example.test>\r\n\r\nx\r\n",
                                 i, i, cache_user, i, i % 60, i);
        CHECK_OK(er_mail_append(m, "Workbox", "", raw, strlen(raw), &err));
        free(raw);
    }
}

static void test_cache_workers(int imap_port, int smtp_port)
{
    er_mail_account a;
    er_env *env = open_cached(&a, imap_port, smtp_port);
    er_mail *m = NULL;
    er_error err = { 0 };
    CHECK_OK(er_mail_open(&m, &a, &err));
    if (!m)
        return;
    CHECK_INT(imap_admin(imap_port, "c.create(\"Workbox\")"), 0);
    append_n(m, 1, 3);
    er_mail_query box = { .folder = "Workbox", .limit = 50 };
    er_mail_summary *v = NULL;
    size_t n = both(m, &box, &v);
    CHECK_INT((int)n, 3);
    for (size_t i = 0; i < n; i++) /* email:{account}:{id} */
        CHECK(shared_has(a.cache, v[i].id));
    er_mail_summaries_free(v, n);
    CHECK_INT(cached_rows(&a, "Workbox", NULL), 3);

    /* Another process lists from the cache: one STATUS, nothing fetched,
     * nothing written (the keys' TTLs ran on, the index is as it was). */
    char *index0 = raw_value(a.cache, "email:t:Workbox:index");
    long ttl_index = redis_pttl("email:t:Workbox:index"), ttl_one = redis_pttl("email:t:Workbox:1");
    CHECK(ttl_index > 0 && ttl_one > 0);
    usleep(200 * 1000);
    listing l = reap_worker(spawn_worker("Workbox", 50));
    CHECK_INT(l.listed, 3);
    CHECK_INT(l.fresh, 0);
    CHECK_INT(l.flags, 0);
    CHECK_INT(l.server, 0);
    char *index1 = raw_value(a.cache, "email:t:Workbox:index");
    CHECK_STR(index1, index0);
    free(index1);
    CHECK(redis_pttl("email:t:Workbox:index") <= ttl_index - 150);
    CHECK(redis_pttl("email:t:Workbox:1") <= ttl_one - 150);
    CHECK_INT((int)redis_pttl("email:t:Workbox:lock"), -2);

    /* One new, one expunged: the worker fetches the new one only, and the
     * gone one's summary leaves Redis. */
    append_n(m, 4, 1);
    CHECK_INT(imap_admin(imap_port, "c.select(\"Workbox\"); c.uid(\"STORE\", \"1\", \"+FLAGS\", "
                                    "\"(\\\\Deleted)\"); c.expunge()"),
              0);
    l = reap_worker(spawn_worker("Workbox", 50));
    CHECK_INT(l.listed, 3);
    CHECK_INT(l.fresh, 1);
    CHECK_INT(l.server, 0);
    CHECK_INT(cached_rows(&a, "Workbox", "Workbox:1"), 0);
    CHECK_INT(cached_rows(&a, "Workbox", "Workbox:4"), 1);
    char *index2 = raw_value(a.cache, "email:t:Workbox:index");
    CHECK(strcmp(index2, index0) != 0);
    free(index2);
    free(index0);

    /* Three workers at once after new mail: each lists all of it, none asks
     * the server, and the index they leave is whole. */
    append_n(m, 5, 5);
    FILE *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = spawn_worker("Workbox", 50);
    int fetched = 0;
    for (int i = 0; i < 3; i++) {
        l = reap_worker(w[i]);
        CHECK_INT(l.listed, 8);
        CHECK_INT(l.server, 0);
        fetched += l.fresh;
    }
    CHECK(fetched >= 5);
    CHECK_INT(cached_rows(&a, "Workbox", NULL), 8);
    for (int uid = 2; uid <= 9; uid++) {
        char id[32];
        snprintf(id, sizeof id, "Workbox:%d", uid);
        CHECK_INT(cached_rows(&a, "Workbox", id), 1);
    }
    CHECK_INT((int)redis_pttl("email:t:Workbox:lock"), -2);
    n = both(m, &box, &v); /* this worker's answer from the shared cache, as the server says */
    er_mail_summaries_free(v, n);
    CHECK_INT((int)n, 8);
    /* The tool, networked, answers from the same cache. */
    CHECK_INT(count_search(env, "{\"folder\":\"Workbox\",\"limit\":50}"), 8);
    CHECK_INT(imap_admin(imap_port, "c.delete(\"Workbox\")"), 0);
    er_mail_close(m);
    er_mail_account_release(&a);
    er_env_close(env);
}

int main(int argc, char **argv)
{
    redis_url = getenv("ERRAND_TEST_MAIL_REDIS_URL");
    if (er_str_empty(redis_url))
        redis_url = NULL;
    if (redis_url) {
        cache_user = "erin@example.test";
        cache_pw = "erinpw";
        cache_pw_var = "ERRAND_TEST_ERIN_PW";
        setenv(cache_pw_var, cache_pw, 1);
    }
    if (argc == 4 && strcmp(argv[1], "--list") == 0 && redis_url)
        return list_worker(argv[2], argv[3]);
    test_config();
    test_tls_rule();
    test_mime();
    test_build();
    test_analyze();
    const char *ip = getenv("ERRAND_TEST_IMAP_PORT"), *sp = getenv("ERRAND_TEST_SMTP_PORT");
    const char *live = getenv("ERRAND_TEST_MAIL_SERVERS");
    if (ip && sp && live && *live == '1' && mkdtemp(store_dir)) {
        int imap_port = (int)strtol(ip, NULL, 10), smtp_port = (int)strtol(sp, NULL, 10);
        if (redis_url) { /* the database is this test's alone */
            char *cmd = er_xasprintf("redis-cli -u '%s' flushdb >/dev/null", redis_url);
            CHECK_INT(system(cmd), 0);
            free(cmd);
            ssize_t l = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
            CHECK(l > 0);
            self_path[l > 0 ? l : 0] = '\0';
            er_env *env = env_for(cache_user, cache_pw_var, imap_port, smtp_port);
            seed(env);
            er_env_close(env);
        } else {
            test_server(imap_port, smtp_port);
        }
        test_cache(imap_port, smtp_port);
        test_cache_big(imap_port, smtp_port);
        if (redis_url)
            test_cache_workers(imap_port, smtp_port);
        char *cmd = er_xasprintf("rm -rf '%s'", store_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", store_dir);
        free(cmd);
    }
    return check_done();
}
