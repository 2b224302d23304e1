/* wsclient.h — a WebSocket client (RFC 6455) for a browser's debugging
 * endpoint on 127.0.0.1.  Internal to src/browser/.
 *
 * Why not CivetWeb's client, which the chromium backend uses: CivetWeb 1.15
 * sends "Host: 127.0.0.1" without the port, and Firefox's remote agent
 * (httpd.js) then takes port 80 and answers 400.  This client sends the
 * port, writes each frame in one send() with TCP_NODELAY, and reads on its
 * own thread.
 *
 * Threads: the callbacks run on the reader thread; er_wsc_send may be called
 * from any thread (frames are written whole, under a lock). */
#ifndef ERRAND_WSCLIENT_H
#define ERRAND_WSCLIENT_H

#include "errand/common.h"
#include "errand/error.h"

typedef struct er_wsc er_wsc;

/* A whole message (fragments joined); return false to close. */
typedef bool (*er_wsc_message_fn)(const char *data, size_t len, void *payload);
/* The connection ended (peer closed, error, or er_wsc_close). */
typedef void (*er_wsc_closed_fn)(void *payload);

/* Connects to ws://127.0.0.1:port/path within timeout_ms.  Messages larger
 * than max are dropped.  OWNED: er_wsc_close. */
int er_wsc_connect(er_wsc **out, int port, const char *path, size_t max, int timeout_ms,
                   er_wsc_message_fn on_message, er_wsc_closed_fn on_closed, void *payload,
                   er_error *err);
/* Sends one text message; -1 when the connection is gone. */
int er_wsc_send(er_wsc *c, const char *text, size_t len);
/* Closes and waits for the reader thread; accepts NULL. */
void er_wsc_close(er_wsc *c);

#endif
