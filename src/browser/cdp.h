/* cdp.h — one Chrome DevTools Protocol connection (a WebSocket to the
 * browser's debugging endpoint): commands with ids and timeouts, events to a
 * callback.  Internal to the chromium backend, and to the firefox one:
 * WebDriver BiDi frames its messages the same way (an answer of type
 * "error" fails the call).
 *
 * Threads: er_cdp_call is made by one thread at a time (the browser's user);
 * events arrive on CivetWeb's reader thread, which may er_cdp_send (never
 * er_cdp_call: it would wait for itself). */
#ifndef ERRAND_CDP_H
#define ERRAND_CDP_H

#include "errand/common.h"
#include "errand/error.h"

#include <cjson/cJSON.h>

typedef struct er_cdp er_cdp;

/* An event: method, params and the session it belongs to (NULL: the browser). */
typedef void (*er_cdp_event_fn)(er_cdp *c, const char *method, const cJSON *params,
                                const char *session, void *payload);

/* Connects to ws://127.0.0.1:port/path.  OWNED: er_cdp_close. */
int er_cdp_connect(er_cdp **out, int port, const char *path, er_cdp_event_fn fn, void *payload,
                   er_error *err);
/* The same over errand's own WebSocket client (wsclient.h), which sends
 * the port in its Host header as Firefox requires. */
int er_cdp_connect_direct(er_cdp **out, int port, const char *path, er_cdp_event_fn fn,
                          void *payload, int timeout_ms, er_error *err);
void er_cdp_close(er_cdp *c);

/* Sends method(params) (TAKES params; NULL: {}) in session (NULL: the
 * browser) and waits up to timeout_ms for its answer.  *result OWNED (may be
 * NULL when not wanted).  ER_ETIMEDOUT, ER_EUNAVAIL when the connection is
 * gone or er_cdp_fail was called, ER_EINVAL with the browser's message for an
 * error answer. */
int er_cdp_call(er_cdp *c, const char *session, const char *method, cJSON *params, int timeout_ms,
                cJSON **result, er_error *err);
/* Sends without waiting (TAKES params). */
int er_cdp_send(er_cdp *c, const char *session, const char *method, cJSON *params);
/* Fails the call in flight and every later one with why (a crash). */
void er_cdp_fail(er_cdp *c, const char *why);
/* Whether the connection is usable; when not, why is copied into the error. */
bool er_cdp_usable(er_cdp *c, er_error *err);

#endif
