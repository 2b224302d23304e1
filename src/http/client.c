/* client.c — er_http_request over libcurl.
 *
 * Each request borrows a (multi, easy) pair from a small pool: the multi handle
 * owns the connection cache, so a pooled pair keeps its connections alive for
 * the next request (keep-alive is most of an LLM step's latency on a local
 * server).  The transfer runs in our own curl_multi_poll loop rather than
 * curl_easy_perform so a cancel flag is seen within POLL_MS instead of curl's
 * once-a-second progress tick.  libcurl itself is loaded, and its global state
 * (TLS with it) set up, on the first request only: the offline brain never
 * pays for it. */
#include "http_internal.h"
#include "curl_api.h"
#include "errand/alloc.h"
#include "errand/http_tape.h"
#include "errand/log.h"
#include "errand/str.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define POOL_MAX           8
#define DEFAULT_MAX_BODY   ((size_t)16 << 20)
#define DEFAULT_CONNECT_MS 10000L
#define BACKOFF_CAP_MS     30000L
#define RETRY_AFTER_CAP_MS 60000L
#define POLL_MS            50


typedef er_curl_api curl_api;

#define SYM(f)                            \
    {                                     \
        "curl_" #f, offsetof(curl_api, f) \
    }
static const struct {
    const char *name;
    size_t off;
} curl_syms[] = {
    SYM(global_init),
    SYM(global_cleanup),
    SYM(easy_init),
    SYM(easy_cleanup),
    SYM(easy_reset),
    SYM(easy_setopt),
    SYM(easy_getinfo),
    SYM(easy_strerror),
    SYM(easy_header),
    SYM(multi_init),
    SYM(multi_cleanup),
    SYM(multi_add_handle),
    SYM(multi_remove_handle),
    SYM(multi_perform),
    SYM(multi_poll),
    SYM(multi_info_read),
    SYM(slist_append),
    SYM(slist_free_all),
    SYM(url),
    SYM(url_set),
    SYM(url_get),
    SYM(url_cleanup),
    SYM(free),
    SYM(easy_perform),
    SYM(easy_send),
    SYM(easy_recv),
};
#undef SYM

typedef struct handle {
    CURLM *multi;
    CURL *easy;
    struct handle *next;
} handle;

/* One attempt's state, shared with the curl callbacks. */
typedef struct xfer {
    const er_http_req *req;
    er_http_resp *resp;
    er_error *err;
    CURL *easy;
    int cb_rc; /* error raised inside a callback (err already set) */
    bool cancelled;
    bool transient; /* the failure is worth another attempt */
    long retry_after_ms;
    char host[256]; /* the URL's host, for the SSRF guard's allow list */
} xfer;

static curl_api C;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char init_error[200]; /* why libcurl is unusable, or "" */
static bool initialised;
static long backoff_base_ms = 500;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static handle *pool;
static int npool;

static bool load_curl(void)
{
    static const char *const names[] = { "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4" };
    void *lib = NULL;
    for (size_t i = 0; i < ER_ARRAY_LEN(names) && !lib; i++)
        lib = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        snprintf(init_error, sizeof init_error, "cannot load libcurl: %s — install libcurl4",
                 dlerror());
        return false;
    }
    for (size_t i = 0; i < ER_ARRAY_LEN(curl_syms); i++) {
        void *fn = dlsym(lib, curl_syms[i].name);
        if (!fn) {
            snprintf(init_error, sizeof init_error, "libcurl lacks %s (7.84 or later needed)",
                     curl_syms[i].name);
            return false;
        }
        memcpy((char *)&C + curl_syms[i].off, &fn, sizeof fn);
    }
    return true; /* never dlclose()d: libcurl keeps global state */
}

static void global_init(void)
{
    if (!load_curl())
        return;
    CURLcode rc = C.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(init_error, sizeof init_error, "cannot initialise libcurl: %s",
                 C.easy_strerror(rc));
        return;
    }
    initialised = true;
}

int er_curl_get(const er_curl_api **out, er_error *err)
{
    pthread_once(&init_once, global_init);
    if (!initialised)
        return er_error_set(err, ER_EUNAVAIL, "%s",
                            init_error[0] ? init_error : "libcurl was shut down");
    *out = &C;
    return 0;
}

static pthread_once_t backoff_init = PTHREAD_ONCE_INIT;

static void read_backoff(void)
{
    long v;
    const char *env = getenv("ERRAND_HTTP_BACKOFF_MS");
    if (env && er_str_to_long(env, &v) == 0 && v >= 0)
        backoff_base_ms = v;
}

