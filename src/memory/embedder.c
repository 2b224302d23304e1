/* embedder.c — embeddings from an OpenAI-compatible endpoint, or hashed
 * character n-grams offline (embedder.h). */
#include "errand/embedder.h"
#include "errand/alloc.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/str.h"
#include "errand/vecindex.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BASE  "https://api.openai.com/v1"
#define OFFLINE_MODEL "hash-ngram-256"
#define MAX_ANSWER    (64u << 20) /* 32 texts of 8192 dimensions in JSON fit well under */

struct er_embedder {
    char *model; /* NULL: offline */
    char *url;   /* {base}/embeddings */
    char *auth;  /* "Authorization: Bearer …" or NULL */
    long timeout_ms;
    int retries;
};

int er_embedder_open(er_embedder **out, const er_embedder_opts *opts, er_error *err)
{
    (void)err;
    er_embedder *e = er_xcalloc(1, sizeof *e);
    if (opts && !er_str_empty(opts->model)) {
        e->model = er_xstrdup(opts->model);
        const char *base = er_str_empty(opts->base_url) ? DEFAULT_BASE : opts->base_url;
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/')
            n--;
        e->url = er_xasprintf("%.*s/embeddings", (int)n, base);
        if (!er_str_empty(opts->api_key))
            e->auth = er_xasprintf("Authorization: Bearer %s", opts->api_key);
        e->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 60000;
        e->retries = opts->retries;
    }
    *out = e;
    return 0;
}

void er_embedder_close(er_embedder *e)
{
    if (!e)
        return;
    free(e->model);
    free(e->url);
    free(e->auth);
    free(e);
}

const char *er_embedder_model(const er_embedder *e)
{
    return e->model ? e->model : OFFLINE_MODEL;
}

bool er_embedder_offline(const er_embedder *e)
{
    return !e->model;
}

/* ---- offline ---- */

