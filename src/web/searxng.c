/* searxng.c — the SearXNG search backend: GET {search.url}/search?format=json.
 *
 * The instance must have the json format enabled (settings.yml, search:
 * formats); otherwise it answers 403, and the message says so. */
#include "errand/websearch.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

static int request(er_search_http *out, const er_search_query *q, const char *base, const char *key,
                   er_error *err)
{
    (void)key;
    (void)err;
    er_buf u = ER_BUF_INIT;
    er_search_url(&u, base, "/search?format=json&q=");
    er_search_urlencode(&u, q->query);
    er_buf_printf(&u, "&pageno=%d", q->page);
    if (q->language) {
        er_buf_puts(&u, "&language=");
        er_search_urlencode(&u, q->language);
    }
    if (q->time_range)
        er_buf_printf(&u, "&time_range=%s", q->time_range);
    out->url = er_buf_detach(&u);
    out->headers[0] = "Accept: application/json";
    return 0;
}

static int parse(const char *body, size_t len, cJSON *results, er_error *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *arr = er_json_arr(j, "results");
    if (!arr) {
        cJSON_Delete(j);
        return er_error_set(err, ER_EPROTO,
                            "searxng: the answer is not SearXNG's JSON (is "
                            "search.url the instance's base URL?)");
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        const char *engine = er_json_str(r, "engine");
        er_search_add(results, er_json_str(r, "title"), er_json_str(r, "url"),
                      er_json_str(r, "content"), engine ? engine : "searxng",
                      er_json_str(r, "publishedDate"));
    }
    cJSON_Delete(j);
    return 0;
}

/* SearXNG answers errors as HTML or plain text; a 403 means the json format is off. */
static char *error_text(const char *body, size_t len)
{
    if (len && body[0] == '<')
        return er_xstrdup("an HTML error page (is the json format enabled in the instance's "
                          "settings.yml, search.formats?)");
    return er_xstrndup(body, len > 300 ? 300 : len);
}

const er_search_backend er_search_searxng = {
    .version = ER_SEARCH_BACKEND_VERSION,
    .name = "searxng",
    .default_url = NULL,
    .key_name = NULL,
    .request = request,
    .parse = parse,
    .error_text = error_text,
};
