/* markdown.c — Markdown answers laid out for a terminal (markdown.h): list
 * bullets, aligned tables, and with ER_MD_ANSI the inline styles as escape
 * sequences.
 *
 * It is a line-at-a-time rewriter, not a Markdown parser: an answer streams
 * in, and each line is decided from itself and the state of the lines before
 * it (inside a code block or a table), so that output never has to be taken
 * back.  A table is the one thing held back: its column widths depend on
 * every row. */
#define _XOPEN_SOURCE 700
#include "errand/markdown.h"
#include "errand/alloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define BOLD   "\033[1m"
#define ITALIC "\033[3m"
#define CODE   "\033[36m"
#define DIM    "\033[2m"
#define RESET  "\033[0m"

/* Columns below which a table's column is not narrowed further. */
#define MIN_COL  6
#define MAX_COLS 32

typedef enum { T_NONE, T_HEADER, T_BODY } table_state;

struct er_md {
    int width;
    bool ansi;
    bool in_code;
    er_buf line; /* the line being received */
    table_state table;
    char **rows; /* the table's lines (the delimiter row included) */
    size_t nrows, caprows;
};

er_md *er_md_new(int width, unsigned flags)
{
    er_md *m = er_xcalloc(1, sizeof *m);
    m->width = width < 20 ? 20 : width;
    m->ansi = (flags & ER_MD_ANSI) != 0;
    return m;
}

static void drop_rows(er_md *m)
{
    for (size_t i = 0; i < m->nrows; i++)
        free(m->rows[i]);
    m->nrows = 0;
    m->table = T_NONE;
}

void er_md_free(er_md *m)
{
    if (!m)
        return;
    drop_rows(m);
    free(m->rows);
    er_buf_release(&m->line);
    free(m);
}

/* ---- widths ---- */

/* One character of s (at most len bytes): its length, *wc its code point
 * (U+FFFD for a bad byte). */
static size_t next_char(const char *s, size_t len, wchar_t *wc)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 0;
    if (n == 0 || n > len) {
        *wc = 0xFFFD;
        return 1;
    }
    wchar_t c = n == 1 ? u[0] : u[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *wc = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    *wc = c;
    return n;
}

static int char_width(wchar_t wc)
{
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

/* Columns of s[0,len), escape sequences not counted. */
static int text_width(const char *s, size_t len)
{
    int w = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == '\033') {
            while (i < len && s[i] != 'm')
                i++;
            i++;
            continue;
        }
        wchar_t wc;
        i += next_char(s + i, len - i, &wc);
        w += char_width(wc);
    }
    return w;
}

/* ---- inline styles (ER_MD_ANSI) ---- */

/* Where the closing marker mk of a span opened at s[i] ends, or 0 when it
 * does not close on this line.  A span is never empty and its text neither
 * starts nor ends with a blank; '_' only opens and closes at word edges. */
static size_t span_end(const char *s, size_t len, size_t i, const char *mk)
{
    size_t k = strlen(mk), open = i + k;
    if (open >= len || s[open] == ' ')
        return 0;
    if (mk[0] == '_' && i > 0 && isalnum((unsigned char)s[i - 1]))
        return 0;
    for (size_t j = open + 1; j + k <= len; j++) {
        if (memcmp(s + j, mk, k) != 0 || s[j - 1] == ' ')
            continue;
        if (mk[0] == '_' && j + k < len && isalnum((unsigned char)s[j + k]))
            continue;
        if (k == 1 && mk[0] == '*' && j + 1 < len && s[j + 1] == '*')
            continue; /* the start of a ** */
        return j;
    }
    return 0;
}

static void put_inline(er_md *m, er_buf *out, const char *s, size_t len)
{
    if (!m->ansi) {
        er_buf_append(out, s, len);
        return;
    }
    for (size_t i = 0; i < len;) {
        if (s[i] == '`') {
            const char *close = memchr(s + i + 1, '`', len - i - 1);
            if (close && close > s + i + 1) {
                size_t n = (size_t)(close - (s + i + 1));
                er_buf_puts(out, CODE);
                er_buf_append(out, s + i + 1, n);
                er_buf_puts(out, RESET);
                i += n + 2;
                continue;
            }
        }
        const char *mk = strncmp(s + i, "**", 2) == 0 && i + 2 < len ? "**"
                         : s[i] == '*'                               ? "*"
                         : s[i] == '_'                               ? "_"
                                                                     : NULL;
        size_t end = mk ? span_end(s, len, i, mk) : 0;
        if (end) {
            size_t k = strlen(mk);
            er_buf_puts(out, k == 2 ? BOLD : ITALIC);
            put_inline(m, out, s + i + k, end - i - k);
            er_buf_puts(out, RESET);
            i = end + k;
            continue;
        }
        er_buf_putc(out, s[i++]);
    }
}

