/* chart_png.c — the cairo canvas: the same drawing calls as the SVG, onto
 * an image surface written as PNG.  libcairo is loaded on first use; without
 * it PNG output is simply not available (the SVG still is).
 *
 * cairo and fontconfig keep their font caches for the life of the process,
 * partly behind pointers a leak checker cannot follow (fontconfig stores
 * offsets).  They are released at exit, the way both libraries document for
 * memory checkers: cairo_debug_reset_static_data() then FcFini().  Both are
 * only safe while no cairo object is alive, so charts are drawn under one
 * lock (errand draws with cairo nowhere else) and the exit hook takes it. */
#include "errand/chart.h"
#include "errand/buf.h"
#include "errand/dl.h"

#include <cairo.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct cairo_api {
    __typeof__(cairo_image_surface_create) *cairo_image_surface_create;
    __typeof__(cairo_create) *cairo_create;
    __typeof__(cairo_destroy) *cairo_destroy;
    __typeof__(cairo_surface_destroy) *cairo_surface_destroy;
    __typeof__(cairo_surface_status) *cairo_surface_status;
    __typeof__(cairo_set_source_rgba) *cairo_set_source_rgba;
    __typeof__(cairo_set_line_width) *cairo_set_line_width;
    __typeof__(cairo_set_dash) *cairo_set_dash;
    __typeof__(cairo_move_to) *cairo_move_to;
    __typeof__(cairo_line_to) *cairo_line_to;
    __typeof__(cairo_stroke) *cairo_stroke;
    __typeof__(cairo_fill) *cairo_fill;
    __typeof__(cairo_rectangle) *cairo_rectangle;
    __typeof__(cairo_arc) *cairo_arc;
    __typeof__(cairo_close_path) *cairo_close_path;
    __typeof__(cairo_new_path) *cairo_new_path;
    __typeof__(cairo_select_font_face) *cairo_select_font_face;
    __typeof__(cairo_set_font_size) *cairo_set_font_size;
    __typeof__(cairo_show_text) *cairo_show_text;
    __typeof__(cairo_text_extents) *cairo_text_extents;
    __typeof__(cairo_save) *cairo_save;
    __typeof__(cairo_restore) *cairo_restore;
    __typeof__(cairo_translate) *cairo_translate;
    __typeof__(cairo_rotate) *cairo_rotate;
    __typeof__(cairo_surface_write_to_png_stream) *cairo_surface_write_to_png_stream;
    __typeof__(cairo_debug_reset_static_data) *cairo_debug_reset_static_data;
} cairo_api;

typedef struct fc_api {
    void (*FcFini)(void);
} fc_api;

static cairo_api cr;

#define SYM(f)                     \
    {                              \
#f, offsetof(cairo_api, f) \
    }
static const er_dl_sym syms[] = {
    SYM(cairo_image_surface_create),
    SYM(cairo_create),
    SYM(cairo_destroy),
    SYM(cairo_surface_destroy),
    SYM(cairo_surface_status),
    SYM(cairo_set_source_rgba),
    SYM(cairo_set_line_width),
    SYM(cairo_set_dash),
    SYM(cairo_move_to),
    SYM(cairo_line_to),
    SYM(cairo_stroke),
    SYM(cairo_fill),
    SYM(cairo_rectangle),
    SYM(cairo_arc),
    SYM(cairo_close_path),
    SYM(cairo_new_path),
    SYM(cairo_select_font_face),
    SYM(cairo_set_font_size),
    SYM(cairo_show_text),
    SYM(cairo_text_extents),
    SYM(cairo_save),
    SYM(cairo_restore),
    SYM(cairo_translate),
    SYM(cairo_rotate),
    SYM(cairo_surface_write_to_png_stream),
    SYM(cairo_debug_reset_static_data),
};
#undef SYM

static fc_api fc;
static const er_dl_sym fc_syms[] = { { "FcFini", offsetof(fc_api, FcFini) } };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static er_error load_err;
/* Held while a chart is drawn and while the caches are released. */
static pthread_mutex_t drawing = PTHREAD_MUTEX_INITIALIZER;
static bool drawn; /* under drawing: caches may be held */

/* At exit: the caches back to the state of a fresh process.  A chart still
 * being drawn by another thread keeps them (trylock): the process ends anyway. */
static void release_caches(void)
{
    if (pthread_mutex_trylock(&drawing) != 0)
        return;
    if (drawn) {
        cr.cairo_debug_reset_static_data(); /* drops cairo's fontconfig patterns first */
        if (fc.FcFini)
            fc.FcFini();
        drawn = false;
    }
    pthread_mutex_unlock(&drawing);
}