static void backoff_once(void)
{
    pthread_once(&backoff_init, read_backoff);
}

static void handle_free(handle *h)
{
    if (!h)
        return;
    if (h->easy)
        C.easy_cleanup(h->easy);
    if (h->multi)
        C.multi_cleanup(h->multi);
    free(h);
}

static handle *handle_get(void)
{
    pthread_mutex_lock(&pool_lock);
    handle *h = pool;
    if (h) {
        pool = h->next;
        npool--;
    }
    pthread_mutex_unlock(&pool_lock);
    if (h)
        return h;
    h = calloc(1, sizeof *h);
    if (!h)
        abort();
    h->multi = C.multi_init();
    h->easy = C.easy_init();
    if (!h->multi || !h->easy) {
        handle_free(h);
        return NULL;
    }
    return h;
}

static void handle_put(handle *h)
{
    pthread_mutex_lock(&pool_lock);
    if (npool < POOL_MAX) {
        h->next = pool;
        pool = h;
        npool++;
        h = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    handle_free(h);
}

void er_http_shutdown(void)
{
    er_http_plain_shutdown();
    pthread_mutex_lock(&pool_lock);
    handle *h = pool;
    pool = NULL;
    npool = 0;
    pthread_mutex_unlock(&pool_lock);
    while (h) {
        handle *next = h->next;
        handle_free(h);
        h = next;
    }
    if (initialised) {
        C.global_cleanup();
        initialised = false;
    }
}

/* "host:port" of url for messages; the URL itself when it does not parse. */
static void host_port(const char *url, char *out, size_t n)
{
    CURLU *u = C.url();
    char *host = NULL, *port = NULL;
    if (u && C.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        C.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        C.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf(out, n, "%s:%s", host, port);
    else
        er_strlcpy(out, url ? url : "", n);
    C.free(host);
    C.free(port);
    C.url_cleanup(u);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    if (!x->resp->status)
        C.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp->status);
    long st = x->resp->status;
    if (x->req->on_data && st >= 200 && st < 300) {
        if (!n)
            return 0;
        x->resp->streamed = true;
        int rc = x->req->on_data(ptr, n, x->err, x->req->payload);
        if (rc) {
            x->cb_rc = rc;
            return 0;
        }
        return n;
    }
    if (er_buf_append(&x->resp->body, ptr, n) != 0) {
        char hp[256];
        host_port(x->req->url, hp, sizeof hp);
        x->cb_rc = er_error_set(x->err, ER_ETOOBIG, "answer from '%s' is larger than %zu bytes", hp,
                                x->resp->body.max);
        return 0;
    }
    return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    xfer *x = userdata;
    if (x->req->cancel && *x->req->cancel) {
        x->cancelled = true;
        return 1;
    }
    return 0;
}

/* The SSRF guard (netguard.h): libcurl hands over each address it resolved
 * before connecting to it; a refused one gets no socket, so it is never
 * connected to, and the address connected to is the one checked. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    xfer *x = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (er_netguard_check(x->req->guard, x->host, &address->addr, x->err) != 0) {
        x->cb_rc = ER_EDENIED;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static void url_host(const char *url, char *out, size_t n)
{
    CURLU *u = C.url();
    char *host = NULL;
    out[0] = '\0';
    if (u && C.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        C.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        er_strlcpy(out, host, n);
    C.free(host);
    C.url_cleanup(u);
}

static void set_guard_options(CURL *e, xfer *x)
{
    url_host(x->req->url, x->host, sizeof x->host);
    C.easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    C.easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    /* A pooled connection was checked for another request's host (or not at
     * all: the LLM provider's); a proxy would hide the address. */
    C.easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    C.easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    C.easy_setopt(e, CURLOPT_PROXY, "");
    C.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
    struct curl_slist *n = C.slist_append(l, line);
    if (!n)
        abort(); /* out of memory, like er_xmalloc */
    return n;
}

static struct curl_slist *build_headers(const er_http_req *req)
{
    struct curl_slist *l = NULL;
    for (const char *const *h = req->headers; h && *h; h++)
        l = slist_add(l, *h);
    if (req->body)
        l = slist_add(l, "Expect:"); /* no 100-continue round trip */
    return l;
}