/* ---- lines outside tables ---- */

static bool is_fence(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && i < 3 && s[i] == ' ')
        i++;
    return len - i >= 3 && (strncmp(s + i, "```", 3) == 0 || strncmp(s + i, "~~~", 3) == 0);
}

static void put_prose(er_md *m, er_buf *out, const char *s, size_t len)
{
    size_t ind = 0;
    while (ind < len && s[ind] == ' ')
        ind++;
    const char *r = s + ind;
    size_t rlen = len - ind;
    er_buf_append(out, s, ind);
    if (rlen >= 2 && strchr("-*+", r[0]) && r[1] == ' ' &&
        !(rlen >= 3 && r[2] == r[0])) { /* "- - -" and "* * *" are rules */
        r += 2;
        rlen -= 2;
        if (rlen >= 4 && r[0] == '[' && strchr(" xX", r[1]) && r[2] == ']' && r[3] == ' ') {
            er_buf_puts(out, r[1] == ' ' ? "☐ " : "☑ ");
            r += 4;
            rlen -= 4;
        } else {
            er_buf_puts(out, "• ");
        }
    } else if (m->ansi && rlen && r[0] == '#') {
        size_t h = 0;
        while (h < rlen && r[h] == '#')
            h++;
        if (h <= 6 && (h == rlen || r[h] == ' ')) {
            while (h < rlen && r[h] == ' ')
                h++;
            er_buf_puts(out, BOLD);
            put_inline(m, out, r + h, rlen - h);
            er_buf_puts(out, RESET "\n");
            return;
        }
    } else if (m->ansi && rlen && r[0] == '>') {
        size_t q = 1 + (rlen > 1 && r[1] == ' ');
        er_buf_puts(out, DIM "│" RESET " ");
        r += q;
        rlen -= q;
    }
    put_inline(m, out, r, rlen);
    er_buf_putc(out, '\n');
}

/* ---- tables ---- */

/* The cells of a table row: split at '|' (not "\|"), one outer pipe on each
 * side dropped, blanks trimmed.  Returns how many (at most max); each is
 * (ptr, len) into s. */
static size_t split_cells(const char *s, const char **cell, size_t *clen, size_t max)
{
    size_t len = strlen(s), a = 0;
    while (a < len && isspace((unsigned char)s[a]))
        a++;
    while (len > a && isspace((unsigned char)s[len - 1]))
        len--;
    if (a < len && s[a] == '|')
        a++;
    if (len > a && s[len - 1] == '|' && !(len >= 2 && s[len - 2] == '\\'))
        len--;
    size_t n = 0;
    for (size_t i = a, start = a; i <= len && n < max; i++) {
        if (i < len && (s[i] != '|' || (i > a && s[i - 1] == '\\')))
            continue;
        size_t b = start, e = i;
        while (b < e && isspace((unsigned char)s[b]))
            b++;
        while (e > b && isspace((unsigned char)s[e - 1]))
            e--;
        cell[n] = s + b;
        clen[n++] = e - b;
        start = i + 1;
    }
    return n;
}

static bool is_delimiter_row(const char *s)
{
    bool dash = false;
    for (; *s; s++) {
        if (*s == '-')
            dash = true;
        else if (!strchr("|: \t", *s))
            return false;
    }
    return dash;
}

/* Alignment of each column from the delimiter row: 'l', 'c' or 'r'. */
static void alignments(const char *delim, char *align, size_t ncols)
{
    const char *cell[MAX_COLS];
    size_t clen[MAX_COLS];
    size_t n = split_cells(delim, cell, clen, MAX_COLS);
    for (size_t c = 0; c < ncols; c++) {
        align[c] = 'l';
        if (c < n && clen[c]) {
            bool left = cell[c][0] == ':', right = cell[c][clen[c] - 1] == ':';
            align[c] = left && right ? 'c' : right ? 'r' : 'l';
        }
    }
}

