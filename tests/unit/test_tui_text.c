/* test_tui_text.c — the TUI's pure text helpers (tui/text.c): UTF-8 decoding
 * and widths, word and hard wrapping, the caret of the input line, code-fence
 * and syntax highlighting, durations, sanitising. */
#include "check.h"
#include "text.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

static void test_utf8(void)
{
    wchar_t wc;
    CHECK_INT(tui_utf8_next("a", 1, &wc), 1);
    CHECK_INT(wc, 'a');
    CHECK_INT(tui_utf8_next("\xC3\xA9", 2, &wc), 2);
    CHECK_INT(wc, 0xE9);
    CHECK_INT(tui_utf8_next("\xE6\xBC\xA2", 3, &wc), 3);
    CHECK_INT(wc, 0x6F22);
    CHECK_INT(tui_utf8_next("\xF0\x9F\x98\x80", 4, &wc), 4);
    CHECK_INT(wc, 0x1F600);
    /* invalid, truncated, overlong and surrogate sequences: one byte of U+FFFD */
    CHECK_INT(tui_utf8_next("\xFF", 1, &wc), 1);
    CHECK_INT(wc, 0xFFFD);
    CHECK_INT(tui_utf8_next("\xE2\x82", 2, &wc), 1);
    CHECK_INT(wc, 0xFFFD);
    CHECK_INT(tui_utf8_next("\xC0\xAF", 2, &wc), 1);
    CHECK_INT(wc, 0xFFFD);
    CHECK_INT(tui_utf8_next("\xED\xA0\x80", 3, &wc), 1);
    CHECK_INT(wc, 0xFFFD);
}

static void test_width(void)
{
    CHECK_INT(tui_char_width('a'), 1);
    CHECK_INT(tui_char_width(0x6F22), 2); /* 漢 */
    CHECK_INT(tui_char_width(0x301), 0);  /* combining acute */
    CHECK_INT(tui_char_width(0x07), 1);   /* drawn as a replacement */
    CHECK_INT(tui_text_width("héllo", strlen("héllo")), 5);
    CHECK_INT(tui_text_width("漢字", strlen("漢字")), 4);
    CHECK_INT(tui_text_width("e\xCC\x81", 3), 1);
    CHECK_INT(tui_text_width("", 0), 0);
}

/* Wraps s at width and returns the rows joined with '|'. */
static char *wrap_all(const char *s, int width)
{
    static char out[1024];
    size_t len = strlen(s), off = 0, o = 0;
    out[0] = '\0';
    while (off < len && o < sizeof out - 64) {
        size_t next;
        size_t n = tui_wrap(s + off, len - off, width, &next);
        if (o)
            out[o++] = '|';
        memcpy(out + o, s + off, n);
        o += n;
        out[o] = '\0';
        off += next;
    }
    return out;
}

static void test_wrap(void)
{
    CHECK_STR(wrap_all("hello world", 5), "hello|world");
    CHECK_STR(wrap_all("hello world", 11), "hello world");
    CHECK_STR(wrap_all("hello big world", 10), "hello big|world");
    CHECK_STR(wrap_all("abcdefghij", 4), "abcd|efgh|ij");
    CHECK_STR(wrap_all("ab\ncd", 10), "ab|cd");
    CHECK_STR(wrap_all("ab\n\ncd", 10), "ab||cd");
    CHECK_STR(wrap_all("漢字漢字", 5), "漢字|漢字");
    CHECK_STR(wrap_all("漢字", 1), "漢|字"); /* a row takes one character at least */
    CHECK_STR(wrap_all("    indented code", 8), "    inde|nted|code");
    CHECK_STR(wrap_all("a bb ccc dddd", 6), "a bb|ccc|dddd");
}

/* Any text, any width: rows never overflow (beyond one wide character), every
 * call advances, and rows plus the skipped separators give back the text. */
