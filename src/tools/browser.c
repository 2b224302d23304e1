/* browser.c — the browser tool family: a real browser (browser.h) the
 * browser agent drives — open, read, extract, export, record, trends, click, type, select, wait,
 * scroll, back, screenshot, pdf, eval, block, close.
 *
 * Classes: what only looks (open, read, extract, record, trends, wait,
 * scroll, back) is of
 * the network class: its results carry page text, fenced as data
 * (untrusted.h), so the run is tainted from then on (er_tool_untrusted).
 * What acts on the site (click, type, select: they may submit a form with
 * the user's data) is of the send class, screenshot, pdf and export write files
 * (write), and eval runs code (exec); block and close only take away (read): after a page was read, each needs a
 * person's approval, so a page's text cannot make errand act.
 *
 * The browser is the session's (argument "session", by default the task's),
 * lent by the process's pool (er_env_browsers).  A session named in the
 * arguments keeps its cookies and the local storage of the origins it
 * visited in the cache (browser:{session}, Redis in networked mode) after
 * every command; a new browser for it starts with the cookies, and a page it
 * opens gets its origin's local storage back: a login survives between tasks
 * and workers. */
#include "errand/alloc.h"
#include "errand/browser_pool.h"
#include "errand/csv.h"
#include "errand/env.h"
#include "errand/json.h"
#include "errand/log.h"
#include "errand/store_history.h"
#include "errand/str.h"
#include "errand/trends.h"
#include "errand/tool_families.h"
#include "errand/untrusted.h"
#include "browser_js.h"
#include "data_tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CHARS   20000
#define OPEN_PREVIEW    1500
#define DEFAULT_WAIT_MS 5000
#define FILE_MAX        (64u * 1024 * 1024)
#define SESSION_TTL_MS  (7LL * 24 * 3600 * 1000)
#define SESSION_MAX     (4 * 1024 * 1024) /* cookies and local storage of a session */
#define STORAGE_MAX     (512 * 1024)      /* one origin's local storage */

typedef struct page {
    const er_tool_ctx *ctx;
    er_browser *b;
    const cJSON *args;
    const char *session;
    /* The tool is of the network class, so the runtime counts its result as
     * outside text (er_tool_untrusted).  The others return no page text at all:
     * nothing in their results has to be taken as data. */
    bool untrusted;
} page;

typedef int (*page_fn)(page *p, cJSON *o, er_error *err);

static const char *session_of(const er_tool_ctx *ctx, const cJSON *args)
{
    const char *s = er_json_str(args, "session");
    if (!er_str_empty(s))
        return s;
    return !er_str_empty(ctx->task_id) ? ctx->task_id : "default";
}

/* The command's timeout, less a margin for the answer to come back. */
static int wait_ms(const er_tool_ctx *ctx, const cJSON *args)
{
    long cmd = er_env_config(ctx->env)->browser_command_timeout;
    int64_t cap = (cmd > 0 ? cmd : 10) * 1000 - 500;
    return (int)er_json_int(args, "timeout_ms", DEFAULT_WAIT_MS < cap ? DEFAULT_WAIT_MS : cap, 0,
                            cap > 0 ? cap : 100);
}

