/* http_internal.h — the transports behind er_http_request (private to src/http). */
#ifndef ERRAND_HTTP_INTERNAL_H
#define ERRAND_HTTP_INTERNAL_H

#include "errand/http.h"

/* True when url is http:// and no proxy is configured (ERRAND_HTTP=curl forces libcurl). */
bool er_http_plain_wants(const char *url);
/* One attempt over plain TCP.  *transient: worth another attempt; *retry_after_ms:
 * the server's Retry-After, or -1.  Codes as er_http_request's. */
int er_http_plain_attempt(const er_http_req *req, er_http_resp *out, bool *transient,
                          long *retry_after_ms, er_error *err);
void er_http_plain_shutdown(void);

#endif
