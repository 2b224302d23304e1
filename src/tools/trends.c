/* trends.c — the trend finder's comparison of two snapshots (trends.h). */
#include "errand/trends.h"
#include "errand/alloc.h"
#include "errand/json.h"
#include "errand/str.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TOP 10
#define WORD_MAX    64

/* ---- rows ---- */

/* Rows as objects: a list row (a table without a header) becomes
 * {col1, col2, …}.  OWNED. */
static cJSON *parse_rows(const er_snapshot *s)
{
    cJSON *in = s && s->rows ? cJSON_Parse(s->rows) : NULL, *out = cJSON_CreateArray(), *row;
    cJSON_ArrayForEach(row, in)
    {
        if (cJSON_IsObject(row)) {
            cJSON_AddItemToArray(out, cJSON_Duplicate(row, true));
            continue;
        }
        if (!cJSON_IsArray(row))
            continue;
        cJSON *o = cJSON_CreateObject(), *v;
        int i = 0;
        cJSON_ArrayForEach(v, row)
        {
            char name[32];
            snprintf(name, sizeof name, "col%d", ++i);
            cJSON_AddItemToObject(o, name, cJSON_Duplicate(v, true));
        }
        cJSON_AddItemToArray(out, o);
    }
    cJSON_Delete(in);
    return out;
}

static const char *text_of(const cJSON *row, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static const char *pick_key(const cJSON *rows, const char *asked)
{
    if (!er_str_empty(asked))
        return asked;
    static const char *const usual[] = { "title", "name", "text", "item", "label" };
    const cJSON *first = cJSON_GetArrayItem(rows, 0), *v;
    for (size_t i = 0; i < ER_ARRAY_LEN(usual); i++)
        if (text_of(first, usual[i]))
            return usual[i];
    cJSON_ArrayForEach(v, first) if (cJSON_IsString(v)) return v->string;
    return "text";
}

/* The row of rows whose key is item, and its position; NULL when none. */
static const cJSON *find_item(const cJSON *rows, const char *key, const char *item, int *rank)
{
    const cJSON *row;
    int i = 0;
    cJSON_ArrayForEach(row, rows)
    {
        i++;
        const char *k = text_of(row, key);
        if (k && strcmp(k, item) == 0) {
            *rank = i;
            return row;
        }
    }
    return NULL;
}

/* The first number in v: a JSON number, or one written in a text ("1,234",
 * "$4.20", "-3 %", "120 points"). */
static bool number_of(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v))
        return false;
    const char *s = v->valuestring;
    while (*s && !isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
        s++;
    if (!*s)
        return false;
    char digits[64];
    size_t n = 0;
    if (*s == '-')
        digits[n++] = *s++;
    for (; *s && n + 1 < sizeof digits; s++) {
        if (*s == ',' && isdigit((unsigned char)s[1]))
            continue; /* a thousands separator */
        if (!isdigit((unsigned char)*s) && *s != '.')
            break;
        digits[n++] = *s;
    }
    digits[n] = '\0';
    char *end = NULL;
    *out = strtod(digits, &end);
    return end && end != digits && isfinite(*out);
}

/* ---- items: new, gone, rising, falling, moved ---- */

static void add_items(cJSON *list, const cJSON *rows, const cJSON *other, const char *key, int top,
                      int *count)
{
    const cJSON *row;
    int rank;
    cJSON_ArrayForEach(row, rows)
    {
        const char *k = text_of(row, key);
        if (!k || find_item(other, key, k, &rank))
            continue;
        if ((*count)++ < top)
            cJSON_AddItemToArray(list, cJSON_CreateString(k));
    }
}

typedef struct change {
    const char *item, *field;
    double from, to;
    int from_rank, to_rank;
} change;

static int by_size(const void *a, const void *b)
{
    const change *x = a, *y = b;
    double dx = fabs(x->to - x->from), dy = fabs(y->to - y->from);
    return (dy > dx) - (dy < dx);
}