static uint64_t fnv1a(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 14695981039346656037ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void add_feature(float *out, int dim, const char *s, size_t n, uint64_t seed, float w)
{
    uint64_t h = fnv1a(s, n, seed);
    out[h % (uint64_t)dim] += (h >> 63) ? w : -w;
}

static bool word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

void er_embed_hash(const char *text, float *out, int dim)
{
    memset(out, 0, (size_t)dim * sizeof *out);
    char word[66];
    const char *p = text;
    while (*p) {
        while (*p && !word_byte((unsigned char)*p))
            p++;
        size_t n = 1;
        word[0] = '^'; /* word boundaries are n-gram characters too */
        while (*p && word_byte((unsigned char)*p)) {
            if (n < sizeof word - 1)
                word[n++] = (char)tolower((unsigned char)*p);
            p++;
        }
        if (n == 1)
            break;
        word[n++] = '$';
        add_feature(out, dim, word + 1, n - 2, 1, 1.0f); /* the whole word */
        for (size_t i = 0; i + 3 <= n; i++)
            add_feature(out, dim, word + i, 3, 3, 0.5f);
    }
    er_vec_normalize(out, dim);
}

/* ---- remote ---- */

static int http_error(const er_embedder *e, const er_http_resp *r, er_error *err)
{
    cJSON *j = cJSON_ParseWithLength(er_buf_cstr(&r->body), r->body.len);
    const char *msg =
        j ? er_json_str(cJSON_GetObjectItemCaseSensitive(j, "error"), "message") : NULL;
    int code = r->status == 401 || r->status == 403                       ? ER_EAUTH
               : r->status == 429 || r->status >= 500                     ? ER_EUNAVAIL
               : r->status == 400 || r->status == 404 || r->status == 422 ? ER_EINVAL
                                                                          : ER_EPROTO;
    er_error_set(err, code, "embeddings: %s answered %ld%s%s", e->url, r->status, msg ? ": " : "",
                 msg ? msg : "");
    cJSON_Delete(j);
    return code;
}

/* One request for texts[0..n); appends n rows to *out (which has *have rows). */
static int embed_batch(er_embedder *e, const char *const *texts, size_t n, float **out, size_t have,
                       int *dim, er_error *err)
{
    cJSON *req = cJSON_CreateObject(), *input = cJSON_CreateArray();
    cJSON_AddStringToObject(req, "model", e->model);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(input, cJSON_CreateString(texts[i]));
    cJSON_AddItemToObject(req, "input", input);
    cJSON_AddStringToObject(req, "encoding_format", "float");
    char *body = er_json_print(req);
    cJSON_Delete(req);
    const char *headers[] = { "Content-Type: application/json", e->auth, NULL };
    er_http_req hr = { .method = "POST",
                       .url = e->url,
                       .headers = headers,
                       .body = body,
                       .body_len = strlen(body),
                       .timeout_ms = e->timeout_ms,
                       .max_body = MAX_ANSWER,
                       .retries = e->retries,
                       .configured_endpoint = true };
    er_http_resp r;
    int rc = er_http_request(&r, &hr, err);
    free(body);
    if (rc == 0 && (r.status < 200 || r.status >= 300))
        rc = http_error(e, &r, err);
    cJSON *j = NULL;
    const cJSON *data = NULL;
    if (rc == 0) {
        j = cJSON_ParseWithLength(er_buf_cstr(&r.body), r.body.len);
        data = j ? cJSON_GetObjectItemCaseSensitive(j, "data") : NULL;
        if (!cJSON_IsArray(data) || (size_t)cJSON_GetArraySize(data) != n)
            rc = er_error_set(err, ER_EPROTO, "embeddings: %s did not answer with %zu vectors",
                              e->url, n);
    }
    size_t pos = 0;
    const cJSON *item;
    if (rc)
        data = NULL;
    cJSON_ArrayForEach(item, data)
    {
        const cJSON *vec = cJSON_GetObjectItemCaseSensitive(item, "embedding");
        double idx = er_json_num(item, "index", (double)pos);
        int d = cJSON_IsArray(vec) ? cJSON_GetArraySize(vec) : 0;
        if (d <= 0 || (*dim && d != *dim) || idx < 0 || idx >= (double)n) {
            rc = er_error_set(err, ER_EPROTO, "embeddings: %s answered a malformed vector", e->url);
            break;
        }
        if (!*dim) { /* the first vector tells the dimension: room for every row */
            *dim = d;
            *out = er_xrealloc(*out, (have + n) * (size_t)d * sizeof **out);
        } else if (pos == 0) {
            *out = er_xrealloc(*out, (have + n) * (size_t)d * sizeof **out);
        }
        float *row = *out + (have + (size_t)idx) * (size_t)d;
        const cJSON *x;
        int k = 0;
        cJSON_ArrayForEach(x, vec) row[k++] = (float)(cJSON_IsNumber(x) ? x->valuedouble : 0);
        er_vec_normalize(row, d);
        pos++;
    }
    cJSON_Delete(j);
    er_http_resp_release(&r);
    return rc;
}

int er_embedder_embed(er_embedder *e, const char *const *texts, size_t n, float **out, int *dim,
                      er_error *err)
{
    *out = NULL;
    *dim = 0;
    if (!e->model) {
        *dim = ER_EMBED_OFFLINE_DIM;
        *out = er_xmalloc((n ? n : 1) * ER_EMBED_OFFLINE_DIM * sizeof **out);
        for (size_t i = 0; i < n; i++)
            er_embed_hash(texts[i], *out + i * ER_EMBED_OFFLINE_DIM, ER_EMBED_OFFLINE_DIM);
        return 0;
    }
    for (size_t done = 0; done < n; done += ER_EMBED_BATCH) {
        size_t k = n - done < ER_EMBED_BATCH ? n - done : ER_EMBED_BATCH;
        int rc = embed_batch(e, texts + done, k, out, done, dim, err);
        if (rc) {
            free(*out);
            *out = NULL;
            *dim = 0;
            return rc;
        }
    }
    return 0;
}
