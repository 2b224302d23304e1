/* base64.h — base64 encoding (RFC 4648): the standard alphabet with padding
 * (OSC 52 clipboard writes, MIME) or the URL-safe one without (JWTs, PKCE). */
#ifndef ERRAND_BASE64_H
#define ERRAND_BASE64_H

#include "common.h"
#include "buf.h"

/* Appends the encoding of data[0..len) to out: url selects the URL-safe
 * alphabet ("-_", no '=' padding) over the standard one ("+/", padded). */
void er_base64_encode(er_buf *out, const void *data, size_t len, bool url);

#endif
