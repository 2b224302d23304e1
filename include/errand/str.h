/* str.h — small string helpers that the C library lacks or gets wrong. */
#ifndef ERRAND_STR_H
#define ERRAND_STR_H

#include "common.h"

/* Copies at most dstsize-1 bytes and NUL-terminates; returns strlen(src). */
size_t er_strlcpy(char *dst, const char *src, size_t dstsize);
bool er_str_starts(const char *s, const char *prefix);
bool er_str_ends(const char *s, const char *suffix);
bool er_str_eq(const char *a, const char *b); /* NULL-safe */
bool er_str_empty(const char *s);             /* NULL or "" */
/* Parses a whole decimal integer; ER_EINVAL on junk or overflow. */
int er_str_to_long(const char *s, long *out);
int er_str_to_double(const char *s, double *out);
/* Trims ASCII whitespace in place and returns s. */
char *er_str_trim(char *s);
/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0): 1-4, or 0
 * when the bytes there are not UTF-8 (overlong forms and surrogates included). */
size_t er_utf8_seq(const unsigned char *s, size_t n);
/* Offset of the first byte of s[0..len) that is not part of valid UTF-8, or len. */
size_t er_utf8_check(const char *s, size_t len);
/* Milliseconds since the epoch (wall clock) and a monotonic clock. */
int64_t er_time_ms(void);
int64_t er_mono_ms(void);
uint64_t er_mono_ns(void);
/* Edit distance (insertions, deletions, substitutions, swaps of neighbours)
 * for suggesting a name for a typo; SIZE_MAX past 31 bytes. */
size_t er_str_distance(const char *a, const char *b);
/* ISO-8601 UTC for a millisecond timestamp into out (at least 25 bytes). */
void er_time_iso(int64_t ms, char *out, size_t outsize);

#endif
