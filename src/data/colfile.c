/* colfile.c — writing and reading column files (colfile.h).
 *
 * The writer keeps one row group in memory, a builder per column, and
 * writes it when it is full: memory is bounded by a group, whatever the
 * file's size.  A text column keeps each distinct value once and a code per
 * row while there are at most DICT_MAX of them in the group (a repeated
 * value costs a hash and a compare, nothing stored), and is written as that
 * dictionary, which describe and group-by work on code by code; past it,
 * the group's text turns plain.
 *
 * The reader trusts nothing in the file: every chunk is checked (sizes,
 * offsets, codes) before its values are handed out. */
#include "colfile.h"
#include "errand/alloc.h"
#include "data_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char head_magic[8] = { 'E', 'R', 'C', 'O', 'L', 'S', '0', '1' };
static const char tail_magic[8] = { 'E', 'R', 'C', 'O', 'L', 'E', 'N', 'D' };
#define BOM        0x01020304u
#define HEAD_BYTES 16
#define CHUNK_HEAD 16
#define DICT_MAX   4096u /* distinct values a dictionary chunk may hold */
#define DICT_SLOTS 8192u /* the counting hash: twice DICT_MAX, a power of two */
#define WBUF       (1u << 20)

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* ---- a growable byte array (the hot path avoids er_buf's checks) ---- */

typedef struct bytes {
    char *p;
    size_t len, cap;
} bytes;

static void *grow(bytes *b, size_t more)
{
    if (b->len + more > b->cap) {
        b->cap = (b->len + more) * 2 + 256;
        b->p = er_xrealloc(b->p, b->cap);
    }
    void *at = b->p + b->len;
    b->len += more;
    return at;
}

/* ---- the writer ---- */

typedef struct builder {
    er_enc enc;  /* ER_ENC_NULL until the group's first value */
    uint32_t n;  /* rows filled */
    bytes nulls; /* bitmap, (n + 7) / 8 bytes used */
    bool any_null;
    bytes vals; /* numbers, or plain text's offsets (uint32, n + 1) */
    bytes text; /* plain text: every row's; dictionary: each distinct value */
    /* Text starts as a dictionary: distinct values once, a code per row.
     * Past DICT_MAX distinct values the group's text turns plain. */
    bool dict;
    uint32_t ndict;
    uint32_t *slots; /* DICT_SLOTS: 1 + entry, 0 empty */
    bytes doff;      /* uint32, ndict + 1: where each entry starts in text */
    bytes codes;     /* uint16 per row */
} builder;

typedef struct gindex {
    uint32_t rows;
    uint64_t *off; /* per column; length 0 means all null */
    uint32_t *len;
    size_t ncols;
} gindex;

struct er_colw {
    int fd;
    char *path;
    uint64_t pos; /* bytes written */
    builder *cols;
    size_t ncols;
    uint32_t rows; /* rows ended in the current group */
    size_t bytes;  /* memory the group's values take */
    uint64_t total;
    gindex *groups;
    size_t ngroups;
    bytes out; /* write buffer */
    int werr;  /* errno of a failed write */
};

int er_colw_open(er_colw **out, const char *path, er_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return er_error_set(err, ER_EIO, "cannot create %s: %s", path, strerror(errno));
    er_colw *w = er_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->path = er_xstrdup(path);
    char *h = grow(&w->out, HEAD_BYTES);
    uint32_t bom = BOM, version = 1;
    memcpy(h, head_magic, 8);
    memcpy(h + 8, &bom, 4);
    memcpy(h + 12, &version, 4);
    *out = w;
    return 0;
}

static void flush_out(er_colw *w, bool all)
{
    if (w->out.len < (all ? 1 : WBUF) || w->werr)
        return;
    size_t off = 0;
    while (off < w->out.len) {
        ssize_t k = write(w->fd, w->out.p + off, w->out.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->werr = k < 0 ? errno : EIO;
            break;
        }
        off += (size_t)k;
    }
    w->pos += w->out.len;
    w->out.len = 0;
}

static void put(er_colw *w, const void *p, size_t n)
{
    memcpy(grow(&w->out, n), p, n);
    flush_out(w, false);
}

static builder *column(er_colw *w, size_t col)
{
    if (col >= w->ncols) {
        w->cols = er_xrealloc(w->cols, (col + 1) * sizeof *w->cols);
        memset(w->cols + w->ncols, 0, (col + 1 - w->ncols) * sizeof *w->cols);
        w->ncols = col + 1;
    }
    return &w->cols[col];
}

static void set_null_bit(builder *b, uint32_t i)
{
    size_t need = i / 8 + 1;
    if (b->nulls.len < need) {
        size_t old = b->nulls.len;
        grow(&b->nulls, need - old);
        memset(b->nulls.p + old, 0, need - old);
    }
    b->nulls.p[i / 8] = (char)(b->nulls.p[i / 8] | (1 << (i & 7)));
    b->any_null = true;
}

static size_t value_size(er_enc e)
{
    return e == ER_ENC_I64 || e == ER_ENC_F64 ? 8 : e == ER_ENC_U8 ? 1 : 0;
}

/* Appends k null rows in the builder's encoding. */
static void add_nulls(er_colw *w, builder *b, uint32_t k)
{
    for (uint32_t i = 0; i < k; i++)
        set_null_bit(b, b->n + i);
    if (b->enc == ER_ENC_TEXT && b->dict) {
        memset(grow(&b->codes, 2u * k), 0, 2u * k);
        w->bytes += 2u * k;
    } else if (b->enc == ER_ENC_TEXT) {
        uint32_t end = (uint32_t)b->text.len;
        for (uint32_t i = 0; i < k; i++)
            memcpy(grow(&b->vals, 4), &end, 4);
        w->bytes += 4u * k;
    } else if (b->enc != ER_ENC_NULL) {
        size_t sz = value_size(b->enc) * k;
        memset(grow(&b->vals, sz), 0, sz);
        w->bytes += sz;
    }
    b->n += k;
}

/* The builder ready to take the current row's value in encoding e. */
static builder *ready(er_colw *w, size_t col, er_enc e)
{
    builder *b = column(w, col);
    if (b->n > w->rows)
        return NULL; /* a second value for the same row: the first stands */
    if (b->enc == ER_ENC_NULL) {
        b->enc = e;
        if (e == ER_ENC_TEXT) {
            uint32_t zero = 0;
            memcpy(grow(&b->doff, 4), &zero, 4);
            b->dict = true;
            if (!b->slots)
                b->slots = er_xcalloc(DICT_SLOTS, sizeof *b->slots);
        }
    } else if (b->enc == ER_ENC_I64 && e == ER_ENC_F64) {
        for (uint32_t i = 0; i < b->n; i++) { /* integers turned real: convert in place */
            int64_t v;
            memcpy(&v, b->vals.p + 8 * i, 8);
            double d = (double)v;
            memcpy(b->vals.p + 8 * i, &d, 8);
        }
        b->enc = ER_ENC_F64;
    }
    if (b->n < w->rows)
        add_nulls(w, b, w->rows - b->n);
    return b;
}

static void put_number(er_colw *w, size_t col, er_enc e, const void *v, size_t sz)
{
    builder *b = col < w->ncols ? &w->cols[col] : NULL;
    if (!b || b->enc != e || b->n != w->rows)
        b = ready(w, col, e);
    if (!b)
        return;
    if (b->enc == e) {
        memcpy(grow(&b->vals, sz), v, sz);
    } else if (b->enc == ER_ENC_F64 && e == ER_ENC_I64) {
        int64_t i;
        memcpy(&i, v, 8);
        double d = (double)i;
        memcpy(grow(&b->vals, 8), &d, 8);
    } else {
        return; /* another kind of value in this column: the loader never does this */
    }
    b->n++;
    w->bytes += sz;
}

void er_colw_null(er_colw *w, size_t col)
{
    builder *b = col < w->ncols ? &w->cols[col] : NULL;
    if (b && b->enc != ER_ENC_NULL && b->n == w->rows)
        add_nulls(w, b, 1); /* else it is filled in when the next value comes */
}

void er_colw_i64(er_colw *w, size_t col, int64_t v)
{
    put_number(w, col, ER_ENC_I64, &v, 8);
}

void er_colw_f64(er_colw *w, size_t col, double v)
{
    put_number(w, col, ER_ENC_F64, &v, 8);
}

void er_colw_u8(er_colw *w, size_t col, uint8_t v)
{
    put_number(w, col, ER_ENC_U8, &v, 1);
}

/* A quick hash of a short text, eight bytes at a time. */
static uint32_t text_hash(const char *p, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    if (n >= 4) { /* 4 to 7 bytes: two overlapping halves */
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        w = (uint64_t)lo | (uint64_t)hi << 32;
    } else {
        for (size_t i = 0; i < n; i++)
            w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    }
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h >> 32);
}

