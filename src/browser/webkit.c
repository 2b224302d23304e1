/* webkit.c — the webkit backend of the browser seam: WebKitGTK's
 * MiniBrowser driven by WebKitWebDriver (Debian webkit2gtk-driver) over
 * classic W3C WebDriver, HTTP requests to 127.0.0.1 through errand's own
 * HTTP client.
 *
 * Start: WebKitGTK has no headless mode, so a headless instance gets an X
 * server of its own (Xvfb, Debian xvfb) with -displayfd; then
 * WebKitWebDriver --port=N on a free port, polled on /status, and a
 * session (POST /session) whose MiniBrowser runs with --automation.
 *
 * The SSRF guard: classic WebDriver cannot hold the page's requests, so the
 * MiniBrowser is told (--proxy) to send every connection through errand's
 * guarding proxy (guard_proxy.h), which checks each target before it
 * connects and answers a refused one with 403.  A navigation whose document
 * was refused (the URL itself, or a redirect hop) fails with the guard's
 * message; browser_block's URL patterns are applied there too.
 *
 * The subset: navigate, eval (the tools' page scripts run through
 * /execute/async), viewport and full-page screenshots, back, cookies,
 * page-load and script timeouts, URL-pattern blocking, a viewport size.
 * Refused with a clear error: PDF (no print command), an element's
 * screenshot (WebKitGTK's element snapshots come out black under Xvfb),
 * blocking by resource type (a proxy sees URLs only) and device emulation
 * beyond the viewport's size. */
#include "launch.h"
#include "errand/alloc.h"
#include "errand/base64.h"
#include "errand/browser.h"
#include "errand/guard_proxy.h"
#include "errand/http.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 90000 /* the first session on a busy machine */
#define POLL_MS          20
#define FULL_PAGE_MAX    16384 /* CSS pixels of a full-page screenshot's height */
#define NAV_GRACE_MS     150
#define HTTP_MARGIN_MS   5000 /* the driver answers a timeout itself before ours */
#define ANSWER_MAX       (96u << 20)

typedef struct webkit {
    er_browser base;
    er_browser_proc xvfb, driver; /* the browser is the driver's child, in its group */
    er_guard_proxy *proxy;
    er_browser_filter filter;
    const er_netguard *guard;
    int page_ms, cmd_ms;
    int width, height;      /* the viewport asked for */
    int chrome_w, chrome_h; /* the window's size minus its viewport */
    char session[256];      /* http://127.0.0.1:PORT/session/ID */
    char display[16];       /* ":N" */
    bool lost;              /* the driver stopped answering: this instance is done */
} webkit;

static const char *const drivers[] = { "/usr/bin/WebKitWebDriver", NULL };
static const char *const xvfbs[] = { "/usr/bin/Xvfb", NULL };

#define OOM_MSG                                                                       \
    "the page crashed: the browser used more memory than browser.memory_max allows, " \
    "and was killed"

static webkit *wk(er_browser *b)
{
    return (webkit *)b;
}

/* ---- WebDriver over HTTP ---- */

/* Why the driver stopped answering, for the command in flight. */
static int gone(webkit *b, const char *what, er_error *err)
{
    b->lost = true;
    if (er_browser_limits_oom(&b->driver.limits))
        return er_error_set(err, ER_EUNAVAIL, OOM_MSG);
    if (er_browser_proc_exited(&b->driver))
        return er_error_set(err, ER_EUNAVAIL, "the browser exited (WebKitWebDriver, status %d)",
                            WIFEXITED(b->driver.status) ? WEXITSTATUS(b->driver.status) : -1);
    return er_error_set(err, ER_EUNAVAIL, "the browser exited: %s", what);
}

/* WebDriver's error names as errand's codes. */
static int error_code(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } map[] = {
        { "timeout", ER_ETIMEDOUT },
        { "script timeout", ER_ETIMEDOUT },
        { "no such element", ER_ENOTFOUND },
        { "no such window", ER_EUNAVAIL },
        { "invalid session id", ER_EUNAVAIL },
        { "session not created", ER_EUNAVAIL },
        { "javascript error", ER_EINVAL },
        { "invalid argument", ER_EINVAL },
        { "invalid cookie domain", ER_EINVAL },
        { "unable to set cookie", ER_EINVAL },
    };
    for (size_t i = 0; name && i < ER_ARRAY_LEN(map); i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].code;
    return ER_EPROTO;
}

