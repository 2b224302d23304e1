/* text.c — pure text helpers for the TUI: UTF-8 width, wrapping, highlighting.
 *
 * Kept free of curses so unit tests can link it on its own.  The highlighter
 * is deliberately small: one pass per line, a table of languages with their
 * keywords, comment and string delimiters; good enough to set code apart from
 * prose, not a parser. */
#include "text.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

size_t tui_utf8_next(const char *s, size_t len, wchar_t *wc)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        *wc = (wchar_t)c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        goto bad;
    }
    if (len < n)
        goto bad;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80)
            goto bad;
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        goto bad;
    *wc = (wchar_t)cp;
    return n;
bad:
    *wc = 0xFFFD;
    return 1;
}

int tui_char_width(wchar_t wc)
{
    if (wc < 0x20 || (wc >= 0x7F && wc < 0xA0))
        return 1;
    int w = wcwidth(wc);
    return w >= 0 ? w : 1;
}

int tui_text_width(const char *s, size_t len)
{
    int w = 0;
    for (size_t i = 0; i < len;) {
        wchar_t wc;
        i += tui_utf8_next(s + i, len - i, &wc);
        w += tui_char_width(wc);
    }
    return w;
}

size_t tui_wrap(const char *s, size_t len, int width, size_t *next)
{
    if (width < 1)
        width = 1;
    size_t i = 0, brk = 0, after = 0;
    bool have_brk = false, seen_word = false;
    int col = 0;
    while (i < len) {
        if (s[i] == '\n') {
            *next = i + 1;
            return i;
        }
        if (s[i] == ' ') {
            if (col + 1 > width) {
                *next = i + 1;
                return i;
            }
            if (seen_word) {
                brk = i;
                after = i + 1;
                have_brk = true;
            }
            col++;
            i++;
            continue;
        }
        wchar_t wc;
        size_t n = tui_utf8_next(s + i, len - i, &wc);
        int w = tui_char_width(wc);
        if (col + w > width) {
            if (have_brk) {
                *next = after;
                return brk;
            }
            size_t cut = i ? i : n; /* a row takes at least one character */
            *next = cut;
            return cut;
        }
        seen_word = true;
        col += w;
        i += n;
    }
    *next = len;
    return len;
}

size_t tui_fit(const char *s, size_t len, int width)
{
    size_t i = 0;
    int col = 0;
    while (i < len && s[i] != '\n') {
        wchar_t wc;
        size_t n = tui_utf8_next(s + i, len - i, &wc);
        int w = tui_char_width(wc);
        if (col + w > width && i > 0)
            break;
        col += w;
        i += n;
    }
    return i;
}

int tui_caret(const char *s, size_t len, size_t point, int width, int first_col, int *row, int *col)
{
    if (width < 1)
        width = 1;
    int r = 0, c = first_col, pr = 0, pc = first_col;
    size_t i = 0;
    while (i < len) {
        if (s[i] == '\n') {
            if (i == point)
                pr = r, pc = c;
            r++, c = 0, i++;
            continue;
        }
        wchar_t wc;
        size_t n = tui_utf8_next(s + i, len - i, &wc);
        int w = tui_char_width(wc);
        if (c + w > width && c > 0)
            r++, c = 0;
        if (i == point)
            pr = r, pc = c;
        c += w;
        i += n;
    }
    if (point >= len) {
        if (c >= width)
            r++, c = 0;
        pr = r, pc = c;
    }
    if (pc >= width)
        pc = width - 1;
    if (row)
        *row = pr;
    if (col)
        *col = pc;
    return r + 1;
}

/* ---- highlighting ---- */

typedef struct lang {
    const char *name;
    const char *aliases;         /* space-separated, with a space at both ends */
    const char *const *keywords; /* NULL-terminated */
    const char *line_comment;    /* NULL when none */
    const char *line_comment2;
    bool block_comment; /* slash-star ... star-slash */
    bool fold_case;     /* keywords match in any case (SQL) */
    const char *quotes;
} lang;

