/* price.c — the price table of llm.prices and costs in micro-dollars (price.h).
 * The table is parsed on every use: it is a short setting, and a request
 * takes seconds. */
#include "errand/price.h"
#include "errand/alloc.h"
#include "errand/str.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Amounts here are never negative. */
static int64_t round_micros(double v)
{
    return (int64_t)(v + 0.5);
}

typedef struct entry {
    char name[128];
    bool prefix; /* the name ended in '*' */
    double in, out;
} entry;

/* Parses one entry "MODEL=IN/OUT" of len bytes at p. */
static int parse_entry(const char *p, size_t len, entry *e, er_error *err)
{
    char *text = er_xstrndup(p, len);
    char *s = er_str_trim(text);
    char *eq = strchr(s, '=');
    char *slash = eq ? strchr(eq + 1, '/') : NULL;
    int rc = 0;
    if (!eq || !slash || eq == s) {
        rc = er_error_set(err, ER_EINVAL,
                          "llm.prices: '%s' is not MODEL=INPUT/OUTPUT (dollars per million "
                          "tokens)",
                          s);
        goto out;
    }
    *eq = *slash = '\0';
    char *name = er_str_trim(s);
    size_t n = strlen(name);
    e->prefix = n > 0 && name[n - 1] == '*';
    if (e->prefix)
        name[--n] = '\0';
    if (n >= sizeof e->name) {
        rc = er_error_set(err, ER_EINVAL, "llm.prices: the model name '%.40s…' is too long", name);
        goto out;
    }
    memcpy(e->name, name, n + 1);
    if (er_str_to_double(er_str_trim(eq + 1), &e->in) ||
        er_str_to_double(er_str_trim(slash + 1), &e->out) || !(e->in >= 0) || !(e->out >= 0) ||
        e->in > 1e6 || e->out > 1e6)
        rc = er_error_set(err, ER_EINVAL,
                          "llm.prices: the prices of '%s' are not two amounts of dollars per "
                          "million tokens (INPUT/OUTPUT)",
                          e->name);
out:
    free(text);
    return rc;
}

/* Calls fn for every entry until it returns nonzero. */
static int each_entry(const char *table, int (*fn)(const entry *e, void *payload), void *payload,
                      er_error *err)
{
    for (const char *p = table ? table : ""; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool blank = true;
        for (size_t i = 0; i < len; i++)
            blank = blank && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n');
        if (!blank) {
            entry e;
            int rc = parse_entry(p, len, &e, err);
            if (rc)
                return rc;
            if (fn(&e, payload))
                return 0;
        }
        p += len + (end != NULL);
    }
    return 0;
}

static int ignore(const entry *e, void *payload)
{
    (void)e;
    (void)payload;
    return 0;
}

int er_price_check(const char *table, er_error *err)
{
    return each_entry(table, ignore, NULL, err);
}

typedef struct match {
    const char *model;
    entry best;
    bool exact, found;
} match;

static int consider(const entry *e, void *payload)
{
    match *m = payload;
    if (m->exact) /* the table is still read whole: a bad entry is an error wherever it is */
        return 0;
    if (!e->prefix && strcmp(e->name, m->model) == 0) {
        m->best = *e;
        m->found = m->exact = true;
        return 0;
    }
    if (e->prefix && er_str_starts(m->model, e->name) &&
        (!m->found || strlen(e->name) > strlen(m->best.name))) {
        m->best = *e;
        m->found = true;
    }
    return 0;
}

int er_price_cost(const char *table, const char *model, int64_t input_tokens, int64_t output_tokens,
                  int64_t *micros_out, er_error *err)
{
    match m = { .model = model ? model : "" };
    int rc = each_entry(table, consider, &m, err);
    if (rc)
        return rc;
    if (!m.found)
        return er_error_set(err, ER_ENOTFOUND,
                            "no price for model '%s'; add it to llm.prices "
                            "(MODEL=INPUT/OUTPUT, dollars per million tokens)",
                            m.model);
    *micros_out =
        round_micros((double)input_tokens * m.best.in + (double)output_tokens * m.best.out);
    return 0;
}

int er_price_parse_money(const char *text, int64_t *micros_out)
{
    double v;
    if (!text)
        return ER_EINVAL;
    const char *p = text[0] == '$' ? text + 1 : text;
    if (er_str_to_double(p, &v) || !(v >= 0) || v > 1e12)
        return ER_EINVAL;
    *micros_out = round_micros(v * 1e6);
    return 0;
}

void er_price_format(int64_t micros, char *out, size_t outsize)
{
    if (micros >= 10000 || micros == 0) /* a cent or more: cents are enough */
        snprintf(out, outsize, "$%.2f", (double)micros / 1e6);
    else
        snprintf(out, outsize, "$%.6f", (double)micros / 1e6);
}
