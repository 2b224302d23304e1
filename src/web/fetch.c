/* fetch.c — one web page for the tools: fetch, decode, extract, cache (see webfetch.h). */
#include "web_fetch_int.h"
#include "errand/alloc.h"
#include "errand/charset.h"
#include "errand/digest.h"
#include "errand/extract.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/sandbox.h"
#include "errand/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_MAX_BYTES  ((size_t)5 << 20)
#define DEFAULT_TIMEOUT_MS 20000L
#define DEFAULT_REDIRECTS  5
#define ERROR_BODY_MAX     (64 * 1024)
#define PDF_TIMEOUT_S      30

void er_web_opts_from_config(er_web_opts *o, const er_config *cfg)
{
    memset(o, 0, sizeof *o);
    o->max_bytes = cfg->web_max_bytes > 0 ? (size_t)cfg->web_max_bytes : DEFAULT_MAX_BYTES;
    o->timeout_ms = cfg->web_timeout > 0 ? cfg->web_timeout * 1000 : DEFAULT_TIMEOUT_MS;
    o->max_redirects = (int)cfg->web_max_redirects;
    o->delay_ms = cfg->web_delay_ms;
    o->cache_ttl_ms = (int64_t)cfg->web_cache_ttl * 1000;
}

void web_origin(const char *url, char *out, size_t n, const char **path)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t host = strcspn(p, "/?#");
    size_t len = (size_t)(p - url) + host;
    if (len >= n)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)url[i]);
    out[len] = '\0';
    if (path)
        *path = p[host] == '/' || p[host] == '?' ? p + host : "/";
}

/* ---- the raw fetch ---- */

typedef struct sink {
    web_raw *raw;
    size_t cap;
} sink;

static int on_body(const char *data, size_t len, er_error *err, void *payload)
{
    sink *s = payload;
    size_t room = s->cap > s->raw->body.len ? s->cap - s->raw->body.len : 0;
    er_buf_append(&s->raw->body, data, len < room ? len : room);
    if (len <= room)
        return 0;
    s->raw->truncated = true; /* stop reading: the rest is cut */
    return er_error_set(err, ER_ETOOBIG, "cut at %zu bytes", s->cap);
}

static const char *const fetch_headers[] = {
    "User-Agent: " ER_WEB_USER_AGENT,
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,"
    "application/pdf;q=0.8,*/*;q=0.5",
    NULL,
};

/* One hop: 0 with the answer in out (status, type, body or location). */
static int one_hop(web_raw *out, const char *url, const er_web_opts *o, size_t cap, char **location,
                   er_error *err)
{
    sink s = { out, cap };
    er_http_req req = { .url = url,
                        .headers = fetch_headers,
                        .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS,
                        .connect_timeout_ms = 10000,
                        .max_body = ERROR_BODY_MAX,
                        .retries = 1,
                        .on_data = on_body,
                        .payload = &s,
                        .cancel = o->cancel,
                        .guard = o->guard,
                        .decompress = true };
    er_http_resp resp;
    er_buf_reset(&out->body);
    out->truncated = false;
    int rc = er_http_request(&resp, &req, err);
    if (rc == ER_ETOOBIG && out->truncated)
        rc = 0;
    out->status = resp.status;
    free(out->content_type);
    out->content_type = er_xstrdup(resp.content_type);
    if (!rc && resp.status >= 300 && resp.status < 400)
        *location = er_xstrdup(resp.location);
    else if (!rc && !resp.streamed && resp.body.len) /* an error page */
        er_buf_append(&out->body, resp.body.ptr, resp.body.len);
    er_http_resp_release(&resp);
    return rc;
}

static bool seen_before(char **hops, int n, const char *url)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hops[i], url) == 0)
            return true;
    return false;
}

int web_fetch_raw(web_raw *out, const char *url, const er_web_opts *o, size_t cap, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_buf_init(&out->body, 0);
    int max = o->max_redirects >= 0 ? o->max_redirects : DEFAULT_REDIRECTS;
    char **hops = er_xcalloc((size_t)max + 2, sizeof *hops);
    char *cur = er_xstrdup(url);
    int rc = 0, n = 0;
    for (;;) {
        char *location = NULL;
        hops[n++] = er_xstrdup(cur);
        rc = one_hop(out, cur, o, cap, &location, err);
        if (rc || out->status < 300 || out->status >= 400)
            break;
        if (!location) {
            rc = er_error_set(err, ER_EPROTO, "'%s' answered HTTP %ld without a Location", cur,
                              out->status);
            break;
        }
        free(cur);
        cur = location;
        if (seen_before(hops, n, cur)) {
            rc = er_error_set(err, ER_EPROTO, "redirect loop: '%s' leads back to '%s'", url, cur);
            break;
        }
        if (n > max) {
            rc = er_error_set(err, ER_EPROTO, "more than %d redirects from '%s'", max, url);
            break;
        }
    }
    for (int i = 0; i < n; i++)
        free(hops[i]);
    free(hops);
    out->final_url = cur;
    return rc;
}

