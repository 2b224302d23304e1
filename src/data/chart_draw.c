/* chart_draw.c — the chart's layout onto a canvas: title, plot area, axes
 * with nice ticks (calendar ticks for time axes), grid, bars, lines, points,
 * slices, axis labels and a legend.  Sized for about 800×500 and readable
 * there; the canvases (SVG, cairo) only draw what they are told. */
#include "errand/chart.h"
#include "errand/alloc.h"
#include "chart_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                       "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                       "#9c755f", "#bab0ac", "#1b9e77", "#d95f02" };

const char *er_chart_colour(size_t i)
{
    return palette[i % ER_ARRAY_LEN(palette)];
}

#define INK  "#222222"
#define GRID "#dddddd"
#define FONT 12.0

/* ---- ticks ---- */

size_t er_chart_ticks(double lo, double hi, size_t max, double *out)
{
    if (!(hi > lo)) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / (double)(max > 1 ? max - 1 : 1);
    double mag = pow(10, floor(log10(raw)));
    double step = mag;
    static const double mult[] = { 1, 2, 2.5, 5, 10 };
    for (size_t i = 0; i < ER_ARRAY_LEN(mult); i++) {
        step = mult[i] * mag;
        if ((ceil(hi / step) - floor(lo / step)) + 1 <= (double)max)
            break;
    }
    size_t n = 0;
    for (double t = floor(lo / step) * step;
         t <= ceil(hi / step) * step + step * 1e-9 && n < max + 2; t += step)
        out[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

/* Decimals that tell ticks `step` apart. */
static int decimals_for(double step)
{
    int d = step > 0 ? (int)ceil(-log10(step) - 1e-9) : 0;
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

void er_chart_format(char *buf, size_t n, double v, int decimals)
{
    if (fabs(v) >= 1e9 || (fabs(v) < 1e-4 && v != 0))
        snprintf(buf, n, "%.3g", v);
    else
        snprintf(buf, n, "%.*f", decimals, v);
}

/* ---- calendar ---- */

void er_chart_civil(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void er_chart_time_label(char *buf, size_t n, double t, double step)
{
    int64_t days = (int64_t)floor(t / 86400);
    int y, m, d;
    er_chart_civil(days, &y, &m, &d);
    long secs = (long)(t - (double)days * 86400);
    if (step >= 360 * 86400.0)
        snprintf(buf, n, "%04d", y);
    else if (step >= 28 * 86400.0)
        snprintf(buf, n, "%04d-%02d", y, m);
    else if (step >= 86400)
        snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
    else
        snprintf(buf, n, "%02d-%02d %02ld:%02ld", m, d, secs / 3600, secs / 60 % 60);
}

/* Calendar-aligned ticks over [lo, hi] (seconds); *step gets their spacing. */
size_t er_chart_time_ticks(double lo, double hi, size_t max, double *out, double *step)
{
    double range = hi - lo, day = 86400;
    size_t n = 0;
    int y, m, d;
    er_chart_civil((int64_t)floor(lo / day), &y, &m, &d);
    if (range > 3 * 365 * day || range > 120 * day) {
        bool years = range > 3 * 365 * day;
        static const int msteps[] = { 1, 2, 3, 6, 12, 24, 60, 120 };
        int ms = 1;
        for (size_t i = 0; i < ER_ARRAY_LEN(msteps); i++) {
            ms = msteps[i];
            if (range / (ms * 30.44 * day) <= (double)max - 1 && (!years || ms >= 12))
                break;
        }
        int64_t mi = (int64_t)y * 12 + (m - 1);
        mi = (mi + ms - 1) / ms * ms;
        if (civil_days(mi / 12, (int)(mi % 12) + 1, 1) * day < lo - 1)
            mi += ms;
        for (; n < max + 1; mi += ms) {
            double t = (double)civil_days(mi / 12, (int)(mi % 12) + 1, 1) * day;
            if (t > hi + 1)
                break;
            out[n++] = t;
        }
        *step = ms * 30.44 * day;
        return n;
    }
    static const double steps[] = { 60,        300,        900,       1800,  3600,
                                    3 * 3600,  6 * 3600,   12 * 3600, 86400, 2 * 86400,
                                    7 * 86400, 14 * 86400, 28 * 86400 };
    double s = steps[ER_ARRAY_LEN(steps) - 1];
    for (size_t i = 0; i < ER_ARRAY_LEN(steps); i++)
        if (range / steps[i] <= (double)max - 1) {
            s = steps[i];
            break;
        }
    for (double t = ceil(lo / s) * s; t <= hi + 1 && n < max + 1; t += s)
        out[n++] = t;
    *step = s;
    return n;
}

/* ---- layout ---- */

typedef struct frame {
    double left, right, top, bottom; /* the plot area */
    double ylo, yhi, xlo, xhi;
    const er_canvas_ops *ops;
    void *cv;
} frame;

static double px_x(const frame *f, double x)
{
    return f->left + (x - f->xlo) / (f->xhi - f->xlo) * (f->right - f->left);
}

static double px_y(const frame *f, double y)
{
    return f->bottom - (y - f->ylo) / (f->yhi - f->ylo) * (f->bottom - f->top);
}

static bool categorical(const er_chart *c)
{
    return c->kind == ER_CHART_BAR || c->kind == ER_CHART_GROUPED_BAR ||
           c->kind == ER_CHART_HISTOGRAM;
}

static void y_range(const er_chart *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].n; i++)
            if (isfinite(c->series[s].y[i])) {
                *lo = fmin(*lo, c->series[s].y[i]);
                *hi = fmax(*hi, c->series[s].y[i]);
            }
    if (!isfinite(*lo))
        *lo = 0, *hi = 1;
    if (categorical(c)) {
        *lo = fmin(*lo, 0);
        *hi = fmax(*hi, 0);
    }
}

static void draw_y_axis(const er_chart *c, frame *f)
{
    double lo, hi, ticks[16] = { 0 };
    y_range(c, &lo, &hi);
    size_t n = er_chart_ticks(lo, hi, 7, ticks);
    f->ylo = ticks[0];
    f->yhi = ticks[n - 1];
    int dec = decimals_for(n > 1 ? ticks[1] - ticks[0] : 1);
    for (size_t i = 0; i < n; i++) {
        double y = px_y(f, ticks[i]);
        char label[32];
        er_chart_format(label, sizeof label, ticks[i], dec);
        f->ops->line(f->cv, f->left, y, f->right, y, GRID, 1, ticks[i] != 0);
        f->ops->line(f->cv, f->left - 5, y, f->left, y, INK, 1, false);
        f->ops->text(f->cv, f->left - 8, y + 4, label, FONT, 'e', 0, false, INK);
    }
}

static void x_range(const er_chart *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; c->series[s].x && i < c->series[s].n; i++) {
            *lo = fmin(*lo, c->series[s].x[i]);
            *hi = fmax(*hi, c->series[s].x[i]);
        }
    if (!isfinite(*lo))
        *lo = 0, *hi = 1;
    if (*hi == *lo) {
        *lo -= c->x_time ? 86400 : 1;
        *hi += c->x_time ? 86400 : 1;
    }
}

static void draw_x_values(const er_chart *c, frame *f)
{
    double lo, hi, ticks[32] = { 0 }, step = 1;
    x_range(c, &lo, &hi);
    size_t n;
    if (c->x_time) {
        n = er_chart_time_ticks(lo, hi, 8, ticks, &step);
        f->xlo = lo;
        f->xhi = hi;
    } else {
        n = er_chart_ticks(lo, hi, 8, ticks);
        f->xlo = ticks[0];
        f->xhi = ticks[n - 1];
        step = n > 1 ? ticks[1] - ticks[0] : 1;
    }
    for (size_t i = 0; i < n; i++) {
        double x = px_x(f, ticks[i]);
        if (x < f->left - 0.5 || x > f->right + 0.5)
            continue;
        char label[40];
        if (c->x_time)
            er_chart_time_label(label, sizeof label, ticks[i], step);
        else
            er_chart_format(label, sizeof label, ticks[i], decimals_for(step));
        f->ops->line(f->cv, x, f->bottom, x, f->bottom + 5, INK, 1, false);
        f->ops->text(f->cv, x, f->bottom + 19, label, FONT, 'm', 0, false, INK);
    }
}

/* Category labels under their bands, slanted when they would collide. */
static void draw_x_cats(const er_chart *c, const frame *f)
{
    double band = (f->right - f->left) / (double)c->ncats;
    size_t longest = 0;
    for (size_t i = 0; i < c->ncats; i++)
        longest = strlen(c->cats[i]) > longest ? strlen(c->cats[i]) : longest;
    bool slant = (double)longest * FONT * 0.6 > band;
    size_t every = slant && band < FONT * 1.2 ? (size_t)ceil(FONT * 1.2 / band) : 1;
    for (size_t i = 0; i < c->ncats; i += every) {
        double x = f->left + band * ((double)i + 0.5);
        char label[40];
        snprintf(label, sizeof label, "%.*s%s", 18, c->cats[i], strlen(c->cats[i]) > 18 ? "…" : "");
        f->ops->line(f->cv, x, f->bottom, x, f->bottom + 5, INK, 1, false);
        if (slant)
            f->ops->text(f->cv, x + 4, f->bottom + 14, label, FONT - 1, 'e', -35, false, INK);
        else
            f->ops->text(f->cv, x, f->bottom + 19, label, FONT, 'm', 0, false, INK);
    }
}

static void draw_bars(const er_chart *c, const frame *f)
{
    double band = (f->right - f->left) / (double)c->ncats;
    double inner = c->kind == ER_CHART_HISTOGRAM ? band : band * 0.75;
    double w = inner / (double)c->nseries;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].n && i < c->ncats; i++) {
            double v = c->series[s].y[i];
            if (!isfinite(v))
                continue;
            double x = f->left + band * (double)i + (band - inner) / 2 + w * (double)s;
            double y0 = px_y(f, 0), y1 = px_y(f, v);
            f->ops->rect(f->cv, x + (c->kind == ER_CHART_HISTOGRAM ? 0.5 : 0), fmin(y0, y1),
                         w - (c->kind == ER_CHART_HISTOGRAM ? 1 : 0), fabs(y1 - y0),
                         er_chart_colour(c->kind == ER_CHART_HISTOGRAM ? 0 : s));
        }
}

