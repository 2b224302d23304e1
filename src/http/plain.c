/* plain.c — HTTP/1.1 over plain TCP, for http:// URLs.
 *
 * Why not libcurl here too: loading libcurl pulls in ~30 libraries and
 * initialises OpenSSL even for plain http — measured here at 8.5 MB of RSS and
 * ~17 M instructions (several ms) per process — which a run against a local
 * model server (Ollama, vLLM, llama.cpp) or a fake never needs.  This is only
 * the framing: request line and headers out, status line, headers and a
 * Content-Length, chunked or close-delimited body back, with the same
 * timeouts, caps, cancellation and error codes as the libcurl path.  https://,
 * proxies and anything fancier go to libcurl (client.c).
 *
 * Connections are kept alive in a small pool shared by all threads. */
#include "http_internal.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define POOL_MAX           8
#define HEAD_MAX           (64 * 1024)
#define SLICE_MS           50
#define DEFAULT_CONNECT_MS 10000L

typedef struct idle_conn {
    char host[256];
    int port;
    int fd;
} idle_conn;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static idle_conn pool[POOL_MAX];
static int npool;

typedef struct target {
    char host[256]; /* without brackets */
    int port;
    const char *path;   /* into the URL: "/v1/x?y", or "" for "/" */
    char hostport[300]; /* for messages and the Host header */
} target;

/* One attempt's state. */
typedef struct conn {
    const er_http_req *req;
    er_http_resp *out;
    er_error *err;
    int fd;
    bool reused;
    int64_t deadline; /* whole attempt, or 0 */
    char buf[16384];
    size_t len, off; /* unread bytes are buf[off..len) */
    bool eof;
} conn;

bool er_http_plain_wants(const char *url)
{
    static const char *const proxies[] = { "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY" };
    if (!er_str_starts(url, "http://"))
        return false;
    const char *force = getenv("ERRAND_HTTP");
    if (force && strcmp(force, "curl") == 0)
        return false;
    for (size_t i = 0; i < ER_ARRAY_LEN(proxies); i++)
        if (!er_str_empty(getenv(proxies[i])))
            return false; /* libcurl knows proxies; this does not */
    return true;
}

static int parse_target(target *t, const char *url, er_error *err)
{
    const char *a = url + strlen("http://");
    const char *end = a + strcspn(a, "/?#");
    const char *at = memchr(a, '@', (size_t)(end - a));
    if (at)
        return er_error_set(err, ER_EINVAL,
                            "bad URL '%s': credentials in http:// URLs are not sent", url);
    const char *hend = end, *portp = NULL;
    if (*a == '[') {
        const char *rb = memchr(a, ']', (size_t)(end - a));
        if (!rb)
            return er_error_set(err, ER_EINVAL, "bad URL '%s'", url);
        snprintf(t->host, sizeof t->host, "%.*s", (int)(rb - a - 1), a + 1);
        if (rb + 1 < end && rb[1] == ':')
            portp = rb + 2;
    } else {
        const char *colon = memchr(a, ':', (size_t)(end - a));
        if (colon) {
            hend = colon;
            portp = colon + 1;
        }
        snprintf(t->host, sizeof t->host, "%.*s", (int)(hend - a), a);
    }
    long port = 80;
    if (portp) {
        char tmp[8];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(end - portp), portp);
        if (er_str_to_long(tmp, &port) || port < 1 || port > 65535)
            return er_error_set(err, ER_EINVAL, "bad URL '%s': bad port", url);
    }
    if (!t->host[0])
        return er_error_set(err, ER_EINVAL, "bad URL '%s': no host", url);
    t->port = (int)port;
    t->path = *end == '#' ? "" : end;
    snprintf(t->hostport, sizeof t->hostport, strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host,
             t->port);
    return 0;
}

/* ---- the connection pool ---- */

