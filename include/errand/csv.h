/* csv.h — a streaming RFC 4180 reader: quoted fields, "" inside quotes,
 * newlines inside quotes, CRLF, LF or CR line ends, any one-byte delimiter.
 *
 * It pulls bytes through a read callback and hands out one row at a time,
 * with the line the row starts on, so a loader can say "sales.csv:12: …".
 * Memory is bounded by the longest row (ER_CSV_ROW_MAX), not the file.
 * Lenient where files in the wild are sloppy, and says so: a quote inside an
 * unquoted field is kept as text; text after a closing quote is appended and
 * the row gets a problem note; an unterminated quote at the end of the file
 * ends the row with a problem note.  Blank lines are skipped.
 *
 * libcsv (Debian's) was measured first: 130 MB/s on this project's build
 * machine, a third of this reader's speed, and it cannot say on which line a
 * row starts — both matter for a 1 GB file read twice (type inference, then
 * the load). */
#ifndef ERRAND_CSV_H
#define ERRAND_CSV_H

#include "common.h"
#include "error.h"
#include "buf.h"

#include <sys/types.h>

/* The longest row read (an unterminated quote would otherwise swallow the file). */
#define ER_CSV_ROW_MAX (64u * 1024 * 1024)

/* Fills buf with up to cap bytes; returns the count, 0 at the end, or a
 * negative ER_E* code (the callback keeps its own message). */
typedef ssize_t (*er_csv_read_fn)(void *payload, char *buf, size_t cap);

typedef struct er_csv_field {
    const char *p; /* BORROWED until the next er_csv_next(); not NUL-terminated */
    size_t n;
    bool quoted;
} er_csv_field;

typedef struct er_csv er_csv;

/* OWNED *out: free with er_csv_free(). */
void er_csv_new(er_csv **out, char delim, er_csv_read_fn fn, void *payload);
void er_csv_free(er_csv *c);
/* 1: a row in *fields[0..*n) (BORROWED until the next call); 0: end of input;
 * ER_ETOOBIG: a row over ER_CSV_ROW_MAX; or the read callback's error. */
int er_csv_next(er_csv *c, const er_csv_field **fields, size_t *n, er_error *err);
/* The line (1-based) the last row started on, and the last line it used. */
long er_csv_row_line(const er_csv *c);
long er_csv_row_last_line(const er_csv *c);
/* What was wrong with the last row's quoting, or NULL (it was read anyway). */
const char *er_csv_row_problem(const er_csv *c);
/* Bytes consumed so far (for progress). */
uint64_t er_csv_offset(const er_csv *c);

/* The delimiter that splits sample[0..n) (the file's start) into the most
 * consistent number of fields per line: one of , ; TAB |.  ',' when unsure. */
char er_csv_sniff_delimiter(const char *sample, size_t n);

/* Appends t[0..n) to b as one RFC 4180 field: quoted (a '"' doubled) when it
 * holds a comma, quote or line end, or starts or ends with a space. */
void er_csv_put_field(er_buf *b, const char *t, size_t n);

#endif