/* One command: method on url (absolute, or relative to the session) with a
 * JSON body (taken), within ms.  *value: the answer's "value" (OWNED). */
static int wd_at(webkit *b, const char *method, const char *url, cJSON *body, int ms, cJSON **value,
                 er_error *err)
{
    if (value)
        *value = NULL;
    char *text = body ? er_json_print(body) : NULL;
    cJSON_Delete(body);
    static const char *const headers[] = { "Content-Type: application/json; charset=utf-8", NULL };
    er_http_req req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .connect_timeout_ms = 2000,
        .timeout_ms = ms,
        .max_body = ANSWER_MAX,
        .configured_endpoint = true, /* errand's own driver on 127.0.0.1 */
    };
    er_http_resp resp;
    er_error e = { 0 };
    int rc = er_http_request(&resp, &req, &e);
    free(text);
    if (rc == ER_ETIMEDOUT) {
        er_http_resp_release(&resp);
        return er_error_set(err, rc, "WebKitWebDriver did not answer within %d ms", ms);
    }
    if (rc) {
        er_http_resp_release(&resp);
        return gone(b, e.msg, err);
    }
    cJSON *answer = cJSON_ParseWithLength(resp.body.ptr ? resp.body.ptr : "", resp.body.len);
    long status = resp.status;
    er_http_resp_release(&resp);
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(answer, "value");
    cJSON_Delete(answer);
    const char *name = er_json_str(v, "error");
    if (status != 200 || name) {
        rc = error_code(name);
        const char *m = er_json_str(v, "message") ? er_json_str(v, "message") : "";
        if (rc == ER_EUNAVAIL) /* the session or its window is gone: so is the browser */
            rc = gone(b, m, err);
        else
            rc = er_error_set(err, rc, "WebKitWebDriver: %s: %s", name ? name : "HTTP error", m);
        cJSON_Delete(v);
        return rc;
    }
    if (value)
        *value = v;
    else
        cJSON_Delete(v);
    return 0;
}

static int wd(webkit *b, const char *method, const char *path, cJSON *body, int ms, cJSON **value,
              er_error *err)
{
    char *url = er_xasprintf("%s%s", b->session, path);
    int rc = wd_at(b, method, url, body, ms, value, err);
    free(url);
    return rc;
}

/* ---- the page's JavaScript ---- */

/* The expression runs as the page's own code would (indirect eval: global
 * scope, statements allowed), a promise is awaited, and the value comes
 * back as JSON text so that it has the shape CDP's returnByValue gives. */
static const char eval_wrapper[] =
    "const done = arguments[arguments.length - 1];"
    "const fail = e => done(JSON.stringify({ e: String(e && e.message ? e.message : e) }));"
    "new Promise(r => r((0, eval)(arguments[0]))).then(v => {"
    "  let s; try { s = JSON.stringify({ v: v === undefined ? null : v }); }"
    "  catch (e) { return fail(e); } done(s); }, fail);";

static int eval_value(webkit *b, const char *expr, int ms, cJSON **out, er_error *err)
{
    *out = NULL;
    cJSON *body = cJSON_CreateObject(), *args = cJSON_AddArrayToObject(body, "args"), *v = NULL;
    er_json_add_str(body, "script", eval_wrapper);
    er_json_append(args, cJSON_CreateString(expr));
    er_error e = { 0 };
    int rc = wd(b, "POST", "/execute/async", body, ms + HTTP_MARGIN_MS, &v, &e);
    if (rc == ER_ETIMEDOUT && !strstr(e.msg, "did not answer")) /* the driver's script timeout */
        return er_error_set(err, rc, "the script did not finish within %d ms", ms);
    if (rc)
        return er_error_set(err, rc, "%s", e.msg);
    cJSON *r = cJSON_IsString(v) ? cJSON_Parse(v->valuestring) : NULL;
    cJSON_Delete(v);
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return er_error_set(err, ER_EPROTO,
                            "WebKitWebDriver sent a script result that is not JSON");
    }
    const char *thrown = er_json_str(r, "e");
    if (thrown) {
        rc = er_error_set(err, ER_EINVAL, "the script failed: %s", thrown);
        cJSON_Delete(r);
        return rc;
    }
    *out = cJSON_DetachItemFromObjectCaseSensitive(r, "v");
    if (!*out)
        *out = cJSON_CreateNull();
    cJSON_Delete(r);
    return 0;
}

