/* colgroup.h — group-bys computed over a column file in one scan, with hash
 * tables instead of SQLite's sort (group.c decides when; inside src/data/).
 *
 * The results are SQLite's for the same GROUP BY: SUM of integers is an
 * integer (an overflow is left to SQLite, which reports it), of reals a
 * real (summed with Kahan-Babuska-Neumaier compensation, as SQLite does
 * since 3.43: older ones may differ in the last digits); AVG a real;
 * COUNT(col) counts values that are not null; MIN and MAX keep the column's
 * type; a group whose values are all null gets NULL. */
#ifndef ERRAND_COLGROUP_H
#define ERRAND_COLGROUP_H

#include "colfile.h"

typedef enum { ER_AGG_ROWS, ER_AGG_COUNT, ER_AGG_SUM, ER_AGG_AVG, ER_AGG_MIN, ER_AGG_MAX } er_aggfn;

typedef struct er_colagg {
    er_aggfn fn;
    size_t col; /* unused for ER_AGG_ROWS (count(*)) */
} er_colagg;

/* A value of the result. */
typedef enum { ER_VAL_NULL, ER_VAL_INT, ER_VAL_REAL, ER_VAL_TEXT } er_valkind;
typedef struct er_val {
    er_valkind kind;
    int64_t i;
    double f;
    const char *s; /* BORROWED from the er_colgroups */
    size_t n;
} er_val;

/* SQLite's order: NULL, then numbers, then text (bytes, shorter first). */
int er_val_cmp(const er_val *a, const er_val *b);

typedef struct er_colgroups {
    size_t ngroups, nby, naggs;
    er_val *keys; /* ngroups * nby */
    er_val *vals; /* ngroups * naggs */
    void *priv;   /* what the texts live in */
} er_colgroups;

/* Groups the rows of r by columns by[0..nby) (none: one group of every row)
 * and computes aggs for each group.  ER_ENOTFOUND (no message) when it is
 * not a case for this path — a sum or average of text, an integer sum past
 * 64 bits, over ER_COLGROUP_MAX groups: run the SQL instead. */
#define ER_COLGROUP_MAX 1000000
int er_colgroup_run(er_colr *r, const size_t *by, size_t nby, const er_colagg *aggs, size_t naggs,
                    er_colgroups *out, er_error *err);
void er_colgroups_release(er_colgroups *g);

#endif
