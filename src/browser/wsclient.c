/* wsclient.c — a small RFC 6455 client over a loopback TCP socket (see
 * wsclient.h).  Text and binary data frames, continuation, ping/pong and
 * close; no extensions, no TLS (the endpoint is the browser errand started). */
#include "wsclient.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/buf.h"
#include "errand/log.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

struct er_wsc {
    int fd;
    pthread_t reader;
    bool started;
    pthread_mutex_t write_lock;
    er_wsc_message_fn on_message;
    er_wsc_closed_fn on_closed;
    void *payload;
    /* the reader thread's alone */
    er_buf in;      /* bytes read, not yet a whole frame */
    er_buf message; /* fragments of the message being received */
    bool dropping;  /* the current message passed the cap */
};

static int send_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A client frame: FIN set, masked (RFC 6455 §5.3), written in one send(). */
static int send_frame(er_wsc *c, int op, const char *data, size_t len)
{
    size_t head = 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + 4;
    unsigned char *f = er_xmalloc(head + len);
    size_t i = 0;
    f[i++] = (unsigned char)(0x80 | op);
    if (len > 65535) {
        f[i++] = 0x80 | 127;
        for (int k = 7; k >= 0; k--)
            f[i++] = (unsigned char)((uint64_t)len >> (8 * k));
    } else if (len > 125) {
        f[i++] = 0x80 | 126;
        f[i++] = (unsigned char)(len >> 8);
        f[i++] = (unsigned char)len;
    } else {
        f[i++] = (unsigned char)(0x80 | len);
    }
    unsigned char mask[4];
    if (getrandom(mask, sizeof mask, 0) != (ssize_t)sizeof mask)
        memset(mask, 0x5a, sizeof mask); /* masking guards proxies, not secrecy */
    memcpy(f + i, mask, 4);
    i += 4;
    for (size_t k = 0; k < len; k++)
        f[i + k] = (unsigned char)data[k] ^ mask[k & 3];
    pthread_mutex_lock(&c->write_lock);
    int rc = send_all(c->fd, f, head + len);
    pthread_mutex_unlock(&c->write_lock);
    free(f);
    return rc;
}

int er_wsc_send(er_wsc *c, const char *text, size_t len)
{
    return send_frame(c, OP_TEXT, text, len);
}

/* One whole frame from c->in, if there is one: 1 taken, 0 need more,
 * -1 the connection ends. */
static int take_frame(er_wsc *c)
{
    const unsigned char *p = (const unsigned char *)c->in.ptr;
    size_t n = c->in.len;
    if (n < 2)
        return 0;
    bool fin = p[0] & 0x80, masked = p[1] & 0x80;
    int op = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t at = 2;
    if (len == 126 || len == 127) {
        size_t k = len == 126 ? 2 : 8;
        if (n < at + k)
            return 0;
        len = 0;
        for (size_t j = 0; j < k; j++)
            len = len << 8 | p[at + j];
        at += k;
    }
    if (len > c->in.max)
        return -1; /* never fits: the peer is not what we started */
    size_t mask_at = at;
    at += masked ? 4 : 0;
    if (n < at + len)
        return 0;
    char *data = (char *)c->in.ptr + at;
    for (size_t k = 0; masked && k < len; k++)
        data[k] ^= (char)p[mask_at + (k & 3)];
    int rc = 1;
    if (op == OP_CLOSE) {
        send_frame(c, OP_CLOSE, data, len < 2 ? len : 2);
        rc = -1;
    } else if (op == OP_PING) {
        send_frame(c, OP_PONG, data, len);
    } else if (op == OP_TEXT || op == OP_BINARY || op == OP_CONT) {
        if (op != OP_CONT) {
            er_buf_reset(&c->message);
            c->dropping = false;
        }
        if (!c->dropping && er_buf_append(&c->message, data, len) != 0) {
            er_log(ER_LOG_WARN, "browser", "a browser message passed %zu bytes; dropped",
                   c->message.max);
            c->dropping = true;
        }
        if (fin && !c->dropping && !c->on_message(c->message.ptr, c->message.len, c->payload))
            rc = -1;
        if (fin)
            er_buf_reset(&c->message);
    }
    size_t used = at + (size_t)len;
    memmove(c->in.ptr, c->in.ptr + used, n - used);
    c->in.len = n - used;
    return rc;
}