static void draw_points(const er_chart *c, const frame *f)
{
    for (size_t s = 0; s < c->nseries; s++) {
        const er_chart_series *se = &c->series[s];
        const char *col = er_chart_colour(s);
        if (c->kind == ER_CHART_LINE && se->n > 1) {
            double *xy = er_xmalloc(se->n * 2 * sizeof *xy);
            for (size_t i = 0; i < se->n; i++) {
                xy[2 * i] = px_x(f, se->x[i]);
                xy[2 * i + 1] = px_y(f, se->y[i]);
            }
            f->ops->polyline(f->cv, xy, se->n, col, 2);
            free(xy);
        }
        if (c->kind == ER_CHART_SCATTER || se->n <= 60)
            for (size_t i = 0; i < se->n; i++)
                f->ops->circle(f->cv, px_x(f, se->x[i]), px_y(f, se->y[i]),
                               c->kind == ER_CHART_SCATTER ? 3 : 2.5, col);
    }
}

static void draw_legend(const er_chart *c, double x, double y, const er_canvas_ops *ops, void *cv)
{
    bool pie = c->kind == ER_CHART_PIE;
    size_t n = pie ? c->ncats : c->nseries;
    for (size_t i = 0; i < n && i < 24; i++) {
        const char *name = pie ? c->cats[i] : c->series[i].name;
        char label[40];
        snprintf(label, sizeof label, "%.*s%s", 20, name, strlen(name) > 20 ? "…" : "");
        ops->rect(cv, x, y + (double)i * 20 - 10, 12, 12, er_chart_colour(i));
        ops->text(cv, x + 18, y + (double)i * 20, label, FONT, 's', 0, false, INK);
    }
}

