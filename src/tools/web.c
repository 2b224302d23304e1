/* web.c — the web tool family: web_search and fetch_url (the research agent's).
 *
 * Both are of the network class (policy.network, allowed by default) and
 * their results carry outside text, which they fence as data
 * (untrusted.h): the runtime then treats the run as tainted
 * (er_tool_untrusted).  Fetches go through the SSRF guard with the
 * web.allow_hosts allow list (netguard.h). */
#include "errand/alloc.h"
#include "errand/env.h"
#include "errand/http_tape.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/tool_families.h"
#include "errand/untrusted.h"
#include "errand/webfetch.h"
#include "errand/websearch.h"
#include "web_tools.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHARS 20000
#define MAX_CHARS     200000
#define LINKS_SHOWN   40

/* ---- shared with cite_check (web_tools.h) ---- */

int er_web_tools_fetch(const er_tool_ctx *ctx, const char *url, cJSON **page, er_error *err)
{
    er_config *cfg = er_env_config(ctx->env);
    er_web_opts o;
    er_web_opts_from_config(&o, cfg);
    o.cancel = ctx->cancel;
    er_netguard *guard = NULL;
    int rc = er_netguard_new(&guard, cfg->web_allow_hosts, err);
    if (rc)
        return rc;
    o.guard = guard;
    er_cache *cache = NULL;
    if (!er_http_tape_active() && er_env_cache(ctx->env, &cache, NULL) == 0)
        o.cache = cache; /* without a cache the page is simply fetched */
    rc = er_web_fetch(page, url, &o, err);
    er_netguard_free(guard);
    return rc;
}

/* ---- web_search ---- */

static void listing(er_buf *b, const cJSON *results)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, results)
    {
        er_buf_printf(b, "[%d] %s\n    %s\n", (int)er_json_num(r, "rank", 0),
                      er_json_str(r, "title") ? er_json_str(r, "title") : "",
                      er_json_str(r, "url") ? er_json_str(r, "url") : "");
        const char *snippet = er_json_str(r, "snippet");
        if (!er_str_empty(snippet))
            er_buf_printf(b, "    %s\n", snippet);
    }
}

static cJSON *search_result(const cJSON *found)
{
    cJSON *o = cJSON_CreateObject(), *urls = cJSON_CreateArray();
    static const char *const copy[] = { "query", "provider", "page", "count", "cached" };
    for (size_t i = 0; i < ER_ARRAY_LEN(copy); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(found, copy[i]);
        if (v)
            er_json_add(o, copy[i], cJSON_Duplicate(v, true));
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, er_json_arr(found, "results"))
    {
        cJSON *u = cJSON_CreateObject();
        er_json_add_num(u, "rank", er_json_num(r, "rank", 0));
        er_json_add_str(u, "url", er_json_str(r, "url"));
        er_json_add_str(u, "engine", er_json_str(r, "engine"));
        er_json_add_str(u, "published", er_json_str(r, "published"));
        er_json_append(urls, u);
    }
    er_json_add(o, "results", urls);
    er_buf text = ER_BUF_INIT, fenced = ER_BUF_INIT;
    listing(&text, er_json_arr(found, "results"));
    char *source =
        er_xasprintf("%s search: %s", er_json_str(found, "provider"), er_json_str(found, "query"));
    er_untrusted_fence(&fenced, "search results", source, er_buf_cstr(&text), text.len);
    er_tools_add_text(o, "listing", fenced.ptr, fenced.len, ER_TOOLS_BUDGET);
    free(source);
    er_buf_release(&text);
    er_buf_release(&fenced);
    return o;
}

static int run_search(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_config *cfg = er_env_config(ctx->env);
    er_search_query q = {
        .query = er_json_str(args, "query"),
        .count = (int)er_json_int(args, "count", cfg->search_count > 0 ? cfg->search_count : 10,
                                  -1000, 1000),
        .page = (int)er_json_int(args, "page", 1, -1000, 1000),
        .language = er_json_str(args, "language"),
        .time_range = er_json_str(args, "time_range"),
    };
    er_cache *cache = NULL;
    if (!er_http_tape_active()) /* a cassette keeps (and gives back) the exchange itself */
        er_env_cache(ctx->env, &cache, NULL);
    cJSON *found = NULL;
    int rc = er_search_run(&found, cfg, cache, &q, ctx->cancel, err);
    if (rc)
        return rc;
    cJSON *o = search_result(found);
    rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    cJSON_Delete(found);
    return rc;
}

/* ---- fetch_url ---- */

