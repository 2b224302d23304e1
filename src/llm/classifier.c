/* classifier.c — naive Bayes text classifier for the offline router.
 *
 * Text becomes a stream of normalised tokens (see classifier.h); every token and
 * every pair of neighbours is hashed to a 64-bit feature id, and a text's ids are
 * deduplicated on the stack, so neither training nor prediction allocates per
 * token.  The model is an open-addressing table from feature id to per-label
 * counts.  Clause splitting and the routing decision live in compound.c. */
#include "errand/classifier.h"
#include "errand/alloc.h"
#include "errand/embed.h"
#include "errand/str.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Requests are short; past this many features the rest of a text is ignored,
 * which also caps the work an oversized request can cause. */
#define MAX_FEATS 1024
#define WORD_MAX  48
/* Additive smoothing of the per-label feature distributions (chosen by 5-fold
 * cross-validation on the routing examples). */
#define ALPHA 0.5
/* Longer words also yield their first PREFIX_LEN letters as a feature: a poor
 * man's stemmer that lets "summarise", "summarize" and "summary" meet. */
#define PREFIX_LEN 5
/* Unigrams, bigrams and prefixes of the same words are far from independent, so
 * the raw naive Bayes posterior is overconfident; dividing the log-likelihoods by
 * this temperature gives posteriors that track held-out accuracy much better. */
#define TEMPERATURE 2.0

typedef struct featvec {
    uint64_t h[MAX_FEATS];
    size_t n;
} featvec;

struct er_classifier {
    size_t nlabels;
    char labels[ER_CLASSIFIER_MAX_LABELS][ER_CLASSIFIER_LABEL_MAX];
    size_t docs[ER_CLASSIFIER_MAX_LABELS];  /* examples per label */
    double total[ER_CLASSIFIER_MAX_LABELS]; /* feature occurrences per label */
    double log_prior[ER_CLASSIFIER_MAX_LABELS];
    double log_denom[ER_CLASSIFIER_MAX_LABELS]; /* log(total + ALPHA * vocabulary) */
    size_t ndocs;
    /* Open addressing, linear probing; key 0 marks an empty slot. */
    uint64_t *keys;
    uint16_t *counts; /* a row of nlabels counts per slot */
    size_t cap;
    size_t used;
};

/* ---- hashing ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_pair(uint64_t a, uint64_t b)
{
    return mix64(a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL);
}

/* ---- tokens ---- */

typedef struct tokstream {
    featvec *fv;
    uint64_t prev; /* previous sequence token, for bigrams */
} tokstream;

static void feat_add(featvec *fv, uint64_t h)
{
    h = mix64(h);
    if (fv->n < MAX_FEATS)
        fv->h[fv->n++] = h ? h : 1; /* 0 is the table's empty key */
}

/* A token in the word sequence: a unigram and the bigram with its predecessor. */
static void emit(tokstream *ts, const char *tok, size_t n)
{
    uint64_t h = hash_bytes(tok, n);
    feat_add(ts->fv, h);
    feat_add(ts->fv, hash_pair(ts->prev, h));
    ts->prev = h;
}

/* A side feature: a unigram only, outside the sequence. */
static void emit_side(tokstream *ts, const char *tok)
{
    feat_add(ts->fv, hash_bytes(tok, strlen(tok)));
}

/* Top-level domains that make "name.tld" a web address rather than a file; none
 * doubles as a common file extension (so not .sh, .rs, .pl, .md). */
static const char *const tlds[] = {
    "com",  "org", "net", "io", "dev", "gov", "edu", "co", "uk",  "de",   "ai", "app",
    "info", "biz", "me",  "us", "eu",  "fr",  "ly",  "tv", "xyz", "site", "gg",
};

static bool is_tld(const char *s, size_t n)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(tlds); i++)
        if (strlen(tlds[i]) == n && strncasecmp(s, tlds[i], n) == 0)
            return true;
    return false;
}

static bool is_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s)
        return false;
    size_t rest = n - (size_t)(at - s) - 1;
    const char *dot = memchr(at + 1, '.', rest);
    return dot && dot > at + 1 && dot < s + n - 1;
}