static int by_moves(const void *a, const void *b)
{
    const change *x = a, *y = b;
    int dx = abs(x->from_rank - x->to_rank), dy = abs(y->from_rank - y->to_rank);
    return (dy > dx) - (dy < dx);
}

static cJSON *change_json(const change *c, bool moved)
{
    cJSON *o = cJSON_CreateObject();
    er_json_add_str(o, "item", c->item);
    if (moved) {
        er_json_add_num(o, "from_rank", c->from_rank);
        er_json_add_num(o, "to_rank", c->to_rank);
        return o;
    }
    er_json_add_str(o, "field", c->field);
    er_json_add_num(o, "from", c->from);
    er_json_add_num(o, "to", c->to);
    er_json_add_num(o, "change", c->to - c->from);
    if (c->from != 0)
        er_json_add_num(o, "percent", round((c->to - c->from) / fabs(c->from) * 1000) / 10);
    return o;
}

/* The changes of the numbers of the items in both, and of their places. */
static void compare_items(cJSON *report, const cJSON *older, const cJSON *newer, const char *key,
                          int top)
{
    size_t cap = 16, n = 0, nm = 0;
    change *c = er_xcalloc(cap, sizeof *c),
           *m = er_xcalloc((size_t)cJSON_GetArraySize(newer) + 1, sizeof *m);
    const cJSON *row, *v;
    int to_rank = 0;
    cJSON_ArrayForEach(row, newer)
    {
        to_rank++;
        const char *k = text_of(row, key);
        int from_rank = 0;
        const cJSON *old = k ? find_item(older, key, k, &from_rank) : NULL;
        if (!old)
            continue;
        if (from_rank != to_rank)
            m[nm++] = (change){ k, NULL, 0, 0, from_rank, to_rank };
        cJSON_ArrayForEach(v, row)
        {
            double a, b;
            if (strcmp(v->string, key) == 0 ||
                !number_of(cJSON_GetObjectItemCaseSensitive(old, v->string), &a) ||
                !number_of(v, &b) || a == b)
                continue;
            if (n == cap)
                c = er_xrealloc(c, (cap *= 2) * sizeof *c);
            c[n++] = (change){ k, v->string, a, b, from_rank, to_rank };
        }
    }
    qsort(c, n, sizeof *c, by_size);
    qsort(m, nm, sizeof *m, by_moves);
    cJSON *rising = cJSON_AddArrayToObject(report, "rising");
    cJSON *falling = cJSON_AddArrayToObject(report, "falling");
    cJSON *moved = cJSON_AddArrayToObject(report, "moved");
    for (size_t i = 0; i < n; i++) {
        cJSON *list = c[i].to > c[i].from ? rising : falling;
        if (cJSON_GetArraySize(list) < top)
            cJSON_AddItemToArray(list, change_json(&c[i], false));
    }
    for (size_t i = 0; i < nm && (int)i < top; i++)
        cJSON_AddItemToArray(moved, change_json(&m[i], true));
    free(c);
    free(m);
}

/* ---- words ---- */

typedef struct word {
    char *w;
    int count[2]; /* older, newer */
} word;

typedef struct words {
    word *slot;
    size_t cap, n;
} words;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void words_grow(words *ws);

static void words_add(words *ws, const char *w, int which)
{
    if (ws->n * 2 >= ws->cap)
        words_grow(ws);
    size_t i = hash(w) & (ws->cap - 1);
    while (ws->slot[i].w && strcmp(ws->slot[i].w, w) != 0)
        i = (i + 1) & (ws->cap - 1);
    if (!ws->slot[i].w) {
        ws->slot[i].w = er_xstrdup(w);
        ws->n++;
    }
    ws->slot[i].count[which]++;
}