static const char *const kw_c[] = {
    "auto",     "bool",      "break",    "case",     "char",      "class",  "const",    "continue",
    "default",  "define",    "delete",   "do",       "double",    "else",   "endif",    "enum",
    "extern",   "false",     "float",    "for",      "goto",      "if",     "ifdef",    "ifndef",
    "include",  "inline",    "int",      "long",     "namespace", "new",    "NULL",     "nullptr",
    "private",  "protected", "public",   "register", "restrict",  "return", "short",    "signed",
    "sizeof",   "static",    "struct",   "switch",   "template",  "this",   "true",     "typedef",
    "typename", "union",     "unsigned", "using",    "virtual",   "void",   "volatile", "while",
    NULL
};
static const char *const kw_py[] = {
    "and",  "as",   "assert", "async", "await",    "break", "class", "continue", "def",   "del",
    "elif", "else", "except", "False", "finally",  "for",   "from",  "global",   "if",    "import",
    "in",   "is",   "lambda", "None",  "nonlocal", "not",   "or",    "pass",     "raise", "return",
    "self", "True", "try",    "while", "with",     "yield", NULL
};
static const char *const kw_js[] = {
    "async",      "await",     "break", "case",     "catch", "class",      "const",   "continue",
    "default",    "delete",    "do",    "else",     "enum",  "export",     "extends", "false",
    "finally",    "for",       "from",  "function", "if",    "implements", "import",  "in",
    "instanceof", "interface", "let",   "new",      "null",  "of",         "return",  "super",
    "switch",     "this",      "throw", "true",     "try",   "type",       "typeof",  "undefined",
    "var",        "void",      "while", "yield",    NULL
};
static const char *const kw_go[] = {
    "break",  "case",   "chan",        "const",  "continue", "default", "defer", "else",
    "error",  "false",  "fallthrough", "for",    "func",     "go",      "goto",  "if",
    "import", "int",    "interface",   "map",    "nil",      "package", "range", "return",
    "select", "string", "struct",      "switch", "true",     "type",    "var",   NULL
};
static const char *const kw_rust[] = {
    "as",   "async",  "await",  "break", "const", "continue", "crate",  "dyn",   "else",
    "enum", "Err",    "extern", "false", "fn",    "for",      "if",     "impl",  "in",
    "let",  "loop",   "match",  "mod",   "move",  "mut",      "None",   "Ok",    "pub",
    "ref",  "return", "self",   "Self",  "Some",  "static",   "struct", "super", "trait",
    "true", "type",   "unsafe", "use",   "where", "while",    NULL
};
static const char *const kw_sh[] = { "alias", "case",     "cd",     "do",   "done",   "echo",
                                     "elif",  "else",     "esac",   "exit", "export", "fi",
                                     "for",   "function", "if",     "in",   "local",  "return",
                                     "set",   "shift",    "source", "then", "unset",  "until",
                                     "while", NULL };
static const char *const kw_sql[] = {
    "all",    "alter",    "and",   "as",     "asc",     "by",         "create", "delete",
    "desc",   "distinct", "drop",  "from",   "group",   "having",     "index",  "inner",
    "insert", "into",     "join",  "key",    "left",    "limit",      "not",    "null",
    "on",     "or",       "order", "outer",  "primary", "references", "right",  "select",
    "set",    "table",    "union", "update", "values",  "where",      NULL
};
static const char *const kw_java[] = {
    "abstract", "boolean",   "break", "byte",   "case",  "catch",      "char",    "class",
    "continue", "default",   "do",    "double", "else",  "enum",       "extends", "false",
    "final",    "finally",   "float", "for",    "if",    "implements", "import",  "instanceof",
    "int",      "interface", "long",  "new",    "null",  "package",    "private", "protected",
    "public",   "return",    "short", "static", "super", "switch",     "this",    "throw",
    "throws",   "true",      "try",   "void",   "while", NULL
};
static const char *const kw_data[] = { "false", "no", "null", "true", "yes", NULL };
static const char *const kw_none[] = { NULL };

static const lang langs[] = {
    { "c", " c h cpp c++ cc cxx hpp ", kw_c, "//", NULL, true, false, "\"'" },
    { "python", " python py python3 ", kw_py, "#", NULL, false, false, "\"'" },
    { "javascript", " javascript js jsx ts tsx typescript mjs node ", kw_js, "//", NULL, true,
      false, "\"'`" },
    { "go", " go golang ", kw_go, "//", NULL, true, false, "\"'`" },
    { "rust", " rust rs ", kw_rust, "//", NULL, true, false, "\"" },
    { "shell", " sh bash shell zsh console shell-session ", kw_sh, "#", NULL, false, false,
      "\"'`" },
    { "sql", " sql sqlite postgresql psql ", kw_sql, "--", NULL, true, true, "'\"" },
    { "java", " java kotlin kt scala cs csharp ", kw_java, "//", NULL, true, false, "\"'" },
    { "json", " json jsonl ", kw_data, NULL, NULL, false, false, "\"" },
    { "yaml", " yaml yml toml ini conf ", kw_data, "#", ";", false, false, "\"'" },
    { "diff", " diff patch ", kw_none, NULL, NULL, false, false, "" },
};

