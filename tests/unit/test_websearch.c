/* test_websearch.c — the web search seam against fakes of SearXNG, Brave
 * Search and Tavily speaking their wire formats (tests/fakes/fake_search):
 * the same checks for each — results normalised, paging, count, language and
 * time range sent as the provider wants them, empty results, rate limiting
 * (429 + Retry-After honoured, then success; or the provider's words when it
 * persists), server errors, a refused key, the cache — and the choice of
 * provider from the settings. */
#include "check.h"
#include "fakes/fake_proc.h"
#include "errand/alloc.h"
#include "errand/cache.h"
#include "errand/json.h"
#include "errand/websearch.h"

typedef struct prov {
    const char *name;
    const char *key; /* what the fake expects, or NULL */
} prov;

static int run(er_config *cfg, er_cache *cache, const char *q, int count, int page, cJSON **out,
               er_error *err)
{
    er_search_query sq = { .query = q, .count = count, .page = page };
    return er_search_run(out, cfg, cache, &sq, NULL, err);
}

/* The last request the fake recorded (OWNED). */
static cJSON *last_request(const fake_proc *f)
{
    char *text = fake_llm_slurp(f->record);
    char *last = NULL;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        last = line;
        line = nl + 1;
    }
    cJSON *j = last ? cJSON_Parse(last) : NULL;
    free(text);
    return j;
}

static int nrequests(const fake_proc *f)
{
    char *text = fake_llm_slurp(f->record);
    int n = 0;
    for (const char *s = text; s && *s; s++)
        n += *s == '\n';
    free(text);
    return n;
}

static void check_request(const prov *p, const fake_proc *f)
{
    cJSON *r = last_request(f);
    const char *q = er_json_str(r, "query"), *body = er_json_str(r, "body");
    if (er_str_eq(p->name, "searxng")) {
        CHECK(q && strstr(q, "format=json") && strstr(q, "q=riverton%20tram"));
        CHECK(q && strstr(q, "language=en") && strstr(q, "time_range=month"));
    } else if (er_str_eq(p->name, "brave")) {
        CHECK(q && strstr(q, "q=riverton%20tram") && strstr(q, "count=3") && strstr(q, "offset=0"));
        CHECK(q && strstr(q, "search_lang=en") && strstr(q, "freshness=pm"));
        CHECK_STR(er_json_str(r, "token"), p->key);
    } else {
        cJSON *b = cJSON_Parse(body);
        CHECK_STR(er_json_str(b, "query"), "riverton tram");
        CHECK_INT(er_json_num(b, "max_results", 0), 3);
        CHECK_STR(er_json_str(b, "time_range"), "month");
        cJSON_Delete(b);
        CHECK(er_str_starts(er_json_str(r, "token"), "Bearer "));
    }
    cJSON_Delete(r);
}

static void test_results(const prov *p, er_config *cfg, const fake_proc *f)
{
    er_error err = { 0 };
    cJSON *out = NULL;
    er_search_query sq = {
        .query = "riverton tram", .count = 3, .page = 1, .language = "en", .time_range = "month"
    };
    CHECK_OK(er_search_run(&out, cfg, NULL, &sq, NULL, &err));
    CHECK_STR(er_json_str(out, "provider"), p->name);
    CHECK_INT(er_json_num(out, "count", 0), 3);
    const cJSON *first = cJSON_GetArrayItem(er_json_arr(out, "results"), 0);
    CHECK_STR(er_json_str(first, "title"), "City council approves the new tram line");
    CHECK_STR(er_json_str(first, "url"), "https://news.example/city/tram-line-approved");
    CHECK(er_str_starts(er_json_str(first, "snippet"), "The council voted 9 to 2"));
    CHECK_INT(er_json_num(first, "rank", 0), 1);
    CHECK(er_json_str(first, "engine") != NULL);
    cJSON_Delete(out);
    check_request(p, f);

    /* count and pages */
    CHECK_OK(run(cfg, NULL, "many results", 5, 1, &out, &err));
    CHECK_INT(er_json_num(out, "count", 0), 5);
    CHECK_STR(er_json_str(cJSON_GetArrayItem(er_json_arr(out, "results"), 0), "title"), "Result 1");
    cJSON_Delete(out);
    int rc = run(cfg, NULL, "many results", 5, 2, &out, &err);
    if (er_str_eq(p->name, "tavily")) {
        CHECK_INT(rc, ER_EINVAL);
        CHECK(strstr(err.msg, "no result pages"));
    } else {
        CHECK_OK(rc);
        /* SearXNG pages hold 10 results, Brave's hold count */
        CHECK_STR(er_json_str(cJSON_GetArrayItem(er_json_arr(out, "results"), 0), "title"),
                  er_str_eq(p->name, "searxng") ? "Result 11" : "Result 6");
        cJSON_Delete(out);
    }
    CHECK_OK(run(cfg, NULL, "empty", 10, 1, &out, &err));
    CHECK_INT(er_json_num(out, "count", -1), 0);
    CHECK_INT(cJSON_GetArraySize(er_json_arr(out, "results")), 0);
    cJSON_Delete(out);
}

