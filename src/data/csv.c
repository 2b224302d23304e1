/* csv.c — the streaming RFC 4180 reader (csv.h).
 *
 * The input sits in one buffer; a row is parsed from `pos`.  When the buffer
 * ends in the middle of a row, the unparsed tail moves to the front, more is
 * read, and the row is parsed again from its start: at most one row is parsed
 * twice per refill.  Unquoted fields point into the buffer; quoted ones are
 * unescaped into a scratch buffer and resolved once the row is complete. */
#include "errand/csv.h"
#include "errand/alloc.h"
#include "errand/buf.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)
/* Bytes of slack after the sentinel, so that eight can be read at once. */
#define SLACK 8

typedef struct slot {
    size_t off, n; /* into buf (unquoted) or scratch (quoted) */
    bool quoted;
} slot;

struct er_csv {
    char delim;
    er_csv_read_fn read;
    void *payload;
    char *buf;
    size_t cap, len, pos;
    bool eof;
    long line; /* line at pos */
    long row_line, row_last;
    const char *problem;
    uint64_t consumed; /* bytes before buf[0] */
    char *scratch;
    size_t scap, slen;
    slot *slots;
    size_t nslots, cslots;
    er_csv_field *fields;
    size_t cfields;
    bool stop[256]; /* bytes that end an unquoted field */
};

void er_csv_new(er_csv **out, char delim, er_csv_read_fn fn, void *payload)
{
    er_csv *c = er_xcalloc(1, sizeof *c);
    c->delim = delim;
    c->read = fn;
    c->payload = payload;
    c->cap = CHUNK;
    c->buf = er_xcalloc(1, c->cap + 1 + SLACK);
    c->buf[0] = '\n';
    c->line = 1;
    c->stop[(unsigned char)delim] = c->stop['\n'] = c->stop['\r'] = true;
    *out = c;
}

void er_csv_free(er_csv *c)
{
    if (!c)
        return;
    free(c->buf);
    free(c->scratch);
    free(c->slots);
    free(c->fields);
    free(c);
}

long er_csv_row_line(const er_csv *c)
{
    return c->row_line;
}

long er_csv_row_last_line(const er_csv *c)
{
    return c->row_last;
}

const char *er_csv_row_problem(const er_csv *c)
{
    return c->problem;
}

uint64_t er_csv_offset(const er_csv *c)
{
    return c->consumed + c->pos;
}

static void scratch_put(er_csv *c, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (c->slen + n > c->scap) {
        c->scap = (c->slen + n) * 2 + 256;
        c->scratch = er_xrealloc(c->scratch, c->scap);
    }
    memcpy(c->scratch + c->slen, p, n);
    c->slen += n;
}

static slot *new_slot(er_csv *c)
{
    if (c->nslots == c->cslots) {
        c->cslots = c->cslots ? c->cslots * 2 : 64;
        c->slots = er_xrealloc(c->slots, c->cslots * sizeof *c->slots);
    }
    return &c->slots[c->nslots++];
}

enum { ROW_DONE = 1, ROW_MORE = 0 };

/* Where the unquoted field from buf[i] ends: the first delimiter, CR or LF
 * (buf[len] is one).  Eight bytes at a time: a byte equal to one of them is
 * a zero byte of the word xor-ed with it, and the lowest zero byte is found
 * exactly by the borrow trick. */
static size_t field_end(const er_csv *c, size_t i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t d = ones * (unsigned char)c->delim, lf = ones * '\n', cr = ones * '\r';
    for (;; i += 8) {
        uint64_t w, a, b, e;
        memcpy(&w, c->buf + i, 8);
        a = w ^ d;
        b = w ^ lf;
        e = w ^ cr;
        uint64_t z = (((a - ones) & ~a) | ((b - ones) & ~b) | ((e - ones) & ~e)) & highs;
        if (z)
            return i + ((size_t)__builtin_ctzll(z) >> 3);
    }
#else
    while (!c->stop[(unsigned char)c->buf[i]])
        i++;
    return i;
#endif
}

