/* browser.h — a real browser the browser tools drive: one page per instance.
 *
 * The seam has one backend per protocol, chosen by the setting browser.engine:
 *   chromium  Debian's Chromium, headless, over the Chrome DevTools Protocol
 *             (src/browser/chromium.c, src/browser/cdp.c).
 *   firefox   Debian's Firefox ESR over WebDriver BiDi (src/browser/firefox.c,
 *             its WebSocket client src/browser/wsclient.c).  No "mobile"
 *             viewport rules (emulate refuses them).
 *   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver over classic
 *             W3C WebDriver (src/browser/webkit.c), on an Xvfb display of its
 *             own when headless.  A subset: no PDF, no element screenshot,
 *             no blocking by resource type, no emulation beyond the
 *             viewport's size (each refused with a clear error).
 * Every instance is its own browser process with a temporary profile (deleted
 * on close), so sessions never share cookies.
 *
 * Every request the page makes — the top-level navigation, each redirect hop,
 * subresources, fetch/XHR — is held by the backend and checked by the SSRF
 * guard (netguard.h) before it may leave (CDP Fetch interception, BiDi
 * network.addIntercept; for webkit, whose protocol cannot hold requests,
 * errand's guarding proxy that every connection of the browser goes through,
 * guard_proxy.h); a refused one fails in the page and
 * er_browser_navigate reports the guard's message.  (The browser resolves the name again when it connects: a name
 * whose answer changes between the check and the connection is not caught.)
 *
 * A browser that dies (crash, killed) fails the command in flight with
 * ER_EUNAVAIL "the browser exited …"; er_browser_alive then says false and
 * the pool (browser_pool.h) replaces it.  Every command has a timeout.
 *
 * A backend starts its browser inside the limits of o->memory_max and
 * o->pids_max (browser_limits.h: a control group where one can be made).
 *
 * Cookies can be read out and put back (a named session kept in the cache
 * by the browser tools, src/tools/browser.c).
 *
 * Threads: one thread at a time per instance (the pool lends it out). */
#ifndef ERRAND_BROWSER_H
#define ERRAND_BROWSER_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "netguard.h"

#include <cjson/cJSON.h>

typedef struct er_browser er_browser;

typedef struct er_browser_opts {
    const char *engine;       /* "chromium" (default), "firefox", "webkit" */
    const char *binary;       /* NULL: the engine's Debian path */
    bool headless;            /* false shows the window (needs a display) */
    int width, height;        /* viewport in CSS pixels; 0: 1024x768 */
    int page_timeout_ms;      /* a navigation until the load event; 0: 30 s */
    int command_timeout_ms;   /* any other command; 0: 10 s */
    const er_netguard *guard; /* BORROWED, must outlive the browser; NULL: public only */
    uint64_t memory_max;      /* bytes for the whole browser; 0: no limit (browser_limits.h) */
    long pids_max;            /* its processes and threads; 0: no limit */
} er_browser_opts;

/* Device emulation for the page (browser_open's arguments).  Zero / NULL
 * fields keep what the page has. */
typedef struct er_browser_emulation {
    int width, height; /* viewport, CSS pixels */
    double scale;      /* device pixel ratio */
    bool mobile;       /* a phone's viewport rules (meta viewport, overlay scrollbars) */
    bool touch;        /* touch events, maxTouchPoints 5 */
    const char *user_agent;
    const char *locale;   /* "de-DE": navigator.language, Intl, Accept-Language */
    const char *timezone; /* IANA name, "Asia/Tokyo"; ER_EINVAL for an unknown one */
} er_browser_emulation;

/* A rectangle of the document, in CSS pixels from its top-left corner (not
 * the viewport's): what an element screenshot captures. */
typedef struct er_browser_area {
    double x, y, width, height;
} er_browser_area;

