/* data_vtab.h — loaded tables as virtual tables over column files (vtab.c),
 * inside src/data/ only. */
#ifndef ERRAND_DATA_VTAB_H
#define ERRAND_DATA_VTAB_H

#include "data_int.h"

/* Where a database's column files live: DB_PATH-tables.  OWNED. */
char *er_data_tables_dir(const char *db_path);
/* Is name a plain file name fit for the tables directory (no '/', no leading '.')? */
bool er_data_file_name_ok(const char *name);
/* Is a table declaring its columns on this thread (the authorizer lets it)? */
bool er_data_vtab_declaring(void);
/* Registers the errand_columns module on db (whose file is db_path). */
int er_data_vtab_register(sqlite3 *db, const char *db_path);
/* The column file a table reads (its name in the tables directory), from its
 * CREATE statement; NULL when it is not such a table.  OWNED. */
char *er_data_vtab_file(sqlite3 *db, const char *table);
char *er_data_vtab_sql_file(const char *create_sql);

#endif