static void words_grow(words *ws)
{
    words bigger = { er_xcalloc(ws->cap ? ws->cap * 2 : 256, sizeof(word)),
                     ws->cap ? ws->cap * 2 : 256, 0 };
    for (size_t i = 0; i < ws->cap; i++) {
        if (!ws->slot[i].w)
            continue;
        size_t j = hash(ws->slot[i].w) & (bigger.cap - 1);
        while (bigger.slot[j].w)
            j = (j + 1) & (bigger.cap - 1);
        bigger.slot[j] = ws->slot[i];
        bigger.n++;
    }
    free(ws->slot);
    *ws = bigger;
}

static bool stop_word(const char *w)
{
    static const char *const stop[] = {
        "the",  "and",  "for",   "with", "from",  "that", "this", "are",   "was",   "were",
        "you",  "your", "our",   "not",  "but",   "has",  "have", "had",   "its",   "into",
        "out",  "how",  "why",   "what", "who",   "when", "will", "can",   "all",   "new",
        "more", "than", "about", "over", "after", "now",  "just", "they",  "their", "his",
        "her",  "one",  "two",   "via",  "www",   "com",  "http", "https", "html",  "show"
    };
    for (size_t i = 0; i < ER_ARRAY_LEN(stop); i++)
        if (strcmp(w, stop[i]) == 0)
            return true;
    return false;
}

static void count_text(words *ws, const char *s, int which)
{
    if (er_str_starts(s, "http://") || er_str_starts(s, "https://"))
        return;
    char w[WORD_MAX];
    size_t n = 0;
    bool digits_only = true;
    for (const char *p = s;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch && (isalnum(ch) || ch >= 0x80)) {
            if (n + 1 < sizeof w)
                w[n++] = (char)tolower(ch);
            digits_only = digits_only && isdigit(ch);
            continue;
        }
        w[n] = '\0';
        if (n >= 3 && n + 1 < sizeof w && !digits_only && !stop_word(w))
            words_add(ws, w, which);
        n = 0;
        digits_only = true;
        if (!ch)
            break;
    }
}

static void count_rows(words *ws, const cJSON *rows, int which)
{
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(v, row) if (cJSON_IsString(v))
        count_text(ws, v->valuestring, which);
}

static int by_gain(const void *a, const void *b)
{
    const word *x = a, *y = b;
    int dx = abs(x->count[1] - x->count[0]), dy = abs(y->count[1] - y->count[0]);
    return dx != dy ? (dy > dx) - (dy < dx) : strcmp(x->w, y->w);
}

static void compare_words(cJSON *report, const cJSON *older, const cJSON *newer, int top)
{
    words ws = { 0 };
    count_rows(&ws, older, 0);
    count_rows(&ws, newer, 1);
    size_t n = 0;
    for (size_t i = 0; i < ws.cap; i++)
        if (ws.slot[i].w && ws.slot[i].count[0] != ws.slot[i].count[1])
            ws.slot[n++] = ws.slot[i]; /* compacted in place: slot i >= n */
        else if (ws.slot[i].w)
            free(ws.slot[i].w);
    if (n > 1)
        qsort(ws.slot, n, sizeof *ws.slot, by_gain);
    cJSON *o = cJSON_AddObjectToObject(report, "words");
    cJSON *rising = cJSON_AddArrayToObject(o, "rising");
    cJSON *falling = cJSON_AddArrayToObject(o, "falling");
    for (size_t i = 0; i < n; i++) {
        cJSON *list = ws.slot[i].count[1] > ws.slot[i].count[0] ? rising : falling;
        if (cJSON_GetArraySize(list) < top) {
            cJSON *e = cJSON_CreateObject();
            er_json_add_str(e, "word", ws.slot[i].w);
            er_json_add_num(e, "from", ws.slot[i].count[0]);
            er_json_add_num(e, "to", ws.slot[i].count[1]);
            cJSON_AddItemToArray(list, e);
        }
        free(ws.slot[i].w);
    }
    free(ws.slot);
}

/* ---- the report ---- */