static int pool_take(const target *t)
{
    int fd = -1;
    pthread_mutex_lock(&pool_lock);
    for (int i = npool - 1; i >= 0; i--) {
        if (pool[i].port == t->port && strcmp(pool[i].host, t->host) == 0) {
            fd = pool[i].fd;
            pool[i] = pool[--npool];
            break;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return fd;
}

static void pool_put(const target *t, int fd)
{
    pthread_mutex_lock(&pool_lock);
    if (npool < POOL_MAX) {
        er_strlcpy(pool[npool].host, t->host, sizeof pool[npool].host);
        pool[npool].port = t->port;
        pool[npool++].fd = fd;
        fd = -1;
    }
    pthread_mutex_unlock(&pool_lock);
    if (fd >= 0)
        close(fd);
}

void er_http_plain_shutdown(void)
{
    pthread_mutex_lock(&pool_lock);
    while (npool > 0)
        close(pool[--npool].fd);
    pthread_mutex_unlock(&pool_lock);
}

/* ---- waiting, with cancellation and deadlines ---- */

/* Waits for events on c->fd; ER_ETIMEDOUT / ER_ECANCELLED with the message set. */
static int wait_fd(conn *c, short events, int64_t idle_deadline, const char *what)
{
    for (;;) {
        if (c->req->cancel && *c->req->cancel)
            return er_error_set(c->err, ER_ECANCELLED, "request to '%s' cancelled", c->req->url);
        int64_t now = er_mono_ms(), until = idle_deadline;
        if (c->deadline && (!until || c->deadline < until))
            until = c->deadline;
        if (until && now >= until)
            return er_error_set(c->err, ER_ETIMEDOUT, "request to '%s' timed out while %s",
                                c->req->url, what);
        int slice = SLICE_MS;
        if (until && until - now < slice)
            slice = (int)(until - now);
        struct pollfd p = { c->fd, events, 0 };
        int n = poll(&p, 1, slice);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return er_error_set(c->err, ER_EUNAVAIL, "poll failed: %s", strerror(errno));
    }
}

static int connect_to(conn *c, const target *t, bool *transient)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", t->port);
    int g = getaddrinfo(t->host, port, &hints, &res);
    if (g != 0)
        return er_error_set(c->err, ER_EUNAVAIL, "cannot connect to '%s': %s", t->hostport,
                            gai_strerror(g));
    long timeout = c->req->connect_timeout_ms > 0 ? c->req->connect_timeout_ms : DEFAULT_CONNECT_MS;
    int rc = 0, last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            last = errno;
            continue;
        }
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            rc = wait_fd(c, POLLOUT, er_mono_ms() + timeout, "connecting");
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (rc == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && !soerr)
                break;
            last = rc ? last : soerr;
        } else {
            last = errno;
        }
        close(c->fd);
        c->fd = -1;
        if (rc)
            break;
    }
    freeaddrinfo(res);
    if (rc == ER_ETIMEDOUT) {
        *transient = true;
        return er_error_set(c->err, ER_EUNAVAIL, "cannot connect to '%s': timed out after %ld ms",
                            t->hostport, timeout);
    }
    if (rc)
        return rc;
    if (c->fd < 0) {
        *transient = true;
        return er_error_set(c->err, ER_EUNAVAIL, "cannot connect to '%s': %s", t->hostport,
                            strerror(last));
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return 0;
}

static int send_all(conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            int rc = wait_fd(c, POLLOUT, 0, "sending");
            if (rc)
                return rc;
            continue;
        }
        return er_error_set(c->err, ER_EUNAVAIL, "connection to '%s' lost: %s", c->req->url,
                            strerror(errno));
    }
    return 0;
}

static int send_request(conn *c, const target *t)
{
    const er_http_req *req = c->req;
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    er_buf b = ER_BUF_INIT;
    er_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: errand/%s\r\nAccept: */*\r\n",
                  method, *t->path == '/' ? t->path : (*t->path ? t->path : "/"), t->hostport,
                  ER_VERSION);
    if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
        er_buf_printf(&b, "Content-Length: %zu\r\n", req->body ? req->body_len : 0);
    for (const char *const *h = req->headers; h && *h; h++) {
        if (strchr(*h, '\r') || strchr(*h, '\n'))
            continue; /* never let a header value split the request */
        er_buf_printf(&b, "%s\r\n", *h);
    }
    er_buf_puts(&b, "\r\n");
    int rc = send_all(c, b.ptr, b.len);
    er_buf_release(&b);
    if (!rc && req->body && req->body_len)
        rc = send_all(c, req->body, req->body_len);
    return rc;
}

/* ---- reading the answer ---- */

/* Reads more bytes into c->buf; 0 with c->eof set at end of stream. */
static int fill(conn *c, const char *what)
{
    if (c->off == c->len) {
        c->off = c->len = 0;
    } else if (c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == sizeof c->buf)
        return er_error_set(c->err, ER_EPROTO, "answer from '%s' has a line too long", c->req->url);
    long idle = c->req->idle_timeout_ms;
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            return 0;
        }
        if (r == 0) {
            c->eof = true;
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            return er_error_set(c->err, ER_EUNAVAIL, "connection to '%s' lost: %s", c->req->url,
                                strerror(errno));
        int rc = wait_fd(c, POLLIN, idle > 0 ? er_mono_ms() + idle : 0, what);
        if (rc)
            return rc;
    }
}

