/* text.h — the TUI's pure text helpers: UTF-8 display width, word and hard
 * wrapping, code-fence and syntax highlighting, durations.
 *
 * Nothing here touches the terminal, so the unit tests link it directly
 * (tests/unit/test_tui_text.c).  Widths follow wcwidth() and so the locale's
 * LC_CTYPE; the TUI runs in a UTF-8 locale. */
#ifndef ERRAND_TUI_TEXT_H
#define ERRAND_TUI_TEXT_H

#include "errand/common.h"
#include <wchar.h>

/* Every style the screen uses: text styles the highlighter assigns, then the
 * interface's own (theme.c maps each to colours and attributes). */
typedef enum tui_style {
    TUI_S_TEXT = 0,
    TUI_S_BOLD,    /* **strong** */
    TUI_S_HEADING, /* # Heading */
    TUI_S_INLINE,  /* `inline code` */
    TUI_S_FENCE,   /* ```lang lines and the gutter of code blocks */
    TUI_S_CODE,    /* plain text inside a code block */
    TUI_S_KEYWORD,
    TUI_S_STRING,
    TUI_S_COMMENT,
    TUI_S_NUMBER,
    TUI_S_DIM,   /* progress notes, hints */
    TUI_S_USER,  /* "you" headers */
    TUI_S_AGENT, /* agent headers */
    TUI_S_ERROR,
    TUI_S_TAB, /* panel tabs */
    TUI_S_TAB_ACTIVE,
    TUI_S_BAR, /* status bar */
    TUI_S_BAR_KEY,
    TUI_S_SELECTED, /* the selected row of a list */
    TUI_S_HEADER,   /* column headers */
    TUI_S_RUNNING,
    TUI_S_DONE,
    TUI_S_WARN,   /* cancelled, waiting for approval */
    TUI_S_BORDER, /* dialog frames */
    TUI_S_COUNT
} tui_style;

/* Decodes one UTF-8 character of s[0,len) (len > 0) into *wc and returns its
 * length in bytes; an invalid or truncated sequence is one byte of U+FFFD. */
size_t tui_utf8_next(const char *s, size_t len, wchar_t *wc);
/* Columns a character takes: wcwidth(), with unprintable characters counted as
 * one column (they are drawn as a replacement) and combining marks as zero. */
int tui_char_width(wchar_t wc);
/* Columns s[0,len) takes on one row. */
int tui_text_width(const char *s, size_t len);

/* Word wrap: the bytes of s[0,len) that go on the first row of `width`
 * columns.  Breaks after the last space before a word that would cross the
 * edge; a word longer than the row is cut; a '\n' ends the row.  *next gets
 * where the next row starts (the space or newline at the break skipped).
 * At least one character is taken when len > 0, so the caller always advances. */
size_t tui_wrap(const char *s, size_t len, int width, size_t *next);
/* Hard wrap: the bytes that fit in `width` columns (cut at any character),
 * stopping before a '\n'. */
size_t tui_fit(const char *s, size_t len, int width);
/* Lays s out hard-wrapped in rows of `width` columns, a '\n' starting a new
 * row, the first row starting at column first_col.  Returns the number of
 * rows; *row and *col (either may be NULL) get where byte offset `point` is. */
int tui_caret(const char *s, size_t len, size_t point, int width, int first_col, int *row,
              int *col);

/* Highlighting, one line at a time: a fence line (```lang) opens or closes a
 * code block; inside one, keywords, strings, comments and numbers of the
 * block's language are coloured; outside, headings, **bold** and `inline`. */
typedef struct tui_hl_state {
    bool in_code;
    bool in_comment; /* inside a block comment that spans lines */
    int lang;        /* index into the language table, -1: unknown */
} tui_hl_state;
#define TUI_HL_INIT      \
    {                    \
        false, false, -1 \
    }

/* Fills styles[0,len) with a tui_style for each byte of the line (no '\n'). */
void tui_hl_line(tui_hl_state *st, const char *line, size_t len, unsigned char *styles);
/* True when the line is a code-fence line (``` or ~~~, up to 3 spaces in). */
bool tui_hl_is_fence(const char *line, size_t len);
/* The language name a fence info string selects ("py" → "python"), or NULL. */
const char *tui_hl_lang_name(const char *info, size_t len);

/* A wall-clock time (ms since the epoch) in local time: "14:02:11", or with
 * the date "2026-11-26 14:02". */
void tui_clock(int64_t ms, bool date, char *out, size_t outsize);
/* "850ms", "4.2s", "42s", "3m04s", "2h05m". */
void tui_duration(int64_t ms, char *out, size_t outsize);
/* A copy for display: '\r' dropped, tabs become 4 spaces, other control
 * characters replaced by U+FFFD; '\n' kept.  OWNED. */
char *tui_sanitize(const char *s, size_t len);
/* "@code fix it": false when line does not start with '@'; otherwise the name
 * after it into agent (cut to size) and *rest the request after the blanks,
 * "" when there is none.  Whether the agent exists is the caller's to check. */
bool tui_split_at(const char *line, char *agent, size_t size, const char **rest);

#endif