/* The page's outside text — title, byline, date, main text, links — in one fence. */
static void page_text(er_buf *b, const cJSON *page, size_t start, size_t max, size_t *cut)
{
    static const struct {
        const char *key, *label;
    } heads[] = {
        { "title", "Title" },
        { "byline", "By" },
        { "published", "Published" },
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(heads); i++)
        if (er_json_str(page, heads[i].key))
            er_buf_printf(b, "%s: %s\n", heads[i].label, er_json_str(page, heads[i].key));
    er_buf_putc(b, '\n');
    const char *text = er_json_str(page, "text") ? er_json_str(page, "text") : "";
    size_t len = strlen(text);
    if (start > len)
        start = len;
    while (start < len && start > 0 && ((unsigned char)text[start] & 0xC0) == 0x80)
        start++; /* never start inside a character */
    size_t n = len - start;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[start + n] & 0xC0) == 0x80)
            n--;
    }
    *cut = len - start - n;
    er_tools_clip(b, text + start, n, n);
    if (*cut)
        er_buf_printf(b, "\n[... %zu more bytes: call again with start=%zu ...]", *cut, start + n);
    const cJSON *links = er_json_arr(page, "links"), *l;
    int k = 0;
    cJSON_ArrayForEach(l, links)
    {
        if (k++ == LINKS_SHOWN)
            break;
        er_buf_printf(b, "%s[%s](%s)", k == 1 ? "\n\nLinks:\n- " : "\n- ",
                      er_json_str(l, "text") ? er_json_str(l, "text") : "", er_json_str(l, "url"));
    }
}

static cJSON *fetch_result(const cJSON *page, size_t start, size_t max)
{
    cJSON *o = cJSON_CreateObject();
    static const char *const copy[] = { "url",          "final_url", "status",
                                        "content_type", "charset",   "canonical_url",
                                        "bytes",        "truncated", "cached" };
    for (size_t i = 0; i < ER_ARRAY_LEN(copy); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(page, copy[i]);
        if (v)
            er_json_add(o, copy[i], cJSON_Duplicate(v, true));
    }
    const char *text = er_json_str(page, "text");
    er_json_add_num(o, "text_bytes", text ? (double)strlen(text) : 0);
    er_buf body = ER_BUF_INIT, fenced = ER_BUF_INIT;
    size_t cut = 0;
    page_text(&body, page, start, max, &cut);
    er_json_add_num(o, "text_cut", (double)cut);
    er_untrusted_fence(&fenced, "web page", er_json_str(page, "final_url"), body.ptr, body.len);
    er_json_add_str(o, "content", er_buf_cstr(&fenced));
    er_buf_release(&body);
    er_buf_release(&fenced);
    return o;
}

static int run_fetch(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    const char *url = er_json_str(args, "url");
    int64_t max = er_json_int(args, "max_chars", DEFAULT_CHARS, 1, MAX_CHARS);
    int64_t start = er_json_int(args, "start", 0, 0, INT64_MAX);
    if (max > ER_TOOLS_BUDGET / 2)
        max = ER_TOOLS_BUDGET / 2; /* escaped JSON may double it */
    cJSON *page = NULL;
    int rc = er_web_tools_fetch(ctx, url, &page, err);
    if (rc)
        return rc;
    cJSON *o = fetch_result(page, (size_t)start, (size_t)max);
    rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    cJSON_Delete(page);
    return rc;
}

static const er_tool web_tools[] = {
    { "web_search",
      "Search the web. Returns ranked results (rank, URL, engine) and a listing of titles and "
      "snippets fenced as untrusted data. Use fetch_url to read a result.",
      "{\"type\":\"object\",\"properties\":{"
      "\"query\":{\"type\":\"string\",\"description\":\"what to search for\"},"
      "\"count\":{\"type\":\"integer\",\"description\":\"results wanted, 1-20 (default "
      "search.count)\"},"
      "\"page\":{\"type\":\"integer\",\"description\":\"result page, 1-10 (default 1)\"},"
      "\"language\":{\"type\":\"string\",\"description\":\"language code, e.g. en or de\"},"
      "\"time_range\":{\"type\":\"string\",\"enum\":[\"day\",\"week\",\"month\",\"year\"],"
      "\"description\":\"only results this recent\"}},"
      "\"required\":[\"query\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "search QUERY...", run_search, true },
    { "fetch_url",
      "Fetch a web page (or text, JSON, RSS/Atom feed, PDF) and return its readable main text "
      "with title, byline, date and links, fenced as untrusted data. Long texts are cut at "
      "max_chars; call again with start to read on.",
      "{\"type\":\"object\",\"properties\":{"
      "\"url\":{\"type\":\"string\",\"description\":\"an absolute http:// or https:// URL\"},"
      "\"max_chars\":{\"type\":\"integer\",\"description\":\"bytes of text to return (default "
      "20000)\"},"
      "\"start\":{\"type\":\"integer\",\"description\":\"byte offset in the text to start at "
      "(default 0)\"}},"
      "\"required\":[\"url\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "fetch URL [MAX_CHARS] [START]", run_fetch, true },
};

const er_tool_family er_tools_web = { "web", web_tools, ER_ARRAY_LEN(web_tools) };