static void test_wrap_properties(void)
{
    static const char *pieces[] = {
        "a", "bc", " ", "  ", "\n", "é", "漢", "word", "x\ny", "\xFF", "longlonglongword"
    };
    srand(7);
    for (int round = 0; round < 2000; round++) {
        char s[256] = "";
        size_t len = 0;
        int n = rand() % 20;
        for (int i = 0; i < n; i++) {
            const char *p = pieces[rand() % (int)ER_ARRAY_LEN(pieces)];
            if (len + strlen(p) >= sizeof s)
                break;
            memcpy(s + len, p, strlen(p) + 1);
            len += strlen(p);
        }
        int width = 1 + rand() % 12;
        size_t off = 0, rebuilt = 0;
        bool ok = true;
        while (off < len && ok) {
            size_t next;
            size_t k = tui_wrap(s + off, len - off, width, &next);
            int w = tui_text_width(s + off, k);
            ok = next > 0 && k <= next && off + next <= len && !memchr(s + off, '\n', k) &&
                 (w <= width || tui_fit(s + off, k, 0) == k) && memcmp(s + off, s + off, k) == 0;
            /* what was skipped is exactly one space or one newline */
            if (next > k)
                ok = ok && next == k + 1 && (s[off + k] == ' ' || s[off + k] == '\n');
            rebuilt += next;
            off += next;
        }
        CHECK(ok);
        CHECK_INT(rebuilt, len);
    }
}

static void test_fit_and_caret(void)
{
    CHECK_INT(tui_fit("漢字", 6, 3), 3);
    CHECK_INT(tui_fit("abc\ndef", 7, 10), 3);
    CHECK_INT(tui_fit("漢", 3, 1), 3); /* one character at least */
    int row, col;
    CHECK_INT(tui_caret("abc", 3, 3, 10, 2, &row, &col), 1);
    CHECK_INT(row, 0);
    CHECK_INT(col, 5);
    /* "ab" after a 2-column prompt fills row 0; "cdef" row 1; the end wraps to row 2 */
    CHECK_INT(tui_caret("abcdef", 6, 6, 4, 2, &row, &col), 3);
    CHECK_INT(row, 2);
    CHECK_INT(col, 0);
    CHECK_INT(tui_caret("abcdef", 6, 2, 4, 2, &row, &col), 2);
    CHECK_INT(row, 1);
    CHECK_INT(col, 0);
    CHECK_INT(tui_caret("a\nb", 3, 2, 10, 2, &row, &col), 2);
    CHECK_INT(row, 1);
    CHECK_INT(col, 0);
    CHECK_INT(tui_caret("a\n", 2, 2, 10, 2, &row, &col), 2);
    CHECK_INT(row, 1);
    CHECK_INT(tui_caret("漢字", 6, 3, 10, 0, &row, &col), 1);
    CHECK_INT(col, 2);
}

/* The style of the first byte of `word` in the line highlighted as styles. */
static int style_at(const char *line, const unsigned char *styles, const char *word)
{
    const char *p = strstr(line, word);
    return p ? styles[p - line] : -1;
}

static void hl(tui_hl_state *st, const char *line, unsigned char *styles)
{
    memset(styles, 0xEE, 256);
    tui_hl_line(st, line, strlen(line), styles);
    CHECK(styles[strlen(line)] == 0xEE); /* nothing past the line */
}

