/* webfetch.h — reading one web page for the tools: fetch, decode, extract, cache.
 *
 * er_web_fetch GETs a URL through the HTTP client as a guarded request (the
 * SSRF guard of netguard.h checks every hop), follows up to max_redirects
 * redirects itself, asks for gzip/deflate/br, reads at most max_bytes of the
 * decoded body (the rest is cut, and the result says so), honours robots.txt
 * (RFC 9309: the "errand" group, else "*"; fetched once per origin and
 * cached) and keeps delay_ms between two fetches from one origin (in this
 * process).  The body becomes text by its type: HTML (readable main text,
 * extract.h), plain text, JSON (pretty-printed), XML feeds (RSS, Atom) or
 * other XML, and PDF through poppler's pdftotext (sandboxed) when installed.
 *
 * The result is one JSON object:
 *   {url, final_url, status, content_type, charset, title, canonical_url,
 *    byline, published, text, links:[{url,text}], bytes, truncated, cached}
 * and it is cached under web:page:{sha256(url)} for cache_ttl_ms (Redis in
 * networked mode), so a second read of the page is answered from the cache.
 *
 * Thread-safe. */
#ifndef ERRAND_WEBFETCH_H
#define ERRAND_WEBFETCH_H

#include "common.h"
#include "error.h"
#include "cache.h"
#include "config.h"
#include "netguard.h"
#include <cjson/cJSON.h>

/* The descriptive User-Agent every web fetch sends; robots.txt groups for
 * "errand" apply to it. */
#define ER_WEB_USER_AGENT                                                                   \
    "Mozilla/5.0 (compatible; errand/" ER_VERSION "; research agent fetching pages one at " \
    "a time for a user; obeys robots.txt)"
#define ER_WEB_ROBOTS_TOKEN "errand"

typedef struct er_web_opts {
    const er_netguard *guard; /* BORROWED allow list; NULL: public addresses only */
    er_cache *cache;          /* BORROWED; NULL: no caching */
    size_t max_bytes;         /* decoded body bytes read; 0: 5 MiB */
    long timeout_ms;          /* per request; 0: 20 s */
    int max_redirects;        /* < 0: 5 */
    long delay_ms;            /* per-origin politeness delay */
    int64_t cache_ttl_ms;     /* 0: not cached */
    const volatile int *cancel;
} er_web_opts;

/* Options from the settings web.* (guard and cache are left to the caller). */
void er_web_opts_from_config(er_web_opts *o, const er_config *cfg);

/* Fetches and reads url.  OWNED *out (cJSON_Delete).  Errors: ER_EDENIED
 * (the guard refused a scheme or an address, or robots.txt disallows the
 * URL), ER_EINVAL (bad URL), ER_ENOTFOUND (HTTP 404/410), ER_EUNAVAIL (cannot
 * connect, another HTTP error status, a type that cannot be read, no
 * pdftotext), ER_ETIMEDOUT, ER_EPROTO (too many redirects, a loop),
 * ER_ECANCELLED — each with a message naming the URL. */
int er_web_fetch(cJSON **out, const char *url, const er_web_opts *o, er_error *err);

/* The robots.txt verdict for url: 0 when allowed, ER_EDENIED when the site
 * disallows it for errand.  (Called by er_web_fetch; exposed for tests.) */
int er_web_robots_check(const char *url, const er_web_opts *o, er_error *err);

/* Whether robots.txt text allows path (path and query) for the agent token.
 * Pure: RFC 9309 groups, longest match, Allow wins a tie, * and $ patterns. */
bool er_robots_allows(const char *robots, const char *agent, const char *path);

/* Forgets the per-origin robots.txt rules and politeness times of this
 * process (tests). */
void er_web_reset(void);

/* Cache key of a page: "web:page:" + sha256(url), into out (80 bytes). */
int er_web_page_key(const char *url, char out[80], er_error *err);

#endif