/* Runs action(argument) in the page; a {error} it returns becomes err. */
static int act(page *p, const char *action, cJSON *arg, cJSON **out, er_error *err)
{
    char *a = er_json_print(arg);
    cJSON_Delete(arg);
    char *expr = er_xasprintf("%s(%s)", action, a);
    free(a);
    int rc = er_browser_eval(p->b, expr, out, err);
    free(expr);
    if (rc)
        return rc;
    const char *msg = er_json_str(*out, "error");
    if (msg) {
        rc = er_error_set(err, er_json_bool(*out, "notfound", false) ? ER_ENOTFOUND : ER_EINVAL,
                          "%s", msg);
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* The argument an element action gets: how to find it, and how long to wait. */
static cJSON *target_arg(const er_tool_ctx *ctx, const cJSON *args)
{
    cJSON *a = cJSON_CreateObject();
    static const char *const keys[] = { "selector", "text", "ref", "value", "state", "to" };
    for (size_t i = 0; i < ER_ARRAY_LEN(keys); i++)
        if (er_json_str(args, keys[i]))
            er_json_add_str(a, keys[i], er_json_str(args, keys[i]));
    er_json_add_num(a, "timeout", wait_ms(ctx, args));
    return a;
}

static int need_target(const cJSON *args, const char *tool, er_error *err)
{
    if (er_json_str(args, "selector") || er_json_str(args, "text") || er_json_str(args, "ref"))
        return 0;
    return er_error_set(err, ER_EINVAL,
                        "%s: give selector (CSS), text (visible text) or ref "
                        "(from browser_read)",
                        tool);
}

/* Where the page is now: {url, title} fenced (the title is the page's text). */
static void add_where(page *p, cJSON *o)
{
    cJSON *w = NULL;
    er_error e = { 0 };
    if (er_browser_eval(p->b, bjs_where, &w, &e) != 0)
        return;
    er_json_add_str(o, "url", er_json_str(w, "url"));
    const char *title = er_json_str(w, "title");
    if (p->untrusted && !er_str_empty(title)) {
        er_buf f = ER_BUF_INIT;
        er_untrusted_fence(&f, "page title", er_json_str(w, "url"), title, strlen(title));
        er_json_add_str(o, "title", er_buf_cstr(&f));
        er_buf_release(&f);
    }
    cJSON_Delete(w);
}

static char *session_key(const char *session)
{
    return er_xasprintf("browser:%s", session);
}

/* What the cache keeps for a named session:
 *   {"cookies": [the engine's cookies], "storage": {origin: {key: value}}}
 * (a value saved before local storage was kept is the cookie list alone).
 * *out is NULL for a new session; a value that is neither is dropped. */
static int session_get(const er_tool_ctx *ctx, const char *session, er_cache **cache, cJSON **out,
                       er_error *err)
{
    *out = NULL;
    if (er_env_cache(ctx->env, cache, err) != 0)
        return err->code;
    char *key = session_key(session), *json = NULL;
    int rc = er_cache_get(*cache, key, &json, NULL, err);
    free(key);
    if (rc == ER_ENOTFOUND)
        return 0;
    cJSON *v = rc == 0 ? cJSON_Parse(json) : NULL;
    free(json);
    if (cJSON_IsArray(v)) {
        *out = cJSON_CreateObject();
        er_json_add(*out, "cookies", v);
    } else if (cJSON_IsObject(v)) {
        *out = v;
    } else {
        if (rc == 0)
            er_log(ER_LOG_WARN, "browser", "session %s: its saved state is not JSON; dropped",
                   session);
        cJSON_Delete(v);
    }
    return rc;
}

/* A named session's saved cookies into its new browser. */
static int restore_session(const er_tool_ctx *ctx, page *p, er_error *err)
{
    er_cache *cache = NULL;
    cJSON *saved = NULL;
    int rc = session_get(ctx, p->session, &cache, &saved, err);
    const cJSON *cookies = er_json_arr(saved, "cookies");
    if (rc == 0 && cookies) {
        char *json = er_json_print(cookies);
        rc = er_browser_set_cookies(p->b, json, err);
        free(json);
    }
    cJSON_Delete(saved);
    return rc;
}

/* After a navigation in a named session: the saved local storage of the
 * page's origin is put back when the page has none, and the page loaded
 * again so that its scripts see it (storage belongs to an origin, so it can
 * only be set once the browser is on it). */
static int restore_storage(const er_tool_ctx *ctx, page *p, const char *url, er_error *err)
{
    er_cache *cache = NULL;
    cJSON *saved = NULL, *origin = NULL, *put = NULL;
    int rc = session_get(ctx, p->session, &cache, &saved, err);
    if (rc == 0 && er_json_obj(saved, "storage"))
        rc = er_browser_eval(p->b, "location.origin", &origin, err);
    const cJSON *items = cJSON_IsString(origin)
                             ? er_json_obj(er_json_obj(saved, "storage"), origin->valuestring)
                             : NULL;
    if (rc == 0 && items && items->child) {
        char *json = er_json_print(items);
        char *expr = er_xasprintf("%s(%s)", bjs_storage_put, json);
        rc = er_browser_eval(p->b, expr, &put, err);
        free(expr);
        free(json);
    }
    if (rc == 0 && cJSON_IsTrue(put))
        rc = er_browser_navigate(p->b, url, err);
    cJSON_Delete(put);
    cJSON_Delete(origin);
    cJSON_Delete(saved);
    return rc;
}

/* The page's local storage into saved["storage"][its origin]. */
static void keep_storage(page *p, cJSON *saved)
{
    cJSON *now = NULL;
    er_error e = { 0 };
    if (er_browser_eval(p->b, bjs_storage_get, &now, &e) != 0 || !cJSON_IsObject(now)) {
        cJSON_Delete(now);
        return; /* no page, or storage refused to it: keep what was saved */
    }
    const char *origin = er_json_str(now, "origin");
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(now, "items");
    cJSON *storage = cJSON_GetObjectItemCaseSensitive(saved, "storage");
    if (!storage)
        storage = cJSON_AddObjectToObject(saved, "storage");
    char *json = items ? er_json_print(items) : NULL;
    if (!origin || strcmp(origin, "null") == 0 || !cJSON_IsObject(items)) {
        cJSON_Delete(items); /* an opaque origin (about:blank, data:) has none to keep */
    } else if (!items->child) {
        cJSON_DeleteItemFromObjectCaseSensitive(storage, origin);
        cJSON_Delete(items);
    } else if (strlen(json) > STORAGE_MAX) {
        er_log(ER_LOG_WARN, "browser",
               "session %s: the local storage of %s takes %zu bytes; not kept (at most %d)",
               p->session, origin, strlen(json), STORAGE_MAX);
        cJSON_Delete(items);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(storage, origin);
        er_json_add(storage, origin, items);
    }
    free(json);
    cJSON_Delete(now);
}

static int save_session(const er_tool_ctx *ctx, page *p, er_error *err)
{
    er_cache *cache = NULL;
    cJSON *saved = NULL;
    char *cookies = NULL, *json = NULL;
    int rc = session_get(ctx, p->session, &cache, &saved, err);
    if (rc == 0)
        rc = er_browser_cookies(p->b, &cookies, err);
    if (rc == 0) {
        if (!saved)
            saved = cJSON_CreateObject();
        cJSON_DeleteItemFromObjectCaseSensitive(saved, "cookies");
        cJSON *c = cJSON_Parse(cookies);
        er_json_add(saved, "cookies", c ? c : cJSON_CreateArray());
        keep_storage(p, saved);
        json = er_json_print(saved);
        if (strlen(json) > SESSION_MAX)
            rc = er_error_set(err, ER_ETOOBIG,
                              "the session's cookies and local storage take %zu bytes (at most "
                              "%d are saved)",
                              strlen(json), SESSION_MAX);
    }
    char *key = session_key(p->session);
    if (rc == 0)
        rc = er_cache_set(cache, key, json, strlen(json), SESSION_TTL_MS, err);
    free(key);
    free(json);
    free(cookies);
    cJSON_Delete(saved);
    return rc;
}

/* An IANA zone name the system knows (tzdata). */
static bool known_zone(const char *tz)
{
    if (er_str_empty(tz) || tz[0] == '/' || strstr(tz, ".."))
        return false;
    if (access("/usr/share/zoneinfo", X_OK) != 0)
        return true; /* no tzdata here to ask (a slim image): the browser decides */
    char *path = er_xasprintf("/usr/share/zoneinfo/%s", tz);
    bool ok = access(path, R_OK) == 0;
    free(path);
    return ok;
}

/* browser_open's device emulation, before it navigates. */
static int emulate(page *p, er_error *err)
{
    const cJSON *a = p->args;
    er_browser_emulation e = {
        .width = (int)er_json_int(a, "width", 0, 0, 10000),
        .height = (int)er_json_int(a, "height", 0, 0, 10000),
        .scale = er_json_num(a, "scale", 0),
        .mobile = er_json_bool(a, "mobile", false),
        .touch = er_json_bool(a, "touch", false),
        .user_agent = er_json_str(a, "user_agent"),
        .locale = er_json_str(a, "locale"),
        .timezone = er_json_str(a, "timezone"),
    };
    if (e.scale < 0 || e.scale > 5)
        return er_error_set(err, ER_EINVAL, "browser_open: scale is between 0.1 and 5");
    if (e.timezone && !known_zone(e.timezone)) /* Chromium takes any name silently */
        return er_error_set(err, ER_EINVAL,
                            "browser_open: unknown time zone '%s' (an IANA "
                            "name such as Europe/Berlin)",
                            e.timezone);
    if (!e.width && !e.height && !e.scale && !e.mobile && !e.touch && !e.user_agent && !e.locale &&
        !e.timezone)
        return 0;
    int rc = er_browser_emulate(p->b, &e, err);
    if (rc == ER_EINVAL) { /* the browser's word for a bad value: say which call it was */
        char msg[sizeof err->msg];
        er_strlcpy(msg, err->msg, sizeof msg);
        er_error_set(err, rc, "browser_open: device emulation refused: %s", msg);
    }
    return rc;
}

static int with_page(const er_tool_ctx *ctx, const cJSON *args, const char *tool, bool opens,
                     page_fn fn, er_buf *out, er_error *err)
{
    er_browser_pool *pool = NULL;
    int rc = er_env_browsers(ctx->env, &pool, err);
    if (rc)
        return rc;
    page p = { ctx, NULL, args, session_of(ctx, args), er_tool_untrusted(er_tool_find(tool)) };
    bool fresh = false;
    char why[160];
    if ((rc = er_browser_pool_take(pool, p.session, &p.b, &fresh, why, sizeof why, err)))
        return rc;
    bool named = !er_str_empty(er_json_str(args, "session"));
    if (fresh && named)
        rc = restore_session(ctx, &p, err);
    if (rc == 0 && opens)
        rc = emulate(&p, err);
    const char *url = er_json_str(args, "url");
    if (rc == 0 && url) {
        rc = er_browser_navigate(p.b, url, err);
        if (rc == 0 && named)
            rc = restore_storage(ctx, &p, url, err);
    } else if (fresh && !opens)
        rc = er_error_set(err, ER_EINVAL,
                          "%s: no page is open in session '%s'%s%s: open one "
                          "with browser_open",
                          tool, p.session, why[0] ? " (" : "", why[0] ? why : "");
    cJSON *o = cJSON_CreateObject();
    if (rc == 0)
        rc = fn(&p, o, err);
    if (rc == 0 && named)
        rc = save_session(ctx, &p, err);
    if (rc == ER_EUNAVAIL && !er_browser_alive(p.b)) {
        char msg[sizeof err->msg];
        er_strlcpy(msg, err->msg, sizeof msg);
        er_error_set(err, rc,
                     "%s: %s; a new browser starts on the next call (open the page "
                     "again)",
                     tool, msg);
    }
    er_browser_pool_give(pool, p.b);
    if (rc == 0) {
        er_json_add_str(o, "session", p.session);
        rc = er_tools_emit(out, o, err);
    }
    cJSON_Delete(o);
    return rc;
}

/* ---- browser_open ---- */

static int open_page(page *p, cJSON *o, er_error *err)
{
    cJSON *r = NULL;
    cJSON *a = cJSON_CreateObject();
    er_json_add_num(a, "timeout", 0);
    int rc = act(p, bjs_read, a, &r, err);
    if (rc)
        return rc;
    er_json_add_str(o, "url", er_json_str(r, "url"));
    er_buf f = ER_BUF_INIT, body = ER_BUF_INIT;
    const char *text = er_json_str(r, "text") ? er_json_str(r, "text") : "";
    er_buf_printf(&body, "Title: %s\n\n", er_json_str(r, "title") ? er_json_str(r, "title") : "");
    size_t cut = er_tools_clip(
        &body, text, strlen(text) > OPEN_PREVIEW ? OPEN_PREVIEW : strlen(text), OPEN_PREVIEW);
    (void)cut;
    if (strlen(text) > OPEN_PREVIEW)
        er_buf_printf(&body, "\n[... %zu more bytes: read them with browser_read ...]",
                      strlen(text) - OPEN_PREVIEW);
    er_untrusted_fence(&f, "web page", er_json_str(r, "url"), body.ptr, body.len);
    er_json_add_str(o, "content", er_buf_cstr(&f));
    er_json_add_num(o, "text_bytes", (double)strlen(text));
    er_buf_release(&f);
    er_buf_release(&body);
    cJSON_Delete(r);
    return 0;
}

static int run_open(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_open", true, open_page, out, err);
}

/* ---- browser_read ---- */

static int read_page(page *p, cJSON *o, er_error *err)
{
    cJSON *r = NULL, *a = cJSON_CreateObject();
    if (er_json_str(p->args, "selector"))
        er_json_add_str(a, "selector", er_json_str(p->args, "selector"));
    er_json_add_num(a, "timeout", 0);
    int rc = act(p, bjs_read, a, &r, err);
    if (rc)
        return rc;
    size_t max = (size_t)er_json_int(p->args, "max_chars", DEFAULT_CHARS, 1, ER_TOOLS_BUDGET / 3);
    size_t start = (size_t)er_json_int(p->args, "start", 0, 0, INT32_MAX);
    const char *text = er_json_str(r, "text") ? er_json_str(r, "text") : "";
    size_t len = strlen(text);
    if (start > len)
        start = len;
    while (start > 0 && start < len && ((unsigned char)text[start] & 0xC0) == 0x80)
        start++;
    size_t n = len - start > max ? max : len - start;
    er_buf body = ER_BUF_INIT, f = ER_BUF_INIT;
    er_buf_printf(&body, "Title: %s\n\n", er_json_str(r, "title") ? er_json_str(r, "title") : "");
    er_tools_clip(&body, text + start, n, n);
    if (start + n < len)
        er_buf_printf(&body, "\n[... %zu more bytes: call again with start=%zu ...]",
                      len - start - n, start + n);
    const cJSON *l;
    int k = 0;
    cJSON_ArrayForEach(l, er_json_arr(r, "links"))
        er_buf_printf(&body, "%s[%s](%s)", k++ == 0 ? "\n\nLinks:\n- " : "\n- ",
                      er_json_str(l, "text") ? er_json_str(l, "text") : "", er_json_str(l, "url"));
    k = 0;
    cJSON_ArrayForEach(l, er_json_arr(r, "elements"))
    {
        er_buf_printf(&body, "%sref=%s %s%s%s \"%s\"", k++ == 0 ? "\n\nElements:\n- " : "\n- ",
                      er_json_str(l, "ref"), er_json_str(l, "tag"),
                      er_json_str(l, "type") ? " type=" : "",
                      er_json_str(l, "type") ? er_json_str(l, "type") : "",
                      er_json_str(l, "text") ? er_json_str(l, "text") : "");
        if (er_json_str(l, "name"))
            er_buf_printf(&body, " name=%s", er_json_str(l, "name"));
    }
    er_untrusted_fence(&f, "web page", er_json_str(r, "url"), body.ptr, body.len);
    er_json_add_str(o, "url", er_json_str(r, "url"));
    er_json_add_num(o, "text_bytes", (double)len);
    er_json_add_str(o, "content", er_buf_cstr(&f));
    er_buf_release(&body);
    er_buf_release(&f);
    cJSON_Delete(r);
    return 0;
}

static int run_read(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_read", false, read_page, out, err);
}

/* ---- browser_extract ---- */

/* Runs the extraction p->args asks for: *rows (OWNED) and the matches in
 * all (*total; rows stop at limit). */
static int extract_rows(page *p, const char *tool, cJSON **rows, double *total, er_error *err)
{
    const char *kind = er_json_str(p->args, "kind") ? er_json_str(p->args, "kind") : "elements";
    if (strcmp(kind, "elements") == 0 && !er_json_str(p->args, "selector"))
        return er_error_set(err, ER_EINVAL, "%s: kind elements needs a selector", tool);
    cJSON *a = cJSON_CreateObject(), *r = NULL;
    er_json_add_str(a, "kind", kind);
    if (er_json_str(p->args, "selector"))
        er_json_add_str(a, "selector", er_json_str(p->args, "selector"));
    const cJSON *fields = er_json_obj(p->args, "fields");
    if (fields)
        er_json_add(a, "fields", cJSON_Duplicate(fields, true));
    er_json_add_num(a, "limit", (double)er_json_int(p->args, "limit", 200, 1, 5000));
    er_json_add_num(a, "timeout", 0);
    int rc = act(p, bjs_extract, a, &r, err);
    if (rc)
        return rc;
    *rows = cJSON_DetachItemFromObjectCaseSensitive(r, "rows");
    if (!cJSON_IsArray(*rows)) {
        cJSON_Delete(*rows);
        *rows = cJSON_CreateArray();
    }
    *total = er_json_num(r, "total", 0);
    cJSON_Delete(r);
    return 0;
}

static int extract_page(page *p, cJSON *o, er_error *err)
{
    cJSON *rows = NULL;
    double total = 0;
    int rc = extract_rows(p, "browser_extract", &rows, &total, err);
    if (rc)
        return rc;
    add_where(p, o);
    er_json_add_num(o, "count", (double)cJSON_GetArraySize(rows));
    er_json_add_num(o, "total", total);
    char *json = er_json_print(rows);
    cJSON_Delete(rows);
    er_buf f = ER_BUF_INIT;
    size_t len = strlen(json);
    if (len > ER_TOOLS_BUDGET / 2) {
        free(json);
        return er_error_set(err, ER_ETOOBIG,
                            "browser_extract: the rows take %zu bytes; ask "
                            "for fewer (limit), narrower fields, or save them "
                            "with browser_export",
                            len);
    }
    er_untrusted_fence(&f, "extracted data (JSON)", er_json_str(o, "url"), json, len);
    er_json_add_str(o, "rows", er_buf_cstr(&f));
    er_buf_release(&f);
    free(json);
    return 0;
}

static int run_extract(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_extract", false, extract_page, out, err);
}

/* ---- element actions: click, type, select, wait, scroll ---- */

static int element_action(page *p, cJSON *o, const char *js, cJSON *a, bool settle, er_error *err)
{
    cJSON *r = NULL;
    int rc = act(p, js, a, &r, err);
    if (rc)
        return rc;
    cJSON *c;
    while ((c = r ? r->child : NULL)) {
        cJSON_DetachItemViaPointer(r, c);
        if (!p->untrusted && cJSON_IsObject(c)) /* the element's label is page text */
            cJSON_DeleteItemFromObjectCaseSensitive(c, "text");
        er_json_add(o, c->string, c);
    }
    cJSON_Delete(r);
    if (settle) {
        er_error e = { 0 };
        if (er_browser_settle(p->b, &e) != 0) {
            if (e.code == ER_EUNAVAIL)
                return er_error_set(err, e.code, "%s", e.msg);
            er_json_add_str(o, "note", e.msg);
        }
    }
    add_where(p, o);
    return 0;
}

static int click_page(page *p, cJSON *o, er_error *err)
{
    int rc = need_target(p->args, "browser_click", err);
    return rc ? rc : element_action(p, o, bjs_click, target_arg(p->ctx, p->args), true, err);
}

static int type_page(page *p, cJSON *o, er_error *err)
{
    int rc = need_target(p->args, "browser_type", err);
    if (rc)
        return rc;
    cJSON *a = target_arg(p->ctx, p->args);
    er_json_add_bool(a, "submit", er_json_bool(p->args, "submit", false));
    er_json_add_bool(a, "clear", er_json_bool(p->args, "clear", true));
    return element_action(p, o, bjs_type, a, er_json_bool(p->args, "submit", false), err);
}

static int select_page(page *p, cJSON *o, er_error *err)
{
    int rc = need_target(p->args, "browser_select", err);
    return rc ? rc : element_action(p, o, bjs_select, target_arg(p->ctx, p->args), true, err);
}

static int wait_page(page *p, cJSON *o, er_error *err)
{
    int rc = need_target(p->args, "browser_wait", err);
    return rc ? rc : element_action(p, o, bjs_wait, target_arg(p->ctx, p->args), false, err);
}

static int scroll_page(page *p, cJSON *o, er_error *err)
{
    cJSON *a = target_arg(p->ctx, p->args);
    int cap = wait_ms(p->ctx, NULL);
    int pause = (int)er_json_int(p->args, "pause_ms", 400, 0, 5000);
    int times = (int)er_json_int(p->args, "times", 1, 1, 100);
    if (pause > 0 && times * pause > cap)
        times = cap / pause > 0 ? cap / pause : 1; /* stays inside the command timeout */
    er_json_add_num(a, "times", times);
    er_json_add_num(a, "pause", pause);
    er_json_add_num(a, "by", (double)er_json_int(p->args, "by", 600, -100000, 100000));
    return element_action(p, o, bjs_scroll, a, false, err);
}

static int run_click(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_click", false, click_page, out, err);
}

static int run_type(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_type", false, type_page, out, err);
}

static int run_select(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_select", false, select_page, out, err);
}

static int run_wait(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_wait", false, wait_page, out, err);
}

static int run_scroll(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_scroll", false, scroll_page, out, err);
}

/* ---- back ---- */

static int back_page(page *p, cJSON *o, er_error *err)
{
    int rc = er_browser_back(p->b, err);
    if (rc == 0)
        add_where(p, o);
    return rc;
}

static int run_back(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_back", false, back_page, out, err);
}

/* ---- screenshot, pdf: files in the workspace ---- */

static int save(page *p, const char *rel, const er_buf *data, cJSON *o, er_error *err)
{
    er_workspace ws;
    int rc = er_tools_workspace(&ws, p->ctx, err);
    if (rc)
        return rc;
    char *abs = NULL;
    int fd = -1;
    rc = er_workspace_resolve(&abs, &ws, rel, err);
    if (rc == 0)
        rc = er_data_tool_create(&ws, abs, &fd, err);
    for (size_t off = 0; rc == 0 && off < data->len;) {
        ssize_t w = write(fd, data->ptr + off, data->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = er_error_set(err, ER_EIO, "cannot write %s: %s", rel, strerror(errno));
        else
            off += (size_t)w;
    }
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", rel, strerror(errno));
    if (rc == 0) {
        er_json_add_str(o, "file", er_workspace_rel(&ws, abs));
        er_json_add_num(o, "bytes", (double)data->len);
    }
    free(abs);
    er_workspace_release(&ws);
    return rc;
}

static char *default_name(const char *dir, const char *ext)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    return er_xasprintf("%s/page-%s.%s", dir, stamp, ext);
}

/* The PNG of the element the arguments name; its box goes into o. */
static int element_png(page *p, cJSON *o, er_buf *png, er_error *err)
{
    if (er_json_bool(p->args, "full_page", false))
        return er_error_set(err, ER_EINVAL,
                            "browser_screenshot: full_page and an element (selector, text or "
                            "ref) exclude each other");
    cJSON *r = NULL;
    int rc = act(p, bjs_box, target_arg(p->ctx, p->args), &r, err);
    if (rc)
        return rc;
    er_browser_area a = { er_json_num(r, "x", 0), er_json_num(r, "y", 0),
                          er_json_num(r, "width", 0), er_json_num(r, "height", 0) };
    cJSON *box = cJSON_CreateObject();
    er_json_add_str(box, "tag", er_json_str(r, "tag"));
    er_json_add_num(box, "x", a.x);
    er_json_add_num(box, "y", a.y);
    er_json_add_num(box, "width", a.width);
    er_json_add_num(box, "height", a.height);
    er_json_add(o, "element", box);
    cJSON_Delete(r);
    return er_browser_screenshot_area(p->b, &a, png, err);
}

static int screenshot_page(page *p, cJSON *o, er_error *err)
{
    int rc = er_tools_need_writable(p->ctx, err);
    er_buf png;
    er_buf_init(&png, FILE_MAX);
    bool element = er_json_str(p->args, "selector") || er_json_str(p->args, "text") ||
                   er_json_str(p->args, "ref");
    if (rc == 0 && element)
        rc = element_png(p, o, &png, err);
    else if (rc == 0)
        rc = er_browser_screenshot(p->b, er_json_bool(p->args, "full_page", false), &png, err);
    char *name = er_json_str(p->args, "path") ? er_xstrdup(er_json_str(p->args, "path"))
                                              : default_name("screenshots", "png");
    if (rc == 0)
        rc = save(p, name, &png, o, err);
    if (rc == 0)
        add_where(p, o);
    free(name);
    er_buf_release(&png);
    return rc;
}

static int pdf_page(page *p, cJSON *o, er_error *err)
{
    int rc = er_tools_need_writable(p->ctx, err);
    er_buf pdf;
    er_buf_init(&pdf, FILE_MAX);
    if (rc == 0)
        rc = er_browser_pdf(p->b, &pdf, err);
    char *name = er_json_str(p->args, "path") ? er_xstrdup(er_json_str(p->args, "path"))
                                              : default_name("pdf", "pdf");
    if (rc == 0)
        rc = save(p, name, &pdf, o, err);
    if (rc == 0)
        add_where(p, o);
    free(name);
    er_buf_release(&pdf);
    return rc;
}

static int run_screenshot(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_screenshot", false, screenshot_page, out, err);
}

static int run_pdf(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_pdf", false, pdf_page, out, err);
}

/* ---- browser_export: extracted rows into a JSON or CSV file ---- */

/* The columns of rows, in the order they first appear: an object row's keys;
 * a row that is a list (a table without a header) gives col1, col2, … */
static cJSON *csv_columns(const cJSON *rows)
{
    cJSON *cols = cJSON_CreateArray();
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, rows)
    {
        int i = 0;
        cJSON_ArrayForEach(v, row)
        {
            char name[32];
            const char *key = cJSON_IsArray(row) ? name : v->string;
            snprintf(name, sizeof name, "col%d", ++i);
            const cJSON *c;
            bool seen = false;
            cJSON_ArrayForEach(c, cols) seen = seen || strcmp(c->valuestring, key) == 0;
            if (!seen)
                cJSON_AddItemToArray(cols, cJSON_CreateString(key));
        }
    }
    return cols;
}

static const cJSON *row_value(const cJSON *row, const char *col)
{
    if (!cJSON_IsArray(row))
        return cJSON_GetObjectItemCaseSensitive(row, col);
    char *end = NULL;
    long i = strncmp(col, "col", 3) == 0 ? strtol(col + 3, &end, 10) : 0;
    return i > 0 && end && !*end ? cJSON_GetArrayItem(row, (int)i - 1) : NULL;
}

/* One cell.  The text is the page's: a spreadsheet would run a cell starting
 * with = + - @ (or a tab, CR) as a formula, so such a text that is not a
 * number is written with a leading apostrophe (OWASP's CSV injection advice). */
static void csv_cell(er_buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return;
    char *text = cJSON_IsString(v) ? er_xstrdup(v->valuestring) : er_json_print(v);
    if (cJSON_IsString(v) && text[0] && strchr("=+-@\t\r", text[0])) {
        char *end = NULL;
        strtod(text, &end);
        if (!end || *end) {
            char *quoted = er_xasprintf("'%s", text);
            free(text);
            text = quoted;
        }
    }
    er_csv_put_field(b, text, strlen(text));
    free(text);
}

static void rows_csv(er_buf *b, const cJSON *rows)
{
    cJSON *cols = csv_columns(rows);
    const cJSON *c, *row;
    int i = 0;
    cJSON_ArrayForEach(c, cols)
    {
        if (i++)
            er_buf_putc(b, ',');
        er_csv_put_field(b, c->valuestring, strlen(c->valuestring));
    }
    er_buf_puts(b, "\r\n");
    cJSON_ArrayForEach(row, rows)
    {
        i = 0;
        cJSON_ArrayForEach(c, cols)
        {
            if (i++)
                er_buf_putc(b, ',');
            csv_cell(b, row_value(row, c->valuestring));
        }
        er_buf_puts(b, "\r\n");
    }
    cJSON_Delete(cols);
}

/* The format asked for, else the output's extension says (.csv), else JSON. */
static const char *export_format(const cJSON *args)
{
    const char *f = er_json_str(args, "format");
    if (f)
        return f;
    return er_str_ends(er_json_str(args, "output"), ".csv") ? "csv" : "json";
}

static int export_page(page *p, cJSON *o, er_error *err)
{
    const char *format = export_format(p->args), *file = er_json_str(p->args, "output");
    if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return er_error_set(err, ER_EINVAL, "browser_export: format '%s' is not json or csv",
                            format);
    if (er_str_empty(file))
        return er_error_set(err, ER_EINVAL,
                            "browser_export: give output, a workspace path such as "
                            "data/rows.%s",
                            format);
    int rc = er_tools_need_writable(p->ctx, err);
    cJSON *rows = NULL;
    double total = 0;
    if (rc == 0)
        rc = extract_rows(p, "browser_export", &rows, &total, err);
    if (rc)
        return rc;
    er_buf data = ER_BUF_INIT; /* as big as the rows the browser's answer held */
    if (strcmp(format, "csv") == 0) {
        rows_csv(&data, rows);
    } else {
        char *json = cJSON_Print(rows);
        er_buf_puts(&data, json);
        er_buf_putc(&data, '\n');
        free(json);
    }
    rc = save(p, file, &data, o, err);
    if (rc == 0) {
        er_json_add_str(o, "format", format);
        er_json_add_num(o, "count", (double)cJSON_GetArraySize(rows));
        er_json_add_num(o, "total", total);
        add_where(p, o);
    }
    cJSON_Delete(rows);
    er_buf_release(&data);
    return rc;
}

static int run_export(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_export", false, export_page, out, err);
}

/* ---- browser_record, browser_trends: dated snapshots and what changed ---- */

static int trends_opts(const cJSON *args, er_trends_opts *o, int64_t *window, er_error *err)
{
    *o = (er_trends_opts){ er_json_str(args, "key"), (int)er_json_int(args, "top", 10, 1, 100) };
    *window = 0;
    const char *w = er_json_str(args, "window");
    return w ? er_trends_parse_window(w, window, err) : 0;
}

/* The report fenced: everything in it is the pages' text. */
static void add_report(cJSON *o, const cJSON *report)
{
    er_buf text = ER_BUF_INIT, f = ER_BUF_INIT;
    er_trends_text(report, &text);
    er_untrusted_fence(&f, "trend report", er_json_str(report, "source"), text.ptr, text.len);
    er_json_add_str(o, "report", er_buf_cstr(&f));
    er_buf_release(&text);
    er_buf_release(&f);
}

static int record_page(page *p, cJSON *o, er_error *err)
{
    er_store *st = NULL;
    er_trends_opts to;
    int64_t window;
    int rc = trends_opts(p->args, &to, &window, err);
    if (rc == 0)
        rc = er_env_store(p->ctx->env, &st, err);
    cJSON *rows = NULL, *where = NULL;
    double total = 0;
    if (rc == 0)
        rc = extract_rows(p, "browser_record", &rows, &total, err);
    if (rc == 0)
        rc = er_browser_eval(p->b, bjs_where, &where, err);
    if (rc)
        return rc;
    char *json = er_json_print(rows);
    er_snapshot s = { .source = (char *)er_json_str(p->args, "source"),
                      .url = (char *)er_json_str(where, "url"),
                      .task_id = (char *)p->ctx->task_id,
                      .rows = json };
    rc = er_store_snapshot_add(st, &s, err);
    cJSON *report = NULL;
    if (rc == 0)
        rc = er_trends_latest(st, s.source, window, &to, &report, err);
    if (rc == 0) {
        er_json_add_str(o, "url", s.url);
        er_json_add_str(o, "source", s.source);
        er_json_add_str(o, "snapshot", s.id);
        er_json_add_num(o, "count", (double)s.count);
        er_json_add_num(o, "total", total);
        add_report(o, report);
    }
    cJSON_Delete(report);
    free(json);
    cJSON_Delete(rows);
    cJSON_Delete(where);
    return rc;
}

static int run_record(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_record", false, record_page, out, err);
}

/* Without a source: the sources and their snapshots. */
static int list_sources(er_store *st, cJSON *o, er_error *err)
{
    er_snapshot_source *v = NULL;
    size_t n = 0;
    int rc = er_store_snapshot_sources(st, &v, &n, err);
    cJSON *list = cJSON_AddArrayToObject(o, "sources");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        er_json_add_str(e, "source", v[i].source);
        er_json_add_num(e, "snapshots", (double)v[i].count);
        char t[40];
        er_time_iso(v[i].latest_ms, t, sizeof t);
        er_json_add_str(e, "latest", t);
        cJSON_AddItemToArray(list, e);
    }
    er_snapshot_sources_free(v, n);
    return rc;
}