void web_raw_release(web_raw *r)
{
    free(r->final_url);
    free(r->content_type);
    er_buf_release(&r->body);
    memset(r, 0, sizeof *r);
}

/* ---- from bytes to text ---- */

typedef enum { T_HTML, T_TEXT, T_JSON, T_XML, T_PDF, T_OTHER } doc_type;

static doc_type type_of(const char *ct, const char *body, size_t len)
{
    static const struct {
        const char *prefix;
        doc_type t;
    } types[] = {
        { "text/html", T_HTML },
        { "application/xhtml+xml", T_HTML },
        { "application/json", T_JSON },
        { "application/pdf", T_PDF },
        { "application/rss+xml", T_XML },
        { "application/atom+xml", T_XML },
        { "application/rdf+xml", T_XML },
        { "application/xml", T_XML },
        { "text/xml", T_XML },
        { "text/", T_TEXT },
    };
    if (!er_str_empty(ct)) {
        if (strcasestr(ct, "+json"))
            return T_JSON;
        for (size_t i = 0; i < ER_ARRAY_LEN(types); i++)
            if (strncasecmp(ct, types[i].prefix, strlen(types[i].prefix)) == 0)
                return types[i].t;
        if (strncasecmp(ct, "application/octet-stream", 24) != 0)
            return T_OTHER;
    }
    /* no type, or a generic one: sniff */
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (len - i >= 5 && memcmp(body + i, "%PDF-", 5) == 0)
        return T_PDF;
    if (len - i >= 5 && memcmp(body + i, "<?xml", 5) == 0)
        return T_XML;
    if (i < len && body[i] == '<')
        return T_HTML;
    if (i < len && (body[i] == '{' || body[i] == '['))
        return T_JSON;
    return T_TEXT;
}

static void put_opt(cJSON *page, const char *key, const char *v)
{
    if (v)
        er_json_add_str(page, key, v);
    else
        er_json_add(page, key, cJSON_CreateNull());
}

static void put_extract(cJSON *page, er_extract *x)
{
    put_opt(page, "title", x->title);
    put_opt(page, "canonical_url", x->canonical);
    put_opt(page, "byline", x->byline);
    put_opt(page, "published", x->published);
    put_opt(page, "charset", x->charset);
    er_json_add_str(page, "text", er_buf_cstr(&x->text));
    er_json_add(page, "links", x->links);
    x->links = NULL;
}

static int read_text(cJSON *page, const web_raw *r, bool json, er_error *err)
{
    char label[64];
    er_charset_from_content_type(r->content_type, label, sizeof label);
    char *utf8;
    size_t n;
    int rc = er_charset_to_utf8(&utf8, &n, r->body.ptr ? r->body.ptr : "", r->body.len,
                                label[0] ? label : NULL, err);
    if (rc)
        return rc;
    cJSON *j = json && !r->truncated ? cJSON_ParseWithLength(utf8, n) : NULL;
    char *pretty = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    put_opt(page, "title", NULL);
    put_opt(page, "charset", er_charset_name(label) ? er_charset_name(label) : "UTF-8");
    er_json_add_str(page, "text", pretty ? pretty : utf8);
    er_json_add(page, "links", cJSON_CreateArray());
    free(pretty);
    free(utf8);
    return 0;
}

/* A PDF through pdftotext, run in the sandbox on a private copy. */
static int read_pdf(cJSON *page, const web_raw *r, const er_web_opts *o, er_error *err)
{
    char *tool = er_sandbox_which("pdftotext");
    if (!tool)
        return er_error_set(err, ER_EUNAVAIL,
                            "'%s' is a PDF, and reading PDFs needs poppler's "
                            "pdftotext: install poppler-utils",
                            r->final_url);
    free(tool);
    char dir[] = "/tmp/errand-pdf.XXXXXX";
    if (!mkdtemp(dir))
        return er_error_set(err, ER_EIO, "cannot create a temporary directory for the PDF");
    char *path = er_xasprintf("%s/page.pdf", dir);
    FILE *f = fopen(path, "wb");
    bool written = f && fwrite(r->body.ptr, 1, r->body.len, f) == r->body.len;
    if (f)
        fclose(f);
    int rc = written ? 0 : er_error_set(err, ER_EIO, "cannot write the PDF to %s", dir);
    er_sandbox_result res;
    er_sandbox_opts so = { .workspace = dir,
                           .workspace_read_only = true,
                           .timeout_s = PDF_TIMEOUT_S,
                           .keep = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES,
                           .cancel = o->cancel };
    const char *argv[] = { "pdftotext", "-enc", "UTF-8", "-q", path, "-", NULL };
    if (!rc && (rc = er_sandbox_run(&res, &so, argv, err)) == 0) {
        if (res.exit_code != 0 || res.timed_out)
            rc = er_error_set(err, ER_EUNAVAIL, "pdftotext could not read the PDF from '%s'%s",
                              r->final_url, res.timed_out ? " (timed out)" : "");
        else
            rc = 0;
        if (!rc) {
            put_opt(page, "title", NULL);
            put_opt(page, "charset", "UTF-8");
            er_json_add_str(page, "text", er_buf_cstr(&res.out));
            er_json_add(page, "links", cJSON_CreateArray());
        }
        er_sandbox_result_release(&res);
    }
    unlink(path);
    rmdir(dir);
    free(path);
    return rc;
}

