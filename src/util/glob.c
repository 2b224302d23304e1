/* glob.c — path globs without backtracking blow-ups (see glob.h).
 *
 * A segment is matched the classic way: walk pattern and name together and,
 * on a mismatch, resume after the last '*' one character further into the
 * name; since every other token matches exactly one character, that single
 * resume point is enough.  A path is matched segment by segment, each
 * (pattern segment, path segment) pair decided at most once (memoised), with
 * runs of `**` collapsed first. */
#include "errand/glob.h"

#include <ctype.h>
#include <string.h>

/* [:name:] inside a bracket expression. */
static bool in_class(const char *name, size_t n, unsigned char c)
{
    static const struct {
        const char *name;
        int (*fn)(int);
    } classes[] = {
        { "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank }, { "cntrl", iscntrl },
        { "digit", isdigit }, { "graph", isgraph }, { "lower", islower }, { "print", isprint },
        { "punct", ispunct }, { "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
    };
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (strlen(classes[i].name) == n && strncmp(classes[i].name, name, n) == 0)
            return classes[i].fn(c) != 0;
    return false;
}

/* A bracket expression at p ('[' first): whether c is in it; *used gets its
 * length, 0 when it is not closed (then '[' is an ordinary character). */
static bool bracket(const char *p, size_t n, unsigned char c, size_t *used)
{
    size_t i = 1;
    bool negate = i < n && (p[i] == '!' || p[i] == '^'), hit = false;
    i += negate;
    for (bool first = true; i < n && (first || p[i] != ']'); first = false) {
        if (p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
            const char *end = memchr(p + i + 2, ':', n - i - 2);
            if (end && (size_t)(end - p) + 1 < n && end[1] == ']') {
                hit |= in_class(p + i + 2, (size_t)(end - p - i - 2), c);
                i = (size_t)(end - p) + 2;
                continue;
            }
        }
        unsigned char lo = (unsigned char)p[i];
        if (lo == '\\' && i + 1 < n)
            lo = (unsigned char)p[++i];
        i++;
        unsigned char hi = lo;
        if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
            hi = (unsigned char)p[i + 1];
            if (hi == '\\' && i + 2 < n)
                hi = (unsigned char)p[++i + 1];
            i += 2;
        }
        hit |= lo <= c && c <= hi;
    }
    if (i >= n) {
        *used = 0;
        return false;
    }
    *used = i + 1;
    return hit != negate;
}

/* The token at p against c: whether it matches; *used gets its length. */
static bool one(const char *p, size_t n, char c, size_t *used)
{
    *used = 1;
    if (p[0] == '?')
        return true;
    if (p[0] == '\\' && n > 1) {
        *used = 2;
        return p[1] == c;
    }
    if (p[0] == '[') {
        bool hit = bracket(p, n, (unsigned char)c, used);
        if (*used)
            return hit;
        *used = 1;
    }
    return p[0] == c;
}

bool er_glob_segment(const char *pat, size_t plen, const char *name, size_t nlen, bool period)
{
    /* FNM_PERIOD: a hidden name shows only to a pattern that asks for it. */
    if (period && nlen && name[0] == '.' && !(plen && pat[0] == '.') &&
        !(plen > 1 && pat[0] == '\\' && pat[1] == '.'))
        return false;
    size_t pi = 0, si = 0, star = (size_t)-1, resume = 0;
    while (si < nlen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            star = pi;
            resume = si;
            continue;
        }
        size_t used;
        if (pi < plen && one(pat + pi, plen - pi, name[si], &used)) {
            pi += used;
            si++;
            continue;
        }
        if (star == (size_t)-1)
            return false;
        pi = star;
        si = ++resume;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

typedef struct seg {
    const char *p;
    size_t n;
} seg;

/* Splits s at '/' into v (empty segments dropped); -1 past max. */
static int split(const char *s, seg *v, int max)
{
    int n = 0;
    while (*s) {
        size_t len = strcspn(s, "/");
        if (len) {
            if (n == max)
                return -1;
            v[n++] = (seg){ s, len };
        }
        s += len + (s[len] == '/');
    }
    return n;
}

static bool is_globstar(const seg *s)
{
    return s->n == 2 && s->p[0] == '*' && s->p[1] == '*';
}

typedef struct matcher {
    const seg *pat, *path;
    int np, nq;
    bool period;
    signed char memo[ER_GLOB_SEGMENTS_MAX + 1][ER_GLOB_SEGMENTS_MAX + 1]; /* -1 unknown */
} matcher;

/* Pattern segments from i on against path segments from j on. */
static bool match_from(matcher *m, int i, int j)
{
    if (m->memo[i][j] >= 0)
        return m->memo[i][j];
    bool r;
    if (i == m->np)
        r = j == m->nq;
    else if (is_globstar(&m->pat[i]) && i == m->np - 1)
        r = j < m->nq; /* a trailing globstar: something below */
    else if (is_globstar(&m->pat[i]))
        r = match_from(m, i + 1, j) || (j < m->nq && match_from(m, i, j + 1));
    else
        r = j < m->nq &&
            er_glob_segment(m->pat[i].p, m->pat[i].n, m->path[j].p, m->path[j].n, m->period) &&
            match_from(m, i + 1, j + 1);
    m->memo[i][j] = r;
    return r;
}

bool er_glob_match(const char *pattern, const char *path)
{
    return er_glob_match_path(pattern, path, true);
}

bool er_glob_match_path(const char *pattern, const char *path, bool period)
{
    seg pat[ER_GLOB_SEGMENTS_MAX], q[ER_GLOB_SEGMENTS_MAX];
    int np = split(pattern, pat, ER_GLOB_SEGMENTS_MAX), nq = split(path, q, ER_GLOB_SEGMENTS_MAX);
    if (np < 0 || nq < 0)
        return false;
    int k = 0; /* "**" twice in a row says no more than once */
    for (int i = 0; i < np; i++)
        if (!(k > 0 && is_globstar(&pat[i]) && is_globstar(&pat[k - 1])))
            pat[k++] = pat[i];
    matcher m; /* no initialiser: zeroing the whole memo per call costs more than the match */
    m.pat = pat;
    m.path = q;
    m.np = k;
    m.nq = nq;
    m.period = period;
    for (int i = 0; i <= k; i++)
        memset(m.memo[i], -1, (size_t)nq + 1);
    return match_from(&m, 0, 0);
}
