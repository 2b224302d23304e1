/* base64.c — base64 encoding, both alphabets (see base64.h). */
#include "errand/base64.h"

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
