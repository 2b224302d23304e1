/* crypto.c — the small cryptographic toolbox of the server: random bytes,
 * SHA-256 digests, HMAC, constant-time comparison and strict base64url
 * (RFC 4648 §5 without padding, as JWTs and PKCE use it).  OpenSSL's libcrypto
 * does the hashing; everything that parses outside input is written to refuse
 * anything non-canonical. */
#include "server.h"

#include "crypto_api.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int srv_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return ER_EIO;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

void srv_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void srv_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256(data, len, out);
}

void srv_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    SHA256(data, len, md);
    srv_hex(md, sizeof md, out);
}

void srv_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                     unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

bool srv_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void srv_b64url_encode(const void *data, size_t len, er_buf *out)
{
    const unsigned char *p = data;
    size_t i = 0;
    char q[4];
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = b64url[v >> 18];
        q[1] = b64url[(v >> 12) & 63];
        q[2] = b64url[(v >> 6) & 63];
        q[3] = b64url[v & 63];
        er_buf_append(out, q, 4);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        q[0] = b64url[v >> 18];
        q[1] = b64url[(v >> 12) & 63];
        er_buf_append(out, q, 2);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        q[0] = b64url[v >> 18];
        q[1] = b64url[(v >> 12) & 63];
        q[2] = b64url[(v >> 6) & 63];
        er_buf_append(out, q, 3);
    }
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Strict: the url-safe alphabet only, no padding, no stray bits in the last
 * character (so one byte string has exactly one encoding). */
int srv_b64url_decode(const char *s, size_t len, er_buf *out)
{
    if (len % 4 == 1)
        return ER_EINVAL;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return ER_EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char byte = (char)((acc >> bits) & 0xff);
            if (er_buf_append(out, &byte, 1))
                return ER_ETOOBIG;
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return ER_EINVAL;
    return 0;
}

void srv_random_token(const char *prefix, size_t nbytes, er_buf *out)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    if (srv_random(raw, nbytes) != 0)
        abort();   /* no randomness: no token may be issued */
    er_buf_puts(out, prefix);
    srv_b64url_encode(raw, nbytes, out);
}
