/* guard_proxy.c — the SSRF guard as an HTTP proxy (see guard_proxy.h). */
#include "errand/guard_proxy.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/log.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#define HEAD_MAX        32768 /* a request's line and headers */
#define HEAD_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT 10000
#define MAX_FDS         512 /* open sockets, both sides of every connection */
#define RECENT          16  /* refusals kept for er_guard_proxy_refused_url */

struct er_guard_proxy {
    int listen_fd, wake[2], port;
    pthread_t listener;
    const er_netguard *guard;
    er_guard_proxy_refuse_fn refuse;
    void *refuse_arg;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int active; /* connection threads running */
    bool stopping;
    int fds[MAX_FDS]; /* open sockets, shut down by stop; -1: free slot */
    char refusal[256];
    long refused;
    struct {
        char key[512]; /* url_key() of what was refused */
        char msg[256];
    } recent[RECENT];
    int nrecent;
};

typedef struct conn {
    er_guard_proxy *p;
    int client, server;
} conn;

/* ---- the open sockets, so stop can end every connection ---- */

static bool fd_track(er_guard_proxy *p, int fd)
{
    bool ok = false;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < MAX_FDS && !ok && !p->stopping; i++)
        if (p->fds[i] < 0) {
            p->fds[i] = fd;
            ok = true;
        }
    pthread_mutex_unlock(&p->lock);
    return ok;
}

/* Forgotten before it is closed: stop never shuts down a reused number. */
static void fd_close(er_guard_proxy *p, int fd)
{
    if (fd < 0)
        return;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < MAX_FDS; i++)
        if (p->fds[i] == fd)
            p->fds[i] = -1;
    pthread_mutex_unlock(&p->lock);
    close(fd);
}

/* ---- small socket helpers ---- */

static bool send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static void answer(int fd, const char *status, const char *text)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, strlen(text));
    if (send_all(fd, head, (size_t)n))
        send_all(fd, text, strlen(text));
}

/* Reads until the end of the request's head; *head_len: its length with
 * the blank line, the rest of b is the start of the body. */
static bool read_head(int fd, er_buf *b, size_t *head_len)
{
    char chunk[4096];
    int64_t until = er_mono_ms() + HEAD_TIMEOUT_MS;
    for (;;) {
        const char *end = b->len ? strstr(er_buf_cstr(b), "\r\n\r\n") : NULL;
        if (end) {
            *head_len = (size_t)(end - b->ptr) + 4;
            return true;
        }
        if (b->len >= HEAD_MAX)
            return false;
        int left = (int)(until - er_mono_ms());
        struct pollfd pf = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return false;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            return false;
        er_buf_append(b, chunk, (size_t)r);
    }
}

