/* store_int.h — private to src/store/: helpers the domain modules and the
 * backends share (column decoding, a statement cache keyed by SQL text).
 * Nothing outside src/store/ includes this. */
#ifndef ERRAND_STORE_INT_H
#define ERRAND_STORE_INT_H

#include "errand/backend/store_backend.h"

/* The migration dialect of an open store ("sqlite", "postgres"). BORROWED. */
const char *er_store_dialect(const er_store *st);

/* Several ';'-separated statements without parameters (migrations). */
int er_sql_exec_script(er_store *st, const char *script, er_error *err);
/* The backend's migration lock (a no-op where its transactions serialise
 * migrators) and table test; ER_EINTERNAL for a backend older than version 2. */
int er_sql_migration_lock(er_store *st, er_error *err);
int er_sql_table_exists(er_store *st, const char *name, bool *out, er_error *err);

/* Column decoding for row callbacks. */
char *er_sql_col_text(const er_sql_value *v);                   /* OWNED copy, NULL for NULL */
void er_sql_col_id(char out[ER_ID_LEN], const er_sql_value *v); /* "" for NULL */
int64_t er_sql_col_int(const er_sql_value *v);                  /* 0 for NULL */
/* The column's text itself, BORROWED for the row callback (list callbacks get
 * row structs that point into the backend's row); NULL unless it is text. */
static inline char *er_sql_col_borrow(const er_sql_value *v)
{
    return v->type == ER_SQL_TEXT ? (char *)v->s : NULL;
}
/* Owned copy or borrowed view, as the caller asks. */
static inline char *er_sql_col_str(const er_sql_value *v, bool copy)
{
    return copy ? er_sql_col_text(v) : er_sql_col_borrow(v);
}

/* Fills a row struct from a row's columns: owned copies when copy, otherwise
 * pointers into the row (BORROWED for the row callback). */
typedef void (*er_row_decode)(void *out, const er_sql_value *cols, bool copy);

/* Runs a query for one row of at least ncols columns and decodes it into out
 * with owned copies; *found says whether a row came back. */
int er_sql_get(er_store *st, const char *sql, const er_sql_value *params, int nparams, int ncols,
               er_row_decode decode, void *out, bool *found, er_error *err);

/* Runs a query expected to give one integer in its first column.
 * *found (may be NULL) says whether a row came back; *out is untouched otherwise. */
int er_sql_query_int(er_store *st, const char *sql, const er_sql_value *params, int nparams,
                     int64_t *out, bool *found, er_error *err);

/* ER_SQL_S for arrays (the macro's NULL test warns on them). */
static inline er_sql_value er_sql_str(const char *s)
{
    return ER_SQL_S(s);
}

/* NULL for NULL or "" (optional ids are stored as NULL). */
static inline er_sql_value er_sql_opt(const char *s)
{
    return (s && *s) ? ER_SQL_S(s) : ER_SQL_N;
}

/* An open-addressing map from SQL text (copied) to a backend's value
 * (a prepared statement).  Not thread-safe: the owner locks around it. */
typedef struct er_stmt_slot {
    char *sql;
    void *val;
} er_stmt_slot;

typedef struct er_stmt_cache {
    er_stmt_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
} er_stmt_cache;

void *er_stmt_cache_get(const er_stmt_cache *c, const char *sql);
void er_stmt_cache_put(er_stmt_cache *c, const char *sql, void *val);
/* Calls free_val (may be NULL) on every value and empties the cache. */
void er_stmt_cache_clear(er_stmt_cache *c, void (*free_val)(void *val));

#endif
