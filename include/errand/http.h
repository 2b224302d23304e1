/* http.h — the outgoing HTTP client: timeouts, retries, capped bodies.
 *
 * https:// (and any request when a proxy is configured) goes through libcurl;
 * plain http:// — local model servers, fakes — through a small built-in
 * HTTP/1.1 transport (src/http/plain.c) that does not load libcurl and OpenSSL.
 * ERRAND_HTTP=curl sends everything through libcurl.
 *
 * One call does one logical request: it retries "try later" answers (429, 5xx)
 * and failed connects with exponential backoff and full jitter, honouring
 * Retry-After, but never once streamed bytes reached the caller.  Redirects are
 * not followed (an API key must not go where a server points): the 3xx comes
 * back with its Location.  A TLS failure (handshake, certificate) is ER_EUNAVAIL
 * with a message saying so, and is not retried: it would fail the same way.  Connections
 * are kept alive between calls (a small pool of curl handles), so consecutive
 * requests to one host skip the TCP/TLS handshake.  libcurl is loaded (dlopen)
 * and initialised on the first request, not at start-up: a run that never goes
 * online does not pay its ~6 MB.  Call libcurl only through this module.
 *
 * Every request is a tool's fetch, guarded against SSRF (netguard.h), unless
 * it sets .configured_endpoint: the URL then comes from the operator's
 * settings (the LLM provider, the search provider, the OpenID Connect
 * issuer), not from a model or a page.  A guarded request takes http:// and
 * https:// only, goes through libcurl, connects only to addresses the guard
 * passed (checked after DNS resolution, in the connect callback, so nothing
 * is looked up twice), never reuses a pooled connection, ignores proxy
 * settings (the guard must see the address) and follows no redirects: the
 * caller follows resp.location, each hop a new, guarded request.
 *
 * Threads: er_http_request may be called from any number of threads at once. */
#ifndef ERRAND_HTTP_H
#define ERRAND_HTTP_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "netguard.h"

/* Receives 2xx body bytes as they arrive.  Returns 0 to go on, or a negative
 * ER_E* code (with err filled) to abort the request with that error. */
typedef int (*er_http_data_fn)(const char *data, size_t len, er_error *err, void *payload);

typedef struct er_http_req {
    const char *method; /* "GET", "POST", …; NULL: GET, or POST with a body */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* BORROWED request body or NULL */
    size_t body_len;
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* whole attempt; 0: none */
    long idle_timeout_ms;    /* abort when no byte arrives for this long; 0: none */
    size_t max_body;         /* cap on a buffered response body; 0: 16 MiB */
    int retries;             /* extra attempts after the first */
    er_http_data_fn on_data; /* 2xx bodies go here instead of into resp.body */
    void *payload;
    const volatile int *cancel; /* nonzero aborts with ER_ECANCELLED */
    int64_t deadline_ms;        /* er_mono_ms() instant no attempt or retry wait may pass
                                      (ER_ETIMEDOUT: a caller's time budget); 0: none */
    bool configured_endpoint;   /* an operator-configured URL: no SSRF guard (above) */
    const er_netguard *guard;   /* BORROWED allow list of a guarded request; NULL: none */
    bool decompress;            /* ask for gzip/deflate/br and decode (libcurl) */
    const char *want_header;    /* a response header to keep in resp.header, or NULL */
    bool untaped;               /* an LLM backend's: --record keeps it as an LLM exchange
                                   (cassette.h), not as HTTP (http_tape.h) */
} er_http_req;

typedef struct er_http_resp {
    long status;        /* final HTTP status */
    er_buf body;        /* non-2xx bodies, or every body when on_data is NULL */
    int attempts;       /* how many requests were made */
    bool streamed;      /* on_data received bytes */
    char *content_type; /* OWNED Content-Type of the answer, or NULL (libcurl) */
    char *location;     /* OWNED absolute target of a 3xx answer, or NULL (libcurl) */
    char *header;       /* OWNED value of req.want_header, or NULL */
    char *authenticate; /* OWNED WWW-Authenticate of a 401 answer, or NULL */
} er_http_resp;

/* Performs req.  Returns 0 whenever an HTTP answer arrived, whatever its status
 * (after retries, a 429/5xx is returned to the caller to map); otherwise
 * ER_EUNAVAIL (cannot connect, connection lost), ER_ETIMEDOUT, ER_ETOOBIG
 * (body over max_body), ER_EPROTO (truncated answer), ER_ECANCELLED, ER_EINVAL
 * (bad URL), ER_EDENIED (the SSRF guard refused the scheme or the address)
 * or the code on_data returned.  out is initialised here; release it
 * with er_http_resp_release() in every case. */
int er_http_request(er_http_resp *out, const er_http_req *req, er_error *err);
void er_http_resp_release(er_http_resp *resp);

/* How long to wait before retry n (0-based) of a failed attempt: retry_after_ms
 * when the server said (>= 0), else full jitter, uniform in [0, min(30 s,
 * base * 2^n)] with base 500 ms (ERRAND_HTTP_BACKOFF_MS changes it). */
long er_http_backoff_ms(int n, long retry_after_ms);

/* Frees the pooled connections and libcurl's global state (optional, at exit,
 * once no request is in flight). */
void er_http_shutdown(void);

#endif