int er_trends_compare(const er_snapshot *older, const er_snapshot *newer, const er_trends_opts *o,
                      cJSON **out, er_error *err)
{
    *out = NULL;
    if (!newer)
        return er_error_set(err, ER_EINVAL, "no snapshot to report on");
    int top = o && o->top > 0 ? o->top : DEFAULT_TOP;
    cJSON *a = parse_rows(older), *b = parse_rows(newer);
    const char *key = pick_key(b, o ? o->key : NULL);
    cJSON *r = cJSON_CreateObject();
    er_json_add_str(r, "source", newer->source);
    er_json_add_str(r, "url", newer->url);
    er_json_add_str(r, "key", key);
    if (older) {
        er_json_add_num(r, "from_ms", (double)older->taken_ms);
        er_json_add_num(r, "from_count", (double)cJSON_GetArraySize(a));
    }
    er_json_add_num(r, "to_ms", (double)newer->taken_ms);
    er_json_add_num(r, "to_count", (double)cJSON_GetArraySize(b));
    int nnew = 0, ngone = 0;
    add_items(cJSON_AddArrayToObject(r, "new"), b, a, key, top, &nnew);
    add_items(cJSON_AddArrayToObject(r, "gone"), a, b, key, top, &ngone);
    er_json_add_num(r, "new_count", nnew);
    er_json_add_num(r, "gone_count", ngone);
    compare_items(r, a, b, key, top);
    compare_words(r, a, b, top);
    cJSON_Delete(a);
    cJSON_Delete(b);
    *out = r;
    return 0;
}

int er_trends_latest(er_store *st, const char *source, int64_t window_ms, const er_trends_opts *o,
                     cJSON **out, er_error *err)
{
    er_snapshot *newest = NULL, *before = NULL;
    size_t nn = 0, nb = 0;
    int rc = er_store_snapshots(st, source, 0, window_ms > 0 ? 1 : 2, &newest, &nn, err);
    if (rc == 0 && nn == 0)
        rc = er_error_set(err, ER_ENOTFOUND,
                          "no snapshot of '%s': record one with browser_record (or ask the "
                          "browser agent to watch it)",
                          source);
    if (rc == 0 && window_ms > 0)
        rc = er_store_snapshots(st, source, newest[0].taken_ms - window_ms, 1, &before, &nb, err);
    const er_snapshot *older =
        window_ms > 0 ? (nb ? &before[0] : NULL) : (nn > 1 ? &newest[1] : NULL);
    if (rc == 0)
        rc = er_trends_compare(older, &newest[0], o, out, err);
    er_snapshots_free(newest, nn);
    er_snapshots_free(before, nb);
    return rc;
}

int er_trends_parse_window(const char *s, int64_t *ms, er_error *err)
{
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    int64_t unit = 0;
    if (end && end != s) {
        static const struct {
            const char *suffix;
            int64_t ms;
        } units[] = { { "", 1000 },     { "s", 1000 },     { "m", 60000 },
                      { "h", 3600000 }, { "d", 86400000 }, { "w", 7 * 86400000LL } };
        for (size_t i = 0; i < ER_ARRAY_LEN(units); i++)
            if (strcmp(end, units[i].suffix) == 0)
                unit = units[i].ms;
    }
    if (!unit || !(v > 0) || v > 3650.0 * 86400)
        return er_error_set(err, ER_EINVAL,
                            "window '%s' is not a duration such as 90s, 30m, 6h, 7d or 2w",
                            s ? s : "");
    *ms = (int64_t)(v * (double)unit);
    return 0;
}

/* ---- text ---- */

static void put_clean(er_buf *b, const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x20 && *s != 0x7f)
            er_buf_putc(b, *s);
}

static void put_time(er_buf *b, double ms)
{
    char t[32];
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S UTC", &tm);
    er_buf_puts(b, t);
}