static bool same_text(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    if (n >= 8 && n <= 16) { /* two overlapping words */
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        uint64_t d = x ^ y;
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return (d | (x ^ y)) == 0;
    }
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* The dictionary grew past DICT_MAX: every row's text, from the codes. */
static void to_plain(builder *b)
{
    const uint32_t *doff = (const uint32_t *)(const void *)b->doff.p;
    const uint16_t *codes = (const uint16_t *)(const void *)b->codes.p;
    bytes text = { NULL, 0, 0 };
    uint32_t zero = 0;
    b->vals.len = 0;
    memcpy(grow(&b->vals, 4), &zero, 4);
    for (uint32_t i = 0; i < b->n; i++) {
        bool null = b->nulls.len > i / 8 && ((b->nulls.p[i / 8] >> (i & 7)) & 1);
        uint32_t e = codes[i], len = null ? 0 : doff[e + 1] - doff[e];
        if (len)
            memcpy(grow(&text, len), b->text.p + doff[e], len);
        uint32_t end = (uint32_t)text.len;
        memcpy(grow(&b->vals, 4), &end, 4);
    }
    free(b->text.p);
    b->text = text;
    b->dict = false;
}

/* A text value into the dictionary; false when it would be one too many. */
static bool dict_put(er_colw *w, builder *b, const char *p, size_t n)
{
    uint32_t h = text_hash(p, n) & (DICT_SLOTS - 1);
    const uint32_t *doff = (const uint32_t *)(const void *)b->doff.p;
    uint16_t code;
    for (;; h = (h + 1) & (DICT_SLOTS - 1)) {
        uint32_t s = b->slots[h];
        if (s == 0)
            break;
        if (doff[s] - doff[s - 1] == n && same_text(b->text.p + doff[s - 1], p, n)) {
            code = (uint16_t)(s - 1);
            memcpy(grow(&b->codes, 2), &code, 2);
            w->bytes += 2;
            return true;
        }
    }
    if (b->ndict == DICT_MAX)
        return false;
    if (n)
        memcpy(grow(&b->text, n), p, n);
    uint32_t end = (uint32_t)b->text.len;
    memcpy(grow(&b->doff, 4), &end, 4);
    code = (uint16_t)b->ndict;
    b->slots[h] = ++b->ndict;
    memcpy(grow(&b->codes, 2), &code, 2);
    w->bytes += n + 6;
    return true;
}

void er_colw_text(er_colw *w, size_t col, const char *p, size_t n)
{
    builder *b = col < w->ncols ? &w->cols[col] : NULL;
    if (!b || b->enc != ER_ENC_TEXT || b->n != w->rows) {
        b = ready(w, col, ER_ENC_TEXT);
        if (!b || b->enc != ER_ENC_TEXT)
            return; /* text in a numeric column: the loader never does this */
    }
    if (b->dict && dict_put(w, b, p, n)) {
        b->n++;
        return;
    }
    if (b->dict)
        to_plain(b);
    if (n)
        memcpy(grow(&b->text, n), p, n);
    uint32_t end = (uint32_t)b->text.len;
    memcpy(grow(&b->vals, 4), &end, 4);
    b->n++;
    w->bytes += n + 4;
}

/* ---- writing a group ---- */

typedef struct chunk_head {
    uint8_t enc, has_nulls;
    uint16_t pad;
    uint32_t n, ndict, text_len;
} chunk_head;

static void put_pad(er_colw *w, size_t n)
{
    static const char zero[8];
    if (pad8(n) > n)
        put(w, zero, pad8(n) - n);
}

static void put_nulls(er_colw *w, const builder *b)
{
    size_t nb = ((size_t)b->n + 7) / 8;
    size_t have = b->nulls.len < nb ? b->nulls.len : nb;
    put(w, b->nulls.p, have);
    for (size_t i = have; i < nb; i++)
        put(w, "", 1);
    put_pad(w, nb);
}

/* A group whose text is all null has no dictionary: plain, every offset 0. */
static void empty_plain(builder *b)
{
    b->vals.len = 0;
    memset(grow(&b->vals, 4 * ((size_t)b->n + 1)), 0, 4 * ((size_t)b->n + 1));
    b->text.len = 0;
    b->dict = false;
}

static void put_chunk(er_colw *w, builder *b)
{
    if (b->enc == ER_ENC_TEXT && b->dict && b->ndict == 0)
        empty_plain(b);
    bool dict = b->enc == ER_ENC_TEXT && b->dict;
    chunk_head h = { .enc = (uint8_t)(dict ? ER_ENC_DICT : b->enc),
                     .has_nulls = b->any_null,
                     .n = b->n,
                     .ndict = dict ? b->ndict : 0,
                     .text_len = b->enc == ER_ENC_TEXT ? (uint32_t)b->text.len : 0 };
    put(w, &h, sizeof h);
    if (b->any_null)
        put_nulls(w, b);
    if (dict) { /* the distinct values (first seen first), then the codes */
        put(w, b->doff.p, b->doff.len);
        put_pad(w, b->doff.len);
        put(w, b->text.p, b->text.len);
        put_pad(w, b->text.len);
        put(w, b->codes.p, 2 * (size_t)b->n);
        put_pad(w, 2 * (size_t)b->n);
    } else if (b->enc == ER_ENC_TEXT) {
        put(w, b->vals.p, 4 * ((size_t)b->n + 1));
        put_pad(w, 4 * ((size_t)b->n + 1));
        put(w, b->text.p, b->text.len);
        put_pad(w, b->text.len);
    } else {
        put(w, b->vals.p, b->vals.len);
        put_pad(w, b->vals.len);
    }
}

static void reset_builder(builder *b)
{
    b->enc = ER_ENC_NULL;
    b->n = 0;
    b->nulls.len = b->vals.len = b->text.len = b->codes.len = b->doff.len = 0;
    b->any_null = b->dict = false;
    if (b->ndict)
        memset(b->slots, 0, DICT_SLOTS * sizeof *b->slots);
    b->ndict = 0;
}

static void write_group(er_colw *w)
{
    gindex *g;
    w->groups = er_xrealloc(w->groups, (w->ngroups + 1) * sizeof *w->groups);
    g = &w->groups[w->ngroups++];
    g->rows = w->rows;
    g->ncols = w->ncols;
    g->off = er_xcalloc(w->ncols + 1, sizeof *g->off);
    g->len = er_xcalloc(w->ncols + 1, sizeof *g->len);
    for (size_t c = 0; c < w->ncols; c++) {
        builder *b = &w->cols[c];
        if (b->enc == ER_ENC_NULL) {
            reset_builder(b);
            continue; /* no values: length 0 reads as all null */
        }
        if (b->n < w->rows)
            add_nulls(w, b, w->rows - b->n);
        g->off[c] = w->pos + w->out.len;
        put_chunk(w, b);
        g->len[c] = (uint32_t)(w->pos + w->out.len - g->off[c]);
        reset_builder(b);
    }
    w->total += w->rows;
    w->rows = 0;
    w->bytes = 0;
}

int er_colw_end_row(er_colw *w, er_error *err)
{
    w->rows++;
    if (w->rows >= ER_COL_GROUP_ROWS || w->bytes >= ER_COL_GROUP_BYTES)
        write_group(w);
    if (w->werr)
        return er_error_set(err, ER_EIO, "cannot write %s: %s", w->path, strerror(w->werr));
    return 0;
}

static void put_footer(er_colw *w, char *const *names, const er_dtype *types, size_t ncols)
{
    uint64_t at = w->pos + w->out.len;
    uint32_t nc = (uint32_t)ncols, ng = (uint32_t)w->ngroups;
    put(w, &nc, 4);
    put(w, &ng, 4);
    put(w, &w->total, 8);
    for (size_t c = 0; c < ncols; c++) {
        uint8_t t = (uint8_t)types[c];
        uint32_t len = (uint32_t)strlen(names[c]);
        put(w, &t, 1);
        put(w, &len, 4);
        put(w, names[c], len);
    }
    for (size_t i = 0; i < w->ngroups; i++) {
        const gindex *g = &w->groups[i];
        put(w, &g->rows, 4);
        for (size_t c = 0; c < ncols; c++) {
            uint64_t off = c < g->ncols ? g->off[c] : 0;
            uint32_t len = c < g->ncols ? g->len[c] : 0;
            put(w, &off, 8);
            put(w, &len, 4);
        }
    }
    put(w, &at, 8);
    put(w, tail_magic, 8);
}

static void free_writer(er_colw *w)
{
    for (size_t c = 0; c < w->ncols; c++) {
        builder *b = &w->cols[c];
        free(b->nulls.p);
        free(b->vals.p);
        free(b->text.p);
        free(b->codes.p);
        free(b->doff.p);
        free(b->slots);
    }
    for (size_t i = 0; i < w->ngroups; i++) {
        free(w->groups[i].off);
        free(w->groups[i].len);
    }
    free(w->groups);
    free(w->cols);
    free(w->out.p);
    free(w->path);
    free(w);
}

int er_colw_finish(er_colw *w, char *const *names, const er_dtype *types, size_t ncols,
                   er_error *err)
{
    if (w->rows > 0)
        write_group(w);
    put_footer(w, names, types, ncols);
    flush_out(w, true);
    int rc = 0;
    if (w->werr)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", w->path, strerror(w->werr));
    if (close(w->fd) != 0 && rc == 0)
        rc = er_error_set(err, ER_EIO, "cannot write %s: %s", w->path, strerror(errno));
    if (rc)
        unlink(w->path);
    free_writer(w);
    return rc;
}

void er_colw_abort(er_colw *w)
{
    if (!w)
        return;
    close(w->fd);
    unlink(w->path);
    free_writer(w);
}

/* ---- the reader ---- */

struct er_colr {
    int fd;
    char *path;
    size_t ncols, ngroups;
    uint64_t rows;
    char **names;
    er_dtype *types;
    uint32_t *grows; /* rows of each group */
    uint64_t *off;   /* ngroups * ncols */
    uint32_t *len;
    uint64_t size;
};

size_t er_colr_ncols(const er_colr *r)
{
    return r->ncols;
}

uint64_t er_colr_rows(const er_colr *r)
{
    return r->rows;
}

size_t er_colr_groups(const er_colr *r)
{
    return r->ngroups;
}

uint32_t er_colr_group_rows(const er_colr *r, size_t g)
{
    return r->grows[g];
}

const char *er_colr_name(const er_colr *r, size_t col)
{
    return r->names[col];
}

er_dtype er_colr_type(const er_colr *r, size_t col)
{
    return r->types[col];
}

void er_colr_close(er_colr *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t c = 0; r->names && c < r->ncols; c++)
        free(r->names[c]);
    free(r->names);
    free(r->types);
    free(r->grows);
    free(r->off);
    free(r->len);
    free(r->path);
    free(r);
}

