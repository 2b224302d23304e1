/* tavily.c — the Tavily backend: POST /search with a JSON body and the key as
 * a bearer token (TAVILY_API_KEY).  Tavily has no paging and no language
 * option: page 2 and later are refused, a language is ignored. */
#include "errand/websearch.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int request(er_search_http *out, const er_search_query *q, const char *base, const char *key,
                   er_error *err)
{
    if (q->page > 1)
        return er_error_set(err, ER_EINVAL,
                            "tavily has no result pages: ask for more results "
                            "with count (up to 20) instead of page %d",
                            q->page);
    er_buf u = ER_BUF_INIT;
    er_search_url(&u, base, "/search");
    out->url = er_buf_detach(&u);
    cJSON *b = cJSON_CreateObject();
    er_json_add_str(b, "query", q->query);
    er_json_add_num(b, "max_results", q->count);
    er_json_add_str(b, "search_depth", "basic");
    if (q->time_range)
        er_json_add_str(b, "time_range", q->time_range);
    out->body = er_json_print(b);
    cJSON_Delete(b);
    snprintf(out->header_buf[0], sizeof out->header_buf[0], "Authorization: Bearer %s",
             key ? key : "");
    out->headers[0] = "Content-Type: application/json";
    out->headers[1] = out->header_buf[0];
    return 0;
}

static int parse(const char *body, size_t len, cJSON *results, er_error *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *arr = er_json_arr(j, "results");
    if (!arr) {
        cJSON_Delete(j);
        return er_error_set(err, ER_EPROTO, "tavily: the answer is not Tavily's JSON");
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        er_search_add(results, er_json_str(r, "title"), er_json_str(r, "url"),
                      er_json_str(r, "content"), "tavily", er_json_str(r, "published_date"));
    }
    cJSON_Delete(j);
    return 0;
}

/* {"detail":{"error":"…"}} (or a bare "detail" string) */
static char *error_text(const char *body, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
    const char *s = cJSON_IsString(d) ? d->valuestring : er_json_str(d, "error");
    char *out = s ? er_xstrdup(s) : NULL;
    cJSON_Delete(j);
    return out;
}

const er_search_backend er_search_tavily = {
    .version = ER_SEARCH_BACKEND_VERSION,
    .name = "tavily",
    .default_url = "https://api.tavily.com",
    .key_name = "TAVILY_API_KEY",
    .request = request,
    .parse = parse,
    .error_text = error_text,
};