/* A cell's text as shown: "\|" unescaped; with ANSI its markers are dropped
 * (styles would break the column arithmetic).  OWNED. */
static char *cell_text(const er_md *m, const char *s, size_t len)
{
    er_buf b = ER_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '|')
            continue;
        if (m->ansi && (s[i] == '`' || (s[i] == '*' && i + 1 < len && s[i + 1] == '*'))) {
            i += s[i] == '*';
            continue;
        }
        er_buf_putc(&b, s[i]);
    }
    return er_buf_detach(&b);
}

/* How many bytes of s fit in width columns, broken after a blank when one is
 * in reach; *next where the next piece starts. */
static size_t fit(const char *s, size_t len, int width, size_t *next)
{
    size_t i = 0, brk = 0;
    int w = 0;
    while (i < len) {
        wchar_t wc;
        size_t n = next_char(s + i, len - i, &wc);
        int cw = char_width(wc);
        if (w + cw > width)
            break;
        w += cw;
        i += n;
        if (wc == ' ')
            brk = i;
    }
    if (i >= len || brk == 0 || (s[i] == ' ')) {
        size_t end = i ? i : (len ? next_char(s, len, &(wchar_t){ 0 }) : 0);
        *next = end;
        while (*next < len && s[*next] == ' ')
            (*next)++;
        return end;
    }
    *next = brk;
    return brk - 1;
}

static void put_cell(er_buf *out, const char *s, size_t len, int width, char align, bool last)
{
    int pad = width - text_width(s, len);
    pad = pad < 0 ? 0 : pad; /* a wide character in a column narrower than it */
    int before = align == 'r' ? pad : align == 'c' ? pad / 2 : 0;
    er_buf_printf(out, "%*s", before, "");
    er_buf_append(out, s, len);
    if (!last)
        er_buf_printf(out, "%*s", pad - before, "");
}

static void trim_line_end(er_buf *out)
{
    while (out->len && out->ptr[out->len - 1] == ' ')
        out->len--;
    if (out->ptr)
        out->ptr[out->len] = '\0';
    er_buf_putc(out, '\n');
}

/* One row, its cells wrapped to the widths; header rows in bold. */
static void put_row(er_md *m, er_buf *out, char **cells, size_t n, const int *width,
                    const char *align, bool header)
{
    size_t off[MAX_COLS] = { 0 };
    for (bool more = true; more;) {
        more = false;
        for (size_t c = 0; c < n; c++) {
            size_t len = strlen(cells[c]), nx = len;
            size_t piece = off[c] < len ? fit(cells[c] + off[c], len - off[c], width[c], &nx) : 0;
            if (c)
                er_buf_puts(out, m->ansi ? " " DIM "│" RESET " " : " │ ");
            if (header && m->ansi && piece)
                er_buf_puts(out, BOLD);
            put_cell(out, cells[c] + off[c], piece, width[c], align[c], c + 1 == n);
            if (header && m->ansi && piece)
                er_buf_puts(out, RESET);
            off[c] = off[c] < len ? off[c] + nx : len;
            more = more || off[c] < len;
        }
        trim_line_end(out);
    }
}

/* Narrows the widest columns until the table fits m->width. */
static void fit_widths(const er_md *m, int *width, size_t n)
{
    int total = 3 * (int)(n - 1);
    for (size_t c = 0; c < n; c++)
        total += width[c];
    while (total > m->width) {
        size_t widest = 0;
        for (size_t c = 1; c < n; c++)
            if (width[c] > width[widest])
                widest = c;
        if (width[widest] <= MIN_COL)
            break;
        width[widest]--;
        total--;
    }
}

