/* firefox.c — the firefox backend of the browser seam: Debian's Firefox ESR
 * started with its own temporary profile and driven over WebDriver BiDi, the
 * W3C protocol it speaks natively on --remote-debugging-port (no
 * geckodriver).  BiDi frames its messages like CDP, so the connection is
 * cdp.h's, over errand's own WebSocket client (wsclient.h says why).
 *
 * Start: port 0 lets Firefox pick a free port, which it prints as
 * "WebDriver BiDi listening on ws://127.0.0.1:PORT"; session.new on
 * /session, then the first top-level browsing context carries every command.
 *
 * The SSRF guard: one global network intercept in the beforeRequestSent
 * phase holds every request of every context (navigations, each redirect
 * hop, subresources, fetch/XHR, frames, pop-ups, workers) until the reader
 * thread has checked its URL; a refused one is failed with
 * network.failRequest.  Speculative connections and prefetching are off in
 * the profile, so no connection leaves before its request is seen.
 *
 * Not offered by BiDi in this Firefox (153 ESR), and refused with a clear
 * error: the "mobile" viewport rules and touch of device emulation. */
#include "cdp.h"
#include "launch.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/browser.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#define START_TIMEOUT_MS 90000 /* a busy machine: 5-60 s seen with load 28 on 2 cores */
#define POLL_MS          20
#define FULL_PAGE_MAX    16384 /* CSS pixels of a full-page screenshot's height */
#define EVAL_DEPTH       64    /* nesting kept in an evaluated value */
#define NAV_GRACE_MS     150

typedef struct firefox {
    er_browser base;
    er_browser_proc proc;
    er_cdp *bidi;
    char context[128]; /* the page's top-level browsing context */
    const er_netguard *guard;
    int page_ms, cmd_ms;
    er_browser_filter filter;
    pthread_mutex_t lock; /* guards what the reader thread writes below */
    bool loading;
    char blocked[256]; /* the guard's first refusal since the last navigation */
    bool page_gone;
} firefox;

static const char *const binaries[] = { "/usr/lib/firefox-esr/firefox-esr", "/usr/bin/firefox-esr",
                                        "/usr/bin/firefox", NULL };

/* Preferences of the temporary profile: nothing is fetched behind the
 * page's back (updates, telemetry, safe browsing, remote settings,
 * speculative connections), so every connection is a request the intercept
 * sees; downloads go nowhere. */
static const char *const prefs[] = {
    "app.update.disabledForTesting\", true",
    "app.update.auto\", false",
    "browser.shell.checkDefaultBrowser\", false",
    "browser.startup.homepage_override.mstone\", \"ignore\"",
    "browser.safebrowsing.malware.enabled\", false",
    "browser.safebrowsing.phishing.enabled\", false",
    "browser.safebrowsing.downloads.enabled\", false",
    "browser.safebrowsing.provider.mozilla.updateURL\", \"\"",
    "datareporting.policy.dataSubmissionEnabled\", false",
    "datareporting.healthreport.uploadEnabled\", false",
    "toolkit.telemetry.enabled\", false",
    "toolkit.telemetry.server\", \"\"",
    "extensions.update.enabled\", false",
    "extensions.getAddons.cache.enabled\", false",
    "services.settings.server\", \"data:,#remote-settings-off\"",
    "network.captive-portal-service.enabled\", false",
    "network.connectivity-service.enabled\", false",
    "network.dns.disablePrefetch\", true",
    "network.prefetch-next\", false",
    "network.predictor.enabled\", false",
    "network.http.speculative-parallel-limit\", 0",
    "browser.urlbar.speculativeConnect.enabled\", false",
    "browser.download.folderList\", 2",
    "browser.download.dir\", \"/nonexistent\"",
    "browser.download.useDownloadDir\", true",
    "dom.disable_open_during_load\", true",
    "browser.tabs.warnOnClose\", false",
    "media.autoplay.default\", 5",
    /* a fresh profile's first-run work, which slows the start (session.new
     * answers once the first window is ready) */
    "browser.startup.page\", 0",
    "browser.startup.homepage\", \"about:blank\"",
    "startup.homepage_welcome_url\", \"\"",
    "browser.aboutwelcome.enabled\", false",
    "browser.newtabpage.enabled\", false",
    "browser.search.update\", false",
    "browser.uitour.enabled\", false",
    "browser.sessionstore.resume_from_crash\", false",
    "browser.pagethumbnails.capturing_disabled\", true",
    "browser.translations.enable\", false",
    "browser.ml.enable\", false",
    "toolkit.telemetry.reportingpolicy.firstRun\", false",
    "extensions.enabledScopes\", 5",
    "extensions.autoDisableScopes\", 10",
    /* back and forward load the page again, so its load event says when it is done */
    "browser.sessionhistory.max_total_viewers\", 0",
};

