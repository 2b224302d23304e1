/* data_stats.h — statistics over tables of the data database (data.h):
 * per-column summaries, correlations and group-bys.
 *
 * Numbers are computed, never estimated: Welford's algorithm for the mean and
 * variance, exact quantiles from the sorted values (linear interpolation
 * between order statistics, as Python's statistics.quantiles(method=
 * "inclusive"), numpy and pandas do), sample standard deviation (n − 1). */
#ifndef ERRAND_DATA_STATS_H
#define ERRAND_DATA_STATS_H

#include "data.h"

/* Distinct text values tracked per column; past it distinct is a lower bound. */
#define ER_STATS_DISTINCT_MAX 1000000
#define ER_STATS_TOP          5

/* OWNED *out: {table, rows, columns:[{name, type, count, nulls, distinct
 * (or distinct_at_least), min, max, and for numbers mean, stddev, median, p5,
 * p25, p75, p95; top:[{value, count}]}]}.  columns: array of names, NULL for
 * all. */
int er_stats_describe(er_data *d, const char *table, const cJSON *columns, cJSON **out,
                      er_error *err);

/* Pearson and Spearman (average ranks for ties) over pairwise complete rows.
 * columns: names of numeric columns (NULL: all numeric ones, at most 30).
 * OWNED *out: {table, columns, pearson:[[…]], spearman:[[…]], n:[[…]],
 * strongest:[{a, b, pearson, spearman, n}]}. */
int er_stats_correlate(er_data *d, const char *table, const cJSON *columns, cJSON **out,
                       er_error *err);

typedef struct er_group_opts {
    const cJSON *by;         /* array of column names (may be empty: one group) */
    const cJSON *aggregates; /* array of "fn(column)" or "count(*)"; fn: sum avg count min max */
    const char *pivot;       /* a column whose values become columns, or NULL */
    const char *order;       /* "group" (default) or an output column name, "-name" descending */
    long limit;              /* rows returned (0: 100) */
} er_group_opts;

/* OWNED *out: what er_data_query returns, plus the "sql" it ran. */
int er_stats_group(er_data *d, const char *table, const er_group_opts *o, cJSON **out,
                   er_error *err);
/* The same SQL er_stats_group runs (for charts and exports).  OWNED *sql. */
int er_stats_group_sql(er_data *d, const char *table, const er_group_opts *o, char **sql,
                       er_error *err);

/* Exposed for tests: quantile p (0…1) of sorted x[0..n), linear interpolation. */
double er_stats_quantile(const double *x, size_t n, double p);
/* Sorts doubles ascending (radix sort; NaN not allowed). */
void er_stats_sort(double *x, size_t n);

#endif