static long count_nl(const char *p, size_t n)
{
    long k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* A quoted field from buf[*i] (the opening quote); ROW_MORE when the input
 * ends inside it and more may come. */
static int quoted_field(er_csv *c, size_t *i, long *lines, slot *s)
{
    size_t j = *i + 1;
    s->quoted = true;
    s->off = c->slen;
    for (;;) {
        const char *q = memchr(c->buf + j, '"', c->len - j);
        size_t seg = q ? (size_t)(q - (c->buf + j)) : c->len - j;
        scratch_put(c, c->buf + j, seg);
        *lines += count_nl(c->buf + j, seg);
        j += seg;
        if (!q) {
            if (!c->eof)
                return ROW_MORE;
            c->problem = "a quoted field is not closed before the end of the file";
            break;
        }
        if (j + 1 >= c->len && !c->eof)
            return ROW_MORE; /* is it "" or the end? the next byte says */
        if (j + 1 < c->len && c->buf[j + 1] == '"') {
            scratch_put(c, "\"", 1);
            j += 2;
            continue;
        }
        j++;
        break;
    }
    /* Text between the closing quote and the delimiter: kept, but noted. */
    size_t k = j;
    while (k < c->len && !c->stop[(unsigned char)c->buf[k]])
        k++;
    if (k == c->len && !c->eof)
        return ROW_MORE;
    if (k > j) {
        scratch_put(c, c->buf + j, k - j);
        c->problem = "text follows a closing quote";
    }
    s->n = c->slen - s->off;
    *i = k;
    return ROW_DONE;
}

/* Parses one row from pos.  ROW_DONE: slots filled, pos and line advanced. */
static int parse_row(er_csv *c)
{
    size_t i = c->pos;
    long lines = 0;
    c->nslots = 0;
    c->slen = 0;
    c->problem = NULL;
    for (;;) {
        slot *s = new_slot(c);
        if (i < c->len && c->buf[i] == '"') {
            if (quoted_field(c, &i, &lines, s) == ROW_MORE)
                return ROW_MORE;
        } else {
            size_t start = i;
            i = field_end(c, i);
            s->off = start;
            s->n = i - start;
            s->quoted = false;
        }
        if (i >= c->len) {
            if (!c->eof)
                return ROW_MORE;
            break;
        }
        char ch = c->buf[i];
        if (ch == c->delim && ch != '\n' && ch != '\r') {
            i++;
            continue;
        }
        if (ch == '\r' && i + 1 >= c->len && !c->eof)
            return ROW_MORE; /* CR LF split across reads */
        i += ch == '\r' && i + 1 < c->len && c->buf[i + 1] == '\n' ? 2 : 1;
        lines++;
        break;
    }
    c->row_line = c->line;
    c->row_last =
        c->line + (lines > 0 && i > c->pos && (c->buf[i - 1] == '\n' || c->buf[i - 1] == '\r')
                       ? lines - 1
                       : lines);
    c->line += lines;
    c->pos = i;
    return ROW_DONE;
}

/* Moves the unparsed tail to the front and reads more; grows the buffer when
 * one row fills it. */
static int refill(er_csv *c, er_error *err)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->consumed += c->pos;
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len == c->cap) {
        if (c->cap >= ER_CSV_ROW_MAX)
            return er_error_set(err, ER_ETOOBIG,
                                "line %ld: a row is over %u MB (a quote that "
                                "is never closed?)",
                                c->line, ER_CSV_ROW_MAX >> 20);
        c->cap *= 2;
        c->buf = er_xrealloc(c->buf, c->cap + 1 + SLACK);
    }
    ssize_t n = c->read(c->payload, c->buf + c->len, c->cap - c->len);
    if (n < 0)
        return er_error_set(err, (int)n, "line %ld: read failed", c->line);
    if (n == 0)
        c->eof = true;
    c->len += (size_t)n;
    c->buf[c->len] = '\n'; /* a sentinel: unquoted fields end without a bounds test */
    memset(c->buf + c->len + 1, 0, SLACK);
    return 0;
}

static void resolve_fields(er_csv *c)
{
    if (c->cfields < c->nslots) {
        c->cfields = c->nslots * 2;
        c->fields = er_xrealloc(c->fields, c->cfields * sizeof *c->fields);
    }
    for (size_t k = 0; k < c->nslots; k++) {
        const slot *s = &c->slots[k];
        c->fields[k].p = s->quoted ? c->scratch + s->off : c->buf + s->off;
        c->fields[k].n = s->n;
        c->fields[k].quoted = s->quoted;
    }
}

static bool blank_row(const er_csv *c)
{
    return c->nslots == 1 && c->slots[0].n == 0 && !c->slots[0].quoted;
}

int er_csv_next(er_csv *c, const er_csv_field **fields, size_t *n, er_error *err)
{
    for (;;) {
        if (c->pos >= c->len && c->eof)
            return 0;
        if (c->pos < c->len && parse_row(c) == ROW_DONE) {
            if (blank_row(c))
                continue;
            resolve_fields(c);
            *fields = c->fields;
            *n = c->nslots;
            return 1;
        }
        int rc = refill(c, err);
        if (rc < 0)
            return rc;
    }
}

/* ---- delimiter sniffing ---- */

#define SNIFF_LINES 50

/* Fields per line for delim over the sample's first lines (quotes respected). */
static size_t counts_for(const char *s, size_t n, char delim, size_t *counts)
{
    size_t lines = 0, k = 0;
    bool inq = false;
    for (size_t i = 0; i < n && lines < SNIFF_LINES; i++) {
        if (s[i] == '"')
            inq = !inq;
        else if (!inq && s[i] == delim)
            k++;
        else if (!inq && s[i] == '\n') {
            counts[lines++] = k;
            k = 0;
        }
    }
    return lines;
}

char er_csv_sniff_delimiter(const char *sample, size_t n)
{
    static const char cands[] = { ',', '\t', ';', '|' };
    size_t counts[SNIFF_LINES];
    char best = ',';
    double best_score = 0;
    for (size_t d = 0; d < sizeof cands; d++) {
        size_t lines = counts_for(sample, n, cands[d], counts);
        if (lines == 0)
            continue;
        /* Score: the share of lines with the first line's count, times that count. */
        size_t same = 0;
        for (size_t l = 0; l < lines; l++)
            same += counts[l] == counts[0];
        double score = counts[0] ? (double)same / (double)lines * (double)(counts[0] + 1) : 0;
        if (score > best_score) {
            best_score = score;
            best = cands[d];
        }
    }
    return best;
}

void er_csv_put_field(er_buf *b, const char *t, size_t n)
{
    bool quote = n > 0 && (memchr(t, ',', n) || memchr(t, '"', n) || memchr(t, '\n', n) ||
                           memchr(t, '\r', n) || t[0] == ' ' || t[n - 1] == ' ');
    if (!quote) {
        er_buf_append(b, t, n);
        return;
    }
    er_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"')
            er_buf_putc(b, '"');
        er_buf_putc(b, t[i]);
    }
    er_buf_putc(b, '"');
}
