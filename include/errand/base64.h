/* base64.h — decoding base64 (RFC 4648, standard alphabet), as browsers send
 * screenshots and PDFs. */
#ifndef ERRAND_BASE64_H
#define ERRAND_BASE64_H

#include "common.h"
#include "buf.h"

/* Appends the bytes s[0..len) encodes to out; whitespace is skipped, '='
 * ends the data.  ER_EPROTO for any other character or a dangling bit;
 * ER_ETOOBIG past out's cap. */
int er_base64_decode(er_buf *out, const char *s, size_t len);

#endif
