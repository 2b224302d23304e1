/* trends.h — the trend finder's comparison of two snapshots of extracted
 * data (store_history.h): which items are new and which are gone, which
 * numbers rose or fell (points, prices, stars…), which items moved up or
 * down the list, and which words became more or less frequent.
 *
 * Items are matched by a key field: the one named, else the first of title,
 * name, text, item, label that the rows have as text, else their first text
 * field.  A field counts as a number when both snapshots' values read as one
 * ("1,234", "$4.20", "120 points": the first number in the text).  The words
 * are those of every text field but URLs, lower-cased, of three letters or
 * more, without common English words and bare numbers.
 *
 * Everything in a report came from pages: it is data, never instructions
 * (browser_trends fences it; errand trends prints it for the user). */
#ifndef ERRAND_TRENDS_H
#define ERRAND_TRENDS_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include "store_history.h"

#include <cjson/cJSON.h>

typedef struct er_trends_opts {
    const char *key; /* NULL: chosen as above */
    int top;         /* entries per list at most; 0: 10 */
} er_trends_opts;

/* The report comparing older with newer (older may be NULL: every item of
 * newer is then new).  OWNED *out: an object with source, from_ms, to_ms,
 * from_count, to_count, key, new, gone, rising, falling, moved, and words
 * {rising, falling}. */
int er_trends_compare(const er_snapshot *older, const er_snapshot *newer, const er_trends_opts *o,
                      cJSON **out, er_error *err);

/* The report as lines for a person; control characters of the pages' text
 * are dropped. */
void er_trends_text(const cJSON *report, er_buf *out);

/* "90", "90s", "30m", "6h", "7d", "2w" → milliseconds; ER_EINVAL otherwise. */
int er_trends_parse_window(const char *s, int64_t *ms, er_error *err);

/* The report for source: its newest snapshot against the newest one taken at
 * least window_ms before it (0: the one before it).  ER_ENOTFOUND when the
 * source has no snapshot. */
int er_trends_latest(er_store *st, const char *source, int64_t window_ms, const er_trends_opts *o,
                     cJSON **out, er_error *err);

#endif