static void test_highlight(void)
{
    unsigned char s[256];
    tui_hl_state st = TUI_HL_INIT;
    const char *l;
    hl(&st, l = "# Title", s);
    CHECK_INT(s[0], TUI_S_HEADING);
    hl(&st, l = "use `grep -n` for **all** of it", s);
    CHECK_INT(style_at(l, s, "use"), TUI_S_TEXT);
    CHECK_INT(style_at(l, s, "`grep"), TUI_S_INLINE);
    CHECK_INT(style_at(l, s, "-n`"), TUI_S_INLINE);
    CHECK_INT(style_at(l, s, "**all"), TUI_S_BOLD);
    CHECK_INT(style_at(l, s, "of"), TUI_S_TEXT);
    hl(&st, l = "```c", s);
    CHECK_INT(s[0], TUI_S_FENCE);
    CHECK(st.in_code);
    hl(&st, l = "int x = 42; /* start", s);
    CHECK_INT(style_at(l, s, "int"), TUI_S_KEYWORD);
    CHECK_INT(style_at(l, s, "x"), TUI_S_CODE);
    CHECK_INT(style_at(l, s, "42"), TUI_S_NUMBER);
    CHECK_INT(style_at(l, s, "/*"), TUI_S_COMMENT);
    hl(&st, l = "still comment */ return \"s\"; // end", s);
    CHECK_INT(style_at(l, s, "still"), TUI_S_COMMENT);
    CHECK_INT(style_at(l, s, "return"), TUI_S_KEYWORD);
    CHECK_INT(style_at(l, s, "\"s\""), TUI_S_STRING);
    CHECK_INT(style_at(l, s, "// end"), TUI_S_COMMENT);
    hl(&st, l = "```", s);
    CHECK_INT(s[0], TUI_S_FENCE);
    CHECK(!st.in_code);
    hl(&st, l = "int is prose again", s);
    CHECK_INT(s[0], TUI_S_TEXT);

    hl(&st, "~~~ py", s);
    hl(&st, l = "def f(x): return 'a#b'  # note", s);
    CHECK_INT(style_at(l, s, "def"), TUI_S_KEYWORD);
    CHECK_INT(style_at(l, s, "f("), TUI_S_CODE);
    CHECK_INT(style_at(l, s, "'a#b'"), TUI_S_STRING);
    CHECK_INT(style_at(l, s, "# note"), TUI_S_COMMENT);
    hl(&st, "~~~", s);

    hl(&st, "```SQL", s);
    hl(&st, l = "select id from t -- all", s);
    CHECK_INT(style_at(l, s, "select"), TUI_S_KEYWORD);
    CHECK_INT(style_at(l, s, "id"), TUI_S_CODE);
    CHECK_INT(style_at(l, s, "-- all"), TUI_S_COMMENT);
    hl(&st, "```", s);

    hl(&st, "```diff", s);
    hl(&st, l = "+added", s);
    CHECK_INT(s[0], TUI_S_STRING);
    hl(&st, l = "-removed", s);
    CHECK_INT(s[0], TUI_S_ERROR);
    hl(&st, "```", s);

    /* an unknown language is still code: strings and numbers, no keywords */
    hl(&st, "```brainfudge", s);
    CHECK(st.in_code);
    hl(&st, l = "if x == \"y\" then 7", s);
    CHECK_INT(style_at(l, s, "if"), TUI_S_CODE);
    CHECK_INT(style_at(l, s, "\"y\""), TUI_S_STRING);
    CHECK_INT(style_at(l, s, "7"), TUI_S_NUMBER);
    hl(&st, "```", s);

    CHECK(tui_hl_is_fence("   ```x", 7));
    CHECK(!tui_hl_is_fence("    ```", 7)); /* four spaces: an indented code line */
    CHECK(!tui_hl_is_fence("``", 2));
    CHECK_STR(tui_hl_lang_name("py", 2), "python");
    CHECK_STR(tui_hl_lang_name("C++ {.numberLines}", 18), "c");
    CHECK_STR(tui_hl_lang_name("TypeScript", 10), "javascript");
    CHECK(tui_hl_lang_name("nosuch", 6) == NULL);
    CHECK(tui_hl_lang_name("", 0) == NULL);
}

static void test_duration_and_sanitize(void)
{
    char d[32];
    tui_duration(850, d, sizeof d);
    CHECK_STR(d, "850ms");
    tui_duration(4200, d, sizeof d);
    CHECK_STR(d, "4.2s");
    tui_duration(42000, d, sizeof d);
    CHECK_STR(d, "42s");
    tui_duration(184000, d, sizeof d);
    CHECK_STR(d, "3m04s");
    tui_duration(7500000, d, sizeof d);
    CHECK_STR(d, "2h05m");
    tui_duration(-5, d, sizeof d);
    CHECK_STR(d, "0ms");
    char *s = tui_sanitize("a\tb\r\nc\x01\xFF漢", 11);
    CHECK_STR(s, "a    b\nc\xEF\xBF\xBD\xEF\xBF\xBD漢");
    free(s);
    s = tui_sanitize("", 0);
    CHECK_STR(s, "");
    free(s);
    char t[32];
    tui_clock(0, true, t, sizeof t);
    CHECK_INT(strlen(t), 16); /* "YYYY-MM-DD HH:MM" in local time */
    tui_clock(0, false, t, sizeof t);
    CHECK_INT(strlen(t), 8);
}

static void test_split_at(void)
{
    char agent[8];
    const char *rest;
    CHECK(!tui_split_at("fix it", agent, sizeof agent, &rest));
    CHECK_STR(rest, "fix it");
    CHECK(tui_split_at("@code \t fix it", agent, sizeof agent, &rest));
    CHECK_STR(agent, "code");
    CHECK_STR(rest, "fix it");
    CHECK(tui_split_at("@research", agent, sizeof agent, &rest));
    CHECK_STR(agent, "researc"); /* cut to the buffer */
    CHECK_STR(rest, "");
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        fprintf(stderr, "skipped: no C.UTF-8 locale for wcwidth\n");
        return 77;
    }
    test_utf8();
    test_width();
    test_wrap();
    test_wrap_properties();
    test_fit_and_caret();
    test_highlight();
    test_duration_and_sanitize();
    test_split_at();
    return check_done();
}
