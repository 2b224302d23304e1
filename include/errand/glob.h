/* glob.h — path globs of the file tools (glob, grep's filter): `*`, `?`,
 * `[...]` and `\x` within one path segment, as fnmatch(3) with FNM_PERIOD
 * (a leading '.' is matched only by a '.'), and `**` as a whole segment for
 * any number of directories (hidden ones too): zero or more in the middle or at the start
 * (a leading "**" segment lets "x.c" match), one or more at the end (a
 * trailing one needs something below).
 *
 * Matching takes time linear in the product of the lengths (a segment: the
 * pattern's by the name's; a path: the segments'): repeated globstars or
 * stars cannot make it exponential. */
#ifndef ERRAND_GLOB_H
#define ERRAND_GLOB_H

#include "common.h"

#define ER_GLOB_SEGMENTS_MAX 128

/* One segment: pat (plen bytes) against name (nlen bytes); period: a leading
 * '.' of the name must be matched by a '.' (FNM_PERIOD). */
bool er_glob_segment(const char *pat, size_t plen, const char *name, size_t nlen, bool period);
/* A '/'-separated relative path.  False for a pattern or a path of more than
 * ER_GLOB_SEGMENTS_MAX segments. */
bool er_glob_match(const char *pattern, const char *path);
/* The same with FNM_PERIOD a choice: gitignore patterns match hidden names
 * like any other (period false). */
bool er_glob_match_path(const char *pattern, const char *path, bool period);

#endif