static int lang_find(const char *info, size_t len)
{
    size_t n = 0;
    while (n < len && !isspace((unsigned char)info[n]) && info[n] != '{' && info[n] != ',')
        n++;
    if (n == 0 || n > 30)
        return -1;
    char key[34];
    key[0] = ' ';
    for (size_t i = 0; i < n; i++)
        key[i + 1] = (char)tolower((unsigned char)info[i]);
    key[n + 1] = ' ';
    key[n + 2] = '\0';
    for (size_t i = 0; i < ER_ARRAY_LEN(langs); i++)
        if (strstr(langs[i].aliases, key))
            return (int)i;
    return -1;
}

const char *tui_hl_lang_name(const char *info, size_t len)
{
    int i = lang_find(info, len);
    return i < 0 ? NULL : langs[i].name;
}

static size_t fence_indent(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i < 3 && line[i] == ' ')
        i++;
    return i;
}

bool tui_hl_is_fence(const char *line, size_t len)
{
    size_t i = fence_indent(line, len);
    if (len - i < 3)
        return false;
    return memcmp(line + i, "```", 3) == 0 || memcmp(line + i, "~~~", 3) == 0;
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static bool is_keyword(const lang *l, const char *w, size_t n)
{
    for (size_t i = 0; l->keywords[i]; i++) {
        const char *k = l->keywords[i];
        if (strlen(k) == n && (l->fold_case ? strncasecmp(k, w, n) == 0 : strncmp(k, w, n) == 0))
            return true;
    }
    return false;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    return n && len >= n && memcmp(s, prefix, n) == 0;
}

/* The end of a string starting at line[i] (a quote), past the closing quote. */
static size_t string_end(const char *line, size_t len, size_t i)
{
    char q = line[i];
    for (size_t j = i + 1; j < len; j++) {
        if (line[j] == '\\')
            j++;
        else if (line[j] == q)
            return j + 1;
    }
    return len;
}

static void fill(unsigned char *styles, size_t from, size_t to, tui_style s)
{
    memset(styles + from, (int)s, to - from);
}

static void hl_diff(const char *line, size_t len, unsigned char *styles)
{
    tui_style s = TUI_S_CODE;
    if (len && line[0] == '+')
        s = TUI_S_STRING;
    else if (len && line[0] == '-')
        s = TUI_S_ERROR;
    else if (len >= 2 && line[0] == '@' && line[1] == '@')
        s = TUI_S_KEYWORD;
    fill(styles, 0, len, s);
}

/* Inside a block comment from i: styles it up to its end (or the line's) and
 * returns where code resumes. */
static size_t block_comment(tui_hl_state *st, const char *line, size_t len, size_t i,
                            unsigned char *styles)
{
    size_t stop = len;
    st->in_comment = true;
    for (size_t j = i; j + 1 < len; j++) {
        if (line[j] == '*' && line[j + 1] == '/') {
            stop = j + 2;
            st->in_comment = false;
            break;
        }
    }
    fill(styles, i, stop, TUI_S_COMMENT);
    return stop;
}

static void hl_code(tui_hl_state *st, const char *line, size_t len, unsigned char *styles)
{
    fill(styles, 0, len, TUI_S_CODE);
    if (st->lang >= 0 && strcmp(langs[st->lang].name, "diff") == 0) {
        hl_diff(line, len, styles);
        return;
    }
    const lang *l = st->lang >= 0 ? &langs[st->lang] : NULL;
    size_t i = 0;
    while (i < len) {
        if (st->in_comment) {
            i = block_comment(st, line, len, i, styles);
            continue;
        }
        char c = line[i];
        if (l && (starts(line + i, len - i, l->line_comment) ||
                  starts(line + i, len - i, l->line_comment2))) {
            fill(styles, i, len, TUI_S_COMMENT);
            return;
        }
        if (l && l->block_comment && starts(line + i, len - i, "/*")) {
            st->in_comment = true;
            fill(styles, i, i + 2, TUI_S_COMMENT);
            i += 2;
            continue;
        }
        if (c && strchr(l ? l->quotes : "\"'", c)) {
            size_t e = string_end(line, len, i);
            fill(styles, i, e, TUI_S_STRING);
            i = e;
            continue;
        }
        if (is_ident(c)) {
            size_t e = i;
            while (e < len && (is_ident(line[e]) || (isdigit((unsigned char)c) && line[e] == '.')))
                e++;
            if (isdigit((unsigned char)c))
                fill(styles, i, e, TUI_S_NUMBER);
            else if (l && is_keyword(l, line + i, e - i))
                fill(styles, i, e, TUI_S_KEYWORD);
            i = e;
            continue;
        }
        i++;
    }
}

/* Outside code: # headings, **bold** and `inline code`. */
static void hl_prose(const char *line, size_t len, unsigned char *styles)
{
    fill(styles, 0, len, TUI_S_TEXT);
    size_t h = 0;
    while (h < len && h < 6 && line[h] == '#')
        h++;
    if (h > 0 && h < len && line[h] == ' ') {
        fill(styles, 0, len, TUI_S_HEADING);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '`') {
            const char *end = memchr(line + i + 1, '`', len - i - 1);
            if (end) {
                size_t e = (size_t)(end - line) + 1;
                fill(styles, i, e, TUI_S_INLINE);
                i = e - 1;
            }
        } else if (i + 1 < len && line[i] == '*' && line[i + 1] == '*') {
            for (size_t j = i + 2; j + 1 < len; j++) {
                if (line[j] == '*' && line[j + 1] == '*') {
                    fill(styles, i, j + 2, TUI_S_BOLD);
                    i = j + 1;
                    break;
                }
            }
        }
    }
}

