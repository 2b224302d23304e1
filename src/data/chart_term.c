/* chart_term.c — a chart as text for a terminal.
 *
 * Bars, histograms and pies are horizontal bars of Unicode blocks, in eighths
 * of a cell; lines and scatter plots are braille dots (2×4 to a cell) with
 * labelled axes.  Colour is ANSI escapes, one per series, only when asked. */
#include "errand/chart.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "chart_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 16

static const int ansi[] = { 34, 33, 31, 36, 32, 93, 35, 95, 90, 37, 96, 91 };

static void put_cp(er_buf *b, unsigned cp)
{
    char u[3] = { (char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)),
                  (char)(0x80 | (cp & 0x3F)) };
    er_buf_append(b, u, 3);
}

static void colour_on(er_buf *b, bool colour, size_t s)
{
    if (colour)
        er_buf_printf(b, "\033[%dm", ansi[s % ER_ARRAY_LEN(ansi)]);
}

static void colour_off(er_buf *b, bool colour)
{
    if (colour)
        er_buf_puts(b, "\033[0m");
}

/* Display width of UTF-8 text (one column a code point: good enough for labels). */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* s padded or cut (with …) to exactly w columns. */
static void put_fit(er_buf *b, const char *s, size_t w)
{
    size_t sw = width_of(s);
    if (sw <= w) {
        er_buf_puts(b, s);
        for (size_t i = sw; i < w; i++)
            er_buf_putc(b, ' ');
        return;
    }
    size_t cols = 0;
    const char *p = s;
    while (*p && cols + 1 < w) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            p++;
        cols++;
    }
    er_buf_append(b, s, (size_t)(p - s));
    er_buf_puts(b, "…");
}

static void bar(er_buf *b, double frac, size_t width)
{
    long eighths = lround(frac * (double)width * 8);
    for (long i = 0; i < eighths / 8; i++)
        put_cp(b, 0x2588);
    if (eighths % 8)
        put_cp(b, 0x2590 - (unsigned)(eighths % 8));
    else if (eighths == 0 && frac > 0)
        put_cp(b, 0x258F);
}

static void legend(er_buf *b, const er_chart *c, bool colour)
{
    if (c->nseries < 2)
        return;
    for (size_t s = 0; s < c->nseries; s++) {
        er_buf_puts(b, s ? "  " : "");
        colour_on(b, colour, s);
        put_cp(b, 0x25A0);
        colour_off(b, colour);
        er_buf_printf(b, " %s", c->series[s].name);
    }
    er_buf_putc(b, '\n');
}

static void bars(er_buf *b, const er_chart *c, int cols, bool colour)
{
    double max = 0, total = 0;
    size_t lw = 0;
    for (size_t i = 0; i < c->ncats; i++)
        lw = width_of(c->cats[i]) > lw ? width_of(c->cats[i]) : lw;
    lw = lw > LABEL_MAX ? LABEL_MAX : lw;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].n; i++)
            if (isfinite(c->series[s].y[i])) {
                max = fmax(max, fabs(c->series[s].y[i]));
                total += c->series[s].y[i] > 0 ? c->series[s].y[i] : 0;
            }
    bool pie = c->kind == ER_CHART_PIE;
    int room = cols - (int)lw - (pie ? 10 : 12) - 2;
    size_t width = room > 8 ? (size_t)room : 8;
    for (size_t i = 0; i < c->ncats; i++)
        for (size_t s = 0; s < c->nseries; s++) {
            double v = i < c->series[s].n ? c->series[s].y[i] : NAN;
            put_fit(b, s == 0 ? c->cats[i] : "", lw);
            er_buf_putc(b, ' ');
            colour_on(b, colour, pie ? i : s);
            if (isfinite(v) && max > 0)
                bar(b, fabs(v) / max, width);
            colour_off(b, colour);
            char num[32];
            if (!isfinite(v))
                snprintf(num, sizeof num, "–");
            else if (pie && total > 0)
                snprintf(num, sizeof num, "%.1f%%", (v > 0 ? v : 0) / total * 100);
            else
                snprintf(num, sizeof num, "%.6g", v);
            er_buf_printf(b, " %s\n", num);
        }
}

/* ---- braille plots ---- */

typedef struct grid {
    int w, h;            /* cells */
    unsigned char *dots; /* w*h bit sets */
    signed char *series; /* w*h: last series drawn there, -1 none */
} grid;

static void dot(grid *g, int px, int py, size_t s)
{
    static const unsigned char bits[4][2] = {
        { 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 }
    };
    if (px < 0 || py < 0 || px >= g->w * 2 || py >= g->h * 4)
        return;
    int cell = (py / 4) * g->w + px / 2;
    g->dots[cell] |= bits[py % 4][px % 2];
    g->series[cell] = (signed char)s;
}