/* "host:port" or "[v6]:port" into host (without brackets) and port. */
static bool split_authority(const char *auth, size_t len, int default_port, char *host,
                            size_t hostsz, char *port, size_t portsz)
{
    const char *at = memchr(auth, '@', len); /* user:password@ is dropped */
    if (at) {
        len -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    const char *hend, *colon = NULL;
    if (len > 0 && auth[0] == '[') {
        hend = memchr(auth, ']', len);
        if (!hend)
            return false;
        if ((size_t)(hend - auth - 1) >= hostsz)
            return false;
        snprintf(host, hostsz, "%.*s", (int)(hend - auth - 1), auth + 1);
        if (hend + 1 < auth + len) {
            if (hend[1] != ':')
                return false;
            colon = hend + 1;
        }
    } else {
        colon = memchr(auth, ':', len);
        size_t hl = colon ? (size_t)(colon - auth) : len;
        if (hl == 0 || hl >= hostsz)
            return false;
        snprintf(host, hostsz, "%.*s", (int)hl, auth);
    }
    if (colon) {
        size_t pl = (size_t)(auth + len - colon - 1);
        if (pl == 0 || pl >= portsz || pl > 5)
            return false;
        snprintf(port, portsz, "%.*s", (int)pl, colon + 1);
        for (const char *c = port; *c; c++)
            if (*c < '0' || *c > '9')
                return false;
    } else {
        if (default_port <= 0)
            return false;
        snprintf(port, portsz, "%d", default_port);
    }
    return host[0] != '\0';
}

/* A non-blocking connect, bounded in time. */
static int connect_one(const struct addrinfo *a)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        struct pollfd pf = { fd, POLLOUT, 0 };
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (errno != EINPROGRESS || poll(&pf, 1, CONNECT_TIMEOUT) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Resolves host, checks every address with the guard (the browser would
 * have been free to pick any), then connects to the checked addresses in
 * turn.  -1 with ER_EDENIED when the guard refuses, ER_EUNAVAIL otherwise. */
static int guarded_connect(er_guard_proxy *p, const char *host, const char *port, er_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        er_error_set(err, ER_EUNAVAIL, "cannot resolve '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int rc = 0;
    for (struct addrinfo *a = ai; a && rc == 0; a = a->ai_next)
        rc = er_netguard_check(p->guard, host, a->ai_addr, err);
    int fd = -1;
    for (struct addrinfo *a = ai; a && rc == 0 && fd < 0; a = a->ai_next)
        fd = connect_one(a);
    freeaddrinfo(ai);
    if (rc == 0 && fd < 0)
        er_error_set(err, ER_EUNAVAIL, "cannot connect to %s port %s", host, port);
    return fd;
}

/* What a refusal is found by: an http:// URL without its fragment, or
 * "https://host:port/" (the port written even when it is 443) — all that a
 * tunnel shows of an https:// page. */
static void url_key(const char *url, char *out, size_t n)
{
    if (strncasecmp(url, "https://", 8) == 0) {
        const char *auth = url + 8;
        size_t alen = strcspn(auth, "/?#");
        const char *close = memchr(auth, ']', alen);
        const char *colon =
            memchr(close ? close : auth, ':', alen - (size_t)((close ? close : auth) - auth));
        snprintf(out, n, "https://%.*s%s/", (int)alen, auth, colon ? "" : ":443");
    } else {
        snprintf(out, n, "%.*s", (int)strcspn(url, "#"), url);
    }
    for (char *c = out; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
}

static void note_refusal(er_guard_proxy *p, const char *url, const char *msg)
{
    pthread_mutex_lock(&p->lock);
    int slot = p->nrecent++ % RECENT;
    url_key(url, p->recent[slot].key, sizeof p->recent[slot].key);
    er_strlcpy(p->recent[slot].msg, msg, sizeof p->recent[slot].msg);
    p->refused++;
    if (!p->refusal[0])
        snprintf(p->refusal, sizeof p->refusal, "%s", msg);
    pthread_mutex_unlock(&p->lock);
    er_log(ER_LOG_INFO, "browser", "proxy refused %s: %s", url, msg);
}

/* Copies bytes both ways until both sides have finished sending (a side's
 * end of data is passed on as a half close), or an error, or stop. */
static void relay(int a, int b)
{
    char buf[16384];
    bool open_a = true, open_b = true;
    while (open_a || open_b) {
        struct pollfd pf[2] = { { open_a ? a : -1, POLLIN, 0 }, { open_b ? b : -1, POLLIN, 0 } };
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (!pf[i].revents)
                continue;
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            ssize_t r = recv(from, buf, sizeof buf, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return;
            if (r == 0) {
                shutdown(to, SHUT_WR);
                if (i == 0)
                    open_a = false;
                else
                    open_b = false;
                continue;
            }
            if (!send_all(to, buf, (size_t)r))
                return;
        }
    }
}

/* The request's head for the server: origin-form target, no proxy
 * headers, one request per connection. */
static void origin_head(er_buf *out, const char *method, const char *path, const char *version,
                        const char *headers, size_t len)
{
    er_buf_printf(out, "%s %s %s\r\n", method, path, version);
    const char *line = headers, *end = headers + len;
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n = eol ? (size_t)(eol - line + 1) : (size_t)(end - line);
        static const char *const dropped[] = { "proxy-connection:", "proxy-authorization:",
                                               "connection:", "keep-alive:" };
        bool drop = n <= 2; /* the blank line: written below */
        for (size_t i = 0; !drop && i < ER_ARRAY_LEN(dropped); i++)
            drop = strncasecmp(line, dropped[i], strlen(dropped[i])) == 0;
        if (!drop)
            er_buf_append(out, line, n);
        line += n;
    }
    er_buf_puts(out, "Connection: close\r\n\r\n");
}

static void serve(conn *c)
{
    er_guard_proxy *p = c->p;
    er_buf head = ER_BUF_INIT;
    size_t head_len = 0;
    if (!read_head(c->client, &head, &head_len)) {
        er_buf_release(&head);
        return;
    }
    const char *h = er_buf_cstr(&head);
    const char *eol = strstr(h, "\r\n");
    char method[16], target[8192], version[16], line[8300];
    snprintf(line, sizeof line, "%.*s", (int)(eol - h), h);
    if (sscanf(line, "%15s %8191s %15s", method, target, version) != 3 ||
        !er_str_starts(version, "HTTP/")) {
        answer(c->client, "400 Bad Request", "not a proxy request");
        er_buf_release(&head);
        return;
    }
    bool tunnel = strcasecmp(method, "CONNECT") == 0;
    char host[256], port[8], url[8400], path[8200] = "/";
    bool ok;
    if (tunnel) {
        ok = split_authority(target, strlen(target), 0, host, sizeof host, port, sizeof port);
        snprintf(url, sizeof url, "https://%s/", target);
    } else if (strncasecmp(target, "http://", 7) == 0) {
        const char *auth = target + 7, *rest = auth + strcspn(auth, "/?#");
        ok = split_authority(auth, (size_t)(rest - auth), 80, host, sizeof host, port, sizeof port);
        if (*rest == '/' || *rest == '?') /* "http://h?q" asks for "/?q"; a fragment is not sent */
            snprintf(path, sizeof path, "%s%.*s", *rest == '?' ? "/" : "", (int)strcspn(rest, "#"),
                     rest);
        snprintf(url, sizeof url, "%s", target);
    } else {
        answer(c->client, "400 Bad Request",
               "errand's proxy forwards http:// URLs in absolute form and CONNECT only");
        er_buf_release(&head);
        return;
    }
    if (!ok) {
        answer(c->client, "400 Bad Request", "bad target");
        er_buf_release(&head);
        return;
    }
    er_error e = { 0 };
    pthread_mutex_lock(&p->lock);
    er_guard_proxy_refuse_fn refuse = p->refuse;
    void *refuse_arg = p->refuse_arg;
    pthread_mutex_unlock(&p->lock);
    if (refuse && refuse(refuse_arg, url, &e)) {
        note_refusal(p, url, e.msg[0] ? e.msg : "refused");
        answer(c->client, "403 Forbidden", e.msg);
        er_buf_release(&head);
        return;
    }
    c->server = guarded_connect(p, host, port, &e);
    if (c->server < 0) {
        if (e.code == ER_EDENIED) {
            note_refusal(p, url, e.msg);
            answer(c->client, "403 Forbidden", e.msg);
        } else {
            answer(c->client, "502 Bad Gateway", e.msg);
        }
        er_buf_release(&head);
        return;
    }
    if (!fd_track(p, c->server)) {
        close(c->server);
        c->server = -1;
        er_buf_release(&head);
        return;
    }
    const char *first_headers = eol + 2;
    size_t hdr_len = head_len - (size_t)(first_headers - h);
    bool sent;
    if (tunnel) {
        static const char est[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        sent = send_all(c->client, est, sizeof est - 1) &&
               send_all(c->server, head.ptr + head_len, head.len - head_len);
    } else {
        er_buf out = ER_BUF_INIT;
        origin_head(&out, method, path, version, first_headers, hdr_len);
        er_buf_append(&out, head.ptr + head_len, head.len - head_len);
        sent = send_all(c->server, out.ptr, out.len);
        er_buf_release(&out);
    }
    er_buf_release(&head);
    if (sent)
        relay(c->client, c->server);
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    er_guard_proxy *p = c->p;
    serve(c);
    fd_close(p, c->server);
    fd_close(p, c->client);
    free(c);
    pthread_mutex_lock(&p->lock);
    if (--p->active == 0)
        pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void *listen_main(void *arg)
{
    er_guard_proxy *p = arg;
    for (;;) {
        struct pollfd pf[2] = { { p->listen_fd, POLLIN, 0 }, { p->wake[0], POLLIN, 0 } };
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!fd_track(p, fd)) {
            close(fd);
            continue;
        }
        conn *c = er_xcalloc(1, sizeof *c);
        c->p = p;
        c->client = fd;
        c->server = -1;
        pthread_mutex_lock(&p->lock);
        p->active++;
        pthread_mutex_unlock(&p->lock);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, conn_main, c) != 0) {
            fd_close(p, fd);
            free(c);
            pthread_mutex_lock(&p->lock);
            p->active--;
            pthread_mutex_unlock(&p->lock);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

int er_guard_proxy_start(er_guard_proxy **out, const er_netguard *guard, er_error *err)
{
    *out = NULL;
    er_guard_proxy *p = er_xcalloc(1, sizeof *p);
    p->guard = guard;
    p->wake[0] = p->wake[1] = -1;
    for (int i = 0; i < MAX_FDS; i++)
        p->fds[i] = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->idle, NULL);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(p->listen_fd, 128) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&sa, &sl) != 0 ||
        pipe2(p->wake, O_CLOEXEC) != 0) {
        int rc = er_error_set(err, ER_EIO, "cannot open the browser's guarding proxy: %s",
                              strerror(errno));
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->idle);
        free(p);
        return rc;
    }
    p->port = ntohs(sa.sin_port);
    if (pthread_create(&p->listener, NULL, listen_main, p) != 0) {
        close(p->listen_fd);
        close(p->wake[0]);
        close(p->wake[1]);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->idle);
        free(p);
        return er_error_set(err, ER_EIO, "cannot start the browser's guarding proxy");
    }
    *out = p;
    return 0;
}