static void put_list(er_buf *b, const cJSON *r, const char *name, const char *label)
{
    const cJSON *list = er_json_arr(r, name), *v;
    char count[32];
    snprintf(count, sizeof count, "%s_count", name);
    int n = (int)er_json_num(r, count, cJSON_GetArraySize(list));
    if (n == 0)
        return;
    er_buf_printf(b, "%s (%d):", label, n);
    cJSON_ArrayForEach(v, list)
    {
        er_buf_puts(b, "\n  - ");
        put_clean(b, v->valuestring);
    }
    if (n > cJSON_GetArraySize(list))
        er_buf_printf(b, "\n  … and %d more", n - cJSON_GetArraySize(list));
    er_buf_putc(b, '\n');
}

static void put_changes(er_buf *b, const cJSON *list, const char *label)
{
    const cJSON *c;
    if (cJSON_GetArraySize(list) == 0)
        return;
    er_buf_printf(b, "%s:", label);
    cJSON_ArrayForEach(c, list)
    {
        er_buf_puts(b, "\n  - ");
        put_clean(b, er_json_str(c, "item"));
        if (er_json_str(c, "field")) {
            er_buf_puts(b, ": ");
            put_clean(b, er_json_str(c, "field"));
            er_buf_printf(b, " %g → %g (%+g", er_json_num(c, "from", 0), er_json_num(c, "to", 0),
                          er_json_num(c, "change", 0));
            if (cJSON_GetObjectItem(c, "percent"))
                er_buf_printf(b, ", %+g%%", er_json_num(c, "percent", 0));
            er_buf_putc(b, ')');
        } else {
            er_buf_printf(b, ": #%d → #%d", (int)er_json_num(c, "from_rank", 0),
                          (int)er_json_num(c, "to_rank", 0));
        }
    }
    er_buf_putc(b, '\n');
}

static void put_words(er_buf *b, const cJSON *list, const char *label)
{
    const cJSON *w;
    if (cJSON_GetArraySize(list) == 0)
        return;
    er_buf_printf(b, "%s:", label);
    cJSON_ArrayForEach(w, list)
    {
        er_buf_puts(b, " ");
        put_clean(b, er_json_str(w, "word"));
        er_buf_printf(b, " (%d → %d)", (int)er_json_num(w, "from", 0),
                      (int)er_json_num(w, "to", 0));
    }
    er_buf_putc(b, '\n');
}

void er_trends_text(const cJSON *r, er_buf *b)
{
    put_clean(b, er_json_str(r, "source"));
    er_buf_puts(b, " (");
    put_clean(b, er_json_str(r, "url"));
    er_buf_puts(b, ")\n");
    if (!cJSON_GetObjectItem(r, "from_ms")) {
        er_buf_printf(b, "one snapshot so far, ");
        put_time(b, er_json_num(r, "to_ms", 0));
        er_buf_printf(b, ", %d rows: nothing to compare yet\n", (int)er_json_num(r, "to_count", 0));
        put_list(b, r, "new", "items");
        return;
    }
    put_time(b, er_json_num(r, "from_ms", 0));
    er_buf_printf(b, " (%d rows) → ", (int)er_json_num(r, "from_count", 0));
    put_time(b, er_json_num(r, "to_ms", 0));
    er_buf_printf(b, " (%d rows), items matched by %s\n", (int)er_json_num(r, "to_count", 0),
                  er_json_str(r, "key"));
    size_t start = b->len;
    put_list(b, r, "new", "new");
    put_list(b, r, "gone", "gone");
    put_changes(b, er_json_arr(r, "rising"), "rising");
    put_changes(b, er_json_arr(r, "falling"), "falling");
    put_changes(b, er_json_arr(r, "moved"), "moved");
    const cJSON *w = er_json_obj(r, "words");
    put_words(b, er_json_arr(w, "rising"), "words rising");
    put_words(b, er_json_arr(w, "falling"), "words falling");
    if (b->len == start)
        er_buf_puts(b, "no change\n");
}
