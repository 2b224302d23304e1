/* base64.h — base64 (RFC 4648): encoding with the standard alphabet and
 * padding (OSC 52 clipboard writes, MIME) or the URL-safe one without (JWTs,
 * PKCE); decoding of the standard alphabet, as browsers send screenshots and
 * PDFs. */
#ifndef ERRAND_BASE64_H
#define ERRAND_BASE64_H

#include "common.h"
#include "buf.h"

/* Appends the encoding of data[0..len) to out: url selects the URL-safe
 * alphabet ("-_", no '=' padding) over the standard one ("+/", padded). */
void er_base64_encode(er_buf *out, const void *data, size_t len, bool url);

/* Appends the bytes s[0..len) encodes to out; whitespace is skipped, '='
 * ends the data.  ER_EPROTO for any other character or a dangling bit;
 * ER_ETOOBIG past out's cap. */
int er_base64_decode(er_buf *out, const char *s, size_t len);

#endif
