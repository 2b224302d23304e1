/* diff.h — unified diffs of two texts, for the results of write and edit tools.
 *
 * Common leading and trailing lines are trimmed first, so local edits to big
 * files stay cheap; the middle is diffed by LCS when it is small enough and
 * shown as a whole replacement otherwise (still a correct diff, just not a
 * minimal one). */
#ifndef ERRAND_DIFF_H
#define ERRAND_DIFF_H

#include "common.h"
#include "buf.h"

/* Appends to out a unified diff (3 lines of context) from a to b, headed
 * "--- a/PATH" / "+++ b/PATH"; appends nothing when the texts are equal.
 * Returns the number of changed lines (added + removed). */
size_t er_diff_unified(er_buf *out, const char *path, const char *a, size_t alen, const char *b,
                       size_t blen);

#endif
