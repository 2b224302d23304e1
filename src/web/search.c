/* search.c — the web search seam: provider choice, the HTTP call, retries,
 * caching and the normalised result (see websearch.h). */
#include "errand/websearch.h"
#include "errand/alloc.h"
#include "errand/digest.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEARCH_TIMEOUT_MS 20000L
#define SEARCH_RETRIES    3
#define SEARCH_MAX_BODY   ((size_t)4 << 20)

static const er_search_backend *const backends[] = {
    &er_search_searxng,
    &er_search_brave,
    &er_search_tavily,
};

static const char *key_for(const er_config *cfg, const er_search_backend *b)
{
    if (b == &er_search_brave)
        return cfg->brave_api_key;
    if (b == &er_search_tavily)
        return cfg->tavily_api_key;
    return NULL;
}

int er_search_backend_for(const er_config *cfg, const er_search_backend **out, er_error *err)
{
    const char *want = cfg->search_provider;
    if (er_str_empty(want)) /* searxng when its URL is set, else the provider with a key */
        want = !er_str_empty(cfg->search_url)       ? "searxng"
               : !er_str_empty(cfg->brave_api_key)  ? "brave"
               : !er_str_empty(cfg->tavily_api_key) ? "tavily"
                                                    : NULL;
    if (!want)
        return er_error_set(err, ER_EINVAL,
                            "no web search provider is configured: set "
                            "search.url to a SearXNG instance, or BRAVE_API_KEY, or "
                            "TAVILY_API_KEY (see errand.conf(5), [search])");
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++) {
        const er_search_backend *b = backends[i];
        if (strcasecmp(b->name, want) != 0)
            continue;
        if (!b->default_url && er_str_empty(cfg->search_url))
            return er_error_set(err, ER_EINVAL,
                                "search.provider is %s but search.url is not "
                                "set: give the instance's base URL",
                                b->name);
        if (b->key_name && er_str_empty(key_for(cfg, b)))
            return er_error_set(err, ER_EINVAL, "search.provider is %s but %s is not set", b->name,
                                b->key_name);
        *out = b;
        return 0;
    }
    return er_error_set(err, ER_EINVAL,
                        "search.provider '%s' is not one of searxng, brave, "
                        "tavily",
                        want);
}

void er_search_urlencode(er_buf *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            er_buf_putc(out, (char)c);
        else
            er_buf_printf(out, "%%%02X", c);
    }
}

void er_search_url(er_buf *out, const char *base, const char *path)
{
    size_t n = strlen(base);
    er_buf_printf(out, "%.*s%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, path);
}

void er_search_add(cJSON *results, const char *title, const char *url, const char *snippet,
                   const char *engine, const char *published)
{
    if (!url)
        return;
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "title", title ? title : "");
    er_json_add_str(o, "url", url);
    er_json_add_str(o, "snippet", snippet ? snippet : "");
    er_json_add_str(o, "engine", engine);
    er_json_add_str(o, "published", published);
    er_json_append(results, o);
}

/* ---- the answer ---- */

static char *error_message(const er_search_backend *b, long status, const er_buf *body)
{
    char *words = body->len ? b->error_text(body->ptr, body->len) : NULL;
    char *msg = er_xasprintf("%s answered HTTP %ld%s%s", b->name, status, words ? ": " : "",
                             words ? words : "");
    free(words);
    return msg;
}

static int status_error(const er_search_backend *b, const er_http_resp *resp, er_error *err)
{
    char *msg = error_message(b, resp->status, &resp->body);
    int code = resp->status == 401 || resp->status == 403   ? ER_EAUTH
               : resp->status == 400 || resp->status == 422 ? ER_EINVAL
                                                            : ER_EUNAVAIL;
    const char *hint = resp->status == 429 ? " (rate limited; try again later)"
                       : code == ER_EAUTH  ? " (check the API key or the instance's settings)"
                                           : "";
    er_error_set(err, code, "%s%s", msg, hint);
    free(msg);
    return code;
}

static cJSON *result_object(const er_search_backend *b, const er_search_query *q, cJSON *items)
{
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "query", q->query);
    er_json_add_str(r, "provider", b->name);
    er_json_add_num(r, "page", q->page);
    int n = 0;
    cJSON *kept = cJSON_CreateArray(), *it;
    while ((it = items->child) != NULL) {
        cJSON_DetachItemViaPointer(items, it);
        if (n >= q->count) {
            cJSON_Delete(it);
            continue;
        }
        cJSON_AddItemToObject(it, "rank", cJSON_CreateNumber(++n));
        er_json_append(kept, it);
    }
    er_json_add_num(r, "count", n);
    er_json_add(r, "results", kept);
    er_json_add_bool(r, "cached", false);
    return r;
}

