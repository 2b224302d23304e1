/* grep.c — the line matcher of the grep tool (see grep.h). */
#include "errand/grep.h"
#include "errand/alloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* Bytes PCRE2 is given at a time when no literal narrows the search: large
 * enough that the call overhead vanishes, small enough to notice a cancel. */
#define WINDOW                (4u * 1024 * 1024)
#define MATCH_LIMIT           50000000u
#define HITS_PER_CANCEL_CHECK 256

struct er_grep {
    pcre2_code *code; /* NULL for a fixed string matched with memmem alone */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    bool jit, multiline;
    char *literal; /* every match holds it (case as written), or NULL */
    size_t litlen;
    size_t rare;   /* index of its rarest byte in source text: memchr's target */
    bool caseless; /* literal lower-cased, compared without case (ASCII) */
    bool borrowed; /* a copy from er_grep_dup: code and literal are the original's */
};

/* How common a byte is in source code and prose, roughly (higher: more
 * common): memchr looks for the literal's rarest byte, which gives the
 * fewest false starts, as ripgrep does with its frequency table. */
static int commonness(unsigned char c)
{
    if (c == ' ' || c == 'e' || c == 't' || c == '\n')
        return 9;
    if (strchr("aoinsrlc", c))
        return 8;
    if (c >= 'a' && c <= 'z')
        return c == 'q' || c == 'z' || c == 'j' || c == 'x' ? 4 : 6;
    if (strchr("_();,*=\t/.{}#\"-", c))
        return 7;
    if (c >= 'A' && c <= 'Z') /* macros: common capitals as often as digits */
        return strchr("ETAOINSRLCD", c) ? 5 : 3;
    if (c >= '0' && c <= '9')
        return 5;
    return c >= 0x80 ? 1 : 2;
}

static size_t rarest(const char *s, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (commonness((unsigned char)s[i]) < commonness((unsigned char)s[best]))
            best = i;
    return best;
}

static bool same_nocase(const char *a, const char *lit, size_t m)
{
    for (size_t i = 0; i < m; i++)
        if ((char)tolower((unsigned char)a[i]) != lit[i])
            return false;
    return true;
}

/* Without case: the rarest byte in both its cases, each memchr's next hit
 * kept until passed. */
static const char *find_nocase(const er_grep *g, const char *hay, size_t n)
{
    const char *lit = g->literal;
    size_t m = g->litlen, k = g->rare;
    int lo = (unsigned char)lit[k], up = toupper(lo);
    const char *p = hay + k, *last = hay + n - (m - k);
    const char *nl = NULL, *nu = NULL;
    bool dl = false, du = lo == up;
    while (p <= last) {
        if (!dl && (!nl || nl < p) && !(nl = memchr(p, lo, (size_t)(last - p) + 1)))
            dl = true;
        if (!du && (!nu || nu < p) && !(nu = memchr(p, up, (size_t)(last - p) + 1)))
            du = true;
        const char *c = dl ? (du ? NULL : nu) : du ? nl : nl < nu ? nl : nu;
        if (!c)
            return NULL;
        if (same_nocase(c - k, lit, m))
            return c - k;
        p = c + 1;
    }
    return NULL;
}

/* memmem through memchr on the rarest byte: glibc's memmem is several times
 * slower than memchr over text that mostly does not hold the needle. */
static const char *find_literal(const er_grep *g, const char *hay, size_t n)
{
    const char *lit = g->literal;
    size_t m = g->litlen, k = g->rare;
    if (m == 0 || n < m)
        return m == 0 ? hay : NULL;
    if (g->caseless)
        return find_nocase(g, hay, n);
    unsigned char c = (unsigned char)lit[k];
    const char *p = hay + k, *last = hay + n - (m - k); /* candidates for lit[k] */
    while (p <= last && (p = memchr(p, c, (size_t)(last - p) + 1)) != NULL) {
        if (p[m - 1 - k] == lit[m - 1] && memcmp(p - k, lit, m) == 0)
            return p - k;
        p++;
    }
    return NULL;
}

static bool has_upper(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' && s[1]) { /* \S \W \D \B name classes, not letters */
            s++;
            continue;
        }
        if (isupper((unsigned char)*s))
            return true;
    }
    return false;
}

