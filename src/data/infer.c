/* infer.c — what type a column is, from every one of its values, and the
 * conversions of values to that type.
 *
 * Each value narrows the set of types still possible; the column takes the
 * narrowest left at the end.  Numbers with leading zeros ("007", zip codes)
 * are text: converting them would lose what they say.  "1,234" counts as a
 * number with a thousands separator (the column remembers to drop them). */
#include "errand/alloc.h"
#include "data_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BIT(t)       (1u << (t))
#define NUM_TEXT_MAX 64

static const char *const type_names[] = {
    "integer", "real", "boolean", "date", "datetime", "text"
};

const char *er_dtype_name(er_dtype t)
{
    return (unsigned)t < ER_DT_COUNT ? type_names[t] : "text";
}

bool er_dtype_numeric(er_dtype t)
{
    return t == ER_DT_INTEGER || t == ER_DT_REAL || t == ER_DT_BOOLEAN;
}

void er_infer_init(er_infer *in)
{
    memset(in, 0, sizeof *in);
    in->possible = BIT(ER_DT_COUNT) - 1;
}

static bool word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

bool er_infer_is_null_mark(const char *p, size_t n)
{
    static const char *const marks[] = { "NA", "N/A", "#N/A", "null", "NaN" };
    p = er_data_trim(p, &n);
    if (n == 0)
        return true;
    if (n > 4)
        return false;
    for (size_t i = 0; i < ER_ARRAY_LEN(marks); i++)
        if (word_is(p, n, marks[i]))
            return true;
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number's digits as they are read: the first 19 significant ones as an
 * integer, how many there were, and the power of ten they are scaled by. */
typedef struct digits {
    uint64_t m;
    int kept, dropped; /* significant digits kept in m, and past it */
    int scale;         /* m * 10^scale, before the exponent */
} digits;

static void add_digit(digits *d, char c, bool fraction)
{
    if (d->m == 0 && c == '0') {
        d->scale -= fraction; /* leading zeros: only their place counts */
        return;
    }
    if (d->kept < 19) {
        d->m = d->m * 10 + (uint64_t)(c - '0');
        d->kept++;
        d->scale -= fraction;
    } else {
        d->dropped++;
        d->scale += !fraction;
    }
}

/* Digits with optional "," every three from the right: returns the end, and
 * whether separators were used.  NULL when it is not that shape. */
static const char *int_part(const char *p, const char *end, bool *sep, digits *d)
{
    const char *s = p;
    while (p < end && is_digit(*p))
        add_digit(d, *p++, false);
    if (p == s)
        return NULL;
    if (p < end && *p == ',' && p - s <= 3) {
        while (p < end && *p == ',') {
            if (end - p < 4 || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
                return NULL;
            for (int k = 1; k <= 3; k++)
                add_digit(d, p[k], false);
            p += 4;
        }
        *sep = true;
        if (p < end && is_digit(*p))
            return NULL;
    }
    return p;
}

static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* The double nearest to the digits: when the digits and the power of ten
 * are both exact doubles, one multiplication or division rounds once, as
 * strtod does (Clinger's fast path); strtod otherwise. */
static double to_double(const digits *d, int exp10, bool neg, const char *p, size_t n)
{
    int e = d->scale + exp10;
    double v;
    if (d->dropped == 0 && d->m <= (1ull << 53) && e >= -22 && e <= 22) {
        v = e >= 0 ? (double)d->m * pow10_exact[e] : (double)d->m / pow10_exact[-e];
        return neg ? -v : v;
    }
    if (er_data_parse_real(p, n, true, &v) != 0)
        v = neg ? -HUGE_VAL : HUGE_VAL;
    return v;
}

/* Which of integer and real the text can be (bits), whether it used
 * thousands separators, and its values (integer when it is one). */
static unsigned number_scan(const char *p, size_t n, bool *sep, er_num *out)
{
    const char *end = p + n, *s = p;
    digits d = { 0, 0, 0, 0 };
    *sep = false;
    if (n > NUM_TEXT_MAX)
        return 0;
    bool neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    const char *first = p;
    bool has_int = false;
    if (p < end && is_digit(*p)) {
        p = int_part(p, end, sep, &d);
        if (!p)
            return 0;
        has_int = true;
        /* "007" keeps its zeros as text; "0", "0.5" are numbers. */
        if (*first == '0' && p - first > 1 && is_digit(first[1]))
            return 0;
    }
    unsigned bits = BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL);
    if (p < end && *p == '.') {
        bits = BIT(ER_DT_REAL);
        p++;
        const char *f = p;
        while (p < end && is_digit(*p))
            add_digit(&d, *p++, true);
        if (!has_int && p == f)
            return 0;
    } else if (!has_int) {
        return 0;
    }
    int exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E') && !*sep) {
        bits = BIT(ER_DT_REAL);
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        const char *e = p;
        while (p < end && is_digit(*p)) {
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (p == e)
            return 0;
        exp10 = eneg ? -exp10 : exp10;
    }
    if (p != end || p == s)
        return 0;
    if ((bits & BIT(ER_DT_INTEGER)) && er_data_parse_int(s, n, *sep, &out->i) != 0)
        bits = BIT(ER_DT_REAL); /* past 64 bits: still a number */
    out->f = to_double(&d, exp10, neg, s, n);
    if (!isfinite(out->f))
        bits &= ~BIT(ER_DT_REAL); /* too big for a double: only the integer stands */
    return bits;
}

static bool two(const char *p, int lo, int hi, int *out)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return false;
    int v = (p[0] - '0') * 10 + (p[1] - '0');
    *out = v;
    return v >= lo && v <= hi;
}

static bool date_at(const char *p, size_t n)
{
    int m, d;
    if (n < 10 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) ||
        p[4] != '-' || p[7] != '-' || !two(p + 5, 1, 12, &m) || !two(p + 8, 1, 31, &d))
        return false;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] && !(m == 2 && d == 29 && !leap);
}

