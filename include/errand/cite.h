/* cite.h — does a quoted passage occur in a page's text?  The mechanical half
 * of checking citations (the cite_check tool): no model is asked.
 *
 * Both texts are normalised before they are compared: letters folded to
 * lower case (ASCII, and Latin-1 letters of UTF-8), runs of white space
 * (newlines, NBSP) made one space, typographic quotes and apostrophes made
 * straight, dashes made '-', the ellipsis character made "...", and the
 * markup of the extracted text ("## ", "- ", "| ") ignored where it stands
 * between words. */
#ifndef ERRAND_CITE_H
#define ERRAND_CITE_H

#include "common.h"

typedef struct er_cite_match {
    bool found;
    size_t start, end; /* byte offsets of the match in the original text */
    char *sentence;    /* OWNED: the sentence(s) of the text around it, or NULL */
} er_cite_match;

/* Looks for quote in text; fills out (release with er_cite_match_release).
 * A quote of fewer than 3 non-blank characters is never found. */
void er_cite_find(er_cite_match *out, const char *text, const char *quote);
void er_cite_match_release(er_cite_match *m);

/* quote normalised (as above), OWNED; exposed for tests. */
char *er_cite_normalise(const char *s);

#endif
