/* chromium.c — the chromium backend of the browser seam: Debian's Chromium
 * started headless with its own temporary profile, driven over the Chrome
 * DevTools Protocol (cdp.h).
 *
 * Start: --remote-debugging-port=0 lets Chromium pick a free port, which it
 * writes with the browser endpoint's path into DevToolsActivePort in the
 * profile.  One page target is created and attached in flat mode; its
 * session carries every command.
 *
 * The SSRF guard: Fetch.enable holds every request of the page (navigations,
 * each redirect hop, subresources, fetch/XHR) until the reader thread has
 * checked its URL; a refused one is failed as BlockedByClient.  Site
 * isolation is switched off so cross-site frames live in the page's own
 * process and their requests are held the same way; pop-ups are blocked
 * (--block-new-web-contents), so no target escapes the interception. */
#include "cdp.h"
#include "launch.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/browser.h"
#include "errand/browser_limits.h"
#include "errand/glob.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"
#include "errand/url.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 20000
#define POLL_MS          20
#define FULL_PAGE_MAX    16384 /* CSS pixels of a full-page screenshot's height */

typedef struct chromium {
    er_browser base;
    er_browser_proc proc;
    er_cdp *cdp;
    char session[128];
    char target[128]; /* also the main frame's id */
    const er_netguard *guard;
    int page_ms, cmd_ms;
    pthread_mutex_t lock; /* guards what the reader thread writes below */
    bool loading;
    char blocked[256]; /* the guard's first refusal since the last navigation */
    int nblocked;
    er_browser_filter filter; /* er_browser_block's lists */
} chromium;

static const char *const binaries[] = { "/usr/lib/chromium/chromium", "/usr/bin/chromium",
                                        "/usr/bin/chromium-browser", NULL };

static chromium *cr(er_browser *b)
{
    return (chromium *)b;
}

/* ---- the guard, on the reader thread ---- */