static void load(void)
{
    static const char *const names[] = { "libcairo.so.2", "libcairo.so", NULL };
    static const char *const fc_names[] = { "libfontconfig.so.1", NULL };
    if (er_dl_load(names, syms, sizeof syms / sizeof syms[0], &cr,
                   "install libcairo2 for PNG charts (the SVG is written anyway)", &load_err))
        return;
    er_error ignored;
    if (er_dl_load(fc_names, fc_syms, 1, &fc, "", &ignored)) /* cairo without fontconfig */
        fc.FcFini = NULL;
    atexit(release_caches);
}

static void colour(cairo_t *c, const char *hex)
{
    unsigned v = 0;
    if (hex && hex[0] == '#')
        sscanf(hex + 1, "%6x", &v);
    cr.cairo_set_source_rgba(c, ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0,
                             (v & 255) / 255.0, 1);
}

static void line(void *cv, double x1, double y1, double x2, double y2, const char *col,
                 double width, bool dashed)
{
    static const double dash[] = { 3, 3 };
    colour(cv, col);
    cr.cairo_set_line_width(cv, width);
    cr.cairo_set_dash(cv, dash, dashed ? 2 : 0, 0);
    cr.cairo_move_to(cv, x1, y1);
    cr.cairo_line_to(cv, x2, y2);
    cr.cairo_stroke(cv);
    cr.cairo_set_dash(cv, dash, 0, 0);
}

static void rect(void *cv, double x, double y, double w, double h, const char *fill)
{
    colour(cv, fill);
    cr.cairo_rectangle(cv, x, y, w, h);
    cr.cairo_fill(cv);
}

static void circle(void *cv, double x, double y, double r, const char *fill)
{
    colour(cv, fill);
    cr.cairo_new_path(cv);
    cr.cairo_arc(cv, x, y, r, 0, 2 * M_PI);
    cr.cairo_fill(cv);
}

static void polyline(void *cv, const double *xy, size_t n, const char *col, double width)
{
    colour(cv, col);
    cr.cairo_set_line_width(cv, width);
    for (size_t i = 0; i < n; i++)
        (i ? cr.cairo_line_to : cr.cairo_move_to)(cv, xy[2 * i], xy[2 * i + 1]);
    cr.cairo_stroke(cv);
}

static void wedge(void *cv, double cx, double cy, double r, double a0, double a1, const char *fill)
{
    colour(cv, fill);
    cr.cairo_new_path(cv);
    cr.cairo_move_to(cv, cx, cy);
    cr.cairo_arc(cv, cx, cy, r, a0 - M_PI / 2, a1 - M_PI / 2);
    cr.cairo_close_path(cv);
    cr.cairo_fill(cv);
}

static void text(void *cv, double x, double y, const char *s, double size, char anchor,
                 double rotate, bool bold, const char *col)
{
    cairo_text_extents_t ext;
    cr.cairo_select_font_face(cv, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                              bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cr.cairo_set_font_size(cv, size);
    cr.cairo_text_extents(cv, s, &ext);
    cr.cairo_save(cv);
    cr.cairo_translate(cv, x, y);
    cr.cairo_rotate(cv, rotate * M_PI / 180);
    double dx = anchor == 'e' ? -ext.x_advance : anchor == 'm' ? -ext.x_advance / 2 : 0;
    colour(cv, col);
    cr.cairo_move_to(cv, dx, 0);
    cr.cairo_show_text(cv, s);
    cr.cairo_restore(cv);
}

static const er_canvas_ops png_ops = { line, rect, circle, polyline, wedge, text };

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    return er_buf_append(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int er_chart_png(const er_chart *c, int w, int h, er_buf *out, er_error *err)
{
    pthread_once(&once, load);
    if (load_err.code) {
        if (err)
            *err = load_err;
        return load_err.code;
    }
    pthread_mutex_lock(&drawing);
    drawn = true;
    int rc = 0;
    cairo_surface_t *s = cr.cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cr.cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        rc = er_error_set(err, ER_EINTERNAL, "cairo cannot make a %dx%d image", w, h);
    } else {
        cairo_t *cv = cr.cairo_create(s);
        er_chart_draw(c, w, h, &png_ops, cv);
        cr.cairo_destroy(cv);
        if (cr.cairo_surface_write_to_png_stream(s, to_buf, out) != CAIRO_STATUS_SUCCESS)
            rc = er_error_set(err, ER_EIO, "cannot encode the PNG");
    }
    cr.cairo_surface_destroy(s);
    pthread_mutex_unlock(&drawing);
    return rc;
}
