/* fuzz_webparse.c — the small parsers of outside text in src/web and the
 * guard: robots.txt rules, quote matching, charset conversion, the three
 * search providers' answers and error bodies, and web.allow_hosts.
 * Invariants: no crash or leak; a found quote lies inside the text and its
 * sentence is non-empty; converted text has no NUL; search results always
 * carry a URL; an allow list either parses or fails with EINVAL. */
#include "fuzz.h"
#include "errand/charset.h"
#include "errand/cite.h"
#include "errand/json.h"
#include "errand/netguard.h"
#include "errand/webfetch.h"
#include "errand/websearch.h"

static void search_answers(const char *text, size_t size)
{
    const er_search_backend *const bs[] = { &er_search_searxng, &er_search_brave,
                                            &er_search_tavily };
    for (size_t i = 0; i < ER_ARRAY_LEN(bs); i++) {
        cJSON *results = cJSON_CreateArray();
        er_error err = { 0 };
        int rc = bs[i]->parse(text, size, results, &err);
        fuzz_check_result(rc, &err);
        const cJSON *r;
        cJSON_ArrayForEach(r, results)
        {
            FUZZ_CHECK(er_json_str(r, "url") != NULL);
        }
        cJSON_Delete(results);
        free(bs[i]->error_text(text, size));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    size_t half = strlen(text) / 2;
    (void)er_robots_allows(text, "errand", "/some/path?q=1");
    (void)er_robots_allows(text, "errand", text + half);
    er_cite_match m;
    er_cite_find(&m, text, text + half);
    if (m.found) {
        FUZZ_CHECK(m.start <= m.end && m.end <= strlen(text));
        FUZZ_CHECK(m.sentence != NULL);
    }
    er_cite_match_release(&m);
    char *out = NULL;
    size_t n = 0;
    er_error err = { 0 };
    int rc =
        er_charset_to_utf8(&out, &n, (const char *)data, size, size % 3 ? "cp932" : NULL, &err);
    fuzz_check_result(rc, &err);
    if (rc == 0)
        FUZZ_CHECK(strlen(out) == n);
    free(out);
    search_answers(text, strlen(text));
    er_netguard *g = NULL;
    rc = er_netguard_new(&g, text, &err);
    FUZZ_CHECK(rc == 0 || rc == ER_EINVAL);
    er_netguard_free(g);
    (void)er_netguard_check_scheme(text, &err);
    free(text);
    return 0;
}