static int damaged(const er_colr *r, er_error *err, const char *what)
{
    return er_error_set(err, ER_EIO, "%s is damaged (%s); load the file again with force=true",
                        r->path, what);
}

static bool read_at(int fd, void *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        got += (size_t)k;
    }
    return true;
}

/* A cursor over the footer's bytes. */
typedef struct cur {
    const char *p, *end;
    bool bad;
} cur;

static void take(cur *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = true;
        memset(out, 0, n);
        return;
    }
    memcpy(out, c->p, n);
    c->p += n;
}

static int parse_footer(er_colr *r, cur *c, er_error *err)
{
    uint32_t nc, ng;
    take(c, &nc, 4);
    take(c, &ng, 4);
    take(c, &r->rows, 8);
    /* Each column takes at least 5 footer bytes and each group 4: bounds before allocating. */
    if (c->bad || (uint64_t)nc * 5 > (uint64_t)(c->end - c->p) ||
        (uint64_t)ng * (4 + 12ull * nc) > (uint64_t)(c->end - c->p))
        return damaged(r, err, "footer");
    r->ncols = nc;
    r->ngroups = ng;
    r->names = er_xcalloc(nc + 1, sizeof *r->names);
    r->types = er_xcalloc(nc + 1, sizeof *r->types);
    for (size_t i = 0; i < nc && !c->bad; i++) {
        uint8_t t;
        uint32_t len;
        take(c, &t, 1);
        take(c, &len, 4);
        if (c->bad || t >= ER_DT_COUNT || len > (size_t)(c->end - c->p))
            return damaged(r, err, "column names");
        r->types[i] = (er_dtype)t;
        r->names[i] = er_xstrndup(c->p, len);
        c->p += len;
    }
    r->grows = er_xcalloc(ng + 1, sizeof *r->grows);
    r->off = er_xcalloc((size_t)ng * nc + 1, sizeof *r->off);
    r->len = er_xcalloc((size_t)ng * nc + 1, sizeof *r->len);
    uint64_t total = 0;
    for (size_t g = 0; g < ng && !c->bad; g++) {
        take(c, &r->grows[g], 4);
        c->bad |= r->grows[g] > ER_COL_GROUP_ROWS;
        total += r->grows[g];
        for (size_t k = 0; k < nc; k++) {
            take(c, &r->off[g * nc + k], 8);
            take(c, &r->len[g * nc + k], 4);
            if (r->off[g * nc + k] + r->len[g * nc + k] > r->size)
                c->bad = true;
        }
    }
    return c->bad || total != r->rows ? damaged(r, err, "group index") : 0;
}

