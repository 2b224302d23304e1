/* web_fetch_int.h — the raw fetch that pages and robots.txt share (private). */
#ifndef ERRAND_WEB_FETCH_INT_H
#define ERRAND_WEB_FETCH_INT_H

#include "errand/buf.h"
#include "errand/webfetch.h"

typedef struct web_raw {
    long status;
    char *final_url;    /* OWNED: the URL after redirects */
    char *content_type; /* OWNED or NULL */
    er_buf body;        /* decoded body, at most cap bytes */
    bool truncated;     /* the body went on past cap */
} web_raw;

/* GETs url as a guarded request, following redirects (each hop checked),
 * reading at most cap bytes of a 2xx body.  0 with any HTTP status; *out is
 * initialised here: release it in every case. */
int web_fetch_raw(web_raw *out, const char *url, const er_web_opts *o, size_t cap, er_error *err);
void web_raw_release(web_raw *r);

/* "scheme://host[:port]" of url (lower-case) into out; *path (optional) points
 * at the path and query inside url ("/" when there is none... or "" ). */
void web_origin(const char *url, char *out, size_t n, const char **path);

/* Waits until the origin of url may be fetched again (delay_ms after the
 * last fetch of this process); ER_ECANCELLED. */
int web_politeness_wait(const char *url, const er_web_opts *o, er_error *err);

#endif
