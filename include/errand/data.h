/* data.h — the data agent's engine: a SQLite database of tables loaded from
 * the workspace's files, read-only queries over it, and exports.
 *
 * The data database is one SQLite file per workspace (`.errand/data.sqlite`,
 * or the setting data.db), separate from errand's store.  Each loaded table
 * is described in `_errand_tables`: its source path, size and mtime (so a
 * changed file is loaded again), format and options, row and bad-row counts,
 * column types, and a version that moves on every load (the cache key of
 * results computed from it).
 *
 * A table's rows live in a column file beside the database (DB-tables/,
 * src/data/colfile.h), which SQL reads through a virtual table; describe and
 * group-by read its columns directly.  Loading reads a file once, streaming:
 * every column's type is inferred from all of its values (integer, real,
 * boolean, date, datetime, text) while the values are written, bad rows are
 * reported as they come; only a column that turns to text after numbers
 * makes it read a second time.  Memory stays bounded by the longest row and
 * one row group, whatever the file's size (JSON arrays are the exception:
 * parsed whole, up to ER_DATA_JSON_MAX).  Not thread-safe per handle; open
 * one per thread. */
#ifndef ERRAND_DATA_H
#define ERRAND_DATA_H

#include "common.h"
#include "error.h"
#include "config.h"
#include <cjson/cJSON.h>
#include <sqlite3.h>

typedef enum {
    ER_DT_INTEGER = 0,
    ER_DT_REAL,
    ER_DT_BOOLEAN,
    ER_DT_DATE,
    ER_DT_DATETIME,
    ER_DT_TEXT,
    ER_DT_COUNT
} er_dtype;

/* "integer", "real", "boolean", "date", "datetime", "text". */
const char *er_dtype_name(er_dtype t);
bool er_dtype_numeric(er_dtype t); /* integer, real, boolean */

#define ER_DATA_JSON_MAX (512u * 1024 * 1024)
/* Bad rows listed one by one in a load's result; the count covers them all. */
#define ER_DATA_BAD_LIST_MAX 50

typedef struct er_data er_data;

/* The data database of a workspace: cfg->data_db when set (relative paths
 * are taken from the workspace), else WORKSPACE/.errand/data.sqlite.  OWNED. */
char *er_data_path(const er_config *cfg, const char *workspace);

/* Opens (creating it and its directory) the database at path.  OWNED *out. */
int er_data_open(er_data **out, const char *path, er_error *err);
void er_data_close(er_data *d);
/* BORROWED: the connection, for the modules of src/data/. */
sqlite3 *er_data_db(er_data *d);
/* Stops long statements (queries, loads) soon after *flag becomes nonzero. */
void er_data_set_cancel(er_data *d, const volatile int *flag);

typedef struct er_data_load_opts {
    const char *path;     /* absolute path of the file */
    const char *display;  /* the path as users see it (workspace-relative) */
    const char *table;    /* NULL: from the file name */
    const char *format;   /* csv, tsv, json, jsonl, xlsx; NULL: by extension, else sniffed */
    const char *sheet;    /* xlsx: sheet name; NULL: the first */
    const char *encoding; /* NULL: UTF-8 (a BOM of UTF-16 is followed); else iconv's name */
    int header;           /* CSV: 1 yes, 0 no, -1 detect */
    char delimiter;       /* CSV: 0 detect */
    bool force;           /* load even when the source is unchanged */
} er_data_load_opts;

/* Loads a file into a table (replacing a table of that name atomically).
 * OWNED *out: {table, source, format, rows, columns:[{name,type,nulls,
 * source_name?}], bad_rows, bad:[{line, reason}], unchanged?, notes?}.
 * A file that has not changed since it was loaded is not read again
 * ("unchanged": true) unless force.  ER_EINVAL names the file and line for
 * input it cannot read at all (not UTF-8 without an encoding, broken JSON). */
int er_data_load(er_data *d, const er_data_load_opts *o, cJSON **out, er_error *err);

/* Loads again every table (or only `table`) whose source's size or mtime
 * changed.  *reloaded (may be NULL) gets the names, OWNED.  Sources that
 * are gone keep their tables. */
int er_data_refresh(er_data *d, const char *table, cJSON **reloaded, er_error *err);

/* OWNED: [{table, source, rows, columns:[{name,type}], version, loaded}]. */
int er_data_tables(er_data *d, cJSON **out, er_error *err);
/* The table's columns and types; ER_ENOTFOUND naming the tables there are. */
int er_data_columns(er_data *d, const char *table, cJSON **out, er_error *err);
/* The table's version (moves on every load); 0 when it is not a loaded table. */
int64_t er_data_table_version(er_data *d, const char *table);
/* A key for results that depend on every table: the versions of all of them. */
char *er_data_versions_key(er_data *d);

/* ---- read-only queries ---- */

typedef struct er_data_query_opts {
    long max_rows; /* rows returned; the rest are counted */
    long max_ms;   /* time cap */
} er_data_query_opts;

/* Prepares sql for reading only: one SELECT or WITH statement; an authorizer
 * refuses writes, ATTACH, PRAGMA and functions that reach outside
 * (load_extension).  OWNED *out. */
int er_data_prepare_ro(er_data *d, const char *sql, sqlite3_stmt **out, er_error *err);
/* Runs a read-only query.  OWNED *out: {columns, rows, row_count (or
 * row_count_at_least), truncated, note?}. */
int er_data_query(er_data *d, const char *sql, const er_data_query_opts *o, cJSON **out,
                  er_error *err);

/* A 64-bit hash of bytes (for cache keys). */
uint64_t er_data_hash(const void *p, size_t n);

/* Quotes an identifier for SQL ("a""b").  OWNED. */
char *er_data_quote_ident(const char *name);

/* ---- export ---- */

/* Writes the result of sql to fd as "csv", "json" (an array of objects) or
 * "jsonl"; *rows gets the count.  Streams: any size. */
int er_data_export(er_data *d, const char *sql, const char *format, int fd, int64_t *rows,
                   er_error *err);

#endif