static int read_footer(er_colr *r, er_error *err)
{
    char head[HEAD_BYTES], tail[16];
    uint32_t bom;
    if (r->size < HEAD_BYTES + 16 || !read_at(r->fd, head, sizeof head, 0) ||
        !read_at(r->fd, tail, sizeof tail, r->size - 16) || memcmp(head, head_magic, 8) != 0 ||
        memcmp(tail + 8, tail_magic, 8) != 0)
        return damaged(r, err, "not a column file");
    memcpy(&bom, head + 8, 4);
    if (bom != BOM)
        return damaged(r, err, "written on a machine of the other byte order");
    uint64_t at;
    memcpy(&at, tail, 8);
    if (at < HEAD_BYTES || at > r->size - 16)
        return damaged(r, err, "footer offset");
    size_t n = (size_t)(r->size - 16 - at);
    char *f = er_xmalloc(n + 1);
    int rc = read_at(r->fd, f, n, at) ? 0 : damaged(r, err, "footer");
    cur c = { f, f + n, false };
    if (rc == 0)
        rc = parse_footer(r, &c, err);
    free(f);
    return rc;
}

int er_colr_open(er_colr **out, const char *path, er_error *err)
{
    er_colr *r = er_xcalloc(1, sizeof *r);
    r->path = er_xstrdup(path);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;
    if (r->fd < 0 || fstat(r->fd, &st) != 0)
        rc = er_error_set(err, ER_EIO,
                          "cannot open %s: %s; load the file again with "
                          "force=true",
                          path, strerror(errno));
    else {
        r->size = (uint64_t)st.st_size;
        rc = read_footer(r, err);
    }
    if (rc) {
        er_colr_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void er_colr_buf_release(er_colbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

/* Checks offsets off[0..k] rise from 0 to at most limit. */
static bool offsets_ok(const uint32_t *off, size_t k, uint32_t limit)
{
    if (off[0] != 0)
        return false;
    for (size_t i = 0; i < k; i++)
        if (off[i + 1] < off[i])
            return false;
    return off[k] <= limit;
}

/* Sets the chunk's arrays from its bytes; false when they do not fit. */
static bool decode(const chunk_head *h, const char *p, size_t len, er_chunk *c)
{
    size_t at = CHUNK_HEAD, n = h->n;
    if (h->has_nulls) {
        c->nulls = (const uint8_t *)p + at;
        at += pad8((n + 7) / 8);
    }
    switch (h->enc) {
    case ER_ENC_I64:
    case ER_ENC_F64:
        c->i64 = (const int64_t *)(const void *)(p + at);
        c->f64 = (const double *)(const void *)(p + at);
        return at + 8 * n <= len;
    case ER_ENC_U8: c->u8 = (const uint8_t *)p + at; return at + n <= len;
    case ER_ENC_TEXT:
        c->off = (const uint32_t *)(const void *)(p + at);
        at += pad8(4 * (n + 1));
        c->text = p + at;
        return at + h->text_len <= len && offsets_ok(c->off, n, h->text_len);
    case ER_ENC_DICT: {
        size_t nd = h->ndict;
        c->off = (const uint32_t *)(const void *)(p + at);
        at += pad8(4 * (nd + 1));
        c->text = p + at;
        at += pad8(h->text_len);
        c->codes = (const uint16_t *)(const void *)(p + at);
        if (nd == 0 || at + 2 * n > len || !offsets_ok(c->off, nd, h->text_len))
            return false;
        for (size_t i = 0; i < n; i++)
            if (c->codes[i] >= nd)
                return false;
        c->ndict = (uint32_t)nd;
        return true;
    }
    default: return false;
    }
}

int er_colr_chunk(er_colr *r, size_t g, size_t col, er_colbuf *b, er_chunk *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = r->grows[g];
    size_t len = r->len[g * r->ncols + col];
    if (len == 0)
        return 0; /* ER_ENC_NULL */
    if (len < CHUNK_HEAD)
        return damaged(r, err, "chunk");
    if (b->cap < len) {
        free(b->p);
        b->cap = len;
        b->p = er_xmalloc(len);
    }
    if (!read_at(r->fd, b->p, len, r->off[g * r->ncols + col]))
        return er_error_set(err, ER_EIO, "cannot read %s: %s", r->path,
                            errno ? strerror(errno) : "cut short");
    chunk_head h;
    memcpy(&h, b->p, sizeof h);
    if (h.n != out->n || h.enc == ER_ENC_NULL || h.enc >= ER_ENC_COUNT ||
        !decode(&h, b->p, len, out))
        return damaged(r, err, "chunk");
    out->enc = (er_enc)h.enc;
    return 0;
}