static firefox *ff(er_browser *b)
{
    return (firefox *)b;
}

/* ---- events, on the reader thread ---- */

/* CDP's resource-type names (what browser_block takes) for a request, from
 * BiDi's fetch destination and initiator type. */
static const char *resource_type(const cJSON *params)
{
    const cJSON *req = er_json_obj(params, "request");
    const char *dest = er_json_str(req, "destination");
    const char *init = er_json_str(req, "initiatorType");
    static const struct {
        const char *dest, *type;
    } map[] = {
        { "document", "Document" }, { "iframe", "Document" }, { "frame", "Document" },
        { "style", "Stylesheet" },  { "image", "Image" },     { "audio", "Media" },
        { "video", "Media" },       { "track", "Media" },     { "font", "Font" },
        { "script", "Script" },     { "worker", "Script" },   { "sharedworker", "Script" },
    };
    for (size_t i = 0; dest && i < ER_ARRAY_LEN(map); i++)
        if (strcmp(dest, map[i].dest) == 0)
            return map[i].type;
    if (er_str_eq(init, "xmlhttprequest"))
        return "XHR";
    if (er_str_eq(init, "fetch") || er_str_eq(init, "beacon"))
        return "Fetch";
    if (er_str_starts(er_json_str(req, "url"), "ws"))
        return "WebSocket";
    return er_json_str(params, "navigation") ? "Document" : "Other";
}

#define OOM_MSG                                                                              \
    "the page crashed: it used more memory than browser.memory_max allows, and its content " \
    "process was killed"

static void request_held(firefox *b, er_cdp *c, const cJSON *params)
{
    if (!er_json_bool(params, "isBlocked", false))
        return; /* seen, not held: nothing to decide */
    const cJSON *req = er_json_obj(params, "request");
    const char *id = er_json_str(req, "request");
    const char *url = er_json_str(req, "url");
    if (!id)
        return;
    er_error e = { 0 };
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "request", id);
    if (url && er_browser_filter_blocks(&b->filter, url, resource_type(params))) {
        er_error_set(&e, ER_EDENIED, "blocked by browser_block");
    } else if (url && er_browser_guard_url(b->guard, url, &e) == 0) {
        er_cdp_send(c, NULL, "network.continueRequest", p);
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (!b->blocked[0])
        snprintf(b->blocked, sizeof b->blocked, "%s", e.msg[0] ? e.msg : "request refused");
    pthread_mutex_unlock(&b->lock);
    er_log(ER_LOG_INFO, "browser", "blocked %s: %s", url ? url : "?", e.msg);
    er_cdp_send(c, NULL, "network.failRequest", p);
}

static void on_event(er_cdp *c, const char *method, const cJSON *params, const char *session,
                     void *payload)
{
    (void)session;
    firefox *b = payload;
    if (strcmp(method, "network.beforeRequestSent") == 0) {
        request_held(b, c, params);
        return;
    }
    if (!er_str_eq(er_json_str(params, "context"), b->context))
        return;
    pthread_mutex_lock(&b->lock);
    if (strcmp(method, "browsingContext.navigationStarted") == 0)
        b->loading = true;
    else if (strcmp(method, "browsingContext.load") == 0 ||
             strcmp(method, "browsingContext.navigationFailed") == 0)
        b->loading = false;
    else if (strcmp(method, "browsingContext.contextDestroyed") == 0)
        b->page_gone = true;
    pthread_mutex_unlock(&b->lock);
    if (b->page_gone)
        er_cdp_fail(c, er_browser_limits_oom(&b->proc.limits) ? OOM_MSG : "the page was closed");
}

/* ---- the process ---- */