static int run_trends(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_store *st = NULL;
    er_trends_opts to;
    int64_t window;
    int rc = trends_opts(args, &to, &window, err);
    if (rc == 0)
        rc = er_env_store(ctx->env, &st, err);
    if (rc)
        return rc;
    const char *source = er_json_str(args, "source");
    cJSON *o = cJSON_CreateObject(), *report = NULL;
    if (er_str_empty(source))
        rc = list_sources(st, o, err);
    else
        rc = er_trends_latest(st, source, window, &to, &report, err);
    if (report)
        add_report(o, report);
    if (rc == 0)
        rc = er_tools_emit(out, o, err);
    cJSON_Delete(report);
    cJSON_Delete(o);
    return rc;
}

/* ---- eval ---- */

static int eval_page(page *p, cJSON *o, er_error *err)
{
    cJSON *v = NULL;
    int rc = er_browser_eval(p->b, er_json_str(p->args, "script"), &v, err);
    if (rc)
        return rc;
    char *json = er_json_print(v);
    cJSON_Delete(v);
    size_t len = strlen(json);
    if (len > ER_TOOLS_BUDGET / 2) {
        free(json);
        return er_error_set(err, ER_ETOOBIG,
                            "browser_eval: the result takes %zu bytes; "
                            "return less",
                            len);
    }
    er_buf f = ER_BUF_INIT;
    er_untrusted_fence(&f, "script result (JSON)", "browser_eval", json, len);
    er_json_add_str(o, "result", er_buf_cstr(&f));
    er_buf_release(&f);
    free(json);
    add_where(p, o);
    return 0;
}