static bool is_number(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    while (i < n && (s[i] == '$' || s[i] == '#' || s[i] == '-' || s[i] == '+'))
        i++;
    if (i >= n || !isdigit((unsigned char)s[i]))
        return false;
    for (; i < n; i++)
        digits += isdigit((unsigned char)s[i]) != 0;
    return digits * 2 >= n;
}

/* The extension of a "name.ext" chunk (letters/digits, at least one letter), or
 * NULL; *extlen gets its length. */
static const char *extension(const char *s, size_t n, size_t *extlen)
{
    const char *dot = NULL;
    for (size_t i = n; i-- > 0;) {
        if (s[i] == '.') {
            dot = s + i;
            break;
        }
        if (!isalnum((unsigned char)s[i]))
            return NULL;
    }
    if (!dot || dot == s || dot == s + n - 1 || !isalnum((unsigned char)dot[-1]))
        return NULL;
    size_t m = (size_t)(s + n - dot - 1);
    bool letter = false;
    for (size_t i = 1; i <= m; i++)
        letter |= isalpha((unsigned char)dot[i]) != 0;
    /* "e.g" and "i.e" are not files. */
    if (!letter || m > 8 || (dot - s == 1 && m == 1))
        return NULL;
    *extlen = m;
    return dot + 1;
}

/* A chunk that names a web address: a scheme, "www.", or a host with a known
 * top-level domain before any path. */
static bool is_url(const char *s, size_t n)
{
    if ((memchr(s, ':', n) && memmem(s, n, "://", 3)) || (n > 4 && strncasecmp(s, "www.", 4) == 0))
        return true;
    const char *slash = memchr(s, '/', n);
    size_t host = slash ? (size_t)(slash - s) : n;
    const char *dot = NULL;
    for (size_t i = 0; i < host; i++) {
        if (s[i] == '.')
            dot = s + i;
        else if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    }
    return dot && dot > s && is_tld(dot + 1, (size_t)(s + host - dot - 1));
}

static bool is_ident(const char *s, size_t n)
{
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '_' && isalnum((unsigned char)s[i - 1]) && isalnum((unsigned char)s[i + 1]))
            return true;
        if (islower((unsigned char)s[i - 1]) && isupper((unsigned char)s[i]))
            return true;
        if ((s[i] == '(' && s[i + 1] == ')') || (s[i] == ':' && s[i + 1] == ':'))
            return true;
    }
    return false;
}

/* Words whose final "s" is not a plural. */
static const char *const not_plural[] = { "news",  "always",  "perhaps", "series", "species",
                                          "https", "windows", "macos",   "ios" };

static bool is_not_plural(const char *w, size_t n)
{
    for (size_t i = 0; i < ER_ARRAY_LEN(not_plural); i++)
        if (strlen(not_plural[i]) == n && memcmp(not_plural[i], w, n) == 0)
            return true;
    return false;
}

/* Lower-cases a word and strips a plural ending, so "Emails" and "email" meet. */
static size_t normalise_word(const char *s, size_t n, char *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n && m < WORD_MAX; i++)
        if (s[i] != '\'')
            out[m++] = (char)tolower((unsigned char)s[i]);
    if (m < 4 || out[m - 1] != 's' || is_not_plural(out, m))
        return m;
    if (m > 4 && memcmp(out + m - 3, "ies", 3) == 0) {
        out[m - 3] = 'y';
        m -= 2;
    } else if (m > 3 && out[m - 1] == 's' && out[m - 2] != 's' && out[m - 2] != 'u' &&
               out[m - 2] != 'i') {
        m--;
    }
    return m;
}

/* Emits the plain words of a chunk, split at anything but letters, digits and
 * apostrophes. */
