/* markdown.h — a model's Markdown answer laid out for a terminal.
 *
 * Both front ends show answers in a terminal: the TUI's chat (which colours
 * headings, bold and code itself) and `errand ask` writing to a terminal.
 * What neither can do a byte at a time is the block structure, so this module
 * rewrites it, line by line, outside fenced code blocks:
 *   - list items "- x", "* x", "+ x" get a bullet "• x" (indentation kept;
 *     "- [ ] x" and "- [x] x" become "☐ x" and "☑ x"); numbered items stay;
 *   - a table (a row of |-separated cells, a delimiter row |---|:--:|, more
 *     rows) is drawn with aligned columns honouring :--, :-: and --:,
 *     separated by "│", the header underlined with "─┼─"; cells are wrapped so
 *     that the table fits width columns;
 *   - with ER_MD_ANSI: "# heading" in bold (the #s dropped), **bold** bold,
 *     *italic* and _italic_ italic, `code` in cyan (the markers dropped),
 *     "> quote" behind a dim bar, fence lines dim.
 * Text in code blocks, and every other line, passes through unchanged.
 * Display widths follow wcwidth(3) in the current locale (1 when unknown).
 *
 * Streaming: er_md_feed takes the text as it comes and emits what is
 * complete — whole lines, and a table once the line after it shows it has
 * ended; er_md_finish emits the rest. */
#ifndef ERRAND_MARKDOWN_H
#define ERRAND_MARKDOWN_H

#include "buf.h"
#include "common.h"

enum { ER_MD_ANSI = 1 };

typedef struct er_md er_md;

/* A renderer for a terminal width columns wide (at least 20 is assumed);
 * flags: ER_MD_ANSI or 0.  OWNED: free with er_md_free(). */
er_md *er_md_new(int width, unsigned flags);
void er_md_free(er_md *m);
/* Appends to out the rendering of what s[0,len) completes. */
void er_md_feed(er_md *m, const char *s, size_t len, er_buf *out);
/* Appends the rendering of what is left (a last line without '\n', a table at
 * the end). */
void er_md_finish(er_md *m, er_buf *out);
/* The whole of text rendered at once.  OWNED. */
char *er_md_render(const char *text, int width, unsigned flags);

#endif