static int run_eval(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_eval", false, eval_page, out, err);
}

/* ---- block ---- */

/* The strings of args[key] (BORROWED from args) into *out; ER_EINVAL for
 * anything else in the list. */
static int string_list(const cJSON *args, const char *key, const char ***out, size_t *n,
                       er_error *err)
{
    const cJSON *arr = er_json_arr(args, key), *v;
    *n = 0;
    *out = er_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof **out);
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsString(v) || er_str_empty(v->valuestring))
            return er_error_set(err, ER_EINVAL,
                                "browser_block: %s must be a list of non-empty "
                                "strings",
                                key);
        (*out)[(*n)++] = v->valuestring;
    }
    return 0;
}

static int block_page(page *p, cJSON *o, er_error *err)
{
    const char **pats = NULL, **types = NULL;
    size_t np = 0, nt = 0;
    int rc = string_list(p->args, "patterns", &pats, &np, err);
    if (rc == 0)
        rc = string_list(p->args, "types", &types, &nt, err);
    if (rc == 0)
        rc = er_browser_block(p->b, pats, np, types, nt, err);
    if (rc == 0) {
        er_json_add(o, "patterns", cJSON_Duplicate(er_json_arr(p->args, "patterns"), true));
        er_json_add(o, "types", cJSON_Duplicate(er_json_arr(p->args, "types"), true));
    }
    free(pats);
    free(types);
    return rc;
}

