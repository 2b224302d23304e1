/* test_webfetch.c — er_web_fetch against the fixture site (tests/fakes/fake_site)
 * on 127.0.0.1, allowed through web.allow_hosts: page kinds, charsets,
 * compression, redirects, caps, timeouts, robots.txt, the cache; and the SSRF
 * guard refusing loopback, private, metadata and odd-scheme URLs — only
 * web.allow_hosts lets a non-public address through. */
#include "check.h"
#include "fakes/fake_proc.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/sandbox.h"
#include "errand/json.h"
#include "errand/netguard.h"
#include "errand/webfetch.h"

static fake_proc site;
static char base[64];

static int fetch_with(const char *allow, const char *path, cJSON **page, er_cache *cache,
                      long timeout_ms, size_t max_bytes, er_error *err)
{
    er_netguard *g = NULL;
    int rc = er_netguard_new(&g, allow, err);
    if (rc)
        return rc;
    er_web_opts o = { .guard = g,
                      .cache = cache,
                      .max_bytes = max_bytes,
                      .timeout_ms = timeout_ms,
                      .max_redirects = 5,
                      .delay_ms = 0,
                      .cache_ttl_ms = cache ? 60000 : 0 };
    char *url = er_str_starts(path, "/") ? er_xasprintf("%s%s", base, path) : er_xstrdup(path);
    rc = er_web_fetch(page, url, &o, err);
    free(url);
    er_netguard_free(g);
    return rc;
}

static int fetch(const char *path, cJSON **page, er_error *err)
{
    return fetch_with("127.0.0.1", path, page, NULL, 0, 0, err);
}

static bool text_has(const cJSON *page, const char *s)
{
    const char *t = er_json_str(page, "text");
    return t && strstr(t, s);
}