static int write_prefs(firefox *b, er_error *err)
{
    char *path = er_xasprintf("%s/user.js", b->proc.profile);
    FILE *f = fopen(path, "w");
    free(path);
    if (!f)
        return er_error_set(err, ER_EIO, "cannot write the Firefox profile's preferences");
    for (size_t i = 0; i < ER_ARRAY_LEN(prefs); i++)
        fprintf(f, "user_pref(\"%s);\n", prefs[i]);
    return fclose(f) == 0 ? 0 : er_error_set(err, ER_EIO, "cannot write user.js");
}

static int spawn(firefox *b, const char *bin, const er_browser_opts *o, er_error *err)
{
    char **argv = er_xcalloc(16, sizeof *argv);
    size_t n = 0;
    argv[n++] = er_xstrdup(bin);
    if (o->headless)
        argv[n++] = er_xstrdup("--headless");
    argv[n++] = er_xstrdup("--no-remote");
    argv[n++] = er_xstrdup("--new-instance");
    argv[n++] = er_xstrdup("--remote-debugging-port=0");
    argv[n++] = er_xstrdup("--remote-allow-hosts=127.0.0.1");
    argv[n++] = er_xstrdup("--profile");
    argv[n++] = er_xstrdup(b->proc.profile);
    argv[n++] = er_xasprintf("--width=%d", o->width);
    argv[n++] = er_xasprintf("--height=%d", o->height);
    argv[n++] = er_xstrdup("about:blank");
    /* The profile's own temporary files stay inside it; the crash reporter
     * would write a minidump and wait. */
    static const char *const extra[] = { "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_NO_REMOTE=1", NULL };
    char **envp = er_browser_proc_env(&b->proc, extra);
    er_browser_proc_limit(&b->proc, o->memory_max, o->pids_max);
    int rc = er_browser_proc_spawn(&b->proc, argv, envp, "Firefox", err);
    er_browser_strv_free(argv);
    er_browser_strv_free(envp);
    return rc;
}

/* The port from Firefox's "WebDriver BiDi listening on ws://HOST:PORT". */
static int wait_port(firefox *b, int *port, er_error *err)
{
    static const char mark[] = "WebDriver BiDi listening on ws://";
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += POLL_MS) {
        FILE *f = fopen(b->proc.log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            const char *m = strstr(line, mark), *colon = m ? strrchr(m, ':') : NULL;
            long p;
            if (colon && er_str_to_long(er_str_trim((char *)colon + 1), &p) == 0 && p > 0 &&
                p < 65536) {
                fclose(f);
                *port = (int)p;
                return 0;
            }
        }
        if (f)
            fclose(f);
        if (er_browser_proc_exited(&b->proc)) {
            char last[256];
            er_browser_proc_last_line(&b->proc, last, sizeof last);
            return er_error_set(err, ER_EUNAVAIL, "Firefox exited at start (status %d)%s%s",
                                WIFEXITED(b->proc.status) ? WEXITSTATUS(b->proc.status) : -1,
                                last[0] ? ": " : "", last);
        }
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
    return er_error_set(err, ER_ETIMEDOUT,
                        "Firefox did not open its WebDriver BiDi port within %d s",
                        START_TIMEOUT_MS / 1000);
}

/* A call that failed because the control group's memory limit killed a
 * Firefox process says so rather than naming the lost connection. */
static int call(firefox *b, const char *method, cJSON *params, int ms, cJSON **out, er_error *err)
{
    int rc = er_cdp_call(b->bidi, NULL, method, params, ms, out, err);
    if (rc == ER_EUNAVAIL && er_browser_limits_oom(&b->proc.limits))
        rc = er_error_set(err, rc, OOM_MSG);
    return rc;
}

/* params with "context" set to the page's. */
static cJSON *in_page(firefox *b)
{
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "context", b->context);
    return p;
}

static int set_viewport(firefox *b, int width, int height, double scale, er_error *err)
{
    cJSON *p = in_page(b), *vp = cJSON_CreateObject();
    er_json_add_num(vp, "width", width);
    er_json_add_num(vp, "height", height);
    er_json_add(p, "viewport", vp);
    if (scale > 0)
        er_json_add_num(p, "devicePixelRatio", scale);
    return call(b, "browsingContext.setViewport", p, b->cmd_ms, NULL, err);
}

