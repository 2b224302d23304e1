/* brave.c — the Brave Search backend: GET /res/v1/web/search with the
 * X-Subscription-Token header (BRAVE_API_KEY). */
#include "errand/websearch.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Brave's freshness codes for the shared time ranges. */
static const char *freshness(const char *range)
{
    static const struct {
        const char *range, *code;
    } codes[] = {
        { "day", "pd" },
        { "week", "pw" },
        { "month", "pm" },
        { "year", "py" },
    };
    for (size_t i = 0; range && i < ER_ARRAY_LEN(codes); i++)
        if (strcmp(range, codes[i].range) == 0)
            return codes[i].code;
    return NULL;
}

static int request(er_search_http *out, const er_search_query *q, const char *base, const char *key,
                   er_error *err)
{
    (void)err;
    er_buf u = ER_BUF_INIT;
    er_search_url(&u, base, "/res/v1/web/search?q=");
    er_search_urlencode(&u, q->query);
    /* offset counts pages of `count` results, 0-9 */
    er_buf_printf(&u, "&count=%d&offset=%d", q->count, q->page - 1);
    if (q->language) {
        er_buf_puts(&u, "&search_lang=");
        er_search_urlencode(&u, q->language);
    }
    if (freshness(q->time_range))
        er_buf_printf(&u, "&freshness=%s", freshness(q->time_range));
    out->url = er_buf_detach(&u);
    snprintf(out->header_buf[0], sizeof out->header_buf[0], "X-Subscription-Token: %s",
             key ? key : "");
    out->headers[0] = "Accept: application/json";
    out->headers[1] = out->header_buf[0];
    return 0;
}

static int parse(const char *body, size_t len, cJSON *results, er_error *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j) || !er_json_str(j, "type")) {
        cJSON_Delete(j);
        return er_error_set(err, ER_EPROTO, "brave: the answer is not Brave Search's JSON");
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, er_json_arr(er_json_obj(j, "web"), "results"))
    {
        const char *age = er_json_str(r, "page_age");
        er_search_add(results, er_json_str(r, "title"), er_json_str(r, "url"),
                      er_json_str(r, "description"), "brave", age ? age : er_json_str(r, "age"));
    }
    cJSON_Delete(j);
    return 0;
}

/* {"type":"ErrorResponse","error":{"code":"…","detail":"…","status":N}} */
static char *error_text(const char *body, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *e = er_json_obj(j, "error");
    const char *detail = er_json_str(e, "detail"), *code = er_json_str(e, "code");
    char *s = detail ? er_xasprintf("%s%s%s%s", detail, code ? " (" : "", code ? code : "",
                                    code ? ")" : "")
                     : NULL;
    cJSON_Delete(j);
    return s;
}

const er_search_backend er_search_brave = {
    .version = ER_SEARCH_BACKEND_VERSION,
    .name = "brave",
    .default_url = "https://api.search.brave.com",
    .key_name = "BRAVE_API_KEY",
    .request = request,
    .parse = parse,
    .error_text = error_text,
};
