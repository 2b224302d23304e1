/* chart.h — charts of data-database results: one model, three renderings.
 *
 * A chart is categories or x values with one or more series of y values.
 * er_chart_draw lays it out (axes with nice ticks, time axes for dates,
 * labels, legend, title) onto a canvas given as function pointers; the SVG
 * writer and the cairo PNG writer are two canvases.  The terminal rendering
 * is separate: Unicode blocks for bars, braille dots for lines and points,
 * ANSI colours when asked.  er_chart_json / er_chart_from_json carry the
 * model in a tool result, so a front end can draw it for its own width. */
#ifndef ERRAND_CHART_H
#define ERRAND_CHART_H

#include "data.h"
#include "buf.h"

typedef enum {
    ER_CHART_BAR = 0,
    ER_CHART_GROUPED_BAR,
    ER_CHART_LINE,
    ER_CHART_SCATTER,
    ER_CHART_HISTOGRAM,
    ER_CHART_PIE,
    ER_CHART_KINDS
} er_chart_kind;

/* "bar", "grouped_bar", "line", "scatter", "histogram", "pie". */
const char *er_chart_kind_name(er_chart_kind k);
int er_chart_kind_parse(const char *name, er_chart_kind *out);

typedef struct er_chart_series {
    char *name;
    double *y; /* n values; NaN: missing */
    double *x; /* line and scatter: n x values (unix seconds for time axes) */
    size_t n;
} er_chart_series;

typedef struct er_chart {
    er_chart_kind kind;
    char *title, *xlabel, *ylabel;
    char **cats; /* bar, grouped bar, pie, histogram: category labels */
    size_t ncats;
    er_chart_series *series;
    size_t nseries;
    bool x_time; /* x values are times (unix seconds) */
} er_chart;

/* What to chart: a table's columns (aggregated where the kind asks) or a query. */
typedef struct er_chart_spec {
    er_chart_kind kind;
    const char *table;  /* with x (and y, series) */
    const char *sql;    /* or a read-only query: first column x, the others y series */
    const char *x, *y;  /* y may list several columns "a,b" (one series each) */
    const char *series; /* a column whose values split y into series */
    const char *agg;    /* sum (default for bar, pie, line), avg, count, min, max, none */
    int bins;           /* histogram: 0 picks (Sturges) */
    const char *title;
} er_chart_spec;

/* OWNED *out: free with er_chart_free. */
int er_chart_build(er_data *d, const er_chart_spec *spec, er_chart **out, er_error *err);
void er_chart_free(er_chart *c);

/* OWNED: {kind, title, xlabel, ylabel, x_time, categories?, series:[{name, x?, y}]}. */
cJSON *er_chart_json(const er_chart *c);
int er_chart_from_json(const cJSON *j, er_chart **out, er_error *err);

/* ---- drawing ---- */

typedef struct er_canvas_ops {
    void (*line)(void *cv, double x1, double y1, double x2, double y2, const char *colour,
                 double width, bool dashed);
    void (*rect)(void *cv, double x, double y, double w, double h, const char *fill);
    void (*circle)(void *cv, double x, double y, double r, const char *fill);
    void (*polyline)(void *cv, const double *xy, size_t n, const char *colour, double width);
    /* a pie slice from angle a0 to a1 (radians, clockwise from 12 o'clock) */
    void (*wedge)(void *cv, double cx, double cy, double r, double a0, double a1, const char *fill);
    /* anchor: 's' start, 'm' middle, 'e' end; rotate in degrees */
    void (*text)(void *cv, double x, double y, const char *s, double size, char anchor,
                 double rotate, bool bold, const char *colour);
} er_canvas_ops;

void er_chart_draw(const er_chart *c, double w, double h, const er_canvas_ops *ops, void *cv);

/* OWNED: an SVG document of w×h pixels. */
char *er_chart_svg(const er_chart *c, int w, int h);
/* PNG bytes into out (cairo, loaded on first use); ER_EUNAVAIL without libcairo. */
int er_chart_png(const er_chart *c, int w, int h, er_buf *out, er_error *err);
/* OWNED: the chart as text, cols × about rows cells; colour adds ANSI escapes. */
char *er_chart_term(const er_chart *c, int cols, int rows, bool colour);

/* Nice tick positions covering [lo, hi]: at most max ticks.  Returns the count. */
size_t er_chart_ticks(double lo, double hi, size_t max, double *out);

#endif