static bool has_high_bytes(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

/* The longest run of plain characters outside any group, class or
 * alternation that every match must contain; NULL when there is no safe one.
 * Conservative: any alternation or "(?" (flags, lookaround) gives up. */
static char *required_literal(const char *p)
{
    if (strchr(p, '|') || strstr(p, "(?") || strstr(p, "\\Q") || strstr(p, "\\x") ||
        strstr(p, "\\N") || strstr(p, "\\c") || strstr(p, "\\o"))
        return NULL;
    char best[256], cur[256];
    size_t nb = 0, nc = 0;
    int depth = 0;
#define COMMIT()                   \
    do {                           \
        if (nc > nb) {             \
            memcpy(best, cur, nc); \
            nb = nc;               \
        }                          \
        nc = 0;                    \
    } while (0)
    for (size_t i = 0; p[i];) {
        char c = p[i];
        if (c == '(' || c == ')') {
            COMMIT();
            depth += c == '(' ? 1 : -1;
            i++;
        } else if (c == '[') {
            COMMIT();
            i++;
            if (p[i] == '^')
                i++;
            if (p[i] == ']')
                i++;
            while (p[i] && p[i] != ']') {
                if (p[i] == '\\' && p[i + 1])
                    i++;
                else if (p[i] == '[' && p[i + 1] == ':' && strstr(p + i + 2, ":]"))
                    i = (size_t)(strstr(p + i + 2, ":]") - p) + 1;
                i++;
            }
            if (!p[i])
                return NULL;
            i++;
        } else if (c == '*' || c == '?' || c == '{' || c == '+') {
            if (c != '+' && nc) /* the atom before may be absent */
                nc--;
            COMMIT();
            if (c == '{') {
                const char *e = strchr(p + i, '}');
                i = e ? (size_t)(e - p) + 1 : i + 1;
            } else {
                i++;
            }
            if (p[i] == '?' || p[i] == '+') /* lazy or possessive */
                i++;
        } else if (c == '\\') {
            if (!p[i + 1])
                return NULL;
            unsigned char e = (unsigned char)p[i + 1];
            if (isalnum(e)) {
                COMMIT(); /* \d \w \b \s, back references */
            } else if (depth == 0 && nc < sizeof cur) {
                cur[nc++] = (char)e;
            }
            i += 2;
        } else if (c == '.' || c == '^' || c == '$') {
            COMMIT();
            i++;
        } else {
            if (depth == 0 && nc < sizeof cur && c != '\n')
                cur[nc++] = c;
            else
                COMMIT();
            i++;
        }
    }
    COMMIT();
#undef COMMIT
    return nb ? er_xstrndup(best, nb) : NULL;
}

int er_grep_new(er_grep **out, const char *pattern, const er_grep_opts *opts, er_error *err)
{
    *out = NULL;
    bool caseless = opts->ignore_case || (opts->smart_case && !has_upper(pattern));
    er_grep *g = er_xcalloc(1, sizeof *g);
    g->multiline = opts->multiline;
    g->literal = opts->fixed_strings ? er_xstrdup(pattern) : required_literal(pattern);
    if (g->literal && caseless && has_high_bytes(g->literal)) {
        free(g->literal); /* case folding beyond ASCII is the regex's business */
        g->literal = NULL;
    }
    g->litlen = g->literal ? strlen(g->literal) : 0;
    g->caseless = caseless;
    for (size_t i = 0; caseless && i < g->litlen; i++)
        g->literal[i] = (char)tolower((unsigned char)g->literal[i]);
    g->rare = rarest(g->literal ? g->literal : "", g->litlen);
    /* A case-sensitive literal on one line needs no regex at all. */
    if (opts->fixed_strings && !caseless && !strchr(pattern, '\n')) {
        *out = g;
        return 0;
    }
    /* A literal takes no MULTILINE (it has no ^ or $ to place). */
    uint32_t flags = opts->fixed_strings ? PCRE2_LITERAL : PCRE2_MULTILINE;
    if (caseless)
        flags |= PCRE2_CASELESS;
    if (has_high_bytes(pattern)) /* UTF-8 in the pattern: match by characters */
        flags |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UCP;
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    int code;
    PCRE2_SIZE offset;
    g->code =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &code, &offset, cctx);
    pcre2_compile_context_free(cctx);
    if (!g->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        er_grep_free(g);
        return er_error_set(err, ER_EINVAL, "bad regular expression '%s': %s at offset %zu",
                            pattern, (const char *)msg, (size_t)offset);
    }
    g->jit = pcre2_jit_compile(g->code, PCRE2_JIT_COMPLETE) == 0;
    g->md = pcre2_match_data_create(1, NULL);
    g->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(g->mctx, MATCH_LIMIT);
    *out = g;
    return 0;
}

er_grep *er_grep_dup(const er_grep *g)
{
    er_grep *c = er_xmalloc(sizeof *c);
    *c = *g;
    c->borrowed = true;
    /* The compiled pattern (and its JIT code) is read-only while matching;
     * what a match writes lives in the match data, one per thread. */
    if (g->code) {
        c->md = pcre2_match_data_create(1, NULL);
        c->mctx = pcre2_match_context_copy(g->mctx);
    }
    return c;
}

