/* base64.c — base64 decoding (see base64.h). */
#include "errand/base64.h"
#include "errand/error.h"

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
