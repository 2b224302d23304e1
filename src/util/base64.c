/* base64.c — base64 encoding (both alphabets) and decoding (see base64.h). */
#include "errand/base64.h"
#include "errand/error.h"

#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void er_base64_encode(er_buf *out, const void *data, size_t len, bool url)
{
    const char *abc = url ? url_alphabet : std_alphabet;
    const unsigned char *p = data;
    char q[4];
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = abc[v >> 18];
        q[1] = abc[(v >> 12) & 63];
        q[2] = abc[(v >> 6) & 63];
        q[3] = abc[v & 63];
        er_buf_append(out, q, 4);
    }
    size_t rest = len - i;
    if (rest == 0)
        return;
    uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
    q[0] = abc[v >> 18];
    q[1] = abc[(v >> 12) & 63];
    q[2] = rest == 2 ? abc[(v >> 6) & 63] : '=';
    q[3] = '=';
    /* URL-safe drops the padding; the standard form keeps whole quads. */
    er_buf_append(out, q, url ? rest + 1 : 4);
}


static int value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int er_base64_decode(er_buf *out, const char *s, size_t len)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=')
            break;
        int v = value(ch);
        if (v < 0)
            return ER_EPROTO;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char byte = (char)((acc >> bits) & 0xff);
            if (er_buf_putc(out, byte) != 0)
                return ER_ETOOBIG;
        }
    }
    /* Leftover bits must be padding zeros, and a lone sixth of a byte is no encoding. */
    if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
        return ER_EPROTO;
    return 0;
}
