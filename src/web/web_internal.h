/* web_internal.h — what the page readers of src/web share (private): attribute
 * lookup on libxml2 nodes, a plain-text writer that collapses whitespace and
 * places line breaks, and link resolution. */
#ifndef ERRAND_WEB_INTERNAL_H
#define ERRAND_WEB_INTERNAL_H

#include "errand/buf.h"
#include "errand/extract.h"
#include "errand/xml.h"

/* Nodes deeper than this are not read (a page nesting thousands of elements
 * must not exhaust the stack). */
#define WEB_MAX_DEPTH 400

/* The value of attribute name (ASCII case-insensitive) of an element,
 * BORROWED from the tree, or NULL. */
const char *web_attr(const xmlNode *n, const char *name);
/* Element name, lower-case as libxml2's HTML parser gives it, or "". */
const char *web_tag(const xmlNode *n);
bool web_is(const xmlNode *n, const char *tag);

/* The plain-text writer: words are joined by one space, blocks by line
 * breaks, never more than one blank line, no trailing spaces. */
typedef struct web_text {
    er_buf *out;
    int breaks;   /* line breaks owed before the next text: 0, 1 or 2 */
    bool space;   /* a space owed before the next word */
    bool started; /* something was written */
} web_text;

void web_text_init(web_text *t, er_buf *out);
/* Writes s[0..len) with runs of whitespace collapsed to one space. */
void web_text_words(web_text *t, const char *s, size_t len);
/* Writes s[0..len) as it is (preformatted text). */
void web_text_raw(web_text *t, const char *s, size_t len);
/* Asks for n line breaks (1: new line, 2: blank line) before the next text. */
void web_text_break(web_text *t, int n);
/* Writes a prefix ("## ", "- ") at the start of the next line. */
void web_text_prefix(web_text *t, const char *prefix);

/* All the text under n, whitespace collapsed (scripts and styles skipped),
 * appended to out, at most max bytes. */
void web_node_text(const xmlNode *n, er_buf *out, size_t max);

/* href resolved against base (RFC 3986, by libxml2), when it is an http or
 * https URL; OWNED, else NULL.  The fragment is dropped. */
char *web_resolve(const char *href, const char *base);

/* Adds {url, text} to links unless the URL is there already or the list is
 * full.  seen is a scratch buffer of "\n"-separated URLs. */
void web_add_link(cJSON *links, er_buf *seen, const char *url, const char *text);

/* Sets *field to an OWNED copy of s (trimmed, collapsed) when it is still NULL
 * and s has text. */
void web_set_once(char **field, const char *s);

#endif