static int start_session(firefox *b, const er_browser_opts *o, er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *caps = cJSON_CreateObject(), *r = NULL;
    er_json_add(p, "capabilities", caps);
    /* Firefox finishes starting before it answers: the start-up's time. */
    int rc = call(b, "session.new", p, START_TIMEOUT_MS, NULL, err);
    if (rc == 0) {
        p = cJSON_CreateObject();
        er_json_add_num(p, "maxDepth", 0);
        rc = call(b, "browsingContext.getTree", p, b->cmd_ms, &r, err);
    }
    if (rc)
        return rc;
    const cJSON *top = cJSON_GetArrayItem(er_json_arr(r, "contexts"), 0);
    er_strlcpy(b->context, er_json_str(top, "context") ? er_json_str(top, "context") : "",
               sizeof b->context);
    cJSON_Delete(r);
    if (!b->context[0])
        return er_error_set(err, ER_EPROTO, "Firefox has no browsing context to drive");
    /* Subscribed before the intercept exists: a held request always has
     * its event, so none waits unseen. */
    p = cJSON_CreateObject();
    cJSON *ev = cJSON_AddArrayToObject(p, "events");
    static const char *const events[] = {
        "network.beforeRequestSent",
        "browsingContext.navigationStarted",
        "browsingContext.load",
        "browsingContext.navigationFailed",
        "browsingContext.contextDestroyed",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(events); i++)
        er_json_append(ev, cJSON_CreateString(events[i]));
    if ((rc = call(b, "session.subscribe", p, b->cmd_ms, NULL, err)))
        return rc;
    p = cJSON_CreateObject();
    cJSON *phases = cJSON_AddArrayToObject(p, "phases");
    er_json_append(phases, cJSON_CreateString("beforeRequestSent"));
    if ((rc = call(b, "network.addIntercept", p, b->cmd_ms, NULL, err)))
        return rc;
    return set_viewport(b, o->width, o->height, 1, err);
}

/* ---- commands ---- */

static bool ff_alive(er_browser *base)
{
    firefox *b = ff(base);
    return !er_browser_proc_exited(&b->proc) && er_cdp_usable(b->bidi, NULL);
}

static cJSON *remote_to_json(const cJSON *rv, int depth);

/* A BiDi list value ([RemoteValue…]) or mapping value ([[key, RemoteValue]…]). */
static cJSON *remote_list(const cJSON *v, bool mapping, int depth)
{
    cJSON *out = mapping ? cJSON_CreateObject() : cJSON_CreateArray(), *item;
    cJSON_ArrayForEach(item, v)
    {
        if (!mapping) {
            er_json_append(out, remote_to_json(item, depth + 1));
            continue;
        }
        const cJSON *k = cJSON_GetArrayItem(item, 0), *val = cJSON_GetArrayItem(item, 1);
        const char *key = cJSON_IsString(k) ? k->valuestring : er_json_str(k, "value");
        if (key && !cJSON_GetObjectItemCaseSensitive(out, key))
            er_json_add(out, key, remote_to_json(val, depth + 1));
    }
    return out;
}

/* A BiDi RemoteValue as the JSON the page's value would stringify to (what
 * CDP's returnByValue gives): nodes, windows and functions become {}. */
static cJSON *remote_to_json(const cJSON *rv, int depth)
{
    const char *type = er_json_str(rv, "type");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rv, "value");
    if (!type || depth > EVAL_DEPTH)
        return cJSON_CreateNull();
    if (strcmp(type, "string") == 0 || strcmp(type, "date") == 0)
        return cJSON_CreateString(cJSON_IsString(v) ? v->valuestring : "");
    if (strcmp(type, "boolean") == 0)
        return cJSON_CreateBool(cJSON_IsTrue(v));
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v)                          ? cJSON_CreateNumber(v->valuedouble)
               : er_str_eq(cJSON_GetStringValue(v), "-0") ? cJSON_CreateNumber(0)
                                                          : cJSON_CreateNull(); /* NaN, ±Infinity */
    if (strcmp(type, "bigint") == 0)
        return cJSON_CreateString(cJSON_IsString(v) ? v->valuestring : "0");
    if (strcmp(type, "array") == 0 || strcmp(type, "set") == 0 || strcmp(type, "nodelist") == 0 ||
        strcmp(type, "htmlcollection") == 0)
        return cJSON_IsArray(v) ? remote_list(v, false, depth) : cJSON_CreateArray();
    if (strcmp(type, "object") == 0 || strcmp(type, "map") == 0)
        return cJSON_IsArray(v) ? remote_list(v, true, depth) : cJSON_CreateObject();
    if (strcmp(type, "undefined") == 0 || strcmp(type, "null") == 0 || strcmp(type, "symbol") == 0)
        return cJSON_CreateNull();
    return cJSON_CreateObject();
}