void tui_hl_line(tui_hl_state *st, const char *line, size_t len, unsigned char *styles)
{
    if (tui_hl_is_fence(line, len)) {
        fill(styles, 0, len, TUI_S_FENCE);
        if (st->in_code) {
            st->in_code = false;
        } else {
            size_t i = fence_indent(line, len) + 3;
            while (i < len && (line[i] == '`' || line[i] == '~' || line[i] == ' '))
                i++;
            st->in_code = true;
            st->lang = lang_find(line + i, len - i);
        }
        st->in_comment = false;
        return;
    }
    if (st->in_code)
        hl_code(st, line, len, styles);
    else
        hl_prose(line, len, styles);
}

void tui_clock(int64_t ms, bool date, char *out, size_t outsize)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) ||
        strftime(out, outsize, date ? "%Y-%m-%d %H:%M" : "%H:%M:%S", &tm) == 0)
        snprintf(out, outsize, "?");
}

void tui_duration(int64_t ms, char *out, size_t outsize)
{
    long long v = ms < 0 ? 0 : (long long)ms;
    if (v < 1000)
        snprintf(out, outsize, "%lldms", v);
    else if (v < 10000)
        snprintf(out, outsize, "%.1fs", (double)v / 1000.0);
    else if (v < 60000)
        snprintf(out, outsize, "%llds", v / 1000);
    else if (v < 3600000)
        snprintf(out, outsize, "%lldm%02llds", v / 60000, (v / 1000) % 60);
    else
        snprintf(out, outsize, "%lldh%02lldm", v / 3600000, (v / 60000) % 60);
}

char *tui_sanitize(const char *s, size_t len)
{
    er_buf b = ER_BUF_INIT;
    static const char repl[] = "\xEF\xBF\xBD";
    for (size_t i = 0; i < len;) {
        wchar_t wc;
        size_t n = tui_utf8_next(s + i, len - i, &wc);
        if (wc == '\r')
            ;
        else if (wc == '\t')
            er_buf_puts(&b, "    ");
        else if (wc == 0xFFFD || (wc < 0x20 && wc != '\n') || (wc >= 0x7F && wc < 0xA0))
            er_buf_puts(&b, repl);
        else
            er_buf_append(&b, s + i, n);
        i += n;
    }
    return er_buf_detach(&b);
}

bool tui_split_at(const char *line, char *agent, size_t size, const char **rest)
{
    *rest = line;
    if (line[0] != '@')
        return false;
    size_t n = strcspn(line + 1, " \t\n");
    snprintf(agent, size, "%.*s", (int)n, line + 1);
    *rest = line + 1 + n + strspn(line + 1 + n, " \t\n");
    return true;
}