/* ---- the processes ---- */

static int wait_display(webkit *b, er_error *err)
{
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += POLL_MS) {
        FILE *f = fopen(b->xvfb.log, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            long n;
            if (er_str_to_long(er_str_trim(line), &n) == 0 && n >= 0) {
                fclose(f);
                snprintf(b->display, sizeof b->display, ":%ld", n);
                return 0;
            }
        }
        if (f)
            fclose(f);
        if (er_browser_proc_exited(&b->xvfb)) {
            char last[256];
            er_browser_proc_last_line(&b->xvfb, last, sizeof last);
            return er_error_set(err, ER_EUNAVAIL, "Xvfb exited at start%s%s", last[0] ? ": " : "",
                                last);
        }
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
    return er_error_set(err, ER_ETIMEDOUT, "Xvfb did not open a display within %d s",
                        START_TIMEOUT_MS / 1000);
}

/* WebKitGTK draws into an X display: a headless instance gets its own. */
static int start_display(webkit *b, const er_browser_opts *o, er_error *err)
{
    const char *have = getenv("DISPLAY");
    if (!o->headless && !er_str_empty(have)) {
        er_strlcpy(b->display, have, sizeof b->display);
        return 0;
    }
    const char *bin = er_browser_find_binary(NULL, xvfbs);
    if (!bin)
        return er_error_set(err, ER_ENOTFOUND,
                            "browser.engine webkit runs headless on its own X server, and Xvfb "
                            "is not installed: install the Debian package xvfb (apt-get install "
                            "--no-install-recommends xvfb)");
    int rc = er_browser_proc_profile(&b->xvfb, "xvfb", err);
    if (rc)
        return rc;
    /* The display's number on stdout (its log); windows may be larger than
     * the screen (WebKit renders a full page off screen). */
    char *screen = er_xasprintf("%dx%dx24", o->width + 256, o->height + 256);
    char *argv[] = { (char *)bin, "-displayfd", "1",    "-nolisten", "tcp",
                     "-screen",   "0",          screen, NULL };
    char **envp = er_browser_proc_env(&b->xvfb, NULL);
    rc = er_browser_proc_spawn(&b->xvfb, argv, envp, "Xvfb", err);
    er_browser_strv_free(envp);
    free(screen);
    return rc ? rc : wait_display(b, err);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int spawn_driver(webkit *b, const char *bin, int port, const er_browser_opts *o,
                        er_error *err)
{
    char *argv[] = { (char *)bin, er_xasprintf("--port=%d", port), "--host=local", NULL };
    /* GTK's and WebKit's own files (caches, settings) stay inside the profile. */
    char *extra[] = {
        er_xasprintf("DISPLAY=%s", b->display),
        er_xasprintf("HOME=%s", b->driver.profile),
        er_xasprintf("XDG_CACHE_HOME=%s/cache", b->driver.profile),
        er_xasprintf("XDG_CONFIG_HOME=%s/config", b->driver.profile),
        er_xasprintf("XDG_DATA_HOME=%s/data", b->driver.profile),
        er_xstrdup("GDK_BACKEND=x11"),
        NULL,
    };
    char **envp = er_browser_proc_env(&b->driver, (const char *const *)extra);
    er_browser_proc_limit(&b->driver, o->memory_max, o->pids_max);
    int rc = er_browser_proc_spawn(&b->driver, argv, envp, "WebKitWebDriver", err);
    er_browser_strv_free(envp);
    for (size_t i = 0; extra[i]; i++)
        free(extra[i]);
    free(argv[1]);
    return rc;
}

static int wait_driver(webkit *b, int port, er_error *err)
{
    char *url = er_xasprintf("http://127.0.0.1:%d/status", port);
    int rc = ER_ETIMEDOUT;
    for (int waited = 0; waited < START_TIMEOUT_MS && rc; waited += POLL_MS * 5) {
        cJSON *v = NULL;
        er_error e = { 0 };
        if (wd_at(b, "GET", url, NULL, 2000, &v, &e) == 0 && er_json_bool(v, "ready", false))
            rc = 0;
        cJSON_Delete(v);
        if (rc && er_browser_proc_exited(&b->driver)) {
            char last[256];
            er_browser_proc_last_line(&b->driver, last, sizeof last);
            free(url);
            return er_error_set(err, ER_EUNAVAIL, "WebKitWebDriver exited at start%s%s",
                                last[0] ? ": " : "", last);
        }
        if (rc)
            nanosleep(&(struct timespec){ 0, POLL_MS * 5 * 1000000L }, NULL);
    }
    free(url);
    b->lost = false; /* refused connections while it started are not a loss */
    return rc ? er_error_set(err, rc, "WebKitWebDriver did not answer on port %d within %d s", port,
                             START_TIMEOUT_MS / 1000)
              : 0;
}

static int set_window(webkit *b, int width, int height, er_error *err)
{
    cJSON *r = cJSON_CreateObject();
    er_json_add_num(r, "width", width);
    er_json_add_num(r, "height", height);
    return wd(b, "POST", "/window/rect", r, b->cmd_ms, NULL, err);
}

/* The window sized so that its viewport is width x height CSS pixels. */
static int set_viewport(webkit *b, int width, int height, er_error *err)
{
    int rc = set_window(b, width + b->chrome_w, height + b->chrome_h, err);
    cJSON *size = NULL;
    if (rc == 0)
        rc = eval_value(b, "[innerWidth, innerHeight]", b->cmd_ms, &size, err);
    if (rc)
        return rc;
    const cJSON *w = cJSON_GetArrayItem(size, 0), *h = cJSON_GetArrayItem(size, 1);
    int iw = cJSON_IsNumber(w) ? (int)w->valuedouble : width;
    int ih = cJSON_IsNumber(h) ? (int)h->valuedouble : height;
    cJSON_Delete(size);
    b->width = width;
    b->height = height;
    if (iw == width && ih == height)
        return 0;
    b->chrome_w += width - iw; /* the toolbar and frame, measured once */
    b->chrome_h += height - ih;
    return set_window(b, width + b->chrome_w, height + b->chrome_h, err);
}

static int start_session(webkit *b, int port, er_error *err)
{
    cJSON *body = cJSON_CreateObject(), *caps = cJSON_AddObjectToObject(body, "capabilities");
    cJSON *always = cJSON_AddObjectToObject(caps, "alwaysMatch");
    cJSON *opts = cJSON_AddObjectToObject(always, "webkitgtk:browserOptions");
    cJSON *args = cJSON_AddArrayToObject(opts, "args");
    er_json_append(args, cJSON_CreateString("--automation"));
    /* Every connection of the page through the guard: plain HTTP as
     * absolute-form requests, HTTPS and WebSockets as CONNECT tunnels. */
    char *proxy = er_xasprintf("--proxy=http://127.0.0.1:%d", er_guard_proxy_port(b->proxy));
    er_json_append(args, cJSON_CreateString(proxy));
    free(proxy);
    er_json_add_str(always, "pageLoadStrategy", "normal");
    cJSON *t = cJSON_AddObjectToObject(always, "timeouts");
    er_json_add_num(t, "script", b->cmd_ms);
    er_json_add_num(t, "pageLoad", b->page_ms);
    er_json_add_num(t, "implicit", 0);
    char *url = er_xasprintf("http://127.0.0.1:%d/session", port);
    cJSON *v = NULL;
    int rc = wd_at(b, "POST", url, body, START_TIMEOUT_MS, &v, err);
    free(url);
    const char *id = er_json_str(v, "sessionId");
    if (rc == 0 && !id)
        rc = er_error_set(err, ER_EPROTO, "WebKitWebDriver made a session without an id");
    if (rc == 0)
        snprintf(b->session, sizeof b->session, "http://127.0.0.1:%d/session/%s", port, id);
    cJSON_Delete(v);
    return rc;
}

/* The proxy's extra rule: browser_block's URL patterns. */
static bool refuse_blocked(void *arg, const char *url, er_error *err)
{
    webkit *b = arg;
    if (!er_browser_filter_blocks(&b->filter, url, NULL))
        return false;
    er_error_set(err, ER_EDENIED, "blocked by browser_block");
    return true;
}

/* ---- commands ---- */

static bool wk_alive(er_browser *base)
{
    webkit *b = wk(base);
    return !b->lost && !er_browser_proc_exited(&b->driver) &&
           (b->xvfb.pid == 0 || !er_browser_proc_exited(&b->xvfb));
}

static int wk_eval(er_browser *base, const char *expr, cJSON **out, er_error *err)
{
    webkit *b = wk(base);
    return eval_value(b, expr, b->cmd_ms, out, err);
}

static void stop_loading(webkit *b)
{
    cJSON *v = NULL;
    if (eval_value(b, "window.stop()", b->cmd_ms, &v, NULL) == 0)
        cJSON_Delete(v);
}

static int timed_out(webkit *b, er_error *err)
{
    stop_loading(b);
    return er_error_set(err, ER_ETIMEDOUT,
                        "the page did not finish loading within %d ms "
                        "(browser.page_timeout); what loaded so far stays readable",
                        b->page_ms);
}

static int settle_within(webkit *b, int ms, er_error *err)
{
    int64_t until = er_mono_ms() + ms;
    /* a click's navigation starts after the click has returned */
    nanosleep(&(struct timespec){ 0, NAV_GRACE_MS * 1000000L }, NULL);
    for (;;) {
        int left = (int)(until - er_mono_ms());
        if (left <= 0)
            return timed_out(b, err);
        cJSON *v = NULL;
        er_error e = { 0 };
        int rc = eval_value(b, "document.readyState", left, &v, &e);
        if (rc == ER_EUNAVAIL)
            return er_error_set(err, rc, "%s", e.msg);
        bool done = rc == 0 && er_str_eq(cJSON_GetStringValue(v), "complete");
        cJSON_Delete(v);
        if (done)
            return 0;
        nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
    }
}

static int wk_settle(er_browser *base, er_error *err)
{
    webkit *b = wk(base);
    return settle_within(b, b->page_ms, err);
}

/* After a navigation: its document (the URL, or a redirect hop) refused by
 * the proxy fails it. */
static int check_document(webkit *b, const char *asked, er_error *err)
{
    cJSON *v = NULL;
    int rc = wd(b, "GET", "/url", NULL, b->cmd_ms, &v, err);
    if (rc)
        return rc;
    char msg[256];
    const char *now = cJSON_GetStringValue(v);
    if (now && er_guard_proxy_refused_url(b->proxy, now, msg, sizeof msg))
        rc = er_error_set(err, ER_EDENIED, "%s was not loaded: %s", asked, msg);
    cJSON_Delete(v);
    return rc;
}

static int wk_navigate(er_browser *base, const char *url, er_error *err)
{
    webkit *b = wk(base);
    int rc = er_netguard_check_scheme(url, err);
    if (rc)
        return rc;
    if (er_browser_filter_blocks(&b->filter, url, "Document"))
        return er_error_set(err, ER_EDENIED, "%s was not loaded: blocked by browser_block", url);
    if ((rc = er_browser_guard_url(b->guard, url, err)))
        return rc;
    char old[8];
    er_guard_proxy_take_refusal(b->proxy, old, sizeof old);
    cJSON *body = cJSON_CreateObject();
    er_json_add_str(body, "url", url);
    er_error e = { 0 };
    rc = wd(b, "POST", "/url", body, b->page_ms + HTTP_MARGIN_MS, NULL, &e);
    if (rc == ER_ETIMEDOUT)
        return timed_out(b, err);
    if (rc == ER_EUNAVAIL)
        return er_error_set(err, rc, "%s", e.msg);
    if (rc == 0)
        rc = check_document(b, url, err);
    else if (check_document(b, url, err) != ER_EDENIED)
        rc = er_error_set(err, ER_EUNAVAIL, "cannot load %s: %s", url, e.msg);
    return rc;
}

static int decode_png(const cJSON *v, er_buf *png, er_error *err)
{
    const char *data = cJSON_GetStringValue(v);
    int rc = data ? er_base64_decode(png, data, strlen(data)) : ER_EPROTO;
    if (rc == ER_ETOOBIG)
        return er_error_set(err, rc, "the screenshot is larger than %zu bytes", png->max);
    if (rc)
        return er_error_set(err, ER_EPROTO, "WebKitWebDriver sent a screenshot that is not base64");
    return 0;
}

static int viewport_png(webkit *b, er_buf *png, er_error *err)
{
    /* WebDriver's snapshot does not wait for the page to be painted: a page
     * just loaded (or a window just resized) could come out as the one
     * before.  Two animation frames: one rendering update has happened. */
    cJSON *v = NULL;
    int rc =
        eval_value(b, "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
                   b->cmd_ms, &v, err);
    cJSON_Delete(v);
    v = NULL;
    if (rc == 0)
        rc = wd(b, "GET", "/screenshot", NULL, b->cmd_ms * 3, &v, err);
    if (rc == 0)
        rc = decode_png(v, png, err);
    cJSON_Delete(v);
    return rc;
}

static int wk_screenshot(er_browser *base, bool full_page, er_buf *png, er_error *err)
{
    webkit *b = wk(base);
    if (!full_page)
        return viewport_png(b, png, err);
    /* WebDriver captures the viewport only: the window is made as tall as
     * the page (WebKit renders it whole, off screen), then put back. */
    cJSON *size = NULL;
    int rc = eval_value(b,
                        "[document.documentElement.scrollWidth, "
                        "document.documentElement.scrollHeight, scrollX, scrollY]",
                        b->cmd_ms, &size, err);
    if (rc)
        return rc;
    const cJSON *h = cJSON_GetArrayItem(size, 1), *sx = cJSON_GetArrayItem(size, 2),
                *sy = cJSON_GetArrayItem(size, 3);
    int height = cJSON_IsNumber(h) ? (int)h->valuedouble : b->height;
    if (height > FULL_PAGE_MAX)
        height = FULL_PAGE_MAX;
    if (height < b->height)
        height = b->height;
    char *restore = er_xasprintf("scrollTo(%g, %g)", cJSON_IsNumber(sx) ? sx->valuedouble : 0,
                                 cJSON_IsNumber(sy) ? sy->valuedouble : 0);
    cJSON_Delete(size);
    cJSON *v = NULL;
    rc = set_window(b, b->width + b->chrome_w, height + b->chrome_h, err);
    if (rc == 0)
        rc = eval_value(b, "scrollTo(0, 0)", b->cmd_ms, &v, err);
    cJSON_Delete(v);
    if (rc == 0)
        rc = viewport_png(b, png, err);
    er_error e = { 0 };
    if (set_window(b, b->width + b->chrome_w, b->height + b->chrome_h, &e) == 0 &&
        eval_value(b, restore, b->cmd_ms, &v, &e) == 0)
        cJSON_Delete(v);
    free(restore);
    return rc;
}

static int wk_pdf(er_browser *base, er_buf *pdf, er_error *err)
{
    (void)base;
    (void)pdf;
    return er_error_set(err, ER_EINVAL,
                        "a PDF is not available with browser.engine webkit (WebKitWebDriver "
                        "has no print command); use chromium or firefox");
}

static int wk_back(er_browser *base, er_error *err)
{
    webkit *b = wk(base);
    cJSON *v = NULL;
    int rc = eval_value(b, "history.length", b->cmd_ms, &v, err);
    if (rc)
        return rc;
    bool first = !cJSON_IsNumber(v) || v->valuedouble <= 1;
    cJSON_Delete(v);
    if (first)
        return er_error_set(err, ER_ENOTFOUND, "there is no earlier page to go back to");
    char old[8];
    er_guard_proxy_take_refusal(b->proxy, old, sizeof old);
    if ((rc = wd(b, "POST", "/back", cJSON_CreateObject(), b->page_ms + HTTP_MARGIN_MS, NULL, err)))
        return rc == ER_ETIMEDOUT ? timed_out(b, err) : rc;
    return settle_within(b, b->page_ms, err);
}

static int wk_cookies(er_browser *base, char **json, er_error *err)
{
    webkit *b = wk(base);
    cJSON *v = NULL;
    int rc = wd(b, "GET", "/cookie", NULL, b->cmd_ms, &v, err);
    if (rc)
        return rc;
    *json = cJSON_IsArray(v) ? er_json_print(v) : er_xstrdup("[]");
    cJSON_Delete(v);
    return 0;
}

/* One saved cookie as WebDriver's: from its own shape, CDP's or BiDi's (a
 * session saved under another browser.engine). */
static cJSON *wd_cookie(const cJSON *c)
{
    const char *name = er_json_str(c, "name"), *domain = er_json_str(c, "domain");
    if (!name || !domain)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "name", name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
    const char *value = cJSON_IsString(v) ? v->valuestring : er_json_str(v, "value");
    er_json_add_str(o, "value", value ? value : "");
    er_json_add_str(o, "domain", domain);
    er_json_add_str(o, "path", er_json_str(c, "path") ? er_json_str(c, "path") : "/");
    er_json_add_bool(o, "httpOnly", er_json_bool(c, "httpOnly", false));
    er_json_add_bool(o, "secure", er_json_bool(c, "secure", false));
    const char *ss = er_json_str(c, "sameSite");
    if (ss && (strcasecmp(ss, "lax") == 0 || strcasecmp(ss, "strict") == 0 ||
               strcasecmp(ss, "none") == 0)) {
        char cap[8];
        er_strlcpy(cap, ss, sizeof cap);
        for (char *q = cap; *q; q++)
            *q = (char)(q == cap ? (*q >= 'a' && *q <= 'z' ? *q - 32 : *q)
                                 : (*q >= 'A' && *q <= 'Z' ? *q + 32 : *q));
        er_json_add_str(o, "sameSite", cap);
    }
    double exp = er_json_num(c, "expiry", er_json_num(c, "expires", -1));
    if (exp > 0)
        er_json_add_num(o, "expiry", (double)(long long)exp);
    return o;
}

static int wk_set_cookies(er_browser *base, const char *json, er_error *err)
{
    webkit *b = wk(base);
    cJSON *list = cJSON_Parse(json);
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        return er_error_set(err, ER_EPROTO, "the saved session's cookies are not a JSON array");
    }
    int rc = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        cJSON *wc = wd_cookie(c);
        if (!wc)
            continue;
        cJSON *body = cJSON_CreateObject();
        er_json_add(body, "cookie", wc);
        if ((rc = wd(b, "POST", "/cookie", body, b->cmd_ms, NULL, err)))
            break;
    }
    cJSON_Delete(list);
    return rc;
}