void er_grep_free(er_grep *g)
{
    if (!g)
        return;
    if (!g->borrowed) {
        pcre2_code_free(g->code);
        free(g->literal);
    }
    pcre2_match_data_free(g->md);
    pcre2_match_context_free(g->mctx);
    free(g);
}

const char *er_grep_literal(const er_grep *g)
{
    return g->literal;
}

/* PCRE2's answer for subject s[0..len) from start: >0 a match (ovector in
 * g->md), 0 none, <0 an error. */
static int run(er_grep *g, const char *s, size_t len, size_t start)
{
    int rc = g->jit ? pcre2_jit_match(g->code, (PCRE2_SPTR)s, len, start, 0, g->md, g->mctx)
                    : pcre2_match(g->code, (PCRE2_SPTR)s, len, start, 0, g->md, g->mctx);
    return rc == PCRE2_ERROR_NOMATCH ? 0 : rc;
}

static size_t line_start(const char *text, size_t floor, size_t at)
{
    const char *nl = at > floor ? memrchr(text + floor, '\n', at - floor) : NULL;
    return nl ? (size_t)(nl - text) + 1 : floor;
}

static size_t line_end(const char *text, size_t len, size_t at)
{
    const char *nl = at < len ? memchr(text + at, '\n', len - at) : NULL;
    return nl ? (size_t)(nl - text) : len;
}

static bool cancelled(const volatile int *cancel)
{
    return cancel && *cancel;
}

static int scan_literal(er_grep *g, const char *text, size_t len, const volatile int *cancel,
                        er_grep_hit hit, void *payload)
{
    size_t pos = 0, hits = 0, lines = 0;
    while (pos < len) {
        const char *p = find_literal(g, text + pos, len - pos);
        if (!p)
            break;
        size_t ls = line_start(text, pos, (size_t)(p - text));
        size_t le = line_end(text, len, (size_t)(p - text) + g->litlen);
        /* Lines that hold the literal but fail the regex are a long loop too. */
        if (++lines % 4096 == 0 && cancelled(cancel))
            return ER_ECANCELLED;
        if (g->code) {
            int rc = run(g, text + ls, le - ls, 0);
            if (rc < 0)
                return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ? ER_ETOOBIG
                                                                                    : ER_EINVAL;
            if (rc == 0) {
                pos = le + 1;
                continue;
            }
        }
        if (!hit(ls, le, payload))
            return 0;
        if (++hits % HITS_PER_CANCEL_CHECK == 0 && cancelled(cancel))
            return ER_ECANCELLED;
        pos = le + 1;
    }
    return 0;
}

static int scan_regex(er_grep *g, const char *text, size_t len, const volatile int *cancel,
                      er_grep_hit hit, void *payload)
{
    size_t pos = 0, hits = 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
    while (pos < len) {
        if (cancelled(cancel))
            return ER_ECANCELLED;
        /* Multiline matches may cross any window: they get the whole text. */
        size_t wend = g->multiline || len - pos <= WINDOW ? len : line_end(text, len, pos + WINDOW);
        int rc = run(g, text, wend, pos);
        if (rc < 0)
            return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ? ER_ETOOBIG
                                                                                : ER_EINVAL;
        if (rc == 0) {
            if (wend >= len)
                break;
            pos = wend + 1;
            continue;
        }
        size_t ms = ov[0], me = ov[1];
        size_t ls = line_start(text, pos, ms);
        size_t le;
        if (g->multiline) {
            size_t last = me > ms ? me - 1 : ms;
            le = me > ms && text[last] == '\n' ? last : line_end(text, len, last);
        } else {
            le = line_end(text, wend, ms);
            /* A match through a newline (\s, [^x]) counts only if the line alone matches. */
            if (me > le && (rc = run(g, text + ls, le - ls, 0)) <= 0) {
                if (rc < 0)
                    return ER_ETOOBIG;
                pos = le + 1;
                continue;
            }
        }
        if (ls == len && len > 0) /* an empty match after the final newline: no line there */
            break;
        if (!hit(ls, le, payload))
            return 0;
        if (++hits % HITS_PER_CANCEL_CHECK == 0 && cancelled(cancel))
            return ER_ECANCELLED;
        pos = le + 1;
    }
    return 0;
}

int er_grep_scan(er_grep *g, const char *text, size_t len, const volatile int *cancel,
                 er_grep_hit hit, void *payload)
{
    if (cancelled(cancel))
        return ER_ECANCELLED;
    if (g->literal && !g->multiline)
        return scan_literal(g, text, len, cancel, hit, payload);
    if (g->literal && !find_literal(g, text, len))
        return 0;
    return scan_regex(g, text, len, cancel, hit, payload);
}