static void emit_words(tokstream *ts, const char *s, size_t n)
{
    char word[WORD_MAX];
    size_t i = 0;
    while (i < n) {
        while (i < n && !isalnum((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '\''))
            i++;
        if (i > start) {
            size_t m = normalise_word(s + start, i - start, word);
            emit(ts, word, m);
            if (m > PREFIX_LEN)
                feat_add(ts->fv, hash_pair(hash_bytes(word, PREFIX_LEN), 0));
        }
    }
}

static void emit_chunk(tokstream *ts, const char *s, size_t n)
{
    static const char lead[] = "\"'([{<`*", trail[] = "\"')]}>,.;:!?`*";
    while (n && strchr(lead, *s)) {
        s++;
        n--;
    }
    while (n && strchr(trail, s[n - 1]))
        n--;
    if (!n)
        return;
    size_t extlen = 0;
    const char *ext;
    if (is_email(s, n)) {
        emit(ts, "<email>", 7);
    } else if (is_url(s, n)) {
        emit(ts, "<url>", 5);
    } else if (is_number(s, n)) {
        emit(ts, "<num>", 5);
    } else if ((ext = extension(s, n, &extlen)) != NULL) {
        char tok[WORD_MAX + 1] = ".";
        size_t m = normalise_word(ext, extlen, tok + 1);
        emit(ts, tok, m + 1);
        emit_side(ts, "<file>");
    } else if ((s[0] == '/' || s[0] == '~' || (s[0] == '.' && n > 1 && s[1] == '/')) && n > 1) {
        emit(ts, "<path>", 6);
    } else {
        if (n > 1 && s[0] == '-' && isalpha((unsigned char)s[n > 2 && s[1] == '-' ? 2 : 1]))
            emit_side(ts, "<flag>");
        if (is_ident(s, n))
            emit_side(ts, "<ident>");
        emit_words(ts, s, n);
    }
}

/* Drops repeated ids in place through a small open-addressing set on the stack,
 * cleared only as far as this text needs (sorting cost more than the rest of
 * training together). */
static void dedupe(featvec *fv)
{
    uint64_t set[2 * MAX_FEATS];
    size_t cap = 16, m = 0;
    while (cap < 2 * fv->n)
        cap *= 2;
    memset(set, 0, cap * sizeof set[0]);
    for (size_t i = 0; i < fv->n; i++) {
        uint64_t h = fv->h[i];
        size_t s = (size_t)h & (cap - 1);
        while (set[s] && set[s] != h)
            s = (s + 1) & (cap - 1);
        if (set[s])
            continue;
        set[s] = h;
        fv->h[m++] = h;
    }
    fv->n = m;
}

/* The distinct feature ids of a text. */
static void extract(const char *text, size_t len, featvec *fv)
{
    tokstream ts = { fv, hash_bytes("^", 1) };
    fv->n = 0;
    size_t i = 0;
    while (i < len && fv->n < MAX_FEATS) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)text[i]))
            i++;
        if (i > start)
            emit_chunk(&ts, text + start, i - start);
    }
    dedupe(fv);
}

/* ---- the model table ---- */