static void test_errors(const prov *p, er_config *cfg, const fake_proc *f)
{
    er_error err = { 0 };
    cJSON *out = NULL;
    int before = nrequests(f);
    int64_t t0 = er_mono_ms();
    CHECK_OK(run(cfg, NULL, "ratelimit once", 5, 1, &out, &err));
    CHECK(er_mono_ms() - t0 >= 900); /* Retry-After: 1 was honoured */
    CHECK_INT(nrequests(f) - before, 2);
    cJSON_Delete(out);
    CHECK_INT(run(cfg, NULL, "ratelimit always", 5, 1, &out, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "HTTP 429") && strstr(err.msg, "rate limited"));
    CHECK(er_str_eq(p->name, "searxng") || strstr(err.msg, "rate limit exceeded") ||
          strstr(err.msg, "Rate limit exceeded"));
    CHECK_INT(run(cfg, NULL, "server error", 5, 1, &out, &err), ER_EUNAVAIL);
    CHECK(strstr(err.msg, "HTTP 500") && strstr(err.msg, "failed unexpectedly"));
    CHECK(strstr(err.msg, p->name));
    if (p->key) {
        char *good = cfg->brave_api_key ? cfg->brave_api_key : cfg->tavily_api_key;
        char **slot = cfg->brave_api_key ? &cfg->brave_api_key : &cfg->tavily_api_key;
        *slot = "wrong-key";
        CHECK_INT(run(cfg, NULL, "riverton tram", 5, 1, &out, &err), ER_EAUTH);
        CHECK(strstr(err.msg, "HTTP 401") &&
              (strstr(err.msg, "token is invalid") || strstr(err.msg, "invalid API key")));
        *slot = good;
    }
    CHECK_INT(run(cfg, NULL, "", 5, 1, &out, &err), ER_EINVAL);
    CHECK_INT(run(cfg, NULL, "x", 50, 1, &out, &err), ER_EINVAL);
    er_search_query sq = { .query = "x", .count = 5, .page = 1, .time_range = "decade" };
    CHECK_INT(er_search_run(&out, cfg, NULL, &sq, NULL, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "time_range"));
}

static void test_cache(er_config *cfg, const fake_proc *f)
{
    er_error err = { 0 };
    er_cache *cache = NULL;
    CHECK_OK(er_cache_open(&cache, NULL, &err));
    cJSON *out = NULL;
    CHECK_OK(run(cfg, cache, "riverton tram", 3, 1, &out, &err));
    CHECK(!er_json_bool(out, "cached", true));
    cJSON_Delete(out);
    int before = nrequests(f);
    CHECK_OK(run(cfg, cache, "riverton tram", 3, 1, &out, &err));
    CHECK(er_json_bool(out, "cached", false));
    CHECK_INT(er_json_num(out, "count", 0), 3);
    CHECK_INT(nrequests(f), before); /* answered from the cache */
    cJSON_Delete(out);
    er_cache_close(cache);
}

static void test_provider(const prov *p, const char *data)
{
    fake_proc f;
    const char *args[] = { "--provider", p->name,     "--data",
                           data,         "--api-key", p->key ? p->key : "unused",
                           NULL };
    if (fake_proc_start(&f, "fake_search", args) != 0) {
        fprintf(stderr, "cannot start fake_search %s\n", p->name);
        CHECK(0);
        return;
    }
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", f.port);
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.search_provider = (char *)p->name;
    cfg.search_url = base;
    cfg.web_cache_ttl = 60;
    if (er_str_eq(p->name, "brave"))
        cfg.brave_api_key = (char *)p->key;
    if (er_str_eq(p->name, "tavily"))
        cfg.tavily_api_key = (char *)p->key;
    test_results(p, &cfg, &f);
    test_errors(p, &cfg, &f);
    test_cache(&cfg, &f);
    fake_proc_stop(&f);
}

static void test_choice(void)
{
    er_config cfg;
    memset(&cfg, 0, sizeof cfg);
    er_error err = { 0 };
    const er_search_backend *b = NULL;
    CHECK_INT(er_search_backend_for(&cfg, &b, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "search.url") && strstr(err.msg, "BRAVE_API_KEY"));
    cfg.tavily_api_key = "t";
    CHECK_OK(er_search_backend_for(&cfg, &b, &err));
    CHECK_STR(b->name, "tavily");
    cfg.brave_api_key = "b";
    CHECK_OK(er_search_backend_for(&cfg, &b, &err));
    CHECK_STR(b->name, "brave");
    cfg.search_url = "http://127.0.0.1:1";
    CHECK_OK(er_search_backend_for(&cfg, &b, &err));
    CHECK_STR(b->name, "searxng");
    cfg.search_provider = "brave";
    cfg.brave_api_key = NULL;
    CHECK_INT(er_search_backend_for(&cfg, &b, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "BRAVE_API_KEY is not set"));
    cfg.search_provider = "searxng";
    cfg.search_url = NULL;
    CHECK_INT(er_search_backend_for(&cfg, &b, &err), ER_EINVAL);
    CHECK(strstr(err.msg, "search.url is not set"));
}

int main(void)
{
    setenv("ERRAND_HTTP_BACKOFF_MS", "20", 1); /* 5xx retries: quick; Retry-After still honoured */
    const char *data = getenv("ERRAND_TEST_DATA");
    if (!data || !getenv("ERRAND_TEST_BIN")) {
        printf("skip: run through ctest\n");
        return 77;
    }
    char *file = er_xasprintf("%s/web/search.json", data);
    static const prov provs[] = {
        { "searxng", NULL },
        { "brave", "brave-test-key" },
        { "tavily", "tvly-test-key" },
    };
    test_choice();
    for (size_t i = 0; i < ER_ARRAY_LEN(provs); i++)
        test_provider(&provs[i], file);
    free(file);
    return check_done();
}