static int run_block(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    return with_page(ctx, args, "browser_block", true, block_page, out, err);
}

/* ---- close ---- */

static int run_close(const er_tool_ctx *ctx, const cJSON *args, er_buf *out, er_error *err)
{
    er_browser_pool *pool = NULL;
    int rc = er_env_browsers(ctx->env, &pool, err);
    if (rc)
        return rc;
    const char *s = session_of(ctx, args);
    bool had = er_browser_pool_end(pool, s);
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "session", s);
    er_json_add_bool(o, "closed", had);
    rc = er_tools_emit(out, o, err);
    cJSON_Delete(o);
    return rc;
}

/* ---- the table ---- */

#define P_SESSION                                                                \
    "\"session\":{\"type\":\"string\",\"description\":\"named browser session: " \
    "its own page and cookies, kept between tasks (a login survives); default: " \
    "this task's (its cookies are not kept)\"}"
#define P_URL_FIRST                                                         \
    "\"url\":{\"type\":\"string\",\"description\":\"open this http(s) URL " \
    "first (default: the page already open)\"}"
#define P_TARGET                                                                               \
    "\"selector\":{\"type\":\"string\",\"description\":\"CSS selector of the element\"},"      \
    "\"text\":{\"type\":\"string\",\"description\":\"visible text of the element (with "       \
    "selector: among its matches)\"},"                                                         \
    "\"ref\":{\"type\":\"string\",\"description\":\"element ref from browser_read\"},"         \
    "\"timeout_ms\":{\"type\":\"integer\",\"description\":\"how long to wait for the element " \
    "to be visible and stable (default 5000)\"}"