static int eval_value(firefox *b, const char *expr, int ms, cJSON **out, er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL, *target = cJSON_CreateObject();
    er_json_add_str(p, "expression", expr);
    er_json_add_str(target, "context", b->context);
    er_json_add(p, "target", target);
    er_json_add_bool(p, "awaitPromise", true);
    er_json_add_bool(p, "userActivation", true);
    er_json_add_str(p, "resultOwnership", "none");
    cJSON *so = cJSON_CreateObject();
    er_json_add_num(so, "maxObjectDepth", EVAL_DEPTH);
    er_json_add(p, "serializationOptions", so);
    int rc = call(b, "script.evaluate", p, ms, &r, err);
    if (rc)
        return rc;
    if (er_str_eq(er_json_str(r, "type"), "exception")) {
        const cJSON *ex = er_json_obj(r, "exceptionDetails");
        const char *text = er_json_str(ex, "text");
        rc = er_error_set(err, ER_EINVAL, "the script failed: %s", text ? text : "error");
        cJSON_Delete(r);
        return rc;
    }
    *out = remote_to_json(er_json_obj(r, "result"), 0);
    cJSON_Delete(r);
    return 0;
}

static int ff_eval(er_browser *base, const char *expr, cJSON **out, er_error *err)
{
    firefox *b = ff(base);
    return eval_value(b, expr, b->cmd_ms, out, err);
}

/* Waits until no navigation is under way and the document is complete, for
 * at most ms; a page that never finishes is stopped where it is. */
