/* crypto.c — the small cryptographic toolbox of the server: random bytes,
 * SHA-256 digests, HMAC, constant-time comparison and strict base64url
 * (RFC 4648 §5 without padding, as JWTs and PKCE use it).  OpenSSL's libcrypto
 * does the hashing; everything that parses outside input is written to refuse
 * anything non-canonical. */
#include "server.h"
#include "errand/base64.h"

#include "errand/alloc.h"
#include "crypto_api.h"

#include <errno.h>
#include <stdlib.h>
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

/* HMAC (RFC 2104) as two hashes whose first block, the key xor a pad, is the
 * same for every message: hashed once here, and each MAC starts from a copy.
 * The one-shot HMAC() looks the algorithm up and keys itself on every call,
 * which cost more than the hashing on the request path (every access token). */
struct srv_hmac {
    EVP_MD_CTX *inner, *outer;
};

static EVP_MD_CTX *padded_key_ctx(const unsigned char key[64], unsigned char pad)
{
    unsigned char block[64];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = key[i] ^ pad;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
              EVP_DigestUpdate(c, block, sizeof block) != 1)) {
        EVP_MD_CTX_free(c);
        c = NULL;
    }
    return c;
}

srv_hmac *srv_hmac_new(const void *key, size_t keylen)
{
    unsigned char k[64] = { 0 };
    if (keylen > sizeof k)
        SHA256(key, keylen, k); /* a long key is replaced by its digest */
    else
        memcpy(k, key, keylen);
    srv_hmac *h = er_xcalloc(1, sizeof *h);
    h->inner = padded_key_ctx(k, 0x36);
    h->outer = padded_key_ctx(k, 0x5c);
    if (!h->inner || !h->outer) {
        srv_hmac_free(h);
        return NULL;
    }
    return h;
}

void srv_hmac_free(srv_hmac *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    free(h);
}

int srv_hmac_sign(const srv_hmac *h, const void *data, size_t len, unsigned char out[32])
{
    unsigned char ih[32];
    unsigned int n = 0, m = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_MD_CTX_copy_ex(c, h->inner) == 1 && EVP_DigestUpdate(c, data, len) == 1 &&
              EVP_DigestFinal_ex(c, ih, &n) == 1 && n == sizeof ih &&
              EVP_MD_CTX_copy_ex(c, h->outer) == 1 && EVP_DigestUpdate(c, ih, n) == 1 &&
              EVP_DigestFinal_ex(c, out, &m) == 1 && m == 32;
    EVP_MD_CTX_free(c);
    return ok ? 0 : ER_EINTERNAL;
}

bool srv_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void srv_b64url_encode(const void *data, size_t len, er_buf *out)
{
    er_base64_encode(out, data, len, true);
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
 * character (so one byte string has exactly one encoding).  Decoded bytes go
 * out a chunk at a time: tokens are decoded on every authenticated request. */
int srv_b64url_decode(const char *s, size_t len, er_buf *out)
{
    if (len % 4 == 1)
        return ER_EINVAL;
    char chunk[256];
    size_t n = 0;
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
            chunk[n++] = (char)((acc >> bits) & 0xff);
            if (n == sizeof chunk) {
                if (er_buf_append(out, chunk, n))
                    return ER_ETOOBIG;
                n = 0;
            }
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return ER_EINVAL;
    return n && er_buf_append(out, chunk, n) ? ER_ETOOBIG : 0;
}

void srv_random_token(const char *prefix, size_t nbytes, er_buf *out)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    if (srv_random(raw, nbytes) != 0)
        abort(); /* no randomness: no token may be issued */
    er_buf_puts(out, prefix);
    srv_b64url_encode(raw, nbytes, out);
}
