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
    double cached, write; /* the input price when the entry does not give them */
} entry;

/* One price of an entry: dollars per million tokens, within reason. */
static bool parse_price(char *text, double *out)
{
    return er_str_to_double(er_str_trim(text), out) == 0 && *out >= 0 && *out <= 1e6;
}

/* Splits the prices after '=' at '/': "IN/OUT[/CACHED[/WRITE]]".  Returns how
 * many there were (more than 4 counts as 5: too many). */
static int split_prices(char *s, char *part[4])
{
    int n = 0;
    for (char *p = s; n < 5; n++) {
        if (n < 4)
            part[n] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            return n + 1;
        *slash = '\0';
        p = slash + 1;
    }
    return 5;
}

/* Parses one entry "MODEL=IN/OUT[/CACHED[/WRITE]]" of len bytes at p. */
static int parse_entry(const char *p, size_t len, entry *e, er_error *err)
{
    char *text = er_xstrndup(p, len);
    char *s = er_str_trim(text);
    char *eq = strchr(s, '=');
    char *part[4] = { 0 };
    int nprices = eq ? split_prices(eq + 1, part) : 0;
    int rc = 0;
    if (!eq || nprices < 2 || eq == s) {
        rc = er_error_set(err, ER_EINVAL,
                          "llm.prices: '%s' is not MODEL=INPUT/OUTPUT[/CACHED[/CACHE_WRITE]] "
                          "(dollars per million tokens)",
                          s);
        goto out;
    }
    *eq = '\0';
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
    bool ok = nprices <= 4 && parse_price(part[0], &e->in) && parse_price(part[1], &e->out);
    e->cached = e->write = e->in;
    if (ok && nprices >= 3)
        ok = parse_price(part[2], &e->cached);
    if (ok && nprices == 4)
        ok = parse_price(part[3], &e->write);
    if (!ok)
        rc = er_error_set(err, ER_EINVAL,
                          "llm.prices: the prices of '%s' are not two to four amounts of dollars "
                          "per million tokens (INPUT/OUTPUT[/CACHED[/CACHE_WRITE]])",
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
    er_price_tokens t = { .input = input_tokens, .output = output_tokens };
    return er_price_cost_tokens(table, model, &t, micros_out, err);
}

int er_price_cost_tokens(const char *table, const char *model, const er_price_tokens *t,
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
    /* A provider that reports more cached tokens than input is not believed
     * past the input: every token is charged once. */
    int64_t cached = t->cached < 0 ? 0 : t->cached > t->input ? t->input : t->cached;
    int64_t write = t->cache_write < 0 ? 0 : t->cache_write;
    if (write > t->input - cached)
        write = t->input - cached;
    int64_t fresh = t->input - cached - write;
    *micros_out = round_micros((double)fresh * m.best.in + (double)cached * m.best.cached +
                               (double)write * m.best.write + (double)t->output * m.best.out);
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