static void test_pages(void)
{
    er_error err = { 0 };
    cJSON *p = NULL;
    CHECK_OK(fetch("/site/news.html", &p, &err));
    CHECK(text_has(p, "voted 9 to 2 on Thursday"));
    CHECK(!text_has(p, "Accept all"));
    CHECK_STR(er_json_str(p, "byline"), "Maria Okafor");
    CHECK_INT(er_json_num(p, "status", 0), 200);
    CHECK(!er_json_bool(p, "truncated", true));
    CHECK(cJSON_GetArraySize(er_json_arr(p, "links")) == 0); /* related links are not text */
    cJSON_Delete(p);

    CHECK_OK(fetch("/site/latin1.latin1.html", &p, &err));
    CHECK(text_has(p, "cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                      "e"));
    CHECK_STR(er_json_str(p, "charset"), "WINDOWS-1252");
    cJSON_Delete(p);
    CHECK_OK(fetch("/site/sjis.sjis.html", &p, &err));
    CHECK(text_has(p, "明日は午後から雨が降るでしょう"));
    cJSON_Delete(p);

    CHECK_OK(fetch("/site/plain.txt", &p, &err));
    CHECK(text_has(p, "- FROB_LOG accepts \"warn\"."));
    cJSON_Delete(p);
    CHECK_OK(fetch("/site/data.json", &p, &err));
    CHECK(text_has(p, "\"wettest_month\":\t\"August\""));
    cJSON_Delete(p);
    CHECK_OK(fetch("/site/feed.rss", &p, &err));
    CHECK(text_has(p, "## Bus fares rise again"));
    CHECK(text_has(p, "Single tickets will cost 2.80 euros from April."));
    cJSON_Delete(p);
    CHECK_OK(fetch("/site/feed.atom", &p, &err));
    CHECK(text_has(p, "Water use dropped by roughly forty percent."));
    cJSON_Delete(p);
}

static void test_pdf(void)
{
    er_error err = { 0 };
    cJSON *p = NULL;
    char *tool = er_sandbox_which("pdftotext");
    int rc = fetch("/site/report.pdf", &p, &err);
    if (tool) {
        CHECK_OK(rc);
        CHECK(text_has(p, "Passengers rose to 4.2 million in 2025."));
    } else {
        printf("note: no pdftotext here; checking the message instead\n");
        CHECK_INT(rc, ER_EUNAVAIL);
        CHECK(strstr(err.msg, "install poppler-utils"));
    }
    free(tool);
    cJSON_Delete(p);
}

static void test_transfer(void)
{
    er_error err = { 0 };
    cJSON *p = NULL;
    CHECK_OK(fetch("/gzip/site/blog.html", &p, &err));
    CHECK(text_has(p, "installed a drip irrigation system"));
    cJSON_Delete(p);
    CHECK_OK(fetch("/deflate/site/docs.html", &p, &err));
    CHECK(text_has(p, "## Environment variables"));
    cJSON_Delete(p);

    CHECK_OK(fetch("/redirect/3", &p, &err));
    CHECK(text_has(p, "eleven stops"));
    CHECK(er_str_ends(er_json_str(p, "final_url"), "/site/news.html"));
    cJSON_Delete(p);
    CHECK_INT(fetch("/redirect/9", &p, &err), ER_EPROTO);
    CHECK(strstr(err.msg, "more than 5 redirects"));
    CHECK_INT(fetch("/loop/a", &p, &err), ER_EPROTO);
    CHECK(strstr(err.msg, "redirect loop"));

    /* 50 MB: cut at the cap, fast, with what was read */
    int64_t t0 = er_mono_ms();
    CHECK_OK(fetch_with("127.0.0.1", "/big", &p, NULL, 0, 256 * 1024, &err));
    CHECK(er_json_bool(p, "truncated", false));
    CHECK_INT(er_json_num(p, "bytes", 0), 256 * 1024);
    CHECK(text_has(p, "so that a reader must cut it."));
    CHECK(er_mono_ms() - t0 < 20000);
    cJSON_Delete(p);

    t0 = er_mono_ms();
    CHECK_INT(fetch_with("127.0.0.1", "/slow", &p, NULL, 700, 0, &err), ER_ETIMEDOUT);
    CHECK(strstr(err.msg, "timed out"));
    CHECK(er_mono_ms() - t0 < 4500);

    CHECK_INT(fetch("/site/nothing-here.html", &p, &err), ER_ENOTFOUND);
    CHECK(strstr(err.msg, "HTTP 404"));
    CHECK_INT(fetch("/status/503", &p, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "HTTP 503"));
}

static void test_robots(void)
{
    er_error err = { 0 };
    cJSON *p = NULL;
    CHECK_INT(fetch("/site/private/secret.html", &p, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "robots.txt"));
    CHECK_INT(fetch("/site/no-errand.html", &p, &err), ER_EDENIED);
    /* robots.txt was read once for the origin */
    char *rec = fake_llm_slurp(site.record);
    int n = 0;
    for (const char *s = rec; s && (s = strstr(s, "/robots.txt")) != NULL; s++)
        n++;
    CHECK_INT(n, 1);
    CHECK(rec && !strstr(rec, "/site/private/secret.html")); /* never requested */
    free(rec);
}

static void test_cache(void)
{
    er_error err = { 0 };
    er_cache *cache = NULL;
    CHECK_OK(er_cache_open(&cache, NULL, &err));
    cJSON *p = NULL;
    CHECK_OK(fetch_with("127.0.0.1", "/site/table.html", &p, cache, 0, 0, &err));
    CHECK(!er_json_bool(p, "cached", true));
    cJSON_Delete(p);
    char key[80];
    char *url = er_xasprintf("%s/site/table.html", base);
    CHECK_OK(er_web_page_key(url, key, &err));
    CHECK(er_str_starts(key, "web:page:") && strlen(key) == 9 + 64);
    char *val = NULL;
    CHECK_OK(er_cache_get(cache, key, &val, NULL, &err));
    free(val);
    CHECK_OK(fetch_with("127.0.0.1", "/site/table.html", &p, cache, 0, 0, &err));
    CHECK(er_json_bool(p, "cached", false));
    CHECK(text_has(p, "| August | 95 | 12 |"));
    cJSON_Delete(p);
    free(url);
    er_cache_close(cache);
}

/* Politeness: two fetches from one site are delay_ms apart. */
static void test_delay(void)
{
    er_error err = { 0 };
    er_netguard *g = NULL;
    CHECK_OK(er_netguard_new(&g, "127.0.0.1", &err));
    er_web_opts o = { .guard = g, .max_redirects = 5, .delay_ms = 400 };
    char *url = er_xasprintf("%s/site/plain.txt", base);
    cJSON *p = NULL;
    int64_t t0 = er_mono_ms();
    CHECK_OK(er_web_fetch(&p, url, &o, &err));
    cJSON_Delete(p);
    CHECK_OK(er_web_fetch(&p, url, &o, &err));
    cJSON_Delete(p);
    CHECK(er_mono_ms() - t0 >= 400);
    free(url);
    er_netguard_free(g);
}

/* The SSRF guard: each refused with a clear error, allowed only by the list. */
static void test_ssrf(void)
{
    er_error err = { 0 };
    cJSON *p = NULL;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/site/news.html", site.port);
    CHECK_INT(fetch_with(NULL, url, &p, NULL, 0, 0, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "loopback") && strstr(err.msg, "web.allow_hosts"));
    snprintf(url, sizeof url, "http://localhost:%d/site/news.html", site.port); /* a name */
    CHECK_INT(fetch_with(NULL, url, &p, NULL, 0, 0, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "'localhost'") && strstr(err.msg, "loopback"));
    CHECK_OK(fetch_with("localhost", url, &p, NULL, 0, 0, &err));
    cJSON_Delete(p);
    /* allowed host redirecting to a loopback address that is not allowed */
    snprintf(url, sizeof url, "http://localhost:%d/to-loopback", site.port);
    CHECK_INT(fetch_with("localhost", url, &p, NULL, 0, 0, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "127.0.0.1") && strstr(err.msg, "loopback"));
    CHECK_OK(fetch_with("localhost,127.0.0.1", url, &p, NULL, 0, 0, &err));
    cJSON_Delete(p);
    snprintf(url, sizeof url, "http://[::1]:%d/", site.port);
    CHECK_INT(fetch_with(NULL, url, &p, NULL, 1000, 0, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "::1") && strstr(err.msg, "loopback"));
    /* allowed, ::1 gets past the guard (nothing listens there: refused by the OS) */
    CHECK_INT(fetch_with("::1", url, &p, NULL, 1000, 0, &err), ER_EUNAVAIL);
    CHECK(!strstr(err.msg, "web.allow_hosts"));
    /* never connected to: the guard refuses before any packet leaves */
    static const struct {
        const char *url, *word;
    } refused[] = {
        { "http://10.0.0.1/", "private" },
        { "http://10.255.255.254:8080/admin", "private" },
        { "http://169.254.169.254/latest/meta-data/", "metadata" },
        { "http://[::ffff:169.254.169.254]/", "metadata" },
        { "http://192.168.0.1/", "private" },
        { "http://100.100.100.200/", "CGNAT" },
        { "http://0.0.0.0/", "unspecified" },
        { "file:///etc/passwd", "scheme" },
        { "gopher://127.0.0.1:6379/_FLUSHALL", "scheme" },
        { "ftp://example.com/", "scheme" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(refused); i++) {
        int rc = fetch_with(NULL, refused[i].url, &p, NULL, 1000, 0, &err);
        if (rc != ER_EDENIED || !strstr(err.msg, refused[i].word))
            fprintf(stderr, "%s: %d %s\n", refused[i].url, rc, err.msg);
        CHECK_INT(rc, ER_EDENIED);
        CHECK(strstr(err.msg, refused[i].word));
    }
    /* a refused fetch leaves no robots.txt verdict behind, in this process or
     * the shared cache: once allowed, robots.txt is read and obeyed */
    er_web_reset();
    er_cache *cache = NULL;
    CHECK_OK(er_cache_open(&cache, NULL, &err));
    CHECK_INT(fetch_with(NULL, "/site/private/secret.html", &p, cache, 0, 0, &err), ER_EDENIED);
    CHECK(strstr(err.msg, "loopback"));
    CHECK_INT(fetch_with("127.0.0.1", "/site/private/secret.html", &p, cache, 0, 0, &err),
              ER_EDENIED);
    CHECK(strstr(err.msg, "robots.txt"));
    er_cache_close(cache);
    /* the plain transport never carries a guarded request: forced libcurl too */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/site/news.html", site.port);
    setenv("ERRAND_HTTP", "curl", 1);
    CHECK_INT(fetch_with(NULL, url, &p, NULL, 0, 0, &err), ER_EDENIED);
    unsetenv("ERRAND_HTTP");
}

int main(void)
{
    const char *data = getenv("ERRAND_TEST_DATA");
    char *root = er_xasprintf("%s/../fixtures/web", data ? data : "tests/data");
    const char *args[] = { "--root", root, NULL };
    int rc = fake_proc_start(&site, "fake_site", args);
    if (rc == 77) {
        printf("skip: fake_site not built\n");
        return 77;
    }
    if (rc) {
        fprintf(stderr, "cannot start fake_site\n");
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", site.port);
    test_pages();
    test_pdf();
    test_transfer();
    test_robots();
    test_cache();
    test_delay();
    test_ssrf();
    er_web_reset();
    fake_proc_stop(&site);
    free(root);
    return check_done();
}