/* HH:MM[:SS[.fff]][Z|+HH:MM|+HHMM] from p; true when it fills p[0..n). */
static bool time_at(const char *p, size_t n)
{
    int v;
    if (n < 5 || !two(p, 0, 23, &v) || p[2] != ':' || !two(p + 3, 0, 59, &v))
        return false;
    size_t i = 5;
    if (i + 2 < n && p[i] == ':' && two(p + i + 1, 0, 60, &v)) {
        i += 3;
        if (i < n && p[i] == '.') {
            size_t f = ++i;
            while (i < n && is_digit(p[i]))
                i++;
            if (i == f)
                return false;
        }
    }
    if (i == n)
        return true;
    if (p[i] == 'Z' && i + 1 == n)
        return true;
    if (p[i] != '+' && p[i] != '-')
        return false;
    i++;
    if (n - i == 5 && p[i + 2] == ':')
        return two(p + i, 0, 23, &v) && two(p + i + 3, 0, 59, &v);
    return n - i == 4 && two(p + i, 0, 23, &v) && two(p + i + 2, 0, 59, &v);
}

static unsigned date_bits(const char *p, size_t n)
{
    if (!date_at(p, n))
        return 0;
    if (n == 10)
        return BIT(ER_DT_DATE) | BIT(ER_DT_DATETIME);
    if ((p[10] == 'T' || p[10] == ' ') && time_at(p + 11, n - 11))
        return BIT(ER_DT_DATETIME);
    return 0;
}

static unsigned bool_bits(const char *p, size_t n, bool *b)
{
    return er_data_parse_bool(p, n, b) == 0 ? BIT(ER_DT_BOOLEAN) : 0;
}

