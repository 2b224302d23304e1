/* cite.c — finding a quote in a page's text, normalised (see cite.h). */
#include "errand/cite.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SENTENCE_MAX 600

/* Multi-byte characters that normalise to ASCII. */
static const struct {
    const char *utf8, *ascii;
} folds[] = {
    { "\xE2\x80\x98", "'" },   { "\xE2\x80\x99", "'" },  { "\xE2\x80\x9A", "'" },
    { "\xE2\x80\x9B", "'" },   { "\xE2\x80\xB2", "'" },  { "\xE2\x80\x9C", "\"" },
    { "\xE2\x80\x9D", "\"" },  { "\xE2\x80\x9E", "\"" }, { "\xE2\x80\x9F", "\"" },
    { "\xE2\x80\xB3", "\"" },  { "\xC2\xAB", "\"" },     { "\xC2\xBB", "\"" },
    { "\xE2\x80\x90", "-" },   { "\xE2\x80\x91", "-" },  { "\xE2\x80\x92", "-" },
    { "\xE2\x80\x93", "-" },   { "\xE2\x80\x94", "-" },  { "\xE2\x88\x92", "-" },
    { "\xE2\x80\xA6", "..." }, { "\xC2\xA0", " " },      { "\xE2\x80\x89", " " },
    { "\xE2\x80\xAF", " " },   { "\xE2\x80\x8B", "" },
};

/* The normalised text and, for each of its bytes, the offset of the original
 * byte it came from. */
typedef struct norm {
    er_buf text;
    size_t *at;
    size_t cap;
} norm;

static void put(norm *n, char c, size_t from)
{
    if (n->text.len + 1 >= n->cap) {
        n->cap = n->cap ? n->cap * 2 : 256;
        n->at = er_xrealloc(n->at, n->cap * sizeof *n->at);
    }
    /* one space for any run of blanks, none at the start */
    if (c == ' ' && (n->text.len == 0 || n->text.ptr[n->text.len - 1] == ' '))
        return;
    n->at[n->text.len] = from;
    er_buf_putc(&n->text, c);
}

/* Markup the extractor writes at a line start: "## ", "- ", "1. ", "| ". */
static size_t markup_len(const char *s)
{
    size_t i = 0;
    while (s[i] == '#' || s[i] == '|' || s[i] == '>')
        i++;
    if (!i && (s[0] == '-' || s[0] == '*') && s[1] == ' ')
        i = 1;
    if (!i && isdigit((unsigned char)s[0])) {
        while (isdigit((unsigned char)s[i]))
            i++;
        if (s[i] != '.' || s[i + 1] != ' ')
            return 0;
        i++;
    }
    return i && s[i] == ' ' ? i : 0;
}

static void normalise(norm *n, const char *s)
{
    er_buf_init(&n->text, 0);
    bool line_start = true;
    for (size_t i = 0; s[i];) {
        if (line_start && markup_len(s + i)) {
            i += markup_len(s + i);
            line_start = false;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        line_start = c == '\n';
        if (s[i] == '|' && (s[i + 1] == ' ' || s[i + 1] == '\n' || !s[i + 1])) {
            put(n, ' ', i++); /* table cell borders */
            continue;
        }
        size_t f = 0;
        while (f < ER_ARRAY_LEN(folds) && strncmp(s + i, folds[f].utf8, strlen(folds[f].utf8)))
            f++;
        if (f < ER_ARRAY_LEN(folds)) {
            for (const char *a = folds[f].ascii; *a; a++)
                put(n, *a, i);
            i += strlen(folds[f].utf8);
        } else if (c == 0xC3 && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9E && (unsigned char)s[i + 1] != 0x97) {
            put(n, (char)c, i); /* Latin-1 capitals À..Þ to lower case */
            put(n, (char)((unsigned char)s[i + 1] + 0x20), i + 1);
            i += 2;
        } else {
            put(n, isspace(c) ? ' ' : (char)tolower(c), i);
            i++;
        }
    }
    while (n->text.len && n->text.ptr[n->text.len - 1] == ' ')
        n->text.ptr[--n->text.len] = '\0';
}

char *er_cite_normalise(const char *s)
{
    norm n = { 0 };
    normalise(&n, s ? s : "");
    free(n.at);
    char *out = er_buf_detach(&n.text);
    return out;
}

static bool sentence_end(const char *t, size_t i)
{
    if (t[i] == '\n' && (i == 0 || t[i - 1] == '\n' || t[i + 1] == '\n'))
        return true;
    return (t[i] == '.' || t[i] == '!' || t[i] == '?') &&
           (isspace((unsigned char)t[i + 1]) || !t[i + 1]);
}

/* The sentence(s) around [start, end) of text. */
static char *sentence_around(const char *text, size_t start, size_t end)
{
    size_t a = start, len = strlen(text);
    while (a > 0 && !sentence_end(text, a - 1) && start - a < SENTENCE_MAX / 2)
        a--;
    size_t b = end;
    while (b < len && !sentence_end(text, b) && b - end < SENTENCE_MAX / 2)
        b++;
    if (b < len && text[b] != '\n')
        b++; /* the full stop */
    while (a < b && isspace((unsigned char)text[a]))
        a++;
    return er_xstrndup(text + a, b - a);
}

void er_cite_find(er_cite_match *out, const char *text, const char *quote)
{
    memset(out, 0, sizeof *out);
    norm t = { 0 }, q = { 0 };
    normalise(&q, quote ? quote : "");
    if (q.text.len >= 3) {
        normalise(&t, text ? text : "");
        const char *hit = t.text.len ? strstr(t.text.ptr, q.text.ptr) : NULL;
        if (hit) {
            size_t s = (size_t)(hit - t.text.ptr), e = s + q.text.len - 1;
            out->found = true;
            out->start = t.at[s];
            out->end = t.at[e] + 1;
            out->sentence = sentence_around(text, out->start, out->end);
        }
    }
    er_buf_release(&t.text);
    er_buf_release(&q.text);
    free(t.at);
    free(q.at);
}

void er_cite_match_release(er_cite_match *m)
{
    free(m->sentence);
    m->sentence = NULL;
}
