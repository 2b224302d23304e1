/* fake_search.c — a web search provider on 127.0.0.1 speaking SearXNG's,
 * Brave Search's or Tavily's wire format (as their API documentation gives
 * it), for the web_search tests.
 *
 *   fake_search --provider searxng|brave|tavily --data FILE [--api-key K]
 *               [--port N] [--port-file F] [--record F.jsonl]
 *
 * FILE: {"QUERY": [{"title","url","snippet","published"}, …], …}; a query
 * not in it finds nothing.  Queries that misbehave:
 *   "ratelimit once"   429 (Retry-After: 1) the first time, then results
 *   "ratelimit always" 429 every time
 *   "server error"     500 with the provider's error body
 * SearXNG: GET /search (format=json, else 403 as an instance without the json
 * format does), 10 results a page (pageno).  Brave: GET /res/v1/web/search,
 * X-Subscription-Token, count and offset (pages of count).  Tavily: POST
 * /search, JSON body, Authorization: Bearer KEY, max_results.  A wrong key
 * gets each provider's 401 answer.  --record: one JSON line per request
 * {method, path, query, body, token}. */
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/json.h"
#include "errand/str.h"

#include "fake_server.h"

#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { SEARXNG, BRAVE, TAVILY } provider;

static struct {
    provider p;
    cJSON *data;
    const char *key;
    FILE *record;
    int once_done;
    pthread_mutex_t lock;
} F = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void reply(struct mg_connection *c, int status, const char *ctype, const char *extra,
                  const char *body)
{
    size_t len = strlen(body);
    mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
              mg_get_response_code_text(c, status), ctype, len, extra ? extra : "");
    mg_write(c, body, len);
}

static void reply_json(struct mg_connection *c, int status, const char *extra, cJSON *j)
{
    char *s = er_json_print(j);
    reply(c, status, "application/json", extra, s);
    free(s);
    cJSON_Delete(j);
}

/* Each provider's error body. */
static void provider_error(struct mg_connection *c, int status, const char *code,
                           const char *detail, const char *extra)
{
    if (F.p == SEARXNG) {
        reply(c, status, "text/plain", extra, detail);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    if (F.p == BRAVE) {
        cJSON *e = cJSON_CreateObject();
        er_json_add_str(e, "id", "c0ffee00-0000-4000-8000-000000000000");
        er_json_add_num(e, "status", status);
        er_json_add_str(e, "code", code);
        er_json_add_str(e, "detail", detail);
        er_json_add(e, "meta", cJSON_CreateObject());
        er_json_add_str(root, "type", "ErrorResponse");
        er_json_add(root, "error", e);
        er_json_add_num(root, "time", 1700000000);
    } else {
        cJSON *d = cJSON_CreateObject();
        er_json_add_str(d, "error", detail);
        er_json_add(root, "detail", d);
    }
    reply_json(c, status, extra, root);
}

static cJSON *searxng_item(const cJSON *r)
{
    cJSON *o = cJSON_CreateObject(), *engines = cJSON_CreateArray();
    er_json_append(engines, cJSON_CreateString("duckduckgo"));
    er_json_add_str(o, "url", er_json_str(r, "url"));
    er_json_add_str(o, "title", er_json_str(r, "title"));
    er_json_add_str(o, "content", er_json_str(r, "snippet"));
    er_json_add_str(o, "engine", "duckduckgo");
    er_json_add(o, "engines", engines);
    er_json_add_num(o, "score", 1.0);
    er_json_add_str(o, "category", "general");
    er_json_add_str(o, "publishedDate", er_json_str(r, "published"));
    return o;
}

static cJSON *brave_item(const cJSON *r)
{
    cJSON *o = cJSON_CreateObject(), *profile = cJSON_CreateObject();
    er_json_add_str(o, "type", "search_result");
    er_json_add_str(o, "title", er_json_str(r, "title"));
    er_json_add_str(o, "url", er_json_str(r, "url"));
    er_json_add_str(o, "description", er_json_str(r, "snippet"));
    er_json_add_str(o, "page_age", er_json_str(r, "published"));
    er_json_add_str(o, "language", "en");
    er_json_add_bool(o, "family_friendly", true);
    er_json_add_str(profile, "name", "Example");
    er_json_add(o, "profile", profile);
    return o;
}

static cJSON *tavily_item(const cJSON *r)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "title", er_json_str(r, "title"));
    er_json_add_str(o, "url", er_json_str(r, "url"));
    er_json_add_str(o, "content", er_json_str(r, "snippet"));
    er_json_add_num(o, "score", 0.9);
    er_json_add(o, "raw_content", cJSON_CreateNull());
    er_json_add_str(o, "published_date", er_json_str(r, "published"));
    return o;
}

