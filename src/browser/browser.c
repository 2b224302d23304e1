/* browser.c — the browser seam's registry and dispatch (see browser.h).
 * Only this file dereferences ->be. */
#include "errand/browser.h"
#include "errand/str.h"

#include <assert.h>
#include <string.h>

extern const er_browser_backend er_browser_chromium;
extern const er_browser_backend er_browser_firefox;
extern const er_browser_backend er_browser_webkit;

/* Each backend starts its browser only when opened: naming one costs nothing. */
static const er_browser_backend *const backends[] = { &er_browser_chromium, &er_browser_firefox,
                                                      &er_browser_webkit };

const char *er_browser_engines(void)
{
    return "chromium, firefox, webkit";
}

int er_browser_open(er_browser **out, const er_browser_opts *o, er_error *err)
{
    *out = NULL;
    er_browser_opts opts = *o;
    if (er_str_empty(opts.engine))
        opts.engine = "chromium";
    if (opts.width <= 0 || opts.height <= 0) {
        opts.width = 1024;
        opts.height = 768;
    }
    if (opts.page_timeout_ms <= 0)
        opts.page_timeout_ms = 30000;
    if (opts.command_timeout_ms <= 0)
        opts.command_timeout_ms = 10000;
    for (size_t i = 0; i < ER_ARRAY_LEN(backends); i++)
        if (strcmp(backends[i]->engine, opts.engine) == 0)
            return backends[i]->open(out, &opts, err);
    return er_error_set(err, ER_EINVAL,
                        "unknown browser engine '%s' (browser.engine): this "
                        "build has %s",
                        opts.engine, er_browser_engines());
}

void er_browser_close(er_browser *b)
{
    if (b)
        b->be->close(b);
}

bool er_browser_alive(er_browser *b)
{
    return b && b->be->alive(b);
}

const char *er_browser_engine(const er_browser *b)
{
    return b->be->engine;
}

int er_browser_navigate(er_browser *b, const char *url, er_error *err)
{
    if (er_str_empty(url))
        return er_error_set(err, ER_EINVAL, "no URL to open");
    return b->be->navigate(b, url, err);
}

int er_browser_eval(er_browser *b, const char *expr, cJSON **out, er_error *err)
{
    *out = NULL;
    return b->be->eval(b, expr, out, err);
}

int er_browser_screenshot(er_browser *b, bool full_page, er_buf *png, er_error *err)
{
    return b->be->screenshot(b, full_page, png, err);
}

int er_browser_screenshot_area(er_browser *b, const er_browser_area *a, er_buf *png, er_error *err)
{
    if (b->be->version < 2 || !b->be->screenshot_area)
        return er_error_set(err, ER_EINVAL, "%s cannot capture one element of a page",
                            b->be->engine);
    if (!(a->width >= 1 && a->height >= 1))
        return er_error_set(err, ER_EINVAL, "the element has no area to capture (%gx%g)", a->width,
                            a->height);
    return b->be->screenshot_area(b, a, png, err);
}

int er_browser_pdf(er_browser *b, er_buf *pdf, er_error *err)
{
    return b->be->pdf(b, pdf, err);
}

int er_browser_back(er_browser *b, er_error *err)
{
    return b->be->back(b, err);
}

int er_browser_settle(er_browser *b, er_error *err)
{
    return b->be->settle(b, err);
}

int er_browser_cookies(er_browser *b, char **json, er_error *err)
{
    *json = NULL;
    return b->be->cookies(b, json, err);
}

int er_browser_set_cookies(er_browser *b, const char *json, er_error *err)
{
    return b->be->set_cookies(b, json, err);
}

int er_browser_block(er_browser *b, const char *const *patterns, size_t npatterns,
                     const char *const *types, size_t ntypes, er_error *err)
{
    return b->be->block(b, patterns, npatterns, types, ntypes, err);
}

int er_browser_emulate(er_browser *b, const er_browser_emulation *e, er_error *err)
{
    return b->be->emulate(b, e, err);
}
