/* buf.h — the one growable byte buffer, with a cap for untrusted input.
 *
 * ptr is always NUL-terminated once anything was appended; er_buf_cstr()
 * returns "" for an empty buffer.  max == 0 means no cap. */
#ifndef ERRAND_BUF_H
#define ERRAND_BUF_H

#include "common.h"

typedef struct er_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
} er_buf;

#define ER_BUF_INIT   \
    {                 \
        NULL, 0, 0, 0 \
    }

void er_buf_init(er_buf *b, size_t max);
void er_buf_release(er_buf *b);
void er_buf_reset(er_buf *b);                          /* len = 0, keeps memory */
int er_buf_append(er_buf *b, const void *p, size_t n); /* ER_ETOOBIG past max */
int er_buf_puts(er_buf *b, const char *s);
int er_buf_putc(er_buf *b, char c);
int er_buf_printf(er_buf *b, const char *fmt, ...) ER_PRINTF(2, 3);
const char *er_buf_cstr(const er_buf *b);
/* Appends s[0..len) as valid UTF-8: each byte that is not part of a valid
 * sequence, and each NUL, becomes U+FFFD.  Returns how many were replaced, or
 * ER_ETOOBIG (negative) past max. */
int er_buf_put_utf8(er_buf *b, const char *s, size_t len);
/* OWNED: the caller frees the returned string; b is reset to empty. */
char *er_buf_detach(er_buf *b);
/* Removes the first n bytes. */
void er_buf_consume(er_buf *b, size_t n);

#endif
