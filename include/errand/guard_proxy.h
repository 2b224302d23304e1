/* guard_proxy.h — a small HTTP proxy on 127.0.0.1 that applies the SSRF
 * guard (netguard.h) to every connection a browser makes through it.
 *
 * For a browser whose protocol cannot hold the page's requests (WebKit over
 * classic WebDriver) the proxy is where the guard sits: the browser is told
 * to send everything through it, and it
 *   - forwards plain HTTP requests in absolute form ("GET http://host/p"),
 *     one request per connection (Connection: close towards the server);
 *   - tunnels CONNECT host:port (HTTPS, WebSocket over TLS) byte for byte;
 * after resolving the target's name itself and checking every address with
 * er_netguard_check; the connection goes to an address that was checked (no
 * second lookup).  A refused target gets "403 Forbidden" with the guard's
 * message, and the first refusal since er_guard_proxy_take_refusal is kept
 * for the caller to report.
 *
 * An optional refuse hook adds the caller's own rule (browser_block's URL
 * patterns); it sees the full URL of a plain HTTP request, and only
 * "https://host:port/" for a tunnel.
 *
 * Threads: one listener thread and one thread per connection; every
 * function may be called from any thread. */
#ifndef ERRAND_GUARD_PROXY_H
#define ERRAND_GUARD_PROXY_H

#include "common.h"
#include "error.h"
#include "netguard.h"

typedef struct er_guard_proxy er_guard_proxy;

/* Returns true (with a message in err) when url must not be fetched. */
typedef bool (*er_guard_proxy_refuse_fn)(void *arg, const char *url, er_error *err);

/* Listens on a free port of 127.0.0.1.  guard is BORROWED and must outlive
 * the proxy (NULL: public addresses only).  OWNED: er_guard_proxy_stop. */
int er_guard_proxy_start(er_guard_proxy **out, const er_netguard *guard, er_error *err);
int er_guard_proxy_port(const er_guard_proxy *p);
/* Sets the extra rule (NULL: none); arg must outlive the proxy. */
void er_guard_proxy_set_refuse(er_guard_proxy *p, er_guard_proxy_refuse_fn fn, void *arg);
/* Copies the first refusal since the last call into out ("" when none) and
 * forgets it; returns whether there was one. */
bool er_guard_proxy_take_refusal(er_guard_proxy *p, char *out, size_t n);
/* Whether a request for page_url — or, for an https:// page, a tunnel to its
 * host and port — was refused since the last er_guard_proxy_take_refusal:
 * how a caller tells that the document itself (not one of its
 * subresources) was stopped.  msg gets the refusal. */
bool er_guard_proxy_refused_url(er_guard_proxy *p, const char *page_url, char *msg, size_t n);
/* How many connections were refused since the start (for tests). */
long er_guard_proxy_refused(er_guard_proxy *p);
/* Closes the listener and every open connection, then frees; accepts NULL. */
void er_guard_proxy_stop(er_guard_proxy *p);

#endif