/* Delivers body bytes: 2xx to on_data when streaming, else into the capped buffer. */
static int deliver(conn *c, const char *p, size_t n)
{
    if (!n)
        return 0;
    er_http_resp *out = c->out;
    if (c->req->on_data && out->status >= 200 && out->status < 300) {
        out->streamed = true;
        return c->req->on_data(p, n, c->err, c->req->payload);
    }
    if (er_buf_append(&out->body, p, n) != 0)
        return er_error_set(c->err, ER_ETOOBIG, "answer from '%s' is larger than %zu bytes",
                            c->req->url, out->body.max);
    return 0;
}

typedef struct head {
    long content_length; /* -1: none */
    bool chunked;
    bool close;
    long retry_after_ms;
    char *location;     /* OWNED, of a 3xx answer */
    const char *want;   /* the request's want_header */
    char *wanted;       /* OWNED its value */
    char *authenticate; /* OWNED WWW-Authenticate */
} head;

static void header_line(head *h, char *line)
{
    char *colon = strchr(line, ':');
    if (!colon)
        return;
    *colon = '\0';
    char *v = er_str_trim(colon + 1);
    long n;
    if (strcasecmp(line, "Content-Length") == 0 && er_str_to_long(v, &n) == 0 && n >= 0)
        h->content_length = n;
    else if (strcasecmp(line, "Transfer-Encoding") == 0 && strcasestr(v, "chunked"))
        h->chunked = true;
    else if (strcasecmp(line, "Connection") == 0 && strcasestr(v, "close"))
        h->close = true;
    else if (strcasecmp(line, "Retry-After") == 0 && er_str_to_long(v, &n) == 0 && n >= 0)
        h->retry_after_ms = n > 60 ? 60000 : n * 1000;
    else if (strcasecmp(line, "Location") == 0 && !h->location)
        h->location = er_xstrdup(v);
    else if (h->want && strcasecmp(line, h->want) == 0 && !h->wanted)
        h->wanted = er_xstrdup(v);
    else if (strcasecmp(line, "WWW-Authenticate") == 0 && !h->authenticate)
        h->authenticate = er_xstrdup(v);
}

/* Reads the status line and headers (skipping 1xx answers). */
static int read_head(conn *c, head *h, bool *transient)
{
    for (;;) {
        char *end;
        while (!(end = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4))) {
            if (c->len - c->off >= HEAD_MAX || c->eof)
                break;
            int rc = fill(c, "waiting for the answer");
            if (rc)
                return rc;
            if (c->eof && c->len == c->off) {
                /* A kept-alive connection the server had closed: try a fresh one. */
                *transient = true;
                return er_error_set(c->err, ER_EUNAVAIL, "connection to '%s' lost: no answer",
                                    c->req->url);
            }
        }
        if (!end)
            return er_error_set(c->err, ER_EPROTO, "answer from '%s' has no complete header",
                                c->req->url);
        *end = '\0';
        char *line = c->buf + c->off, *next;
        c->off = (size_t)(end + 4 - c->buf);
        int major, minor, status;
        if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) != 3 || status < 100 ||
            status > 999)
            return er_error_set(c->err, ER_EPROTO, "answer from '%s' is not HTTP", c->req->url);
        free(h->wanted);
        free(h->authenticate);
        *h = (head){ .content_length = -1,
                     .close = major == 1 && minor == 0,
                     .retry_after_ms = -1,
                     .want = c->req->want_header };
        for (line = strstr(line, "\r\n"); line; line = next) {
            line += 2;
            next = strstr(line, "\r\n");
            if (next)
                *next = '\0';
            header_line(h, line);
        }
        if (status >= 300 && status < 400 && h->location) {
            c->out->location = h->location;
            h->location = NULL;
        }
        free(h->location);
        h->location = NULL;
        free(c->out->header);
        c->out->header = h->wanted;
        h->wanted = NULL;
        free(c->out->authenticate);
        c->out->authenticate = status == 401 ? h->authenticate : NULL;
        if (status != 401)
            free(h->authenticate);
        h->authenticate = NULL;
        if (status >= 200 || status == 101) {
            c->out->status = status;
            return 0;
        }
    }
}

static int read_fixed(conn *c, long n)
{
    while (n > 0) {
        if (c->off == c->len) {
            int rc = fill(c, "reading the answer");
            if (rc)
                return rc;
            if (c->eof)
                return er_error_set(c->err, ER_EPROTO, "answer from '%s' was cut off", c->req->url);
        }
        size_t take = c->len - c->off < (size_t)n ? c->len - c->off : (size_t)n;
        int rc = deliver(c, c->buf + c->off, take);
        if (rc)
            return rc;
        c->off += take;
        n -= (long)take;
    }
    return 0;
}