/* 2: screenshot_area appended. */
#define ER_BROWSER_BACKEND_VERSION 2
typedef struct er_browser_backend {
    int version;        /* fields are only ever appended */
    const char *engine; /* matched against browser.engine */
    int (*open)(er_browser **out, const er_browser_opts *o, er_error *err);
    void (*close)(er_browser *b);
    bool (*alive)(er_browser *b);
    /* Loads url (http/https only) and waits for its load event. */
    int (*navigate)(er_browser *b, const char *url, er_error *err);
    /* Runs a JavaScript expression in the page; a promise is awaited.  *out:
     * the value as JSON (OWNED), or JSON null for undefined. */
    int (*eval)(er_browser *b, const char *expr, cJSON **out, er_error *err);
    /* PNG of the viewport, or of the whole page. */
    int (*screenshot)(er_browser *b, bool full_page, er_buf *png, er_error *err);
    int (*pdf)(er_browser *b, er_buf *pdf, er_error *err);
    /* One step back in the page's history; ER_ENOTFOUND at its start. */
    int (*back)(er_browser *b, er_error *err);
    /* Waits until the document has finished loading (after a click that may
     * have started a navigation). */
    int (*settle)(er_browser *b, er_error *err);
    /* The browser's cookies as a JSON array (OWNED), in the engine's own
     * shape; set_cookies takes what cookies gave (a saved session). */
    int (*cookies)(er_browser *b, char **json, er_error *err);
    int (*set_cookies)(er_browser *b, const char *json, er_error *err);
    /* From now on, requests whose URL matches one of the patterns (globs:
     * '*' any run of characters, '?' one) or whose resource type is one of
     * types (document, stylesheet, image, media, font, script, xhr, fetch,
     * websocket, other…; any case; fetch and xhr are one) fail.  Replaces the earlier lists; empty
     * lists block nothing. */
    int (*block)(er_browser *b, const char *const *patterns, size_t npatterns,
                 const char *const *types, size_t ntypes, er_error *err);
    int (*emulate)(er_browser *b, const er_browser_emulation *e, er_error *err);
    /* PNG of one area of the document, scrolled into view if needed. */
    int (*screenshot_area)(er_browser *b, const er_browser_area *a, er_buf *png, er_error *err);
} er_browser_backend;

/* First member of every backend's struct. */
struct er_browser {
    const er_browser_backend *be;
};

/* Starts a browser of engine o->engine.  ER_ENOTFOUND names the Debian
 * package when the browser is not installed; ER_EINVAL an unknown engine.
 * OWNED: er_browser_close. */
int er_browser_open(er_browser **out, const er_browser_opts *o, er_error *err);
/* Stops the browser and deletes its profile; accepts NULL. */
void er_browser_close(er_browser *b);
bool er_browser_alive(er_browser *b);
const char *er_browser_engine(const er_browser *b);
int er_browser_navigate(er_browser *b, const char *url, er_error *err);
int er_browser_eval(er_browser *b, const char *expr, cJSON **out, er_error *err);
int er_browser_screenshot(er_browser *b, bool full_page, er_buf *png, er_error *err);
/* ER_EINVAL when the engine cannot capture an area, or it is empty. */
int er_browser_screenshot_area(er_browser *b, const er_browser_area *a, er_buf *png, er_error *err);
int er_browser_pdf(er_browser *b, er_buf *pdf, er_error *err);
int er_browser_back(er_browser *b, er_error *err);
int er_browser_settle(er_browser *b, er_error *err);
int er_browser_cookies(er_browser *b, char **json, er_error *err);
int er_browser_set_cookies(er_browser *b, const char *json, er_error *err);
int er_browser_block(er_browser *b, const char *const *patterns, size_t npatterns,
                     const char *const *types, size_t ntypes, er_error *err);
int er_browser_emulate(er_browser *b, const er_browser_emulation *e, er_error *err);

/* The engines compiled in, for errors and --help: "chromium, firefox". */
const char *er_browser_engines(void);

#endif