/* The commonest numbers at once: [-+]digits[.digits], the integer part
 * without a leading zero, no separators or exponent, digits few enough to
 * convert exactly (Clinger's fast path, as to_double).  0: not that shape;
 * the full reading decides. */
static unsigned plain_number(const char *p, size_t n, er_num *out)
{
    const char *e = p + n;
    bool neg = *p == '-';
    p += *p == '-' || *p == '+';
    const char *d0 = p;
    uint64_t m = 0;
    while (p < e && is_digit(*p))
        m = m * 10 + (uint64_t)(*p++ - '0');
    size_t ni = (size_t)(p - d0);
    if (ni == 0 || ni > 18 || (ni > 1 && *d0 == '0'))
        return 0;
    if (p == e) {
        out->i = neg ? -(int64_t)m : (int64_t)m;
        out->f = neg ? -(double)m : (double)m;
        return BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL);
    }
    if (*p != '.')
        return 0;
    const char *f0 = ++p;
    while (p < e && is_digit(*p))
        m = m * 10 + (uint64_t)(*p++ - '0');
    size_t nf = (size_t)(p - f0);
    if (p != e || ni + nf > 15)
        return 0;
    double v = (double)m / pow10_exact[nf];
    out->f = neg ? -v : v;
    return BIT(ER_DT_REAL);
}

/* The type a set of possible types means (er_infer_type's order), by set. */
static er_dtype type_of(unsigned possible)
{
    static const er_dtype order[] = { ER_DT_BOOLEAN, ER_DT_INTEGER, ER_DT_REAL, ER_DT_DATE,
                                      ER_DT_DATETIME };
    for (size_t i = 0; i < ER_ARRAY_LEN(order); i++)
        if (possible & BIT(order[i]))
            return order[i];
    return ER_DT_TEXT;
}

/* A value of the kind the column already holds, untrimmed and plain: it
 * narrows nothing, so only its value is needed.  0 when the full reading
 * must decide. */
static er_dtype settled(const er_infer *in, const char *p, size_t n, er_num *v)
{
    static const unsigned INT_SET = BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL) | BIT(ER_DT_TEXT);
    static const unsigned DATE_SET = BIT(ER_DT_DATE) | BIT(ER_DT_DATETIME) | BIT(ER_DT_TEXT);
    if (n == 0)
        return ER_DT_COUNT;
    bool real = in->possible == (BIT(ER_DT_REAL) | BIT(ER_DT_TEXT));
    if ((in->possible == INT_SET || real) && (is_digit(*p) || *p == '-' || *p == '+')) {
        unsigned bits = plain_number(p, n, v);
        if (real && (bits & BIT(ER_DT_REAL)))
            return ER_DT_REAL;
        return bits == (BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL)) ? ER_DT_INTEGER : ER_DT_COUNT;
    }
    if (in->possible == (BIT(ER_DT_BOOLEAN) | BIT(ER_DT_TEXT)))
        return er_data_parse_bool(p, n, &v->b) == 0 ? ER_DT_BOOLEAN : ER_DT_COUNT;
    if (in->possible == DATE_SET && n == 10 && date_at(p, n))
        return ER_DT_DATE;
    return ER_DT_COUNT;
}

er_dtype er_infer_scan(er_infer *in, const char *p, size_t n, er_num *v)
{
    in->values++;
    if (in->possible == BIT(ER_DT_TEXT))
        return ER_DT_TEXT; /* nothing left to learn */
    er_dtype quick = settled(in, p, n, v);
    if (quick != ER_DT_COUNT)
        return quick;
    p = er_data_trim(p, &n);
    unsigned bits = BIT(ER_DT_TEXT), plain;
    bool sep = false;
    if (n && (is_digit(*p) || *p == '-' || *p == '+') && (plain = plain_number(p, n, v)) != 0) {
        bits |= plain;
    } else if (n >= 10 && is_digit(p[0]) && p[4] == '-') {
        bits |= date_bits(p, n); /* "2024-…" is no number */
    } else if (n && (is_digit(*p) || *p == '-' || *p == '+' || *p == '.')) {
        bits |= number_scan(p, n, &sep, v);
        if (n >= 10 && is_digit(*p))
            bits |= date_bits(p, n);
    } else if (n) {
        bits |= bool_bits(p, n, &v->b);
    }
    in->possible &= bits;
    in->thousands |= sep && (bits & (BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL)));
    return type_of(in->possible);
}

