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

#define BIT(t) (1u << (t))
#define NUM_TEXT_MAX 64

static const char *const type_names[] = { "integer", "real", "boolean", "date", "datetime",
                                          "text" };

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

const char *er_data_trim(const char *p, size_t *n)
{
    size_t len = *n;
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    *n = len;
    return p;
}

static bool word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

bool er_infer_is_null(const char *p, size_t n)
{
    static const char *const marks[] = { "NA", "N/A", "#N/A", "null", "NaN" };
    /* Most values are long or start with a digit: decide those at once. */
    if (n > 4 && p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t')
        return false;
    if (n && strchr("Nn#", p[0]) == NULL && p[0] != ' ' && p[0] != '\t')
        return false;
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

/* Digits with optional "," every three from the right: returns the end, and
 * whether separators were used.  NULL when it is not that shape. */
static const char *int_part(const char *p, const char *end, bool *sep)
{
    const char *s = p;
    while (p < end && is_digit(*p))
        p++;
    if (p == s)
        return NULL;
    if (p < end && *p == ',' && p - s <= 3) {
        while (p < end && *p == ',') {
            if (end - p < 4 || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
                return NULL;
            p += 4;
        }
        *sep = true;
        if (p < end && is_digit(*p))
            return NULL;
    }
    return p;
}

/* Which of integer and real the text can be (bits), and whether it used
 * thousands separators. */
static unsigned number_bits(const char *p, size_t n, bool *sep)
{
    const char *end = p + n, *s = p;
    *sep = false;
    if (n > NUM_TEXT_MAX)
        return 0;
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    const char *digits = p;
    bool has_int = false;
    if (p < end && is_digit(*p)) {
        p = int_part(p, end, sep);
        if (!p)
            return 0;
        has_int = true;
        /* "007" keeps its zeros as text; "0", "0.5" are numbers. */
        if (*digits == '0' && p - digits > 1 && is_digit(digits[1]))
            return 0;
    }
    unsigned bits = BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL);
    if (p < end && *p == '.') {
        bits = BIT(ER_DT_REAL);
        p++;
        const char *f = p;
        while (p < end && is_digit(*p))
            p++;
        if (!has_int && p == f)
            return 0;
    } else if (!has_int) {
        return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E') && !*sep) {
        bits = BIT(ER_DT_REAL);
        p++;
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        const char *e = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == e)
            return 0;
    }
    if (p != end || p == s)
        return 0;
    if (bits & BIT(ER_DT_INTEGER)) {
        int64_t v;
        if (er_data_parse_int(s, n, *sep, &v) != 0)
            bits = BIT(ER_DT_REAL);   /* past 64 bits: still a number */
    }
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

static unsigned bool_bits(const char *p, size_t n)
{
    bool b;
    return er_data_parse_bool(p, n, &b) == 0 ? BIT(ER_DT_BOOLEAN) : 0;
}

void er_infer_value(er_infer *in, const char *p, size_t n)
{
    in->values++;
    if (in->possible == BIT(ER_DT_TEXT))
        return;   /* nothing left to learn */
    p = er_data_trim(p, &n);
    unsigned bits = BIT(ER_DT_TEXT);
    bool sep = false;
    if (n && (is_digit(*p) || *p == '-' || *p == '+' || *p == '.')) {
        bits |= number_bits(p, n, &sep);
        if (n >= 10 && is_digit(*p))
            bits |= date_bits(p, n);
    } else if (n) {
        bits |= bool_bits(p, n);
    }
    in->possible &= bits;
    in->thousands |= sep && (bits & (BIT(ER_DT_INTEGER) | BIT(ER_DT_REAL)));
}

er_dtype er_infer_type(const er_infer *in)
{
    static const er_dtype order[] = { ER_DT_BOOLEAN, ER_DT_INTEGER, ER_DT_REAL, ER_DT_DATE,
                                      ER_DT_DATETIME };
    if (in->values == 0)
        return ER_DT_TEXT;
    for (size_t i = 0; i < ER_ARRAY_LEN(order); i++)
        if (in->possible & BIT(order[i]))
            return order[i];
    return ER_DT_TEXT;
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

int er_data_parse_bool(const char *p, size_t n, bool *out)
{
    static const char *const yes[] = { "true", "yes" }, *const no[] = { "false", "no" };
    p = er_data_trim(p, &n);
    for (size_t i = 0; i < ER_ARRAY_LEN(yes); i++) {
        if (word_is(p, n, yes[i]) || word_is(p, n, no[i])) {
            *out = word_is(p, n, yes[i]);
            return 0;
        }
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
            out[k++] = (char)c;   /* letters of other scripts stay */
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