static int wk_block(er_browser *base, const char *const *patterns, size_t npatterns,
                    const char *const *types, size_t ntypes, er_error *err)
{
    if (ntypes > 0)
        return er_error_set(err, ER_EINVAL,
                            "blocking by resource type is not available with browser.engine "
                            "webkit (its guarding proxy sees URLs, not what the page asked "
                            "for); block by URL pattern, or use chromium or firefox");
    er_browser_filter_set(&wk(base)->filter, patterns, npatterns, types, ntypes);
    return 0;
}

static int wk_emulate(er_browser *base, const er_browser_emulation *e, er_error *err)
{
    webkit *b = wk(base);
    const char *missing = e->mobile                       ? "mobile viewport"
                          : e->touch                      ? "touch"
                          : e->scale > 0 && e->scale != 1 ? "device scale"
                          : e->user_agent                 ? "user agent"
                          : e->locale                     ? "locale"
                          : e->timezone                   ? "time zone"
                                                          : NULL;
    if (missing) /* refused, not ignored: the page would not be what was asked */
        return er_error_set(err, ER_EINVAL,
                            "%s emulation is not available with browser.engine webkit (classic "
                            "WebDriver has no such command); use chromium",
                            missing);
    if (e->width <= 0 && e->height <= 0)
        return 0;
    return set_viewport(b, e->width > 0 ? e->width : b->width,
                        e->height > 0 ? e->height : b->height, err);
}

