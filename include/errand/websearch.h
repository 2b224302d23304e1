/* websearch.h — web search behind one small seam: SearXNG, Brave, Tavily.
 *
 * The provider is chosen once by the settings (search.provider; else SearXNG
 * when search.url is set, else Brave or Tavily by the API key present).  Each
 * backend is a const table (src/web/<provider>.c) that builds its request
 * and reads its answer; the HTTP call, retries (429 and 5xx, with
 * exponential backoff honouring Retry-After), caching and the normalised
 * result are shared here.  The provider's URL is the operator's setting: a
 * configured endpoint, not guarded (a self-hosted SearXNG on 127.0.0.1 works).
 *
 * A result: {query, provider, page, count, results:[{rank, title, url,
 * snippet, engine, published}], cached}.  It is cached under
 * web:search:{sha256(provider, URL, query, options)} for web.cache_ttl. */
#ifndef ERRAND_WEBSEARCH_H
#define ERRAND_WEBSEARCH_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "cache.h"
#include "config.h"
#include <cjson/cJSON.h>

typedef struct er_search_query {
    const char *query;
    int count;              /* results wanted, 1-20 */
    int page;               /* 1-based */
    const char *language;   /* "en", "de-CH", or NULL */
    const char *time_range; /* "day", "week", "month", "year", or NULL */
} er_search_query;

/* What a backend asks the HTTP client for. */
typedef struct er_search_http {
    char *url;              /* OWNED */
    char *body;             /* OWNED JSON body (POST) or NULL (GET) */
    const char *headers[6]; /* NULL-terminated; the strings are OWNED by the backend's
                                  scratch (header_buf) */
    char header_buf[2][512];
} er_search_http;

#define ER_SEARCH_BACKEND_VERSION 1
typedef struct er_search_backend {
    int version;
    const char *name;        /* "searxng", "brave", "tavily" */
    const char *default_url; /* base URL when search.url is unset; NULL: required */
    const char *key_name;    /* environment variable of its API key, or NULL */
    /* Fills *out for q against base; ER_EINVAL for an option it cannot honour. */
    int (*request)(er_search_http *out, const er_search_query *q, const char *base, const char *key,
                   er_error *err);
    /* Appends {title, url, snippet, engine, published} items to results from a
     * 2xx body; ER_EPROTO when the body is not the provider's answer. */
    int (*parse)(const char *body, size_t len, cJSON *results, er_error *err);
    /* The provider's own words from an error body (OWNED), or NULL. */
    char *(*error_text)(const char *body, size_t len);
} er_search_backend;

extern const er_search_backend er_search_searxng;
extern const er_search_backend er_search_brave;
extern const er_search_backend er_search_tavily;

/* The backend the settings choose; ER_EINVAL with a message saying what to set
 * when none is configured. */
int er_search_backend_for(const er_config *cfg, const er_search_backend **out, er_error *err);

/* Runs q.  cache may be NULL.  OWNED *out.  Errors name the provider and carry
 * its own error text: ER_EAUTH (key refused), ER_EUNAVAIL (unreachable, rate
 * limited after retries, 5xx), ER_EINVAL (bad options), ER_EPROTO. */
int er_search_run(cJSON **out, const er_config *cfg, er_cache *cache, const er_search_query *q,
                  const volatile int *cancel, er_error *err);

/* Percent-encodes s for a query string (RFC 3986 unreserved kept). */
void er_search_urlencode(er_buf *out, const char *s);

/* For backends: base joined with path (one '/' between them), into out. */
void er_search_url(er_buf *out, const char *base, const char *path);
/* For backends: appends one normalised result, unless url is NULL; the
 * other fields may be NULL (empty title and snippet, null published). */
void er_search_add(cJSON *results, const char *title, const char *url, const char *snippet,
                   const char *engine, const char *published);

#endif