static int settle_within(firefox *b, int ms, er_error *err)
{
    int64_t until = er_mono_ms() + ms;
    /* A click's navigation is announced late: navigationStarted comes from
     * the parent process after the content process began it. */
    nanosleep(&(struct timespec){ 0, NAV_GRACE_MS * 1000000L }, NULL);
    for (;;) {
        int left = (int)(until - er_mono_ms());
        if (left <= 0)
            break;
        pthread_mutex_lock(&b->lock);
        bool loading = b->loading;
        pthread_mutex_unlock(&b->lock);
        cJSON *v = NULL;
        er_error e = { 0 };
        int rc = eval_value(b, "document.readyState", left, &v, &e);
        if (rc == ER_EUNAVAIL)
            return er_error_set(err, rc, "%s", e.msg);
        bool done = rc == 0 && cJSON_IsString(v) && strcmp(v->valuestring, "complete") == 0;
        cJSON_Delete(v);
        if (done && !loading)
            return 0;
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
    cJSON *v = NULL;
    if (eval_value(b, "window.stop()", b->cmd_ms, &v, NULL) == 0)
        cJSON_Delete(v);
    pthread_mutex_lock(&b->lock);
    b->loading = false;
    pthread_mutex_unlock(&b->lock);
    return er_error_set(err, ER_ETIMEDOUT,
                        "the page did not finish loading within %d ms "
                        "(browser.page_timeout); what loaded so far stays readable",
                        b->page_ms);
}

static int ff_settle(er_browser *base, er_error *err)
{
    firefox *b = ff(base);
    return settle_within(b, b->page_ms, err);
}

static void reset_blocked(firefox *b)
{
    pthread_mutex_lock(&b->lock);
    b->blocked[0] = '\0';
    pthread_mutex_unlock(&b->lock);
}

/* A failed navigation: the guard's refusal when there was one. */
static int navigation_failed(firefox *b, const char *url, const er_error *e, er_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    if (b->blocked[0])
        rc = er_error_set(err, ER_EDENIED, "%s was not loaded: %s", url, b->blocked);
    b->loading = false;
    pthread_mutex_unlock(&b->lock);
    if (rc)
        return rc;
    if (e->code == ER_EUNAVAIL)
        return er_error_set(err, e->code, "%s", e->msg);
    return er_error_set(err, ER_EUNAVAIL, "cannot load %s: %s", url, e->msg);
}

static int ff_navigate(er_browser *base, const char *url, er_error *err)
{
    firefox *b = ff(base);
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    reset_blocked(b);
    int64_t start = er_mono_ms();
    cJSON *p = in_page(b);
    er_json_add_str(p, "url", url);
    /* Until the document is parsed: the load event (images, frames) is
     * waited for by settle, which gives up at the page timeout and keeps
     * what loaded. */
    er_json_add_str(p, "wait", "interactive");
    er_error e = { 0 };
    pthread_mutex_lock(&b->lock);
    b->loading = true;
    pthread_mutex_unlock(&b->lock);
    rc = call(b, "browsingContext.navigate", p, b->page_ms, NULL, &e);
    if (rc == ER_ETIMEDOUT) {
        cJSON *v = NULL;
        if (eval_value(b, "window.stop()", b->cmd_ms, &v, NULL) == 0)
            cJSON_Delete(v);
        return er_error_set(err, rc, "%s did not answer within %d ms (browser.page_timeout)", url,
                            b->page_ms);
    }
    if (rc)
        return navigation_failed(b, url, &e, err);
    int left = b->page_ms - (int)(er_mono_ms() - start);
    return settle_within(b, left > 0 ? left : 1, err);
}

static cJSON *box_of(double x, double y, double w, double h)
{
    cJSON *clip = cJSON_CreateObject();
    er_json_add_str(clip, "type", "box");
    er_json_add_num(clip, "x", x);
    er_json_add_num(clip, "y", y);
    er_json_add_num(clip, "width", w);
    er_json_add_num(clip, "height", h < FULL_PAGE_MAX ? h : FULL_PAGE_MAX);
    return clip;
}

/* browsingContext.captureScreenshot of the viewport, or of clip in document
 * coordinates. */
static int capture(firefox *b, cJSON *clip, er_buf *png, er_error *err)
{
    cJSON *p = in_page(b), *r = NULL, *fmt = cJSON_CreateObject();
    er_json_add_str(fmt, "type", "image/png");
    er_json_add(p, "format", fmt);
    er_json_add_str(p, "origin", clip ? "document" : "viewport");
    if (clip)
        er_json_add(p, "clip", clip);
    int rc = call(b, "browsingContext.captureScreenshot", p, b->cmd_ms * 3, &r, err);
    if (rc)
        return rc;
    rc = er_browser_decode_data(r, png, "screenshot", "Firefox", err);
    cJSON_Delete(r);
    return rc;
}

static int ff_screenshot(er_browser *base, bool full_page, er_buf *png, er_error *err)
{
    firefox *b = ff(base);
    if (!full_page)
        return capture(b, NULL, png, err);
    cJSON *size = NULL;
    int rc = eval_value(b,
                        "[document.documentElement.scrollWidth, "
                        "document.documentElement.scrollHeight]",
                        b->cmd_ms, &size, err);
    if (rc)
        return rc;
    const cJSON *w = cJSON_GetArrayItem(size, 0), *h = cJSON_GetArrayItem(size, 1);
    cJSON *clip = box_of(0, 0, cJSON_IsNumber(w) ? w->valuedouble : 1,
                         cJSON_IsNumber(h) ? h->valuedouble : 1);
    cJSON_Delete(size);
    return capture(b, clip, png, err);
}

static int ff_screenshot_area(er_browser *base, const er_browser_area *a, er_buf *png,
                              er_error *err)
{
    return capture(ff(base), box_of(a->x, a->y, a->width, a->height), png, err);
}

static int ff_pdf(er_browser *base, er_buf *pdf, er_error *err)
{
    firefox *b = ff(base);
    cJSON *p = in_page(b), *r = NULL;
    er_json_add_bool(p, "background", true);
    int rc = call(b, "browsingContext.print", p, b->cmd_ms * 3, &r, err);
    if (rc)
        return rc;
    rc = er_browser_decode_data(r, pdf, "PDF", "Firefox", err);
    cJSON_Delete(r);
    return rc;
}

static int ff_back(er_browser *base, er_error *err)
{
    firefox *b = ff(base);
    cJSON *v = NULL;
    int rc = eval_value(b, "history.length", b->cmd_ms, &v, err);
    if (rc)
        return rc;
    cJSON_Delete(v);
    cJSON *p = in_page(b);
    er_json_add_num(p, "delta", -1);
    reset_blocked(b);
    er_error e = { 0 };
    rc = call(b, "browsingContext.traverseHistory", p, b->cmd_ms, NULL, &e);
    if (rc == ER_EINVAL && strstr(e.msg, "no such history entry"))
        return er_error_set(err, ER_ENOTFOUND, "there is no earlier page to go back to");
    if (rc)
        return er_error_set(err, rc, "%s", e.msg);
    return settle_within(b, b->page_ms, err);
}

static int ff_cookies(er_browser *base, char **json, er_error *err)
{
    firefox *b = ff(base);
    cJSON *r = NULL;
    int rc = call(b, "storage.getCookies", NULL, b->cmd_ms, &r, err);
    if (rc)
        return rc;
    const cJSON *list = er_json_arr(r, "cookies");
    *json = list ? er_json_print(list) : er_xstrdup("[]");
    cJSON_Delete(r);
    return 0;
}

/* One saved cookie as storage.setCookie's PartialCookie.  Accepts BiDi's
 * shape and CDP's (a session saved while browser.engine was chromium). */
static cJSON *partial_cookie(const cJSON *c)
{
    const char *name = er_json_str(c, "name"), *domain = er_json_str(c, "domain");
    if (!name || !domain)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "name", name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
    if (cJSON_IsObject(v)) {
        er_json_add(o, "value", cJSON_Duplicate(v, true));
    } else {
        cJSON *bv = cJSON_CreateObject();
        er_json_add_str(bv, "type", "string");
        er_json_add_str(bv, "value", cJSON_IsString(v) ? v->valuestring : "");
        er_json_add(o, "value", bv);
    }
    er_json_add_str(o, "domain", domain);
    if (er_json_str(c, "path"))
        er_json_add_str(o, "path", er_json_str(c, "path"));
    er_json_add_bool(o, "httpOnly", er_json_bool(c, "httpOnly", false));
    er_json_add_bool(o, "secure", er_json_bool(c, "secure", false));
    const char *ss = er_json_str(c, "sameSite");
    if (ss) {
        char low[16];
        er_strlcpy(low, ss, sizeof low);
        for (char *q = low; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
        er_json_add_str(o, "sameSite", low);
    }
    double exp = er_json_num(c, "expiry", er_json_num(c, "expires", -1));
    if (exp > 0)
        er_json_add_num(o, "expiry", (double)(long long)exp);
    return o;
}

static int ff_set_cookies(er_browser *base, const char *json, er_error *err)
{
    firefox *b = ff(base);
    cJSON *list = cJSON_Parse(json);
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        return er_error_set(err, ER_EPROTO, "the saved session's cookies are not a JSON array");
    }
    int rc = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        cJSON *pc = partial_cookie(c);
        if (!pc)
            continue;
        cJSON *p = cJSON_CreateObject();
        er_json_add(p, "cookie", pc);
        if ((rc = call(b, "storage.setCookie", p, b->cmd_ms, NULL, err)))
            break;
    }
    cJSON_Delete(list);
    return rc;
}