/* The items of query from first, at most n. */
static cJSON *items(const char *query, int first, int n, cJSON *(*item)(const cJSON *))
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(F.data, query), *r;
    int i = 0;
    cJSON_ArrayForEach(r, all)
    {
        if (i >= first && i < first + n)
            er_json_append(arr, item(r));
        i++;
    }
    return arr;
}

static void answer(struct mg_connection *c, const char *q, int first, int n)
{
    cJSON *root = cJSON_CreateObject();
    if (F.p == SEARXNG) {
        cJSON *res = items(q, first, n, searxng_item);
        er_json_add_str(root, "query", q);
        er_json_add_num(root, "number_of_results", cJSON_GetArraySize(res));
        er_json_add(root, "results", res);
        static const char *const empty[] = { "answers", "corrections", "infoboxes", "suggestions",
                                             "unresponsive_engines" };
        for (size_t i = 0; i < ER_ARRAY_LEN(empty); i++)
            er_json_add(root, empty[i], cJSON_CreateArray());
    } else if (F.p == BRAVE) {
        cJSON *query = cJSON_CreateObject(), *web = cJSON_CreateObject();
        er_json_add_str(query, "original", q);
        er_json_add_bool(query, "more_results_available", false);
        er_json_add_str(web, "type", "search");
        er_json_add(web, "results", items(q, first, n, brave_item));
        er_json_add_bool(web, "family_friendly", true);
        er_json_add_str(root, "type", "search");
        er_json_add(root, "query", query);
        er_json_add(root, "web", web);
    } else {
        er_json_add_str(root, "query", q);
        er_json_add(root, "follow_up_questions", cJSON_CreateNull());
        er_json_add(root, "answer", cJSON_CreateNull());
        er_json_add(root, "images", cJSON_CreateArray());
        er_json_add(root, "results", items(q, first, n, tavily_item));
        er_json_add_num(root, "response_time", 0.42);
    }
    reply_json(c, 200, NULL, root);
}

/* The misbehaving queries; true when one was answered. */
static bool misbehave(struct mg_connection *c, const char *q)
{
    bool limit = strcmp(q, "ratelimit always") == 0;
    if (strcmp(q, "ratelimit once") == 0) {
        pthread_mutex_lock(&F.lock);
        limit = !F.once_done;
        F.once_done = 1;
        pthread_mutex_unlock(&F.lock);
    }
    if (limit) {
        provider_error(c, 429, "RATE_LIMITED",
                       F.p == TAVILY ? "Rate limit exceeded: too many requests."
                                     : "Request rate limit exceeded for plan.",
                       "Retry-After: 1\r\n");
        return true;
    }
    if (strcmp(q, "server error") == 0) {
        provider_error(c, 500, "INTERNAL_ERROR", "The search backend failed unexpectedly.", NULL);
        return true;
    }
    return false;
}

static bool key_ok(struct mg_connection *c, char *token, size_t n)
{
    const char *h = mg_get_header(c, F.p == BRAVE ? "X-Subscription-Token" : "Authorization");
    er_strlcpy(token, h ? h : "", n);
    if (!F.key || F.p == SEARXNG)
        return true;
    if (F.p == BRAVE)
        return h && strcmp(h, F.key) == 0;
    return h && er_str_starts(h, "Bearer ") && strcmp(h + 7, F.key) == 0;
}

static void record(const char *method, const char *path, const char *qs, const char *body,
                   const char *token)
{
    if (!F.record)
        return;
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "method", method);
    er_json_add_str(r, "path", path);
    er_json_add_str(r, "query", qs ? qs : "");
    er_json_add_str(r, "body", body);
    er_json_add_str(r, "token", token);
    char *s = er_json_print(r);
    pthread_mutex_lock(&F.lock);
    fprintf(F.record, "%s\n", s);
    fflush(F.record);
    pthread_mutex_unlock(&F.lock);
    free(s);
    cJSON_Delete(r);
}