void er_infer_value(er_infer *in, const char *p, size_t n)
{
    er_num v;
    er_infer_scan(in, p, n, &v);
}

er_dtype er_infer_type(const er_infer *in)
{
    return in->values == 0 ? ER_DT_TEXT : type_of(in->possible);
}

/* ---- conversions ---- */

int er_data_parse_int(const char *p, size_t n, bool thousands, int64_t *out)
{
    p = er_data_trim(p, &n);
    const char *end = p + n;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (p == end)
        return ER_EINVAL;
    for (; p < end; p++) {
        if (*p == ',' && thousands)
            continue;
        if (!is_digit(*p))
            return ER_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10)
            return ER_ETOOBIG;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int er_data_parse_real(const char *p, size_t n, bool thousands, double *out)
{
    char tmp[NUM_TEXT_MAX + 1];
    size_t k = 0;
    p = er_data_trim(p, &n);
    if (n > NUM_TEXT_MAX || n == 0)
        return ER_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(thousands && p[i] == ','))
            tmp[k++] = p[i];
    tmp[k] = '\0';
    char *e;
    errno = 0;
    double v = strtod(tmp, &e);
    if (e != tmp + k || !isfinite(v))
        return ER_EINVAL;
    *out = v;
    return 0;
}

/* Does p[0..n) spell w (lower case) in any case? */
static bool spells(const char *p, size_t n, const char *w, size_t wn)
{
    if (n != wn)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != w[i])
            return false;
    return true;
}

int er_data_parse_bool(const char *p, size_t n, bool *out)
{
    p = er_data_trim(p, &n);
    if (n < 2 || n > 5 || !strchr("tTyYfFnN", p[0]))
        return ER_EINVAL; /* the common case, at once */
    if (spells(p, n, "true", 4) || spells(p, n, "yes", 3)) {
        *out = true;
        return 0;
    }
    if (spells(p, n, "false", 5) || spells(p, n, "no", 2)) {
        *out = false;
        return 0;
    }
    return ER_EINVAL;
}

/* ---- column names ---- */

static char *clean_one(const char *s, size_t index)
{
    size_t n = strlen(s);
    char *out = er_xmalloc(n + 16);
    size_t k = 0;
    bool under = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) && c < 0x80) {
            out[k++] = (char)tolower(c);
            under = false;
        } else if (c >= 0x80) {
            out[k++] = (char)c; /* letters of other scripts stay */
            under = false;
        } else if (!under && k) {
            out[k++] = '_';
            under = true;
        }
    }
    while (k && out[k - 1] == '_')
        k--;
    out[k] = '\0';
    if (k == 0)
        snprintf(out, n + 16, "column_%zu", index + 1);
    else if (is_digit(out[0])) {
        memmove(out + 2, out, k + 1);
        memcpy(out, "c_", 2);
    }
    return out;
}

void er_data_clean_names(char **names, size_t n, bool *changed)
{
    *changed = false;
    for (size_t i = 0; i < n; i++) {
        char *c = clean_one(names[i] ? names[i] : "", i);
        for (int k = 2;; k++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(names[j], c) == 0;
            if (!dup)
                break;
            char *base = clean_one(names[i] ? names[i] : "", i);
            free(c);
            c = er_xasprintf("%s_%d", base, k);
            free(base);
        }
        if (!names[i] || strcmp(names[i], c) != 0)
            *changed = true;
        free(names[i]);
        names[i] = c;
    }
}