static size_t slot_of(const er_classifier *c, uint64_t key)
{
    size_t mask = c->cap - 1, i = (size_t)key & mask;
    while (c->keys[i] && c->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

/* Sized so that training rarely grows it: each example brings about 8 new
 * features, and linear probing wants the table under 60 % full. */
static void table_grow(er_classifier *c)
{
    uint64_t *okeys = c->keys;
    uint16_t *ocounts = c->counts;
    size_t ocap = c->cap;
    c->cap = ocap ? ocap * 2 : 1024;
    while (!ocap && c->cap < c->ndocs * 8)
        c->cap *= 2;
    c->keys = er_xcalloc(c->cap, sizeof *c->keys);
    c->counts = er_xcalloc(c->cap * c->nlabels, sizeof *c->counts);
    for (size_t i = 0; i < ocap; i++) {
        if (!okeys[i])
            continue;
        size_t s = slot_of(c, okeys[i]);
        c->keys[s] = okeys[i];
        memcpy(c->counts + s * c->nlabels, ocounts + i * c->nlabels,
               c->nlabels * sizeof *c->counts);
    }
    free(okeys);
    free(ocounts);
}

static void table_add(er_classifier *c, uint64_t key, int label)
{
    if ((c->used + 1) * 5 > c->cap * 3)
        table_grow(c);
    size_t s = slot_of(c, key);
    if (!c->keys[s]) {
        c->keys[s] = key;
        c->used++;
    }
    c->counts[s * c->nlabels + (size_t)label]++;
}

/* Row of counts for a feature, or NULL when training never saw it. */
static const uint16_t *table_row(const er_classifier *c, uint64_t key)
{
    size_t s = slot_of(c, key);
    return c->keys[s] ? c->counts + s * c->nlabels : NULL;
}

/* ---- training ---- */

typedef struct example {
    const char *label;
    size_t label_len;
    const char *text;
    size_t text_len;
} example;

typedef struct tsv_reader {
    const char *p, *end;
    size_t lineno;
} tsv_reader;

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* The next example: 1 and *out, 0 at the end, ER_EINVAL for a malformed line. */
static int next_example(tsv_reader *r, example *out, er_error *err)
{
    while (r->p < r->end) {
        const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        const char *line = r->p, *eol = nl ? nl : r->end;
        r->p = nl ? nl + 1 : r->end;
        r->lineno++;
        size_t n = (size_t)(eol - line);
        if (blank(line, n) || line[0] == '#')
            continue;
        const char *tab = memchr(line, '\t', n);
        if (!tab)
            return er_error_set(err, ER_EINVAL, "training line %zu: expected label<TAB>text",
                                r->lineno);
        out->label = line;
        out->label_len = (size_t)(tab - line);
        out->text = tab + 1;
        out->text_len = (size_t)(eol - tab - 1);
        trim(&out->label, &out->label_len);
        trim(&out->text, &out->text_len);
        if (!out->label_len || !out->text_len)
            return er_error_set(err, ER_EINVAL, "training line %zu: empty %s", r->lineno,
                                out->label_len ? "text" : "label");
        if (out->label_len >= ER_CLASSIFIER_LABEL_MAX)
            return er_error_set(err, ER_EINVAL, "training line %zu: label longer than %d bytes",
                                r->lineno, ER_CLASSIFIER_LABEL_MAX - 1);
        for (size_t i = 0; i < out->label_len; i++)
            if ((unsigned char)out->label[i] < 0x20 || out->label[i] == 0x7f)
                return er_error_set(err, ER_EINVAL,
                                    "training line %zu: control character in the label", r->lineno);
        return 1;
    }
    return 0;
}

static int find_label(const er_classifier *c, const char *s, size_t n)
{
    for (size_t i = 0; i < c->nlabels; i++)
        if (strlen(c->labels[i]) == n && memcmp(c->labels[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* First pass: the label set, so that count rows can be sized once. */
static int collect_labels(er_classifier *c, const char *tsv, size_t len, er_error *err)
{
    tsv_reader r = { tsv, tsv + len, 0 };
    example ex;
    int rc;
    while ((rc = next_example(&r, &ex, err)) > 0) {
        /* Counts are 16-bit, which keeps the table small and quick to fill. */
        if (++c->ndocs > UINT16_MAX)
            return er_error_set(err, ER_ETOOBIG, "training text has more than %u examples",
                                (unsigned)UINT16_MAX);
        if (find_label(c, ex.label, ex.label_len) >= 0)
            continue;
        if (c->nlabels == ER_CLASSIFIER_MAX_LABELS)
            return er_error_set(err, ER_EINVAL, "training line %zu: more than %d labels", r.lineno,
                                ER_CLASSIFIER_MAX_LABELS);
        memcpy(c->labels[c->nlabels], ex.label, ex.label_len);
        c->labels[c->nlabels][ex.label_len] = '\0';
        c->nlabels++;
    }
    if (rc == 0 && c->ndocs == 0)
        return er_error_set(err, ER_EINVAL, "training text has no label<TAB>text example");
    return rc;
}

static void count_examples(er_classifier *c, const char *tsv, size_t len)
{
    tsv_reader r = { tsv, tsv + len, 0 };
    example ex;
    featvec fv;
    while (next_example(&r, &ex, NULL) > 0) {
        int label = find_label(c, ex.label, ex.label_len);
        extract(ex.text, ex.text_len, &fv);
        for (size_t i = 0; i < fv.n; i++)
            table_add(c, fv.h[i], label);
        c->docs[label]++;
        c->total[label] += (double)fv.n;
    }
    for (size_t l = 0; l < c->nlabels; l++) {
        c->log_prior[l] = log((double)c->docs[l] / (double)c->ndocs);
        c->log_denom[l] = log(c->total[l] + ALPHA * (double)c->used);
    }
}

int er_classifier_train(er_classifier **out, const char *tsv, size_t len, er_error *err)
{
    *out = NULL;
    er_classifier *c = er_xcalloc(1, sizeof *c);
    int rc = collect_labels(c, tsv ? tsv : "", tsv ? len : 0, err);
    if (rc < 0) {
        er_classifier_free(c);
        return rc;
    }
    table_grow(c);
    count_examples(c, tsv, len);
    *out = c;
    return 0;
}

void er_classifier_free(er_classifier *c)
{
    if (!c)
        return;
    free(c->keys);
    free(c->counts);
    free(c);
}

/* ---- prediction ---- */

void er_classifier_predict(const er_classifier *c, const char *text, size_t len,
                           er_class_result *out)
{
    featvec fv;
    double s[ER_CLASSIFIER_MAX_LABELS];
    memset(out, 0, sizeof *out);
    out->nlabels = c->nlabels;
    extract(text ? text : "", text ? len : 0, &fv);
    for (size_t l = 0; l < c->nlabels; l++)
        s[l] = 0;
    for (size_t i = 0; i < fv.n; i++) {
        const uint16_t *row = table_row(c, fv.h[i]);
        if (!row)
            continue; /* unseen everywhere: no evidence either way */
        for (size_t l = 0; l < c->nlabels; l++)
            s[l] += log((double)row[l] + ALPHA) - c->log_denom[l];
    }
    double max = -HUGE_VAL, sum = 0;
    for (size_t l = 0; l < c->nlabels; l++) {
        s[l] = c->log_prior[l] + s[l] / TEMPERATURE;
        if (s[l] > max)
            max = s[l];
    }
    for (size_t l = 0; l < c->nlabels; l++) {
        out->scores[l] = exp(s[l] - max);
        sum += out->scores[l];
    }
    for (size_t l = 0; l < c->nlabels; l++) {
        out->scores[l] /= sum;
        if (out->scores[l] > out->scores[out->best])
            out->best = (int)l;
    }
    out->confidence = out->scores[out->best];
}

/* ---- accessors and the default model ---- */

size_t er_classifier_nlabels(const er_classifier *c)
{
    return c->nlabels;
}

const char *er_classifier_label(const er_classifier *c, size_t i)
{
    return i < c->nlabels ? c->labels[i] : NULL;
}

int er_classifier_label_index(const er_classifier *c, const char *label)
{
    return label ? find_label(c, label, strlen(label)) : -1;
}

size_t er_classifier_examples(const er_classifier *c, size_t i)
{
    return i < c->nlabels ? c->docs[i] : 0;
}

#define ROUTING_TSV "llm/routing.tsv"

/* The only mutable globals: written once under pthread_once, read-only after. */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static er_classifier *default_model;
static er_error default_err;

static void train_default(void)
{
    const er_embedded_file *f = er_embedded_find(ROUTING_TSV);
    if (!f) {
        er_error_set(&default_err, ER_EINTERNAL,
                     "the routing examples (%s) are not embedded in this build", ROUTING_TSV);
        return;
    }
    if (er_classifier_train(&default_model, f->data, f->len, &default_err) < 0)
        er_error_prefix(&default_err, "%s", ROUTING_TSV);
}

int er_classifier_default(const er_classifier **out, er_error *err)
{
    pthread_once(&default_once, train_default);
    *out = default_model;
    if (default_model)
        return 0;
    if (err)
        *err = default_err;
    return default_err.code;
}