static void set_options(CURL *e, const er_http_req *req, struct curl_slist *hdrs, xfer *x,
                        char *errbuf)
{
    C.easy_reset(e); /* keeps live connections, resets options */
    C.easy_setopt(e, CURLOPT_URL, req->url);
    C.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    C.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    C.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    C.easy_setopt(e, CURLOPT_USERAGENT, "errand/" ER_VERSION);
    C.easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    C.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                  req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_MS);
    if (req->timeout_ms > 0)
        C.easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    if (req->idle_timeout_ms > 0) {
        C.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        C.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (req->idle_timeout_ms + 999) / 1000);
    }
    C.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    C.easy_setopt(e, CURLOPT_WRITEDATA, x);
    C.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    C.easy_setopt(e, CURLOPT_XFERINFODATA, x);
    C.easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    if (req->body) {
        C.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        C.easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    }
    if (req->method && !(req->body && strcmp(req->method, "POST") == 0) &&
        strcmp(req->method, "GET") != 0)
        C.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (hdrs)
        C.easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    if (req->decompress)
        C.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every coding libcurl decodes */
    if (!req->configured_endpoint)
        set_guard_options(e, x);
}

/* Drives one transfer; returns curl's result for it. */
static CURLcode run_transfer(handle *h, xfer *x)
{
    if (C.multi_add_handle(h->multi, h->easy) != CURLM_OK)
        return CURLE_FAILED_INIT;
    CURLcode rc = CURLE_OK;
    int running = 1;
    while (running) {
        if (C.multi_perform(h->multi, &running) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
        if (!running)
            break;
        if (x->req->cancel && *x->req->cancel) {
            x->cancelled = true;
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (C.multi_poll(h->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
    }
    int left;
    CURLMsg *m;
    while ((m = C.multi_info_read(h->multi, &left)) != NULL)
        if (m->msg == CURLMSG_DONE && running == 0)
            rc = m->data.result;
    C.multi_remove_handle(h->multi, h->easy);
    return rc;
}

/* Retry-After in milliseconds (delta-seconds form only), or -1. */
static long retry_after_ms(CURL *e)
{
    struct curl_header *hdr = NULL;
    long secs;
    if (C.easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || !hdr)
        return -1;
    char tmp[32];
    er_strlcpy(tmp, hdr->value, sizeof tmp);
    if (er_str_to_long(er_str_trim(tmp), &secs) != 0 || secs < 0)
        return -1;
    return secs * 1000 > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : secs * 1000;
}

/* Content-Type, and a redirect's absolute target (libcurl resolves it). */
static void answer_headers(CURL *e, const char *want, er_http_resp *out)
{
    char *v = NULL;
    free(out->content_type);
    free(out->location);
    free(out->header);
    free(out->authenticate);
    out->content_type = out->location = out->header = out->authenticate = NULL;
    struct curl_header *hdr = NULL;
    if (want && C.easy_header(e, want, 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK && hdr && hdr->value)
        out->header = er_xstrdup(hdr->value);
    hdr = NULL;
    if (out->status == 401 &&
        C.easy_header(e, "WWW-Authenticate", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK && hdr &&
        hdr->value)
        out->authenticate = er_xstrdup(hdr->value);
    if (C.easy_getinfo(e, CURLINFO_CONTENT_TYPE, &v) == CURLE_OK && v)
        out->content_type = er_xstrdup(v);
    v = NULL;
    if (out->status >= 300 && out->status < 400 &&
        C.easy_getinfo(e, CURLINFO_REDIRECT_URL, &v) == CURLE_OK && v)
        out->location = er_xstrdup(v);
}

static int map_curl_error(CURLcode rc, xfer *x, const char *errbuf)
{
    if (x->cb_rc)
        return x->cb_rc;
    char hp[256];
    host_port(x->req->url, hp, sizeof hp);
    if (x->cancelled || rc == CURLE_ABORTED_BY_CALLBACK)
        return er_error_set(x->err, ER_ECANCELLED, "request to '%s' cancelled", hp);
    const char *why = errbuf[0] ? errbuf : C.easy_strerror(rc);
    long oserr = 0;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        x->transient = true;
        C.easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
        return er_error_set(x->err, ER_EUNAVAIL, "cannot connect to '%s': %s", hp,
                            oserr ? strerror((int)oserr) : why);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return er_error_set(x->err, ER_EUNAVAIL, "cannot connect to '%s': %s", hp, why);
    case CURLE_OPERATION_TIMEDOUT:
        return er_error_set(x->err, ER_ETIMEDOUT, "request to '%s' timed out: %s", hp, why);
    case CURLE_PARTIAL_FILE: /* a dropped connection: worth another try (unless streamed) */
        x->transient = true;
        return er_error_set(x->err, ER_EPROTO, "answer from '%s' was cut off: %s", hp, why);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return er_error_set(x->err, ER_EINVAL, "bad URL '%s': %s", x->req->url, why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        /* Not transient: the same handshake fails the same way. */
        return er_error_set(x->err, ER_EUNAVAIL,
                            "TLS with '%s' failed: %s — is it an https server (else use "
                            "http://), and is its certificate trusted?",
                            hp, why);
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        x->transient = true;
        return er_error_set(x->err, ER_EUNAVAIL, "connection to '%s' lost: %s", hp, why);
    default: return er_error_set(x->err, ER_EUNAVAIL, "request to '%s' failed: %s", hp, why);
    }
}

static int attempt(handle *h, const er_http_req *req, struct curl_slist *hdrs, er_http_resp *out,
                   xfer *x, er_error *err)
{
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    *x = (xfer){ .req = req, .resp = out, .err = err, .easy = h->easy, .retry_after_ms = -1 };
    if (req->cancel && *req->cancel)
        return er_error_set(err, ER_ECANCELLED, "request to '%s' cancelled", req->url);
    out->status = 0;
    er_buf_reset(&out->body);
    free(out->location);
    out->location = NULL;
    set_options(h->easy, req, hdrs, x, errbuf);
    CURLcode rc = run_transfer(h, x);
    if (rc != CURLE_OK)
        return map_curl_error(rc, x, errbuf);
    C.easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status == 429 || out->status >= 500)
        x->retry_after_ms = retry_after_ms(h->easy);
    answer_headers(h->easy, req->want_header, out);
    return 0;
}

static bool retryable_status(long s)
{
    return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501);
}

static uint64_t jitter_next(void)
{
    static _Thread_local uint64_t state;
    if (!state)
        state = er_mono_ns() ^ ((uint64_t)(uintptr_t)&state << 16) ^ 0x9e3779b97f4a7c15ull;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Full jitter: uniform in [0, min(cap, base * 2^n)], unless the server said when. */
long er_http_backoff_ms(int n, long retry_after)
{
    backoff_once();
    if (retry_after >= 0)
        return retry_after;
    long ceiling = backoff_base_ms;
    for (int i = 0; i < n && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    return ceiling > 0 ? (long)(jitter_next() % (uint64_t)(ceiling + 1)) : 0;
}

/* Sleeps ms, waking early (ER_ECANCELLED) when the cancel flag rises. */
static int sleep_ms(long ms, const volatile int *cancel)
{
    int64_t end = er_mono_ms() + ms;
    for (;;) {
        if (cancel && *cancel)
            return ER_ECANCELLED;
        int64_t left = end - er_mono_ms();
        if (left <= 0)
            return 0;
        if (left > POLL_MS)
            left = POLL_MS;
        struct timespec ts = { 0, (long)left * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* One attempt by whichever transport the request uses. */
typedef struct transport {
    handle *h; /* libcurl: the handle and headers; NULL: plain TCP */
    struct curl_slist *hdrs;
    xfer x;
} transport;

static int attempt_any(transport *t, const er_http_req *req, er_http_resp *out, bool *transient,
                       long *retry_after, er_error *err)
{
    if (!t->h)
        return er_http_plain_attempt(req, out, transient, retry_after, err);
    int rc = attempt(t->h, req, t->hdrs, out, &t->x, err);
    *transient = t->x.transient;
    *retry_after = t->x.retry_after_ms;
    return rc;
}

static int open_transport(transport *t, const er_http_req *req, er_error *err)
{
    memset(t, 0, sizeof *t);
    if (!req->configured_endpoint) {
        int rc = er_netguard_check_scheme(req->url, err);
        if (rc)
            return rc;
    } else if (!req->decompress && er_http_plain_wants(req->url)) {
        return 0; /* only libcurl runs the guard's connect callback and decodes */
    }
    pthread_once(&init_once, global_init);
    if (!initialised)
        return er_error_set(err, ER_EUNAVAIL, "%s",
                            init_error[0] ? init_error : "the HTTP client was shut down");
    t->h = handle_get();
    if (!t->h)
        return er_error_set(err, ER_EINTERNAL, "cannot create a libcurl handle");
    t->hdrs = build_headers(req);
    return 0;
}

static void close_transport(transport *t)
{
    if (!t->h)
        return;
    C.slist_free_all(t->hdrs);
    handle_put(t->h);
}

/* *one = *req with its attempt timeout cut to what is left before req's deadline;
 * ER_ETIMEDOUT when nothing is left. */
static int clip_to_deadline(er_http_req *one, const er_http_req *req, er_error *err)
{
    *one = *req;
    if (!req->deadline_ms)
        return 0;
    int64_t left = req->deadline_ms - er_mono_ms();
    if (left <= 0)
        return er_error_set(err, ER_ETIMEDOUT, "request to '%s' not made: its deadline has passed",
                            req->url);
    if (one->timeout_ms <= 0 || one->timeout_ms > left)
        one->timeout_ms = (long)left;
    if (one->connect_timeout_ms <= 0 || one->connect_timeout_ms > left)
        one->connect_timeout_ms = (long)left; /* 0 would mean the 10 s default */
    return 0;
}

static int live_request(er_http_resp *out, const er_http_req *req, er_error *err)
{
    backoff_once();
    transport t;
    int rc = open_transport(&t, req, err);
    if (rc)
        return rc;
    int64_t t0 = er_mono_ms();
    for (int n = 0;; n++) {
        out->attempts++;
        bool transient = false;
        long retry_after = -1;
        if (req->cancel && *req->cancel) {
            rc = er_error_set(err, ER_ECANCELLED, "request to '%s' cancelled", req->url);
            break;
        }
        er_http_req one;
        if ((rc = clip_to_deadline(&one, req, err)) != 0)
            break;
        rc = attempt_any(&t, &one, out, &transient, &retry_after, err);
        bool again = rc == 0 ? retryable_status(out->status) : transient;
        if (!again || out->streamed || n >= req->retries)
            break;
        long wait = er_http_backoff_ms(n, retry_after);
        if (req->deadline_ms && er_mono_ms() + wait >= req->deadline_ms)
            break; /* the answer in hand (or its error) is the last one in time */
        er_log(ER_LOG_DEBUG, "http", "%s answered %s%ld; retry %d in %ld ms", req->url,
               rc ? "error " : "HTTP ", rc ? (long)rc : out->status, n + 1, wait);
        if (sleep_ms(wait, req->cancel) != 0) {
            rc = er_error_set(err, ER_ECANCELLED, "request to '%s' cancelled", req->url);
            break;
        }
    }
    er_log(ER_LOG_DEBUG, "http", "%s %s -> %ld in %lld ms (%d attempt%s, rc %d, %s)",
           req->method ? req->method : (req->body ? "POST" : "GET"), req->url, out->status,
           (long long)(er_mono_ms() - t0), out->attempts, out->attempts == 1 ? "" : "s", rc,
           t.h ? "libcurl" : "plain");
    close_transport(&t);
    return rc;
}

/* What on_data received, kept for the cassette (http_tape.h). */
typedef struct tee {
    er_http_data_fn fn;
    void *payload;
    er_buf seen;
} tee;

static int tee_data(const char *data, size_t len, er_error *err, void *payload)
{
    tee *t = payload;
    er_buf_append(&t->seen, data, len); /* past the cap the tape keeps a prefix */
    return t->fn(data, len, err, t->payload);
}

int er_http_request(er_http_resp *out, const er_http_req *req, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_buf_init(&out->body, req->max_body ? req->max_body : DEFAULT_MAX_BODY);
    if (er_str_empty(req->url))
        return er_error_set(err, ER_EINVAL, "no URL given for the HTTP request");
    int rc;
    if (er_http_tape_play(req, out, &rc, err))
        return rc; /* --replay: nothing goes out, so there is nothing to guard */
    if (!er_http_tape_recording(req))
        return live_request(out, req, err);
    er_http_req taped = *req;
    tee t = { req->on_data, req->payload, ER_BUF_INIT };
    er_buf_init(&t.seen, req->max_body ? req->max_body : DEFAULT_MAX_BODY);
    if (req->on_data) {
        taped.on_data = tee_data;
        taped.payload = &t;
    }
    rc = live_request(out, &taped, err);
    er_http_tape_record(req, out, &t.seen, rc, err);
    er_buf_release(&t.seen);
    return rc;
}

void er_http_resp_release(er_http_resp *resp)
{
    if (!resp)
        return;
    er_buf_release(&resp->body);
    free(resp->content_type);
    free(resp->location);
    free(resp->header);
    free(resp->authenticate);
    resp->content_type = resp->location = resp->header = resp->authenticate = NULL;
    resp->status = 0;
}