static int read_line(conn *c, char *out, size_t outsize)
{
    char *nl;
    while (!(nl = memchr(c->buf + c->off, '\n', c->len - c->off))) {
        int rc = fill(c, "reading the answer");
        if (rc)
            return rc;
        if (c->eof)
            return er_error_set(c->err, ER_EPROTO, "answer from '%s' was cut off", c->req->url);
    }
    size_t n = (size_t)(nl - (c->buf + c->off));
    snprintf(out, outsize, "%.*s", (int)n, c->buf + c->off);
    c->off += n + 1;
    return 0;
}

static int read_chunked(conn *c)
{
    char line[128];
    for (;;) {
        int rc = read_line(c, line, sizeof line);
        if (rc)
            return rc;
        char *endp;
        unsigned long size = strtoul(line, &endp, 16);
        if (endp == line || size > (1UL << 31))
            return er_error_set(c->err, ER_EPROTO, "answer from '%s' has a bad chunk size",
                                c->req->url);
        if (size == 0) {
            do { /* trailers, then the blank line */
                rc = read_line(c, line, sizeof line);
            } while (!rc && line[0] && strcmp(line, "\r") != 0);
            return rc;
        }
        rc = read_fixed(c, (long)size);
        if (!rc)
            rc = read_line(c, line, sizeof line);
        if (rc)
            return rc;
    }
}

static int read_to_close(conn *c)
{
    for (;;) {
        if (c->off < c->len) {
            int rc = deliver(c, c->buf + c->off, c->len - c->off);
            if (rc)
                return rc;
            c->off = c->len;
        }
        if (c->eof)
            return 0;
        int rc = fill(c, "reading the answer");
        if (rc)
            return rc;
    }
}

static int exchange(conn *c, const target *t, bool *transient, long *retry_after, bool *keep)
{
    int rc = send_request(c, t);
    if (rc) {
        *transient = c->reused || rc == ER_EUNAVAIL;
        return rc;
    }
    head h = { .content_length = -1, .retry_after_ms = -1 };
    rc = read_head(c, &h, transient);
    if (rc)
        return rc;
    *retry_after = h.retry_after_ms;
    bool no_body = (c->req->method && strcmp(c->req->method, "HEAD") == 0) ||
                   c->out->status == 204 || c->out->status == 304;
    if (no_body)
        rc = 0;
    else if (h.chunked)
        rc = read_chunked(c);
    else if (h.content_length >= 0)
        rc = read_fixed(c, h.content_length);
    else {
        h.close = true;
        rc = read_to_close(c);
    }
    if (rc == ER_EPROTO && !c->out->streamed)
        *transient = true; /* a dropped connection: another try may work */
    *keep = !rc && !h.close && c->off == c->len;
    return rc;
}

int er_http_plain_attempt(const er_http_req *req, er_http_resp *out, bool *transient,
                          long *retry_after_ms, er_error *err)
{
    *transient = false;
    *retry_after_ms = -1;
    target t;
    int rc = parse_target(&t, req->url, err);
    if (rc)
        return rc;
    out->status = 0;
    er_buf_reset(&out->body);
    free(out->location);
    out->location = NULL;
    conn *c = er_xcalloc(1, sizeof *c);
    c->req = req;
    c->out = out;
    c->err = err;
    c->deadline = req->timeout_ms > 0 ? er_mono_ms() + req->timeout_ms : 0;
    c->fd = pool_take(&t);
    c->reused = c->fd >= 0;
    if (c->fd < 0)
        rc = connect_to(c, &t, transient);
    bool keep = false;
    if (!rc) {
        rc = exchange(c, &t, transient, retry_after_ms, &keep);
        /* A pooled connection may have been closed by the server meanwhile: once
         * more on a fresh one, as long as nothing reached the caller. */
        if (rc == ER_EUNAVAIL && c->reused && !out->status && !out->streamed) {
            close(c->fd);
            c->fd = -1;
            c->reused = false;
            c->len = c->off = 0;
            c->eof = false;
            rc = connect_to(c, &t, transient);
            if (!rc)
                rc = exchange(c, &t, transient, retry_after_ms, &keep);
        }
    }
    if (c->fd >= 0) {
        if (keep)
            pool_put(&t, c->fd);
        else
            close(c->fd);
    }
    free(c);
    return rc;
}
