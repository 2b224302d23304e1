/* chart_int.h — what the chart renderers share (src/data/chart_*.c). */
#ifndef ERRAND_CHART_INT_H
#define ERRAND_CHART_INT_H

#include "errand/chart.h"

/* The i-th series colour, "#rrggbb". */
const char *er_chart_colour(size_t i);
/* A tick label with the given decimals (very large or small: %g). */
void er_chart_format(char *buf, size_t n, double v, int decimals);
/* Civil date of a day count since 1970-01-01. */
void er_chart_civil(int64_t days, int *y, int *m, int *d);
/* Calendar-aligned ticks for a time axis over [lo, hi] (unix seconds). */
size_t er_chart_time_ticks(double lo, double hi, size_t max, double *out, double *step);
/* A time tick's label, as precise as the step between ticks needs. */
void er_chart_time_label(char *buf, size_t n, double t, double step);

#endif
