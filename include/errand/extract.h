/* extract.h — the readable main text of a web page, and the items of a feed.
 *
 * HTML is parsed by libxml2's HTML parser (loaded on first use); nothing here
 * scans tags by hand.  The main text is found the way Mozilla's Readability
 * finds it, in a smaller form:
 *   - never text: scripts, styles, templates, forms and controls, navigation,
 *     headers and footers, asides, dialogs, comments sections, cookie and
 *     consent banners, ads, share and "related" boxes, and anything hidden
 *     (the hidden attribute, aria-hidden, display:none, visibility:hidden,
 *     screen-reader-only classes) — by tag, ARIA role, and class/id words;
 *     image alt text and HTML comments are never text either;
 *   - the content root: the <article> (or <main>) with the most text when
 *     there is one with enough of it, else the element that paragraphs
 *     score highest for (text length and commas, handed up to parent and
 *     grandparent, weighed by class/id and tag, times one minus the share of
 *     link text), with the siblings that score close to it;
 *   - inside it, link-heavy lists and boxes are dropped.
 * The text keeps the structure as plain text: "## " headings, "- " and "1. "
 * list items, tables as "| a | b |" rows, code blocks fenced with ```.
 *
 * Feeds (RSS 2.0, RSS 1.0/RDF, Atom) are read with libxml2's XML parser
 * (no network, no external entities): their items become "## title" blocks
 * with date, link and summary text.
 *
 * Thread-safe once libxml2 is loaded (er_extract_* load it). */
#ifndef ERRAND_EXTRACT_H
#define ERRAND_EXTRACT_H

#include "common.h"
#include "error.h"
#include "buf.h"
#include <cjson/cJSON.h>

typedef struct er_extract {
    char *title;     /* OWNED or NULL, each of these */
    char *canonical; /* absolute URL: <link rel=canonical>, og:url, or NULL */
    char *byline;
    char *published; /* as the page writes it (ISO 8601 usually) */
    char *lang;
    char *charset; /* the charset the text was decoded from */
    er_buf text;   /* the main text, UTF-8 */
    cJSON *links;  /* OWNED [{url, text}] of the main text's links (http/https), deduplicated */
    size_t nitems; /* feeds: items read */
} er_extract;

/* Extracts from an HTML document of len bytes.  charset: the Content-Type
 * header's label, or NULL to let the document's BOM or <meta> say (UTF-8 by
 * default).  base_url resolves relative links (a <base href> wins).  out is
 * initialised here; release it in every case.  ER_EUNAVAIL when libxml2
 * cannot be loaded, ER_EPROTO when the document cannot be parsed at all. */
int er_extract_html(er_extract *out, const char *html, size_t len, const char *charset,
                    const char *base_url, er_error *err);

/* Reads an RSS or Atom feed.  ER_ENOTFOUND when the document is XML but not a
 * feed (out then holds its text content), ER_EPROTO when it is not XML. */
int er_extract_feed(er_extract *out, const char *xml, size_t len, const char *base_url,
                    er_error *err);

void er_extract_release(er_extract *x);

/* 0 when libxml2 can be loaded (errand doctor); ER_EUNAVAIL saying what to install. */
int er_extract_available(er_error *err);

/* Most links kept per page. */
#define ER_EXTRACT_MAX_LINKS 200

#endif
