/* data_db.h — the data database handle, inside src/data/ only. */
#ifndef ERRAND_DATA_DB_H
#define ERRAND_DATA_DB_H

#include "errand/data.h"

struct er_data {
    sqlite3 *db;
    char *path;
    const volatile int *cancel;
    int64_t deadline_ms;     /* 0: none; the progress handler stops statements past it */
    long cap_ms;             /* the cap that set it, for the message */
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

#endif
