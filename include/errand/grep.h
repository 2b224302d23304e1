/* grep.h — finding the lines of a text that match a pattern, as ripgrep does:
 * PCRE2 syntax (Perl's: \d \w \b \s, lazy quantifiers, (?i), lookaround)
 * compiled with its JIT, or a fixed string.  A line matches when the pattern
 * matches within it (`^` and `$` at its ends); in multiline mode a match may
 * cross newlines and every line it touches is reported.
 *
 * The text is searched as a whole, not line by line: the pattern's required
 * literal (when it has one) is looked for with memmem first and only the
 * lines holding it are run through the regex; otherwise PCRE2 scans the text
 * in large windows.  No allocation per line or per file. */
#ifndef ERRAND_GREP_H
#define ERRAND_GREP_H

#include "common.h"
#include "error.h"

typedef struct er_grep_opts {
    bool fixed_strings; /* the pattern is a literal */
    bool ignore_case;
    bool smart_case; /* ignore case unless the pattern has an upper-case letter */
    bool multiline;  /* matches may span lines */
} er_grep_opts;

typedef struct er_grep er_grep;

/* OWNED *out.  ER_EINVAL for a bad pattern, with PCRE2's message and the
 * offset where it stopped. */
int er_grep_new(er_grep **out, const char *pattern, const er_grep_opts *opts, er_error *err);
void er_grep_free(er_grep *g);

/* OWNED: a matcher for another thread (an er_grep is used by one thread at
 * a time): it has match data of its own and BORROWS g's compiled pattern,
 * so it is freed (er_grep_free) before g. */
er_grep *er_grep_dup(const er_grep *g);

/* Called for each matching line, or run of lines in multiline mode:
 * text[start..end) without the final newline.  False stops the scan. */
typedef bool (*er_grep_hit)(size_t start, size_t end, void *payload);

/* Scans text; 0 when done or stopped by hit, ER_ECANCELLED once *cancel is
 * set (read between windows and every few hundred hits), ER_ETOOBIG when the
 * regex passed PCRE2's match limit (catastrophic backtracking). */
int er_grep_scan(er_grep *g, const char *text, size_t len, const volatile int *cancel,
                 er_grep_hit hit, void *payload);

/* BORROWED: the literal every match contains (for tests), or NULL. */
const char *er_grep_literal(const er_grep *g);

#endif
