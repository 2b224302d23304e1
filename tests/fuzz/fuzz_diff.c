/* fuzz_diff.c — the unified diff generator (er_diff_unified,
 * src/tools/diff.c) on two arbitrary texts: the input up to its first NUL
 * byte is the old text, the rest the new one.
 * Invariants: nothing is written exactly when the texts are equal; the count
 * returned is the number of '+' and '-' lines; the hunk headers agree with
 * their lines; and applying the diff to the old text gives the new one. */
#include "fuzz.h"
#include "errand/buf.h"
#include "errand/diff.h"

/* A cursor over the diff's lines. */
typedef struct reader {
    const char *p, *end;
} reader;

static bool next_line(reader *r, const char **s, size_t *n)
{
    if (r->p >= r->end)
        return false;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    FUZZ_CHECK(nl != NULL); /* every diff line ends in '\n' */
    *s = r->p;
    *n = (size_t)(nl - r->p);
    r->p = nl + 1;
    return true;
}

/* The next line of a text ("" past the end), with its '\n' when it has one. */
static size_t text_line(const char *t, size_t len, size_t *pos, const char **s)
{
    const char *nl = memchr(t + *pos, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - (t + *pos)) + 1 : len - *pos;
    *s = t + *pos;
    *pos += n;
    return n;
}

static size_t parse_num(const char **p)
{
    size_t v = 0;
    FUZZ_CHECK(**p >= '0' && **p <= '9');
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (size_t)(*(*p)++ - '0');
    return v;
}

/* "-S[,C]" or "+S[,C]" */
static void parse_range(const char **p, char sign, size_t *start, size_t *count)
{
    FUZZ_CHECK(**p == sign);
    (*p)++;
    *start = parse_num(p);
    *count = 1;
    if (**p == ',') {
        (*p)++;
        *count = parse_num(p);
    }
}

/* Applies one hunk's body to the old text at *apos, appending to out. */
static size_t apply_hunk(reader *r, er_buf *out, const char *a, size_t alen, size_t *apos,
                         size_t acount, size_t bcount)
{
    size_t changed = 0, seen_a = 0, seen_b = 0;
    const char *s, *marker;
    size_t n, mlen;
    while (seen_a < acount || seen_b < bcount) {
        FUZZ_CHECK(next_line(r, &s, &n) && n >= 1);
        FUZZ_CHECK(s[0] == ' ' || s[0] == '-' || s[0] == '+');
        /* The line as in the text: with '\n', unless a marker follows. */
        bool no_nl = r->p + 2 <= r->end && r->p[0] == '\\';
        if (no_nl)
            FUZZ_CHECK(next_line(r, &marker, &mlen) && mlen > 2);
        size_t body = n - 1;
        if (s[0] != '+') { /* must match the old text */
            const char *t;
            FUZZ_CHECK(text_line(a, alen, apos, &t) == body + !no_nl);
            FUZZ_CHECK(memcmp(t, s + 1, body) == 0 && (no_nl || t[body] == '\n'));
            seen_a++;
        }
        if (s[0] != '-') {
            er_buf_append(out, s + 1, n - 1);
            if (!no_nl)
                er_buf_putc(out, '\n');
            seen_b++;
        }
        changed += s[0] != ' ';
    }
    FUZZ_CHECK(seen_a == acount && seen_b == bcount);
    return changed;
}

/* Rebuilds the new text from the old one and the diff. */
static size_t apply(const er_buf *d, const char *a, size_t alen, er_buf *out)
{
    reader r = { d->ptr, d->ptr + d->len };
    const char *s;
    size_t n, apos = 0, aline = 0, changed = 0;
    FUZZ_CHECK(next_line(&r, &s, &n) && n >= 6 && memcmp(s, "--- a/", 6) == 0);
    FUZZ_CHECK(next_line(&r, &s, &n) && n >= 6 && memcmp(s, "+++ b/", 6) == 0);
    while (next_line(&r, &s, &n)) {
        FUZZ_CHECK(n > 6 && memcmp(s, "@@ ", 3) == 0);
        const char *p = s + 3;
        size_t as, ac, bs, bc;
        parse_range(&p, '-', &as, &ac);
        FUZZ_CHECK(*p++ == ' ');
        parse_range(&p, '+', &bs, &bc);
        FUZZ_CHECK(memcmp(p, " @@", 3) == 0);
        size_t first = ac ? as - 1 : as; /* old lines before the hunk */
        FUZZ_CHECK(first >= aline);
        for (; aline < first; aline++) {
            const char *t;
            size_t tn = text_line(a, alen, &apos, &t);
            FUZZ_CHECK(tn > 0);
            er_buf_append(out, t, tn);
        }
        changed += apply_hunk(&r, out, a, alen, &apos, ac, bc);
        aline += ac;
    }
    er_buf_append(out, a + apos, alen - apos);
    return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *a, *b;
    size_t alen, blen;
    fuzz_split2(data, size, &a, &alen, &b, &blen);
    er_buf d;
    er_buf_init(&d, 0);
    size_t changed = er_diff_unified(&d, "f", a, alen, b, blen);
    bool equal = alen == blen && memcmp(a, b, alen) == 0;
    FUZZ_CHECK((changed == 0) == equal);
    FUZZ_CHECK((d.len == 0) == equal);
    if (!equal) {
        er_buf rebuilt;
        er_buf_init(&rebuilt, 0);
        FUZZ_CHECK(apply(&d, a, alen, &rebuilt) == changed);
        FUZZ_CHECK(rebuilt.len == blen && (blen == 0 || memcmp(rebuilt.ptr, b, blen) == 0));
        er_buf_release(&rebuilt);
    }
    er_buf_release(&d);
    return 0;
}