/* q, first and n from the request, by provider; false when malformed. */
static bool read_params(struct mg_connection *c, const char *qs, const char *body, char *q,
                        size_t qn, int *first, int *n)
{
    char v[64];
    size_t ql = qs ? strlen(qs) : 0;
    if (F.p == TAVILY) {
        cJSON *j = cJSON_Parse(body);
        bool ok = er_json_str(j, "query") != NULL;
        er_strlcpy(q, ok ? er_json_str(j, "query") : "", qn);
        *n = (int)er_json_int(j, "max_results", 5, 0, 20);
        *first = 0;
        cJSON_Delete(j);
        return ok;
    }
    if (mg_get_var(qs, ql, "q", q, qn) < 0)
        return false;
    if (F.p == SEARXNG) {
        int page = mg_get_var(qs, ql, "pageno", v, sizeof v) > 0 ? atoi(v) : 1;
        *n = 10;
        *first = (page - 1) * 10;
        return mg_get_var(qs, ql, "format", v, sizeof v) > 0 && strcmp(v, "json") == 0
                   ? true
                   : (reply(c, 403, "text/html", NULL,
                            "<html><body><h1>403 Forbidden</h1></body></html>"),
                      false);
    }
    *n = mg_get_var(qs, ql, "count", v, sizeof v) > 0 ? atoi(v) : 20;
    int offset = mg_get_var(qs, ql, "offset", v, sizeof v) > 0 ? atoi(v) : 0;
    *first = offset * *n;
    return true;
}

static int on_request(struct mg_connection *c, void *cb)
{
    (void)cb;
    const struct mg_request_info *ri = mg_get_request_info(c);
    er_buf body = ER_BUF_INIT;
    char tmp[4096];
    int got;
    while ((got = mg_read(c, tmp, sizeof tmp)) > 0)
        er_buf_append(&body, tmp, (size_t)got);
    char token[256];
    bool key = key_ok(c, token, sizeof token);
    record(ri->request_method, ri->local_uri, ri->query_string, er_buf_cstr(&body), token);
    static const char *const paths[] = { "/search", "/res/v1/web/search", "/search" };
    static const char *const methods[] = { "GET", "GET", "POST" };
    char q[1024];
    int first = 0, n = 10;
    if (strcmp(ri->local_uri, paths[F.p]) != 0 || strcmp(ri->request_method, methods[F.p]) != 0)
        provider_error(c, 404, "NOT_FOUND", "Not found", NULL);
    else if (!key)
        provider_error(c, 401, "SUBSCRIPTION_TOKEN_INVALID",
                       F.p == BRAVE ? "The provided subscription token is invalid."
                                    : "Unauthorized: missing or invalid API key.",
                       NULL);
    else if (!read_params(c, ri->query_string, er_buf_cstr(&body), q, sizeof q, &first, &n))
        ; /* answered (403) or malformed: */
    else if (!misbehave(c, q))
        answer(c, q, first, n);
    er_buf_release(&body);
    return 200;
}

static void load(const char *path)
{
    FILE *f = fopen(path, "rb");
    er_buf b = ER_BUF_INIT;
    char tmp[8192];
    size_t n;
    while (f && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        er_buf_append(&b, tmp, n);
    if (f)
        fclose(f);
    F.data = cJSON_Parse(er_buf_cstr(&b));
    er_buf_release(&b);
    if (!cJSON_IsObject(F.data)) {
        fprintf(stderr, "fake_search: %s is not a JSON object\n", path);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL, *rec = NULL, *prov = NULL, *data = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--provider") == 0)
            prov = v;
        else if (strcmp(argv[i], "--data") == 0)
            data = v;
        else if (strcmp(argv[i], "--api-key") == 0)
            F.key = v;
        else if (strcmp(argv[i], "--port") == 0)
            port = v;
        else if (strcmp(argv[i], "--port-file") == 0)
            port_file = v;
        else if (strcmp(argv[i], "--record") == 0)
            rec = v;
    }
    if (!prov || !data ||
        (strcmp(prov, "searxng") && strcmp(prov, "brave") && strcmp(prov, "tavily"))) {
        fprintf(stderr, "usage: fake_search --provider searxng|brave|tavily --data FILE "
                        "[--api-key K] [--port N] [--port-file F] [--record F]\n");
        return 2;
    }
    F.p = prov[0] == 's' ? SEARXNG : prov[0] == 'b' ? BRAVE : TAVILY;
    load(data);
    if (rec && !(F.record = fopen(rec, "w")))
        return 2;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    const char *opts[] = { "listening_ports", listen, "num_threads", "8", NULL };
    struct mg_callbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    signal(SIGPIPE, SIG_IGN);
    struct mg_context *ctx = mg_start(&cbs, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "fake_search: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/", on_request, NULL);
    fake_publish_port(ctx, port_file);
    fake_serve_until_stopped(ctx);
    cJSON_Delete(F.data);
    if (F.record)
        fclose(F.record);
    return 0;
}