static void segment(grid *g, int x0, int y0, int x1, int y1, size_t s)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (int guard = 0; guard < 10000; guard++) {
        dot(g, x0, y0, s);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

static void ranges(const er_chart *c, double *xlo, double *xhi, double *ylo, double *yhi)
{
    *xlo = *ylo = INFINITY;
    *xhi = *yhi = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].n; i++) {
            *xlo = fmin(*xlo, c->series[s].x[i]);
            *xhi = fmax(*xhi, c->series[s].x[i]);
            *ylo = fmin(*ylo, c->series[s].y[i]);
            *yhi = fmax(*yhi, c->series[s].y[i]);
        }
    if (!(*xhi > *xlo))
        *xhi = *xlo + 1;
    if (!(*yhi > *ylo))
        *yhi = *ylo + 1;
}

static void x_label(char *buf, size_t n, const er_chart *c, double v, double span)
{
    if (c->x_time)
        er_chart_time_label(buf, n, v, span / 4);
    else
        snprintf(buf, n, "%.6g", v);
}

static void plot_rows(er_buf *b, const grid *g, double ylo, double yhi, int lw, bool colour)
{
    for (int r = 0; r < g->h; r++) {
        char label[32] = "";
        if (r == 0 || r == g->h - 1 || r == g->h / 2)
            snprintf(label, sizeof label, "%.6g", yhi - (yhi - ylo) * r / (g->h - 1));
        er_buf_printf(b, "%*s ", lw, label);
        put_cp(b, label[0] ? 0x2524 : 0x2502);
        int cur = -1;
        for (int x = 0; x < g->w; x++) {
            int k = r * g->w + x;
            int s = g->dots[k] ? g->series[k] : -1;
            if (colour && s != cur) {
                colour_off(b, colour && cur >= 0);
                if (s >= 0)
                    colour_on(b, true, (size_t)s);
                cur = s;
            }
            put_cp(b, 0x2800 + g->dots[k]);
        }
        colour_off(b, colour && cur >= 0);
        er_buf_putc(b, '\n');
    }
}

static void plot(er_buf *b, const er_chart *c, int cols, int rows, bool colour)
{
    double xlo, xhi, ylo, yhi;
    ranges(c, &xlo, &xhi, &ylo, &yhi);
    int lw = 8;
    grid g = { cols - lw - 2 > 10 ? cols - lw - 2 : 10, rows > 3 ? rows : 3, NULL, NULL };
    g.dots = er_xcalloc((size_t)(g.w * g.h), 1);
    g.series = er_xmalloc((size_t)(g.w * g.h));
    memset(g.series, -1, (size_t)(g.w * g.h));
    int pw = g.w * 2 - 1, ph = g.h * 4 - 1;
    for (size_t s = 0; s < c->nseries; s++) {
        const er_chart_series *se = &c->series[s];
        int px = 0, py = 0;
        for (size_t i = 0; i < se->n; i++) {
            int x = (int)lround((se->x[i] - xlo) / (xhi - xlo) * pw);
            int y = ph - (int)lround((se->y[i] - ylo) / (yhi - ylo) * ph);
            if (c->kind == ER_CHART_LINE && i > 0)
                segment(&g, px, py, x, y, s);
            else
                dot(&g, x, y, s);
            px = x;
            py = y;
        }
    }
    /* the rows, then the x axis */
    plot_rows(b, &g, ylo, yhi, lw, colour);
    er_buf_printf(b, "%*s ", lw, "");
    put_cp(b, 0x2514);
    for (int x = 0; x < g.w; x++)
        put_cp(b, 0x2500);
    er_buf_putc(b, '\n');
    char lo[40], hi[40];
    x_label(lo, sizeof lo, c, xlo, xhi - xlo);
    x_label(hi, sizeof hi, c, xhi, xhi - xlo);
    int gap = g.w - (int)strlen(lo) - (int)strlen(hi);
    er_buf_printf(b, "%*s %s%*s%s\n", lw, "", lo, gap > 1 ? gap + 1 : 2, "", hi);
    free(g.dots);
    free(g.series);
}

char *er_chart_term(const er_chart *c, int cols, int rows, bool colour)
{
    er_buf b = ER_BUF_INIT;
    cols = cols < 30 ? 30 : cols > 200 ? 200 : cols;
    if (c->title && *c->title)
        er_buf_printf(&b, "%s%s%s\n", colour ? "\033[1m" : "", c->title, colour ? "\033[0m" : "");
    if (c->kind == ER_CHART_LINE || c->kind == ER_CHART_SCATTER) {
        if (c->ylabel && *c->ylabel)
            er_buf_printf(&b, "%s\n", c->ylabel);
        plot(&b, c, cols, rows, colour);
        if (c->xlabel && *c->xlabel)
            er_buf_printf(&b, "%*s%s\n", (cols - (int)width_of(c->xlabel)) / 2, "", c->xlabel);
    } else {
        bars(&b, c, cols, colour);
    }
    legend(&b, c, colour);
    return er_buf_detach(&b);
}
