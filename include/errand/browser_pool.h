/* browser_pool.h — the browsers of a process, one per session, shared by the
 * browser tools.
 *
 * A session (the tool argument "session", by default the task) gets its own
 * browser, started on first use, so two sessions never share cookies or a
 * page.  At most max_instances run at once: a new session closes the least
 * recently used idle one.  A browser that died (crash, killed) is replaced
 * the next time its session asks for it; a browser that has served
 * recycle_after commands is replaced too, between two commands, so a slow
 * leak in a long session does not grow without end.  The pool owns the SSRF
 * guard its browsers check requests with.
 *
 * Thread-safe: a browser is lent to one thread at a time; a thread asking
 * for a busy one waits. */
#ifndef ERRAND_BROWSER_POOL_H
#define ERRAND_BROWSER_POOL_H

#include "browser.h"
#include "config.h"

typedef struct er_browser_pool er_browser_pool;

typedef struct er_browser_pool_opts {
    er_browser_opts browser; /* guard: set by the pool */
    const char *allow_hosts; /* web.allow_hosts */
    int max_instances;       /* 0: 2 */
    int recycle_after;       /* commands; 0: 500 */
} er_browser_pool_opts;

/* ER_EINVAL for a bad allow list.  OWNED: er_browser_pool_free. */
int er_browser_pool_new(er_browser_pool **out, const er_browser_pool_opts *o, er_error *err);
/* The options the settings give (browser.*, web.allow_hosts). */
void er_browser_pool_opts_from_config(er_browser_pool_opts *o, const er_config *cfg);
/* Closes every browser; accepts NULL. */
void er_browser_pool_free(er_browser_pool *p);

/* Lends session's browser (BORROWED until er_browser_pool_give); *fresh is
 * true when it was just started (no page is open in it: the earlier one, if
 * any, died or was recycled, and *why says so, or is "" for a first start).
 * ER_EUNAVAIL when every instance stays busy for the command timeout. */
int er_browser_pool_take(er_browser_pool *p, const char *session, er_browser **out, bool *fresh,
                         char *why, size_t whysize, er_error *err);
void er_browser_pool_give(er_browser_pool *p, er_browser *b);
/* Closes session's browser; false when it had none. */
bool er_browser_pool_end(er_browser_pool *p, const char *session);
/* Browsers running now. */
int er_browser_pool_count(er_browser_pool *p);

#endif
