/* buf.c — growable byte buffer with a cap (git's strbuf + curl's dynbuf). */
#include "errand/buf.h"
#include "errand/alloc.h"
#include "errand/error.h"
#include "errand/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void er_buf_init(er_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void er_buf_release(er_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void er_buf_reset(er_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static int grow(er_buf *b, size_t extra)
{
    if (b->max && (b->len + extra > b->max || b->len + extra < b->len))
        return ER_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->ptr = er_xrealloc(b->ptr, cap);
    b->cap = cap;
    return 0;
}

int er_buf_append(er_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int er_buf_puts(er_buf *b, const char *s)
{
    return er_buf_append(b, s, strlen(s));
}

int er_buf_putc(er_buf *b, char c)
{
    return er_buf_append(b, &c, 1);
}

int er_buf_printf(er_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ER_EINTERNAL;
    if ((size_t)n < sizeof small)
        return er_buf_append(b, small, (size_t)n);
    int rc = grow(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *er_buf_cstr(const er_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *er_buf_detach(er_buf *b)
{
    char *p = b->ptr ? b->ptr : er_xstrdup("");
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void er_buf_consume(er_buf *b, size_t n)
{
    if (n >= b->len) {
        er_buf_reset(b);
        return;
    }
    memmove(b->ptr, b->ptr + n, b->len - n);
    b->len -= n;
    b->ptr[b->len] = '\0';
}

int er_buf_put_utf8(er_buf *b, const char *s, size_t len)
{
    int replaced = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i, n;
        while (i < len && s[i] && (n = er_utf8_seq((const unsigned char *)s + i, len - i)) > 0)
            i += n;
        if (er_buf_append(b, s + start, i - start))
            return ER_ETOOBIG;
        if (i < len) {
            /* NUL would end the C string a reader sees: marked like other junk. */
            if (er_buf_puts(b, "\xEF\xBF\xBD"))
                return ER_ETOOBIG;
            replaced++;
            i++;
        }
    }
    return replaced;
}