static void put_table(er_md *m, er_buf *out)
{
    const char *cell[MAX_COLS];
    size_t clen[MAX_COLS];
    size_t ncols = split_cells(m->rows[0], cell, clen, MAX_COLS);
    char align[MAX_COLS];
    alignments(m->rows[1], align, ncols);
    char ***text = er_xcalloc(m->nrows, sizeof *text);
    int width[MAX_COLS] = { 0 };
    for (size_t r = 0; r < m->nrows; r++) {
        if (r == 1)
            continue;
        size_t n = split_cells(m->rows[r], cell, clen, MAX_COLS);
        text[r] = er_xcalloc(ncols, sizeof **text);
        for (size_t c = 0; c < ncols; c++) {
            text[r][c] = c < n ? cell_text(m, cell[c], clen[c]) : er_xstrdup("");
            int w = text_width(text[r][c], strlen(text[r][c]));
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < ncols; c++)
        width[c] = width[c] ? width[c] : 1;
    fit_widths(m, width, ncols);
    for (size_t r = 0; r < m->nrows; r++) {
        if (r == 1) {
            if (m->ansi)
                er_buf_puts(out, DIM);
            for (size_t c = 0; c < ncols; c++) {
                if (c)
                    er_buf_puts(out, "─┼─");
                for (int i = 0; i < width[c]; i++)
                    er_buf_puts(out, "─");
            }
            er_buf_puts(out, m->ansi ? RESET "\n" : "\n");
            continue;
        }
        put_row(m, out, text[r], ncols, width, align, r == 0);
        for (size_t c = 0; c < ncols; c++)
            free(text[r][c]);
        free(text[r]);
    }
    free(text);
}

static void hold_row(er_md *m, const char *s, size_t len)
{
    if (m->nrows == m->caprows) {
        m->caprows = m->caprows ? m->caprows * 2 : 8;
        m->rows = er_xrealloc(m->rows, m->caprows * sizeof *m->rows);
    }
    m->rows[m->nrows++] = er_xstrndup(s, len);
}

/* ---- lines ---- */

static void put_line(er_md *m, er_buf *out, const char *s, size_t len);

/* The held lines were not a table after all, or the table ended. */
static void release_rows(er_md *m, er_buf *out)
{
    if (m->table == T_BODY) {
        put_table(m, out);
    } else {
        for (size_t i = 0; i < m->nrows; i++)
            put_prose(m, out, m->rows[i], strlen(m->rows[i]));
    }
    drop_rows(m);
}

static void put_line(er_md *m, er_buf *out, const char *s, size_t len)
{
    if (m->table == T_HEADER) {
        char *l = er_xstrndup(s, len);
        const char *cell[MAX_COLS];
        size_t clen[MAX_COLS];
        bool delim = is_delimiter_row(l) && split_cells(l, cell, clen, MAX_COLS) ==
                                                split_cells(m->rows[0], cell, clen, MAX_COLS);
        free(l);
        if (delim) {
            hold_row(m, s, len);
            m->table = T_BODY;
            return;
        }
        release_rows(m, out);
    } else if (m->table == T_BODY) {
        if (memchr(s, '|', len)) {
            hold_row(m, s, len);
            return;
        }
        release_rows(m, out);
    }
    if (is_fence(s, len)) {
        m->in_code = !m->in_code;
        if (m->ansi)
            er_buf_puts(out, DIM);
        er_buf_append(out, s, len);
        er_buf_puts(out, m->ansi ? RESET "\n" : "\n");
    } else if (m->in_code) {
        er_buf_append(out, s, len);
        er_buf_putc(out, '\n');
    } else if (memchr(s, '|', len)) {
        hold_row(m, s, len);
        m->table = T_HEADER;
    } else {
        put_prose(m, out, s, len);
    }
}

void er_md_feed(er_md *m, const char *s, size_t len, er_buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\n') {
            er_buf_putc(&m->line, s[i]);
            continue;
        }
        put_line(m, out, m->line.ptr ? m->line.ptr : "", m->line.len);
        er_buf_reset(&m->line);
    }
}

void er_md_finish(er_md *m, er_buf *out)
{
    if (m->line.len) {
        put_line(m, out, m->line.ptr, m->line.len);
        er_buf_reset(&m->line);
        if (m->table == T_NONE && out->len && out->ptr[out->len - 1] == '\n')
            out->ptr[--out->len] = '\0'; /* the text did not end its last line */
    }
    if (m->table != T_NONE)
        release_rows(m, out);
}

char *er_md_render(const char *text, int width, unsigned flags)
{
    er_md *m = er_md_new(width, flags);
    er_buf out = ER_BUF_INIT;
    er_md_feed(m, text, strlen(text), &out);
    er_md_finish(m, &out);
    er_md_free(m);
    return er_buf_detach(&out);
}