int er_guard_proxy_port(const er_guard_proxy *p)
{
    return p->port;
}

void er_guard_proxy_set_refuse(er_guard_proxy *p, er_guard_proxy_refuse_fn fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    p->refuse = fn;
    p->refuse_arg = arg;
    pthread_mutex_unlock(&p->lock);
}

bool er_guard_proxy_take_refusal(er_guard_proxy *p, char *out, size_t n)
{
    pthread_mutex_lock(&p->lock);
    bool had = p->refusal[0] != '\0';
    er_strlcpy(out, p->refusal, n);
    p->refusal[0] = '\0';
    p->nrecent = 0;
    pthread_mutex_unlock(&p->lock);
    return had;
}

bool er_guard_proxy_refused_url(er_guard_proxy *p, const char *page_url, char *msg, size_t n)
{
    char key[512];
    url_key(page_url, key, sizeof key);
    bool hit = false;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nrecent && i < RECENT && !hit; i++)
        if (strcmp(p->recent[i].key, key) == 0) {
            er_strlcpy(msg, p->recent[i].msg, n);
            hit = true;
        }
    pthread_mutex_unlock(&p->lock);
    return hit;
}

long er_guard_proxy_refused(er_guard_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    long n = p->refused;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void er_guard_proxy_stop(er_guard_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_mutex_unlock(&p->lock);
    ssize_t w = write(p->wake[1], "x", 1);
    (void)w;
    pthread_join(p->listener, NULL);
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < MAX_FDS; i++)
        if (p->fds[i] >= 0)
            shutdown(p->fds[i], SHUT_RDWR);
    while (p->active > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    close(p->listen_fd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->idle);
    free(p);
}
