/* colfile.h — the column file under a loaded table, inside src/data/ only.
 *
 * A loaded table is one file of columns (not rows in SQLite's B-tree):
 * inserting millions of rows one at a time through SQLite costs more than
 * parsing them, and scanning them back for describe or a group-by costs
 * more than pandas keeping them in memory.  The file is written once, front
 * to back, by the loader; SQL reads it through a virtual table (vtab.c),
 * describe and group-by read its columns directly.
 *
 * Layout: a 16-byte header ("ERCOLS01", byte-order mark, version); row
 * groups of up to ER_COL_GROUP_ROWS rows, each holding one chunk per column
 * one after the other; a footer (every column's name and type, every group's
 * row count and chunk offsets); its offset and "ERCOLEND" at the very end.
 * A chunk is a typed array (int64, double, byte), text (offsets and bytes)
 * or, for text with few distinct values, a dictionary and 16-bit codes, with
 * a null bitmap.  Numbers are in the machine's byte order; a file of the
 * other order is refused.
 *
 * A column's chunks may be of different encodings: an integer column that
 * turned real after some groups keeps its int64 chunks, read as doubles.
 * Text is stored as it was in the file; dates are trimmed when read. */
#ifndef ERRAND_COLFILE_H
#define ERRAND_COLFILE_H

#include "errand/data.h"

#define ER_COL_GROUP_ROWS 65536u
/* A group is written once its values take this much memory, whatever its rows. */
#define ER_COL_GROUP_BYTES (32u << 20)

typedef enum {
    ER_ENC_NULL = 0, /* every row null (or the column did not exist yet) */
    ER_ENC_I64,
    ER_ENC_F64,
    ER_ENC_U8,
    ER_ENC_TEXT,
    ER_ENC_DICT,
    ER_ENC_COUNT
} er_enc;

/* One column of one row group, decoded in place.  BORROWED from the buffer
 * it was read into. */
typedef struct er_chunk {
    er_enc enc;
    uint32_t n;           /* rows */
    const uint8_t *nulls; /* bit i set: row i is null; NULL: none are */
    const int64_t *i64;
    const double *f64;
    const uint8_t *u8;
    const uint32_t *off; /* TEXT: row i is text[off[i]..off[i + 1]) */
    const char *text;
    uint32_t ndict;        /* DICT: entry k is text[off[k]..off[k + 1]) */
    const uint16_t *codes; /* DICT: row i is entry codes[i] */
} er_chunk;

static inline bool er_chunk_null(const er_chunk *c, uint32_t i)
{
    return c->enc == ER_ENC_NULL || (c->nulls && ((c->nulls[i >> 3] >> (i & 7)) & 1));
}

/* Row i of a TEXT or DICT chunk (not NUL-terminated). */
static inline const char *er_chunk_text(const er_chunk *c, uint32_t i, size_t *n)
{
    uint32_t k = c->enc == ER_ENC_DICT ? c->codes[i] : i;
    *n = c->off[k + 1] - c->off[k];
    return c->text + c->off[k];
}

/* Row i as a double (I64, F64, U8 chunks). */
static inline double er_chunk_num(const er_chunk *c, uint32_t i)
{
    return c->enc == ER_ENC_F64   ? c->f64[i]
           : c->enc == ER_ENC_I64 ? (double)c->i64[i]
                                  : (double)c->u8[i];
}

/* ---- writing ---- */

typedef struct er_colw er_colw;

/* Creates the file at path (replacing one there).  OWNED *out: end with
 * er_colw_finish or er_colw_abort. */
int er_colw_open(er_colw **out, const char *path, er_error *err);
/* The values of the current row, by column (columns may be added as rows
 * come: earlier rows are null there).  A column not given a value in a row
 * is null.  Mixing numbers and text in one column is the caller's error. */
void er_colw_null(er_colw *w, size_t col);
void er_colw_i64(er_colw *w, size_t col, int64_t v);
void er_colw_f64(er_colw *w, size_t col, double v);
void er_colw_u8(er_colw *w, size_t col, uint8_t v);
void er_colw_text(er_colw *w, size_t col, const char *p, size_t n);
/* Ends the row; writes the group when it is full. */
int er_colw_end_row(er_colw *w, er_error *err);
/* Writes the last group and the footer and closes.  Frees w. */
int er_colw_finish(er_colw *w, char *const *names, const er_dtype *types, size_t ncols,
                   er_error *err);
/* Closes and removes the file.  Frees w; NULL is fine. */
void er_colw_abort(er_colw *w);

/* ---- reading ---- */

typedef struct er_colr er_colr;

/* Opens a column file; ER_EIO names it when it is missing, truncated or not
 * one.  OWNED *out: er_colr_close. */
int er_colr_open(er_colr **out, const char *path, er_error *err);
void er_colr_close(er_colr *r);
size_t er_colr_ncols(const er_colr *r);
uint64_t er_colr_rows(const er_colr *r);
size_t er_colr_groups(const er_colr *r);
uint32_t er_colr_group_rows(const er_colr *r, size_t g);
const char *er_colr_name(const er_colr *r, size_t col);
er_dtype er_colr_type(const er_colr *r, size_t col);

/* A reusable read buffer (zero-initialise; er_colr_buf_release frees it). */
typedef struct er_colbuf {
    void *p;
    size_t cap;
} er_colbuf;

void er_colr_buf_release(er_colbuf *b);
/* Reads column col of group g into b and decodes it into *out (valid until
 * b is read into again).  ER_EIO when the chunk is damaged. */
int er_colr_chunk(er_colr *r, size_t g, size_t col, er_colbuf *b, er_chunk *out, er_error *err);

#endif