static void request_paused(chromium *b, er_cdp *c, const cJSON *params, const char *session)
{
    const char *id = er_json_str(params, "requestId");
    const char *url = er_json_str(er_json_obj(params, "request"), "url");
    if (!id)
        return;
    er_error e = { 0 };
    cJSON *p = cJSON_CreateObject();
    er_json_add_str(p, "requestId", id);
    bool mine =
        url && er_browser_filter_blocks(&b->filter, url, er_json_str(params, "resourceType"));
    if (mine) {
        er_error_set(&e, ER_EDENIED, "blocked by browser_block");
    } else if (url && er_browser_guard_url(b->guard, url, &e) == 0) {
        er_cdp_send(c, session, "Fetch.continueRequest", p);
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (!b->blocked[0])
        snprintf(b->blocked, sizeof b->blocked, "%s", e.msg[0] ? e.msg : "request refused");
    b->nblocked++;
    pthread_mutex_unlock(&b->lock);
    er_log(ER_LOG_INFO, "browser", "blocked %s: %s", url ? url : "?", e.msg);
    er_json_add_str(p, "errorReason", "BlockedByClient");
    er_cdp_send(c, session, "Fetch.failRequest", p);
}

static void set_loading(chromium *b, const cJSON *params, bool loading)
{
    const char *frame = er_json_str(params, "frameId");
    if (!er_str_eq(frame, b->target))
        return;
    pthread_mutex_lock(&b->lock);
    b->loading = loading;
    pthread_mutex_unlock(&b->lock);
}

static void on_event(er_cdp *c, const char *method, const cJSON *params, const char *session,
                     void *payload)
{
    chromium *b = payload;
    if (strcmp(method, "Fetch.requestPaused") == 0)
        request_paused(b, c, params, session);
    else if (strcmp(method, "Page.frameStartedLoading") == 0 ||
             strcmp(method, "Page.frameRequestedNavigation") == 0)
        set_loading(b, params, true);
    else if (strcmp(method, "Page.frameStoppedLoading") == 0)
        set_loading(b, params, false);
    else if (strcmp(method, "Inspector.targetCrashed") == 0)
        er_cdp_fail(c, er_browser_limits_oom(&b->proc.limits)
                           ? "the page crashed: it used more memory than browser.memory_max "
                             "allows, and its renderer was killed"
                           : "the page crashed (its renderer process died)");
    else if (strcmp(method, "Target.detachedFromTarget") == 0 &&
             er_str_eq(er_json_str(params, "sessionId"), b->session))
        er_cdp_fail(c, "the page was closed");
}

/* ---- the process ---- */

static char **chromium_argv(const char *bin, const er_browser_opts *o, const char *profile)
{
    char **v = er_xcalloc(32, sizeof *v);
    size_t n = 0;
    v[n++] = er_xstrdup(bin);
    if (o->headless)
        v[n++] = er_xstrdup("--headless=new");
    if (geteuid() == 0) /* Chromium's sandbox refuses to run as root */
        v[n++] = er_xstrdup("--no-sandbox");
    static const char *const fixed[] = {
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--mute-audio",
        "--disable-breakpad",
        "--block-new-web-contents",
        "--disable-site-isolation-trials",
        ("--disable-features=IsolateOrigins,site-per-process,Translate,MediaRouter,"
         "OptimizationHints,AutofillServerCommunication"),
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(fixed); i++)
        v[n++] = er_xstrdup(fixed[i]);
    v[n++] = er_xasprintf("--user-data-dir=%s", profile);
    v[n++] = er_xasprintf("--window-size=%d,%d", o->width, o->height);
    v[n++] = er_xstrdup("about:blank");
    return v;
}

static int spawn(chromium *b, const char *bin, const er_browser_opts *o, er_error *err)
{
    char **argv = chromium_argv(bin, o, b->proc.profile);
    char **envp = er_browser_proc_env(&b->proc, NULL);
    er_browser_proc_limit(&b->proc, o->memory_max, o->pids_max);
    int rc = er_browser_proc_spawn(&b->proc, argv, envp, "Chromium", err);
    er_browser_strv_free(argv);
    er_browser_strv_free(envp);
    return rc;
}

/* Port and path from DevToolsActivePort, once Chromium has written it. */
static int wait_endpoint(chromium *b, int *port, char *path, size_t pathsize, er_error *err)
{
    char *file = er_xasprintf("%s/DevToolsActivePort", b->proc.profile);
    int rc = ER_ETIMEDOUT;
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += POLL_MS) {
        FILE *f = fopen(file, "r");
        char line1[32] = "", line2[256] = "";
        if (f) {
            bool got = fgets(line1, sizeof line1, f) && fgets(line2, sizeof line2, f);
            fclose(f);
            long p;
            if (got && er_str_to_long(er_str_trim(line1), &p) == 0 && p > 0 && p < 65536) {
                *port = (int)p;
                er_strlcpy(path, er_str_trim(line2), pathsize);
                rc = 0;
                break;
            }
        }
        if (er_browser_proc_exited(&b->proc)) {
            char last[256];
            er_browser_proc_last_line(&b->proc, last, sizeof last);
            rc = er_error_set(err, ER_EUNAVAIL, "Chromium exited at start (status %d)%s%s",
                              WIFEXITED(b->proc.status) ? WEXITSTATUS(b->proc.status) : -1,
                              last[0] ? ": " : "", last);
            break;
        }
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
    free(file);
    if (rc == ER_ETIMEDOUT)
        rc = er_error_set(err, ER_ETIMEDOUT,
                          "Chromium did not open its DevTools port within "
                          "%d s",
                          START_TIMEOUT_MS / 1000);
    return rc;
}

static void cr_close(er_browser *base)
{
    chromium *b = cr(base);
    if (b->cdp && er_cdp_usable(b->cdp, NULL))
        er_cdp_call(b->cdp, NULL, "Browser.close", NULL, 2000, NULL, NULL);
    er_browser_proc_release(&b->proc); /* stops it before its connection is closed */
    er_cdp_close(b->cdp);
    er_browser_filter_release(&b->filter);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* ---- commands ---- */

static int call(chromium *b, const char *method, cJSON *params, int ms, cJSON **out, er_error *err)
{
    return er_cdp_call(b->cdp, b->session, method, params, ms, out, err);
}

static int attach_page(chromium *b, er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    er_json_add_str(p, "url", "about:blank");
    int rc = er_cdp_call(b->cdp, NULL, "Target.createTarget", p, b->cmd_ms, &r, err);
    if (rc)
        return rc;
    er_strlcpy(b->target, er_json_str(r, "targetId") ? er_json_str(r, "targetId") : "",
               sizeof b->target);
    cJSON_Delete(r);
    p = cJSON_CreateObject();
    er_json_add_str(p, "targetId", b->target);
    er_json_add_bool(p, "flatten", true);
    if ((rc = er_cdp_call(b->cdp, NULL, "Target.attachToTarget", p, b->cmd_ms, &r, err)))
        return rc;
    er_strlcpy(b->session, er_json_str(r, "sessionId") ? er_json_str(r, "sessionId") : "",
               sizeof b->session);
    cJSON_Delete(r);
    if (!b->session[0])
        return er_error_set(err, ER_EPROTO, "Chromium attached to the page without a session");
    return 0;
}

static int setup_page(chromium *b, const er_browser_opts *o, er_error *err)
{
    int rc = attach_page(b, err);
    cJSON *p;
    if (rc == 0)
        rc = call(b, "Page.enable", NULL, b->cmd_ms, NULL, err);
    if (rc == 0)
        rc = call(b, "Inspector.enable", NULL, b->cmd_ms, NULL, err);
    if (rc == 0) {
        p = cJSON_CreateObject();
        cJSON *pats = cJSON_AddArrayToObject(p, "patterns"), *pat = cJSON_CreateObject();
        er_json_add_str(pat, "urlPattern", "*");
        er_json_add_str(pat, "requestStage", "Request");
        er_json_append(pats, pat);
        rc = call(b, "Fetch.enable", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0) {
        p = cJSON_CreateObject();
        er_json_add_num(p, "width", o->width);
        er_json_add_num(p, "height", o->height);
        er_json_add_num(p, "deviceScaleFactor", 1);
        er_json_add_bool(p, "mobile", false);
        rc = call(b, "Emulation.setDeviceMetricsOverride", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0) { /* downloads are off */
        p = cJSON_CreateObject();
        er_json_add_str(p, "behavior", "deny");
        rc = er_cdp_call(b->cdp, NULL, "Browser.setDownloadBehavior", p, b->cmd_ms, NULL, err);
    }
    return rc;
}

static bool cr_alive(er_browser *base)
{
    chromium *b = cr(base);
    return !er_browser_proc_exited(&b->proc) && er_cdp_usable(b->cdp, NULL);
}

static int eval_value(chromium *b, const char *expr, int ms, cJSON **out, er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    er_json_add_str(p, "expression", expr);
    er_json_add_bool(p, "returnByValue", true);
    er_json_add_bool(p, "awaitPromise", true);
    er_json_add_bool(p, "userGesture", true);
    int rc = call(b, "Runtime.evaluate", p, ms, &r, err);
    if (rc)
        return rc;
    const cJSON *ex = er_json_obj(r, "exceptionDetails");
    if (ex) {
        const char *d = er_json_str(er_json_obj(ex, "exception"), "description");
        rc = er_error_set(err, ER_EINVAL, "the script failed: %s",
                          d                         ? d
                          : er_json_str(ex, "text") ? er_json_str(ex, "text")
                                                    : "error");
        cJSON_Delete(r);
        return rc;
    }
    cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(r, "result");
    cJSON *v = res ? cJSON_DetachItemFromObjectCaseSensitive(res, "value") : NULL;
    *out = v ? v : cJSON_CreateNull();
    cJSON_Delete(res);
    cJSON_Delete(r);
    return 0;
}

static int cr_eval(er_browser *base, const char *expr, cJSON **out, er_error *err)
{
    chromium *b = cr(base);
    return eval_value(b, expr, b->cmd_ms, out, err);
}

/* Waits until the main frame has stopped loading and the document is
 * complete, for at most ms. */
static int settle_within(chromium *b, int ms, er_error *err)
{
    int64_t until = er_mono_ms() + ms;
    /* A click's navigation starts a moment after the click returns. */
    nanosleep(&(struct timespec){ 0, 30 * 1000000L }, NULL);
    for (;;) {
        pthread_mutex_lock(&b->lock);
        bool loading = b->loading;
        pthread_mutex_unlock(&b->lock);
        cJSON *v = NULL;
        er_error e = { 0 };
        int left = (int)(until - er_mono_ms());
        if (left <= 0)
            break;
        int rc = eval_value(b, "document.readyState", left, &v, &e);
        if (rc && (rc == ER_EUNAVAIL))
            return er_error_set(err, rc, "%s", e.msg);
        bool done = rc == 0 && cJSON_IsString(v) && strcmp(v->valuestring, "complete") == 0;
        cJSON_Delete(v);
        if (done && !loading)
            return 0;
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
    call(b, "Page.stopLoading", NULL, b->cmd_ms, NULL, NULL);
    return er_error_set(err, ER_ETIMEDOUT,
                        "the page did not finish loading within %d ms "
                        "(browser.page_timeout); what loaded so far stays readable",
                        b->page_ms);
}

static int cr_settle(er_browser *base, er_error *err)
{
    chromium *b = cr(base);
    return settle_within(b, b->page_ms, err);
}

static void reset_blocked(chromium *b)
{
    pthread_mutex_lock(&b->lock);
    b->blocked[0] = '\0';
    b->nblocked = 0;
    pthread_mutex_unlock(&b->lock);
}

static int cr_navigate(er_browser *base, const char *url, er_error *err)
{
    chromium *b = cr(base);
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    reset_blocked(b);
    int64_t start = er_mono_ms();
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    er_json_add_str(p, "url", url);
    er_error e = { 0 };
    rc = call(b, "Page.navigate", p, b->page_ms, &r, &e);
    if (rc == ER_ETIMEDOUT) {
        call(b, "Page.stopLoading", NULL, b->cmd_ms, NULL, NULL);
        return er_error_set(err, rc, "%s did not answer within %d ms (browser.page_timeout)", url,
                            b->page_ms);
    }
    if (rc)
        return er_error_set(err, rc, "%s", e.msg);
    const char *failed = er_json_str(r, "errorText");
    if (!er_str_empty(failed)) {
        pthread_mutex_lock(&b->lock);
        if (b->blocked[0])
            rc = er_error_set(err, ER_EDENIED, "%s was not loaded: %s", url, b->blocked);
        pthread_mutex_unlock(&b->lock);
        if (!rc)
            rc = er_error_set(err, ER_EUNAVAIL, "cannot load %s: %s", url, failed);
        cJSON_Delete(r);
        return rc;
    }
    cJSON_Delete(r);
    int left = b->page_ms - (int)(er_mono_ms() - start);
    return settle_within(b, left > 0 ? left : 1, err);
}

static cJSON *clip_of(double x, double y, double w, double h)
{
    cJSON *clip = cJSON_CreateObject();
    er_json_add_num(clip, "x", x);
    er_json_add_num(clip, "y", y);
    er_json_add_num(clip, "width", w);
    er_json_add_num(clip, "height", h > FULL_PAGE_MAX ? FULL_PAGE_MAX : h);
    er_json_add_num(clip, "scale", 1);
    return clip;
}

/* Page.captureScreenshot, of the viewport or of clip (document coordinates,
 * captured beyond the viewport). */
static int capture(chromium *b, cJSON *clip, er_buf *png, er_error *err)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    er_json_add_str(p, "format", "png");
    if (clip) {
        er_json_add(p, "clip", clip);
        er_json_add_bool(p, "captureBeyondViewport", true);
    }
    int rc = call(b, "Page.captureScreenshot", p, b->cmd_ms * 3, &r, err);
    if (rc)
        return rc;
    rc = er_browser_decode_data(r, png, "screenshot", "Chromium", err);
    cJSON_Delete(r);
    return rc;
}

static int cr_screenshot(er_browser *base, bool full_page, er_buf *png, er_error *err)
{
    chromium *b = cr(base);
    if (!full_page)
        return capture(b, NULL, png, err);
    cJSON *m = NULL;
    int rc = call(b, "Page.getLayoutMetrics", NULL, b->cmd_ms, &m, err);
    if (rc)
        return rc;
    const cJSON *size = er_json_obj(m, "cssContentSize");
    cJSON *clip = clip_of(0, 0, er_json_num(size, "width", 0), er_json_num(size, "height", 0));
    cJSON_Delete(m);
    return capture(b, clip, png, err);
}

static int cr_screenshot_area(er_browser *base, const er_browser_area *a, er_buf *png,
                              er_error *err)
{
    return capture(cr(base), clip_of(a->x, a->y, a->width, a->height), png, err);
}

static int cr_pdf(er_browser *base, er_buf *pdf, er_error *err)
{
    chromium *b = cr(base);
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    er_json_add_bool(p, "printBackground", true);
    int rc = call(b, "Page.printToPDF", p, b->cmd_ms * 3, &r, err);
    if (rc)
        return rc;
    rc = er_browser_decode_data(r, pdf, "PDF", "Chromium", err);
    cJSON_Delete(r);
    return rc;
}

static int cr_back(er_browser *base, er_error *err)
{
    chromium *b = cr(base);
    cJSON *h = NULL;
    int rc = call(b, "Page.getNavigationHistory", NULL, b->cmd_ms, &h, err);
    if (rc)
        return rc;
    int cur = (int)er_json_num(h, "currentIndex", 0);
    const cJSON *prev = cJSON_GetArrayItem(er_json_arr(h, "entries"), cur - 1);
    if (cur <= 0 || !prev) {
        cJSON_Delete(h);
        return er_error_set(err, ER_ENOTFOUND, "there is no earlier page to go back to");
    }
    cJSON *p = cJSON_CreateObject();
    er_json_add_num(p, "entryId", er_json_num(prev, "id", 0));
    cJSON_Delete(h);
    reset_blocked(b);
    if ((rc = call(b, "Page.navigateToHistoryEntry", p, b->cmd_ms, NULL, err)))
        return rc;
    return settle_within(b, b->page_ms, err);
}

static int cr_cookies(er_browser *base, char **json, er_error *err)
{
    chromium *b = cr(base);
    cJSON *r = NULL;
    int rc = er_cdp_call(b->cdp, NULL, "Storage.getCookies", NULL, b->cmd_ms, &r, err);
    if (rc)
        return rc;
    const cJSON *list = er_json_arr(r, "cookies");
    *json = list ? er_json_print(list) : er_xstrdup("[]");
    cJSON_Delete(r);
    return 0;
}

static int cr_set_cookies(er_browser *base, const char *json, er_error *err)
{
    chromium *b = cr(base);
    cJSON *list = cJSON_Parse(json);
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        return er_error_set(err, ER_EPROTO, "the saved session's cookies are not a JSON array");
    }
    /* Storage.getCookies' entries carry read-only fields (size, session…)
     * that setCookies refuses: only what a cookie is made of is passed. */
    static const char *const keep[] = { "name",    "value",    "domain", "path",
                                        "expires", "httpOnly", "secure", "sameSite" };
    cJSON *clean = cJSON_CreateArray(), *c;
    cJSON_ArrayForEach(c, list)
    {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < ER_ARRAY_LEN(keep); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, keep[i]);
            if (v && !(strcmp(keep[i], "expires") == 0 && er_json_num(c, "expires", -1) < 0))
                er_json_add(o, keep[i], cJSON_Duplicate(v, true));
        }
        er_json_append(clean, o);
    }
    cJSON_Delete(list);
    cJSON *p = cJSON_CreateObject();
    er_json_add(p, "cookies", clean);
    return er_cdp_call(b->cdp, NULL, "Storage.setCookies", p, b->cmd_ms, NULL, err);
}

static int cr_block(er_browser *base, const char *const *patterns, size_t npatterns,
                    const char *const *types, size_t ntypes, er_error *err)
{
    (void)err;
    er_browser_filter_set(&cr(base)->filter, patterns, npatterns, types, ntypes);
    return 0;
}

static int cr_emulate(er_browser *base, const er_browser_emulation *e, er_error *err)
{
    chromium *b = cr(base);
    int rc = 0;
    cJSON *p;
    if (e->width > 0 || e->height > 0 || e->scale > 0 || e->mobile) {
        cJSON *m = NULL;
        if ((rc = call(b, "Page.getLayoutMetrics", NULL, b->cmd_ms, &m, err)))
            return rc;
        const cJSON *vp = er_json_obj(m, "cssLayoutViewport");
        p = cJSON_CreateObject();
        er_json_add_num(p, "width", e->width > 0 ? e->width : er_json_num(vp, "clientWidth", 1024));
        er_json_add_num(p, "height",
                        e->height > 0 ? e->height : er_json_num(vp, "clientHeight", 768));
        er_json_add_num(p, "deviceScaleFactor", e->scale > 0 ? e->scale : 1);
        er_json_add_bool(p, "mobile", e->mobile);
        cJSON_Delete(m);
        rc = call(b, "Emulation.setDeviceMetricsOverride", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0 && e->touch) {
        p = cJSON_CreateObject();
        er_json_add_bool(p, "enabled", true);
        er_json_add_num(p, "maxTouchPoints", 5);
        rc = call(b, "Emulation.setTouchEmulationEnabled", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0 && (e->user_agent || e->locale)) {
        cJSON *v = NULL;
        if (!e->user_agent && (rc = eval_value(b, "navigator.userAgent", b->cmd_ms, &v, err)))
            return rc;
        p = cJSON_CreateObject();
        er_json_add_str(p, "userAgent", e->user_agent ? e->user_agent : v->valuestring);
        if (e->locale)
            er_json_add_str(p, "acceptLanguage", e->locale);
        cJSON_Delete(v);
        rc = call(b, "Emulation.setUserAgentOverride", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0 && e->locale) {
        p = cJSON_CreateObject();
        er_json_add_str(p, "locale", e->locale);
        rc = call(b, "Emulation.setLocaleOverride", p, b->cmd_ms, NULL, err);
    }
    if (rc == 0 && e->timezone) {
        p = cJSON_CreateObject();
        er_json_add_str(p, "timezoneId", e->timezone);
        rc = call(b, "Emulation.setTimezoneOverride", p, b->cmd_ms, NULL, err);
    }
    return rc;
}

static int cr_open(er_browser **out, const er_browser_opts *o, er_error *err);

const er_browser_backend er_browser_chromium = {
    .version = ER_BROWSER_BACKEND_VERSION,
    .engine = "chromium",
    .open = cr_open,
    .close = cr_close,
    .alive = cr_alive,
    .navigate = cr_navigate,
    .eval = cr_eval,
    .screenshot = cr_screenshot,
    .pdf = cr_pdf,
    .back = cr_back,
    .settle = cr_settle,
    .cookies = cr_cookies,
    .set_cookies = cr_set_cookies,
    .block = cr_block,
    .emulate = cr_emulate,
    .screenshot_area = cr_screenshot_area,
};

static int cr_open(er_browser **out, const er_browser_opts *o, er_error *err)
{
    *out = NULL;
    const char *bin = er_browser_find_binary(o->binary, binaries);
    if (!bin)
        return er_error_set(err, ER_ENOTFOUND,
                            "Chromium is not installed (%s not found): "
                            "install the Debian package chromium (apt-get install "
                            "--no-install-recommends chromium) or set browser.binary",
                            o->binary ? o->binary : binaries[0]);
    chromium *b = er_xcalloc(1, sizeof *b);
    b->base.be = &er_browser_chromium;
    pthread_mutex_init(&b->lock, NULL);
    b->guard = o->guard;
    b->page_ms = o->page_timeout_ms;
    b->cmd_ms = o->command_timeout_ms;
    er_browser_filter_init(&b->filter);
    int rc = er_browser_proc_profile(&b->proc, "chromium", err);
    if (rc) {
        cr_close(&b->base);
        return rc;
    }
    int port = 0;
    char path[256];
    rc = spawn(b, bin, o, err);
    if (rc == 0)
        rc = wait_endpoint(b, &port, path, sizeof path, err);
    if (rc == 0)
        rc = er_cdp_connect(&b->cdp, port, path, on_event, b, err);
    if (rc == 0)
        rc = setup_page(b, o, err);
    if (rc) {
        cr_close(&b->base);
        return rc;
    }
    er_log(ER_LOG_DEBUG, "browser", "chromium %d started, DevTools on 127.0.0.1:%d, limits: %s",
           (int)b->proc.pid, port, er_browser_limits_kind(&b->proc.limits));
    *out = &b->base;
    return 0;
}