static int ff_block(er_browser *base, const char *const *patterns, size_t npatterns,
                    const char *const *types, size_t ntypes, er_error *err)
{
    (void)err;
    er_browser_filter_set(&ff(base)->filter, patterns, npatterns, types, ntypes);
    return 0;
}

/* An emulation.* command for the page. */
static int emulate_one(firefox *b, const char *method, const char *key, const char *value,
                       er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *ctx = cJSON_AddArrayToObject(p, "contexts");
    er_json_append(ctx, cJSON_CreateString(b->context));
    er_json_add_str(p, key, value);
    return call(b, method, p, b->cmd_ms, NULL, err);
}

static int ff_emulate(er_browser *base, const er_browser_emulation *e, er_error *err)
{
    firefox *b = ff(base);
    int rc = 0;
    if (e->mobile || e->touch) /* refused, not ignored: the page would not be what was asked */
        return er_error_set(err, ER_EINVAL,
                            "%s emulation is not available with browser.engine firefox "
                            "(its WebDriver BiDi has no such command); use chromium",
                            e->mobile ? "mobile viewport" : "touch");
    if (e->width > 0 || e->height > 0 || e->scale > 0) {
        cJSON *size = NULL;
        if ((rc = eval_value(b, "[innerWidth, innerHeight]", b->cmd_ms, &size, err)))
            return rc;
        const cJSON *w = cJSON_GetArrayItem(size, 0), *h = cJSON_GetArrayItem(size, 1);
        rc = set_viewport(b,
                          e->width > 0        ? e->width
                          : cJSON_IsNumber(w) ? (int)w->valuedouble
                                              : 1024,
                          e->height > 0       ? e->height
                          : cJSON_IsNumber(h) ? (int)h->valuedouble
                                              : 768,
                          e->scale, err);
        cJSON_Delete(size);
    }
    if (rc == 0 && e->user_agent)
        rc = emulate_one(b, "emulation.setUserAgentOverride", "userAgent", e->user_agent, err);
    if (rc == 0 && e->locale)
        rc = emulate_one(b, "emulation.setLocaleOverride", "locale", e->locale, err);
    if (rc == 0 && e->timezone)
        rc = emulate_one(b, "emulation.setTimezoneOverride", "timezone", e->timezone, err);
    return rc;
}