static int call(cJSON **out, const er_search_backend *b, const er_config *cfg,
                const er_search_query *q, const volatile int *cancel, er_error *err)
{
    er_search_http h;
    memset(&h, 0, sizeof h);
    const char *base = !er_str_empty(cfg->search_url) ? cfg->search_url : b->default_url;
    int rc = b->request(&h, q, base, key_for(cfg, b), err);
    if (rc)
        return rc;
    er_http_req req = { .url = h.url,
                        .headers = h.headers,
                        .body = h.body,
                        .body_len = h.body ? strlen(h.body) : 0,
                        .timeout_ms = SEARCH_TIMEOUT_MS,
                        .max_body = SEARCH_MAX_BODY,
                        .retries = SEARCH_RETRIES,
                        .cancel = cancel,
                        .configured_endpoint = true };
    er_http_resp resp;
    rc = er_http_request(&resp, &req, err);
    if (rc)
        er_error_prefix(err, "%s search", b->name);
    else if (resp.status < 200 || resp.status >= 300)
        rc = status_error(b, &resp, err);
    cJSON *items = cJSON_CreateArray();
    if (!rc && (rc = b->parse(resp.body.ptr ? resp.body.ptr : "", resp.body.len, items, err)) == 0)
        *out = result_object(b, q, items);
    cJSON_Delete(items);
    er_http_resp_release(&resp);
    free(h.url);
    free(h.body);
    return rc;
}

/* ---- the cache ---- */

static char *cache_key(const er_search_backend *b, const er_config *cfg, const er_search_query *q)
{
    char *what = er_xasprintf("%s\n%s\n%s\n%d\n%d\n%s\n%s", b->name,
                              cfg->search_url ? cfg->search_url : "", q->query, q->count, q->page,
                              q->language ? q->language : "", q->time_range ? q->time_range : "");
    char hex[65];
    int rc = er_sha256_hex(what, strlen(what), hex, NULL);
    free(what);
    return rc ? NULL : er_xasprintf("web:search:%s", hex);
}

static int check_query(er_search_query *q, er_error *err)
{
    if (er_str_empty(q->query))
        return er_error_set(err, ER_EINVAL, "web_search: the query is empty");
    if (q->count < 1 || q->count > 20)
        return er_error_set(err, ER_EINVAL, "web_search: count must be 1-20, not %d", q->count);
    if (q->page < 1 || q->page > 10)
        return er_error_set(err, ER_EINVAL, "web_search: page must be 1-10, not %d", q->page);
    static const char *const ranges[] = { "day", "week", "month", "year" };
    bool ok = !q->time_range;
    for (size_t i = 0; i < ER_ARRAY_LEN(ranges) && !ok; i++)
        ok = strcmp(q->time_range, ranges[i]) == 0;
    if (!ok)
        return er_error_set(err, ER_EINVAL,
                            "web_search: time_range must be day, week, month "
                            "or year, not '%s'",
                            q->time_range);
    return 0;
}

int er_search_run(cJSON **out, const er_config *cfg, er_cache *cache, const er_search_query *q,
                  const volatile int *cancel, er_error *err)
{
    *out = NULL;
    er_search_query qq = *q;
    const er_search_backend *b;
    int rc = check_query(&qq, err);
    if (!rc)
        rc = er_search_backend_for(cfg, &b, err);
    if (rc)
        return rc;
    int64_t ttl = (int64_t)cfg->web_cache_ttl * 1000;
    char *key = cache && ttl > 0 ? cache_key(b, cfg, &qq) : NULL;
    char *val = NULL;
    size_t len = 0;
    if (key && er_cache_get(cache, key, &val, &len, NULL) == 0) {
        *out = cJSON_ParseWithLength(val, len);
        free(val);
        if (*out) {
            cJSON_ReplaceItemInObjectCaseSensitive(*out, "cached", cJSON_CreateTrue());
            free(key);
            return 0;
        }
    }
    rc = call(out, b, cfg, &qq, cancel, err);
    if (!rc && key) {
        char *text = er_json_print(*out);
        er_cache_set(cache, key, text, strlen(text), ttl, NULL);
        free(text);
    }
    free(key);
    return rc;
}
