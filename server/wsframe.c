/* wsframe.c — RFC 6455 framing on the socket libmicrohttpd hands over after
 * a 101 Switching Protocols: read a client frame (masked, as clients must),
 * write a server frame (unmasked, header and payload in one send), and the
 * handshake's Sec-WebSocket-Accept.  Everything from the client is checked:
 * reserved bits, masking, control-frame sizes, the length cap. */
#include "server.h"

#include "crypto_api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void srv_ws_accept_key(const char *key, char out[32])
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s" WS_GUID, key);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), md);
    EVP_EncodeBlock((unsigned char *)out, md, sizeof md);
}

/* Makes pending hold at least need bytes. */
static int fill(int fd, er_buf *pending, size_t need, int idle_ms)
{
    char chunk[8192];
    while (pending->len < need) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ready = poll(&p, 1, idle_ms);
        if (ready == 0)
            return ER_ETIMEDOUT;
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return ER_EUNAVAIL;
        }
        ssize_t got = recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return ER_EUNAVAIL;
        if (er_buf_append(pending, chunk, (size_t)got))
            return ER_ETOOBIG;
    }
    return 0;
}

/* The frame's header: its size in *hlen and the payload length in *plen. */
static int parse_header(const unsigned char *h, size_t avail, size_t *hlen, uint64_t *plen)
{
    uint64_t len = h[1] & 0x7f;
    size_t n = 2;
    if (len == 126)
        n += 2;
    else if (len == 127)
        n += 8;
    n += 4; /* the masking key */
    if (avail < n) {
        *hlen = n;
        return 1; /* need more */
    }
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        if (len >> 63)
            return ER_EPROTO;
    }
    *hlen = n;
    *plen = len;
    return 0;
}

int srv_ws_read_frame(int fd, er_buf *pending, size_t max, int idle_ms, srv_wsframe *out)
{
    er_buf_reset(&out->payload);
    int rc = fill(fd, pending, 2, idle_ms);
    size_t hlen = 0;
    uint64_t plen = 0;
    while (!rc && (rc = parse_header((const unsigned char *)pending->ptr, pending->len, &hlen,
                                     &plen)) == 1)
        rc = fill(fd, pending, hlen, idle_ms);
    if (rc)
        return rc;
    const unsigned char *h = (const unsigned char *)pending->ptr;
    out->fin = h[0] & 0x80;
    out->opcode = h[0] & 0x0f;
    if ((h[0] & 0x70) || !(h[1] & 0x80))
        return ER_EPROTO; /* extensions we did not agree on, or an unmasked frame */
    if (out->opcode >= 8 && (!out->fin || plen > 125))
        return ER_EPROTO;
    if (plen > max)
        return ER_ETOOBIG;
    rc = fill(fd, pending, hlen + (size_t)plen, idle_ms);
    if (rc)
        return rc;
    h = (const unsigned char *)pending->ptr;
    unsigned char mask[4];
    memcpy(mask, h + hlen - 4, 4);
    if (plen && er_buf_append(&out->payload, h + hlen, (size_t)plen))
        return ER_ETOOBIG;
    for (size_t i = 0; i < plen; i++)
        out->payload.ptr[i] = (char)(out->payload.ptr[i] ^ mask[i % 4]);
    er_buf_consume(pending, hlen + (size_t)plen);
    return 0;
}

int srv_ws_write_frame(int fd, int opcode, const void *data, size_t len)
{
    er_buf b = ER_BUF_INIT;
    unsigned char h[10];
    size_t n = 2;
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (unsigned char)len;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    er_buf_append(&b, h, n);
    if (len)
        er_buf_append(&b, data, len);
    size_t off = 0;
    int rc = 0;
    while (off < b.len) {
        ssize_t sent = send(fd, b.ptr + off, b.len - off, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) {
            rc = ER_EUNAVAIL; /* gone, or too slow (SO_SNDTIMEO) */
            break;
        }
        off += (size_t)sent;
    }
    er_buf_release(&b);
    return rc;
}