static void ff_close(er_browser *base)
{
    firefox *b = ff(base);
    if (b->bidi && er_cdp_usable(b->bidi, NULL) && b->context[0])
        call(b, "browser.close", NULL, 2000, NULL, NULL);
    er_browser_proc_release(&b->proc);
    er_cdp_close(b->bidi);
    er_browser_filter_release(&b->filter);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static int ff_open(er_browser **out, const er_browser_opts *o, er_error *err);

const er_browser_backend er_browser_firefox = {
    .version = ER_BROWSER_BACKEND_VERSION,
    .engine = "firefox",
    .open = ff_open,
    .close = ff_close,
    .alive = ff_alive,
    .navigate = ff_navigate,
    .eval = ff_eval,
    .screenshot = ff_screenshot,
    .pdf = ff_pdf,
    .back = ff_back,
    .settle = ff_settle,
    .cookies = ff_cookies,
    .set_cookies = ff_set_cookies,
    .block = ff_block,
    .emulate = ff_emulate,
    .screenshot_area = ff_screenshot_area,
};

static int ff_open(er_browser **out, const er_browser_opts *o, er_error *err)
{
    *out = NULL;
    const char *bin = er_browser_find_binary(o->binary, binaries);
    if (!bin)
        return er_error_set(err, ER_ENOTFOUND,
                            "Firefox is not installed (%s not found): install the Debian "
                            "package firefox-esr (apt-get install --no-install-recommends "
                            "firefox-esr) or set browser.binary",
                            o->binary ? o->binary : binaries[0]);
    firefox *b = er_xcalloc(1, sizeof *b);
    b->base.be = &er_browser_firefox;
    pthread_mutex_init(&b->lock, NULL);
    er_browser_filter_init(&b->filter);
    b->guard = o->guard;
    b->page_ms = o->page_timeout_ms;
    b->cmd_ms = o->command_timeout_ms;
    int port = 0;
    int rc = er_browser_proc_profile(&b->proc, "firefox", err);
    if (rc == 0)
        rc = write_prefs(b, err);
    if (rc == 0)
        rc = spawn(b, bin, o, err);
    if (rc == 0)
        rc = wait_port(b, &port, err);
    if (rc == 0)
        rc = er_cdp_connect_direct(&b->bidi, port, "/session", on_event, b, b->cmd_ms, err);
    if (rc == 0)
        rc = start_session(b, o, err);
    if (rc) {
        ff_close(&b->base);
        return rc;
    }
    er_log(ER_LOG_DEBUG, "browser", "firefox %d started, WebDriver BiDi on 127.0.0.1:%d",
           (int)b->proc.pid, port);
    *out = &b->base;
    return 0;
}
