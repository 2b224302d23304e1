/* data_db.h — the data database handle, inside src/data/ only. */
#ifndef ERRAND_DATA_DB_H
#define ERRAND_DATA_DB_H

#include "errand/data.h"

struct er_data {
    sqlite3 *db;
    char *path;
    const volatile int *cancel;
    int64_t deadline_ms; /* 0: none; the progress handler stops statements past it */
    long cap_ms;         /* the cap that set it, for the message */
};

/* Converts the connection's last error (interrupts: cancelled or the time
 * cap) into err, with `what` in front. */
int er_data_sqlite_error(er_data *d, er_error *err, const char *what);
/* ER_ENOTFOUND naming the tables that exist. */
int er_data_no_table(er_data *d, const char *table, er_error *err);
/* The next table version (a counter kept in the database). */
int64_t er_data_next_version(er_data *d);
/* Statements stop after ms from now (0: no cap). */
void er_data_deadline(er_data *d, long ms);
/* A text value of a result, clipped when long (as data_sql shows it).  OWNED. */
cJSON *er_data_text_json(const char *t, size_t n);
/* A query result: {columns, rows, row_count (or row_count_at_least when cut),
 * truncated, note?}.  TAKES names and rows.  OWNED. */
cJSON *er_data_result_json(cJSON *names, cJSON *rows, int64_t count, long max_rows, bool cut);
/* The column file a loaded table reads (colfile.h).  OWNED *out;
 * ER_ENOTFOUND (no message) when the table has none. */
typedef struct er_colr er_colr;
int er_data_open_columns(er_data *d, const char *table, er_colr **out, er_error *err);
/* Removes the column files no table reads (replaced tables, failed loads). */
void er_data_gc(er_data *d);

#endif