static const er_tool browser_tools[] = {
    { "browser_open",
      "Open a web page in a real browser (JavaScript runs) and wait for it to load. Returns the "
      "final URL and the start of the page's text, fenced as untrusted data.",
      "{\"type\":\"object\",\"properties\":{"
      "\"url\":{\"type\":\"string\",\"description\":\"an absolute http:// or https:// URL\"},"
      "\"width\":{\"type\":\"integer\",\"description\":\"viewport width, CSS pixels (device "
      "emulation; kept for the session)\"},"
      "\"height\":{\"type\":\"integer\",\"description\":\"viewport height\"},"
      "\"scale\":{\"type\":\"number\",\"description\":\"device pixel ratio, e.g. 2\"},"
      "\"mobile\":{\"type\":\"boolean\",\"description\":\"a phone's viewport rules\"},"
      "\"touch\":{\"type\":\"boolean\",\"description\":\"touch events\"},"
      "\"user_agent\":{\"type\":\"string\"},"
      "\"locale\":{\"type\":\"string\",\"description\":\"e.g. de-DE\"},"
      "\"timezone\":{\"type\":\"string\",\"description\":\"IANA name, e.g. Asia/Tokyo\"}," P_SESSION
      "},\"required\":[\"url\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "open URL", run_open, true },
    { "browser_read",
      "Read the open page as it is now (after scripts ran): its visible text, links, and the "
      "interactive elements with refs that browser_click/browser_type accept; fenced as "
      "untrusted data. Long texts are cut at max_chars; call again with start.",
      "{\"type\":\"object\",\"properties\":{" P_URL_FIRST ","
      "\"selector\":{\"type\":\"string\",\"description\":\"only this element's text\"},"
      "\"max_chars\":{\"type\":\"integer\",\"description\":\"bytes of text (default 20000)\"},"
      "\"start\":{\"type\":\"integer\",\"description\":\"byte offset to start at\"}," P_SESSION
      "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, "read [URL]", run_read, true },
    { "browser_extract",
      "Extract structured data from the open page as JSON rows (fenced as untrusted data): "
      "kind elements (one row per selector match; fields maps names to sub-selectors, "
      "'sel@attr' for an attribute), table (rows keyed by the header), links, or meta "
      "(JSON-LD, OpenGraph, description).",
      "{\"type\":\"object\",\"properties\":{" P_URL_FIRST ","
      "\"selector\":{\"type\":\"string\",\"description\":\"CSS selector of the rows (or of the "
      "table)\"},"
      "\"kind\":{\"type\":\"string\",\"enum\":[\"elements\",\"table\",\"links\",\"meta\"],"
      "\"description\":\"default elements\"},"
      "\"fields\":{\"type\":\"object\",\"description\":\"name -> sub-selector within a row, "
      "e.g. {\\\"title\\\":\\\"h2\\\",\\\"link\\\":\\\"a@href\\\"}\"},"
      "\"limit\":{\"type\":\"integer\",\"description\":\"rows at most (default 200)\"}," P_SESSION
      "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, "extract URL SELECTOR", run_extract, true },
    { "browser_export",
      "Extract structured data from the open page like browser_extract and save the rows "
      "into a workspace file, as JSON (an array of objects) or CSV (a header of the fields, "
      "one line per row). Returns the file and the row count, not the rows.",
      "{\"type\":\"object\",\"properties\":{" P_URL_FIRST ","
      "\"selector\":{\"type\":\"string\",\"description\":\"CSS selector of the rows (or of the "
      "table)\"},"
      "\"kind\":{\"type\":\"string\",\"enum\":[\"elements\",\"table\",\"links\",\"meta\"],"
      "\"description\":\"default elements\"},"
      "\"fields\":{\"type\":\"object\",\"description\":\"name -> sub-selector within a row, "
      "'sel@attr' for an attribute\"},"
      "\"limit\":{\"type\":\"integer\",\"description\":\"rows at most (default 200)\"},"
      "\"output\":{\"type\":\"string\",\"description\":\"workspace path of the file, e.g. "
      "data/prices.csv\"},"
      "\"format\":{\"type\":\"string\",\"enum\":[\"json\",\"csv\"],\"description\":\"default: "
      "csv when output ends in .csv, else json\"}," P_SESSION
      "},\"required\":[\"output\"],\"additionalProperties\":false}",
      ER_PERM_WRITE, "extract URL SELECTOR", run_export, true },
    { "browser_record",
      "Watch a page over time: extract rows like browser_extract and keep them as a dated "
      "snapshot of a named source in errand's history, then report what changed since the "
      "snapshot before (or the one a window earlier): new and gone items, numbers rising and "
      "falling, items moving up or down, words getting more or less frequent. The report is "
      "fenced as untrusted data.",
      "{\"type\":\"object\",\"properties\":{"
      "\"source\":{\"type\":\"string\",\"description\":\"name of what is watched, e.g. hn or "
      "oil-prices; snapshots of one source are compared\"}," P_URL_FIRST ","
      "\"selector\":{\"type\":\"string\",\"description\":\"CSS selector of the rows (or of the "
      "table)\"},"
      "\"kind\":{\"type\":\"string\",\"enum\":[\"elements\",\"table\",\"links\",\"meta\"]},"
      "\"fields\":{\"type\":\"object\",\"description\":\"name -> sub-selector within a row, "
      "'sel@attr' for an attribute; include a name/title field and the numbers to follow\"},"
      "\"limit\":{\"type\":\"integer\",\"description\":\"rows at most (default 200)\"},"
      "\"key\":{\"type\":\"string\",\"description\":\"field that names an item (default: "
      "title, name or text)\"},"
      "\"window\":{\"type\":\"string\",\"description\":\"compare with the snapshot at least "
      "this long before, e.g. 6h, 1d, 1w (default: the previous one)\"},"
      "\"top\":{\"type\":\"integer\",\"description\":\"entries per list (default 10)\"}," P_SESSION
      "},\"required\":[\"source\"],\"additionalProperties\":false}",
      ER_PERM_NETWORK, "record SOURCE URL SELECTOR", run_record, false },
    { "browser_trends",
      "The trend report of a watched source from its stored snapshots (browser_record): "
      "what changed between its newest snapshot and the one before (or a window earlier). "
      "Without source: the sources watched. The report is the pages' text, fenced as "
      "untrusted data.",
      "{\"type\":\"object\",\"properties\":{"
      "\"source\":{\"type\":\"string\"},"
      "\"key\":{\"type\":\"string\",\"description\":\"field that names an item\"},"
      "\"window\":{\"type\":\"string\",\"description\":\"e.g. 6h, 1d, 1w\"},"
      "\"top\":{\"type\":\"integer\",\"description\":\"entries per list (default 10)\"}"
      "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, "trends [SOURCE]", run_trends, true },
    { "browser_click",
      "Click an element of the open page (found by CSS selector, visible text or ref), after "
      "waiting for it to be visible and stable; waits for a navigation it starts. May submit "
      "a form: needs approval.",
      "{\"type\":\"object\",\"properties\":{" P_TARGET "," P_SESSION
      "},\"additionalProperties\":false}",
      ER_PERM_SEND, NULL, run_click, false },
    { "browser_type",
      "Type text into a field of the open page (replacing what it holds unless clear is "
      "false); submit: true then submits its form. Sends data to the site: needs approval.",
      "{\"type\":\"object\",\"properties\":{" P_TARGET ","
      "\"value\":{\"type\":\"string\",\"description\":\"the text to type\"},"
      "\"submit\":{\"type\":\"boolean\",\"description\":\"submit the form afterwards\"},"
      "\"clear\":{\"type\":\"boolean\",\"description\":\"empty the field first (default "
      "true)\"}," P_SESSION "},\"required\":[\"value\"],\"additionalProperties\":false}",
      ER_PERM_SEND, NULL, run_type, false },
    { "browser_select",
      "Choose an option (by value or visible text) in a select list of the open page. Needs "
      "approval.",
      "{\"type\":\"object\",\"properties\":{" P_TARGET ","
      "\"value\":{\"type\":\"string\",\"description\":\"the option's value or text\"}," P_SESSION
      "},\"required\":[\"value\"],\"additionalProperties\":false}",
      ER_PERM_SEND, NULL, run_select, false },
    { "browser_wait",
      "Wait until an element of the open page is visible (or, with state hidden, gone) — for "
      "pages that render their content late.",
      "{\"type\":\"object\",\"properties\":{" P_TARGET ","
      "\"state\":{\"type\":\"string\",\"enum\":[\"visible\",\"hidden\"]}," P_SESSION
      "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, NULL, run_wait, true },
    { "browser_scroll",
      "Scroll the open page: by pixels, to the top, to the bottom (times: repeat while more "
      "content loads, for infinite lists), or to an element.",
      "{\"type\":\"object\",\"properties\":{"
      "\"to\":{\"type\":\"string\",\"enum\":[\"top\",\"bottom\"]},"
      "\"by\":{\"type\":\"integer\",\"description\":\"pixels down (negative: up); default 600\"},"
      "\"times\":{\"type\":\"integer\",\"description\":\"with to=bottom: scrolls at most, "
      "stopping when the page stops growing (default 1)\"},"
      "\"pause_ms\":{\"type\":\"integer\",\"description\":\"wait after each scroll (default "
      "400)\"}," P_TARGET "," P_SESSION "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, NULL, run_scroll, true },
    { "browser_back", "Go back one page in the session's history.",
      "{\"type\":\"object\",\"properties\":{" P_SESSION "},\"additionalProperties\":false}",
      ER_PERM_NETWORK, NULL, run_back, false },
    { "browser_screenshot",
      "Save a PNG screenshot into the workspace: the viewport, the whole page, or one element "
      "(by selector, visible text or ref).",
      "{\"type\":\"object\",\"properties\":{" P_URL_FIRST ","
      "\"path\":{\"type\":\"string\",\"description\":\"workspace path (default "
      "screenshots/page-TIME.png)\"},"
      "\"full_page\":{\"type\":\"boolean\",\"description\":\"the whole page, not just the "
      "viewport\"}," P_TARGET "," P_SESSION "},\"additionalProperties\":false}",
      ER_PERM_WRITE, "screenshot URL [PATH]", run_screenshot, true },
    { "browser_pdf", "Print the page to a PDF file in the workspace.",
      "{\"type\":\"object\",\"properties\":{" P_URL_FIRST ","
      "\"path\":{\"type\":\"string\",\"description\":\"workspace path (default "
      "pdf/page-TIME.pdf)\"}," P_SESSION "},\"additionalProperties\":false}",
      ER_PERM_WRITE, "pdf URL [PATH]", run_pdf, true },
    { "browser_eval",
      "Run JavaScript in the open page and return its value as JSON (a promise is awaited). "
      "Runs code: needs approval.",
      "{\"type\":\"object\",\"properties\":{"
      "\"script\":{\"type\":\"string\",\"description\":\"a JavaScript expression\"}," P_SESSION
      "},\"required\":[\"script\"],\"additionalProperties\":false}",
      ER_PERM_EXEC, NULL, run_eval, false },
    { "browser_block",
      "Block requests of the session's pages from now on: URLs matching glob patterns ('*' any "
      "characters, e.g. \"*://ads.example.com/*\", \"*.mp4\") and resource types (image, "
      "media, font, stylesheet, script, xhr, fetch, websocket, other). Replaces the earlier "
      "lists; empty lists unblock.",
      "{\"type\":\"object\",\"properties\":{"
      "\"patterns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
      "\"types\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}," P_SESSION
      "},\"additionalProperties\":false}",
      ER_PERM_READ, NULL, run_block, true },
    { "browser_close", "Close the session's browser (its page, cookies and profile go).",
      "{\"type\":\"object\",\"properties\":{" P_SESSION "},\"additionalProperties\":false}",
      ER_PERM_READ, NULL, run_close, true },
};

const er_tool_family er_tools_browser = { "browser", browser_tools, ER_ARRAY_LEN(browser_tools) };