static void *read_loop(void *arg)
{
    er_wsc *c = arg;
    char chunk[65536];
    for (;;) {
        int rc;
        while ((rc = take_frame(c)) == 1)
            ;
        if (rc < 0)
            break;
        ssize_t r = recv(c->fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || er_buf_append(&c->in, chunk, (size_t)r) != 0)
            break;
    }
    shutdown(c->fd, SHUT_RDWR);
    if (c->on_closed)
        c->on_closed(c->payload);
    return NULL;
}

/* Sends the upgrade request and reads the answer's head; bytes after it
 * stay in c->in. */
static int handshake(er_wsc *c, int port, const char *path, int timeout_ms, er_error *err)
{
    unsigned char nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        memset(nonce, 0x33, sizeof nonce);
    er_buf key = ER_BUF_INIT;
    er_base64_encode(&key, nonce, sizeof nonce, false);
    char *req = er_xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n",
                             path, port, er_buf_cstr(&key));
    er_buf_release(&key);
    int rc = send_all(c->fd, req, strlen(req));
    free(req);
    if (rc)
        return er_error_set(err, ER_EUNAVAIL, "cannot send the WebSocket upgrade to 127.0.0.1:%d",
                            port);
    const char *end = NULL;
    int64_t until = er_mono_ms() + timeout_ms;
    while (!(end = c->in.ptr ? strstr(er_buf_cstr(&c->in), "\r\n\r\n") : NULL)) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int left = (int)(until - er_mono_ms());
        char chunk[4096];
        ssize_t r = left > 0 && poll(&pfd, 1, left) == 1 ? recv(c->fd, chunk, sizeof chunk, 0) : -1;
        if (r <= 0 || c->in.len > 16384 || er_buf_append(&c->in, chunk, (size_t)r) != 0)
            return er_error_set(err, ER_EUNAVAIL,
                                "no WebSocket upgrade answer from 127.0.0.1:%d within %d ms", port,
                                timeout_ms);
    }
    size_t head = (size_t)(end - c->in.ptr) + 4;
    if (strncmp(c->in.ptr, "HTTP/1.1 101", 12) != 0) {
        const char *eol = strstr(c->in.ptr, "\r\n");
        return er_error_set(err, ER_EUNAVAIL, "127.0.0.1:%d refused the WebSocket upgrade: %.*s",
                            port, (int)(eol ? eol - c->in.ptr : 0), c->in.ptr);
    }
    memmove(c->in.ptr, c->in.ptr + head, c->in.len - head);
    c->in.len -= head;
    return 0;
}

int er_wsc_connect(er_wsc **out, int port, const char *path, size_t max, int timeout_ms,
                   er_wsc_message_fn on_message, er_wsc_closed_fn on_closed, void *payload,
                   er_error *err)
{
    *out = NULL;
    er_wsc *c = er_xcalloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    c->on_message = on_message;
    c->on_closed = on_closed;
    c->payload = payload;
    pthread_mutex_init(&c->write_lock, NULL);
    er_buf_init(&c->in, max + 16);
    er_buf_init(&c->message, max);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1, rc = 0;
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        rc = er_error_set(err, ER_EUNAVAIL, "cannot connect to 127.0.0.1:%d: %s", port,
                          strerror(errno));
    if (rc == 0) {
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        rc = handshake(c, port, path, timeout_ms, err);
    }
    if (rc == 0 && pthread_create(&c->reader, NULL, read_loop, c) != 0)
        rc = er_error_set(err, ER_EINTERNAL, "cannot start the WebSocket reader thread");
    c->started = rc == 0;
    if (rc) {
        er_wsc_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void er_wsc_close(er_wsc *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR); /* wakes the reader */
    if (c->started)
        pthread_join(c->reader, NULL);
    if (c->fd >= 0)
        close(c->fd);
    er_buf_release(&c->in);
    er_buf_release(&c->message);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}