static void draw_pie(const er_chart *c, const frame *f)
{
    const er_chart_series *s = &c->series[0];
    double total = 0;
    for (size_t i = 0; i < s->n; i++)
        total += isfinite(s->y[i]) && s->y[i] > 0 ? s->y[i] : 0;
    double cx = (f->left + f->right) / 2, cy = (f->top + f->bottom) / 2;
    double r = fmin(f->right - f->left, f->bottom - f->top) / 2 - 10, a = 0;
    for (size_t i = 0; total > 0 && i < s->n; i++) {
        double v = isfinite(s->y[i]) && s->y[i] > 0 ? s->y[i] : 0;
        double a1 = a + v / total * 2 * M_PI;
        f->ops->wedge(f->cv, cx, cy, r, a, a1, er_chart_colour(i));
        if (v / total >= 0.04) {
            double mid = (a + a1) / 2;
            char pct[16];
            snprintf(pct, sizeof pct, "%.1f%%", v / total * 100);
            f->ops->text(f->cv, cx + sin(mid) * r * 0.65, cy - cos(mid) * r * 0.65 + 4, pct, FONT,
                         'm', 0, true, "#ffffff");
        }
        a = a1;
    }
}

void er_chart_draw(const er_chart *c, double w, double h, const er_canvas_ops *ops, void *cv)
{
    bool legend = c->nseries > 1 || c->kind == ER_CHART_PIE;
    frame f = { .left = 78,
                .right = w - 24 - (legend ? 160 : 0),
                .top = 56,
                .bottom = h - 72,
                .ops = ops,
                .cv = cv };
    ops->rect(cv, 0, 0, w, h, "#ffffff");
    ops->text(cv, w / 2, 30, c->title ? c->title : "", FONT + 6, 'm', 0, true, INK);
    if (legend)
        draw_legend(c, w - 170, f.top + 10, ops, cv);
    if (c->kind == ER_CHART_PIE) {
        draw_pie(c, &f);
        return;
    }
    if (categorical(c)) {
        bool slant = false;
        for (size_t i = 0; i < c->ncats; i++)
            slant |=
                (double)strlen(c->cats[i]) * FONT * 0.6 > (f.right - f.left) / (double)c->ncats;
        if (slant)
            f.bottom = h - 110;
    }
    draw_y_axis(c, &f);
    if (categorical(c)) {
        draw_x_cats(c, &f);
        draw_bars(c, &f);
    } else {
        draw_x_values(c, &f);
        draw_points(c, &f);
    }
    ops->line(cv, f.left, f.top, f.left, f.bottom, INK, 1.2, false);
    ops->line(cv, f.left, f.bottom, f.right, f.bottom, INK, 1.2, false);
    ops->text(cv, (f.left + f.right) / 2, h - 16, c->xlabel ? c->xlabel : "", FONT + 1, 'm', 0,
              true, INK);
    ops->text(cv, 20, (f.top + f.bottom) / 2, c->ylabel ? c->ylabel : "", FONT + 1, 'm', -90, true,
              INK);
}