static int read_body(cJSON *page, const web_raw *r, const er_web_opts *o, er_error *err)
{
    const char *body = r->body.ptr ? r->body.ptr : "";
    er_extract x;
    int rc;
    switch (type_of(r->content_type, body, r->body.len)) {
    case T_HTML: {
        char label[64];
        er_charset_from_content_type(r->content_type, label, sizeof label);
        rc = er_extract_html(&x, body, r->body.len, label[0] ? label : NULL, r->final_url, err);
        break;
    }
    case T_XML:
        rc = er_extract_feed(&x, body, r->body.len, r->final_url, err);
        if (rc == ER_ENOTFOUND)
            rc = 0; /* plain XML: its text */
        break;
    case T_PDF: return read_pdf(page, r, o, err);
    case T_JSON: return read_text(page, r, true, err);
    case T_TEXT: return read_text(page, r, false, err);
    default:
        return er_error_set(err, ER_EUNAVAIL, "'%s' is %s, which errand cannot read as text",
                            r->final_url, r->content_type);
    }
    if (!rc)
        put_extract(page, &x);
    er_extract_release(&x);
    return rc;
}

static int status_error(const web_raw *r, const char *url, er_error *err)
{
    int code = r->status == 404 || r->status == 410   ? ER_ENOTFOUND
               : r->status == 401 || r->status == 403 ? ER_EAUTH
                                                      : ER_EUNAVAIL;
    return er_error_set(err, code, "'%s' answered HTTP %ld%s", url, r->status,
                        r->status == 429 ? " (too many requests; try again later)" : "");
}

/* ---- the cache ---- */

int er_web_page_key(const char *url, char out[80], er_error *err)
{
    char hex[65];
    int rc = er_sha256_hex(url, strlen(url), hex, err);
    if (!rc)
        snprintf(out, 80, "web:page:%s", hex);
    return rc;
}

static cJSON *cached_page(const char *url, const er_web_opts *o)
{
    char key[80];
    char *val = NULL;
    size_t len = 0;
    if (!o->cache || o->cache_ttl_ms <= 0 || er_web_page_key(url, key, NULL) ||
        er_cache_get(o->cache, key, &val, &len, NULL))
        return NULL;
    cJSON *page = cJSON_ParseWithLength(val, len);
    free(val);
    /* another URL with the same digest is not this page */
    if (page && !er_str_eq(er_json_str(page, "url"), url)) {
        cJSON_Delete(page);
        return NULL;
    }
    if (page)
        cJSON_ReplaceItemInObjectCaseSensitive(page, "cached", cJSON_CreateTrue());
    return page;
}

static void store_page(const char *url, const cJSON *page, const er_web_opts *o)
{
    char key[80];
    if (!o->cache || o->cache_ttl_ms <= 0 || er_web_page_key(url, key, NULL))
        return;
    char *text = er_json_print(page);
    er_cache_set(o->cache, key, text, strlen(text), o->cache_ttl_ms, NULL);
    free(text);
}

/* ---- the whole ---- */

int er_web_fetch(cJSON **out, const char *url, const er_web_opts *o, er_error *err)
{
    *out = NULL;
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    if ((*out = cached_page(url, o)) != NULL)
        return 0;
    if ((rc = er_web_robots_check(url, o, err)) != 0 ||
        (rc = web_politeness_wait(url, o, err)) != 0)
        return rc;
    web_raw r;
    rc = web_fetch_raw(&r, url, o, o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES, err);
    if (!rc && (r.status < 200 || r.status >= 300))
        rc = status_error(&r, url, err);
    cJSON *page = NULL;
    if (!rc) {
        page = cJSON_CreateObject();
        er_json_add_str(page, "url", url);
        er_json_add_str(page, "final_url", r.final_url);
        er_json_add_num(page, "status", (double)r.status);
        put_opt(page, "content_type", r.content_type);
        rc = read_body(page, &r, o, err);
        er_json_add_num(page, "bytes", (double)r.body.len);
        er_json_add_bool(page, "truncated", r.truncated);
        er_json_add_bool(page, "cached", false);
    }
    web_raw_release(&r);
    if (rc) {
        cJSON_Delete(page);
        return rc;
    }
    store_page(url, page, o);
    *out = page;
    return 0;
}
