/* charset.h — turning fetched bytes into UTF-8.
 *
 * The charset of a document comes from, in this order: a byte-order mark,
 * the Content-Type header's charset parameter, and for HTML the document's
 * own <meta> declaration (read by libxml2's parser, extract.h) or for XML its
 * declaration; else UTF-8.  Labels follow the WHATWG Encoding standard's
 * aliases (latin1 and ascii mean windows-1252, shift_jis means CP932, gb2312
 * means GB18030…).  Conversion is glibc's iconv. */
#ifndef ERRAND_CHARSET_H
#define ERRAND_CHARSET_H

#include "common.h"
#include "error.h"

/* iconv's name for a label as documents write it ("ISO-8859-1" → "WINDOWS-1252"),
 * or NULL when the label is unknown. */
const char *er_charset_name(const char *label);

/* The charset parameter of a Content-Type value, unquoted, into out ("" when
 * there is none). */
void er_charset_from_content_type(const char *content_type, char *out, size_t n);

/* The charset a byte-order mark at data names ("UTF-8", "UTF-16LE",
 * "UTF-16BE") and its length in *bom_len, or NULL. */
const char *er_charset_bom(const char *data, size_t len, size_t *bom_len);

/* Converts data from charset (a label; NULL or unknown: UTF-8; a BOM wins)
 * into UTF-8 without the BOM.  Invalid sequences become U+FFFD, NUL bytes
 * too.  OWNED *out, NUL-terminated, *out_len bytes.  ER_EINVAL when iconv
 * cannot convert from that charset at all. */
int er_charset_to_utf8(char **out, size_t *out_len, const char *data, size_t len,
                       const char *charset, er_error *err);

#endif