static void wk_close(er_browser *base)
{
    webkit *b = wk(base);
    if (b->session[0] && !er_browser_proc_exited(&b->driver))
        wd_at(b, "DELETE", b->session, NULL, 3000, NULL, NULL);
    er_browser_proc_release(&b->driver); /* the browser with it: one process group */
    er_browser_proc_release(&b->xvfb);
    er_guard_proxy_stop(b->proxy);
    er_browser_filter_release(&b->filter);
    free(b);
}

static int wk_open(er_browser **out, const er_browser_opts *o, er_error *err);

const er_browser_backend er_browser_webkit = {
    .version = ER_BROWSER_BACKEND_VERSION,
    .engine = "webkit",
    .open = wk_open,
    .close = wk_close,
    .alive = wk_alive,
    .navigate = wk_navigate,
    .eval = wk_eval,
    .screenshot = wk_screenshot,
    .pdf = wk_pdf,
    .back = wk_back,
    .settle = wk_settle,
    .cookies = wk_cookies,
    .set_cookies = wk_set_cookies,
    .block = wk_block,
    .emulate = wk_emulate,
    .screenshot_area = NULL, /* element snapshots come out black under Xvfb */
};

static int wk_open(er_browser **out, const er_browser_opts *o, er_error *err)
{
    *out = NULL;
    const char *bin = er_browser_find_binary(o->binary, drivers);
    if (!bin)
        return er_error_set(err, ER_ENOTFOUND,
                            "WebKitWebDriver is not installed (%s not found): install the "
                            "Debian package webkit2gtk-driver (apt-get install "
                            "--no-install-recommends webkit2gtk-driver) or set browser.binary",
                            o->binary ? o->binary : drivers[0]);
    webkit *b = er_xcalloc(1, sizeof *b);
    b->base.be = &er_browser_webkit;
    er_browser_filter_init(&b->filter);
    b->guard = o->guard;
    b->page_ms = o->page_timeout_ms;
    b->cmd_ms = o->command_timeout_ms;
    b->width = o->width;
    b->height = o->height;
    int port = free_port();
    int rc =
        port > 0 ? 0 : er_error_set(err, ER_EIO, "no free port on 127.0.0.1 for WebKitWebDriver");
    if (rc == 0)
        rc = er_guard_proxy_start(&b->proxy, b->guard, err);
    if (rc == 0) {
        er_guard_proxy_set_refuse(b->proxy, refuse_blocked, b);
        rc = er_browser_proc_profile(&b->driver, "webkit", err);
    }
    if (rc == 0)
        rc = start_display(b, o, err);
    if (rc == 0)
        rc = spawn_driver(b, bin, port, o, err);
    if (rc == 0)
        rc = wait_driver(b, port, err);
    if (rc == 0)
        rc = start_session(b, port, err);
    if (rc == 0)
        rc = set_viewport(b, o->width, o->height, err);
    if (rc) {
        wk_close(&b->base);
        return rc;
    }
    er_log(ER_LOG_DEBUG, "browser", "webkit: WebKitWebDriver %d on 127.0.0.1:%d, display %s",
           (int)b->driver.pid, port, b->display);
    *out = &b->base;
    return 0;
}
