/* history.c — the browser agent's dated snapshots of extracted data
 * (store_history.h, table browser_history). */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/id.h"
#include "errand/json.h"
#include "errand/store_history.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

int er_store_snapshot_add(er_store *st, er_snapshot *s, er_error *err)
{
    if (er_str_empty(s->source) || er_str_empty(s->url) || !s->rows)
        return er_error_set(err, ER_EINVAL, "a snapshot needs a source, a URL and its rows");
    size_t len = strlen(s->rows);
    if (len > ER_SNAPSHOT_ROWS_MAX)
        return er_error_set(err, ER_ETOOBIG,
                            "the snapshot's rows take %zu bytes (at most %d are kept)", len,
                            ER_SNAPSHOT_ROWS_MAX);
    cJSON *rows = cJSON_ParseWithLength(s->rows, len);
    bool array = cJSON_IsArray(rows);
    s->count = cJSON_GetArraySize(rows);
    cJSON_Delete(rows);
    if (!array)
        return er_error_set(err, ER_EINVAL, "a snapshot's rows must be a JSON array");
    if (s->taken_ms == 0)
        s->taken_ms = er_time_ms();
    er_id_new(s->id);
    er_sql_value params[] = { er_sql_str(s->id),      ER_SQL_S(s->source),   ER_SQL_S(s->url),
                              er_sql_opt(s->task_id), ER_SQL_I(s->taken_ms), ER_SQL_I(s->count),
                              ER_SQL_S(s->rows) };
    return er_sql_exec(st,
                       "INSERT INTO browser_history (id, source, url, task_id, taken_ms, count, "
                       "rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       params, 7, NULL, err);
}

typedef struct list {
    er_snapshot *v;
    size_t n, cap;
} list;

static int snapshot_row(const er_sql_value *cols, int ncols, void *payload)
{
    list *l = payload;
    if (ncols < 7)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = er_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    er_snapshot *s = &l->v[l->n++];
    er_sql_col_id(s->id, &cols[0]);
    s->source = er_sql_col_text(&cols[1]);
    s->url = er_sql_col_text(&cols[2]);
    s->task_id = er_sql_col_text(&cols[3]);
    s->taken_ms = er_sql_col_int(&cols[4]);
    s->count = er_sql_col_int(&cols[5]);
    s->rows = er_sql_col_text(&cols[6]);
    return 0;
}

int er_store_snapshots(er_store *st, const char *source, int64_t before_ms, int limit,
                       er_snapshot **out, size_t *n, er_error *err)
{
    *out = NULL;
    *n = 0;
    if (er_str_empty(source))
        return er_error_set(err, ER_EINVAL, "no source named");
    list l = { 0 };
    er_sql_value params[] = { ER_SQL_S(source), ER_SQL_I(before_ms != 0 ? before_ms : INT64_MAX),
                              ER_SQL_I(limit > 0 ? limit : 1) };
    /* id breaks ties: UUIDv7s grow with time within a process. */
    int rc = er_sql_query(st,
                          "SELECT id, source, url, task_id, taken_ms, count, rows FROM "
                          "browser_history WHERE source = ? AND taken_ms <= ? "
                          "ORDER BY taken_ms DESC, id DESC LIMIT ?",
                          params, 3, snapshot_row, &l, err);
    if (rc) {
        er_snapshots_free(l.v, l.n);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

void er_snapshots_free(er_snapshot *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].source);
        free(s[i].url);
        free(s[i].task_id);
        free(s[i].rows);
    }
    free(s);
}

typedef struct sources {
    er_snapshot_source *v;
    size_t n, cap;
} sources;

static int source_row(const er_sql_value *cols, int ncols, void *payload)
{
    sources *l = payload;
    if (ncols < 3)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = er_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (er_snapshot_source){ er_sql_col_text(&cols[0]), er_sql_col_int(&cols[1]),
                                         er_sql_col_int(&cols[2]) };
    return 0;
}

int er_store_snapshot_sources(er_store *st, er_snapshot_source **out, size_t *n, er_error *err)
{
    sources l = { 0 };
    int rc = er_sql_query(st,
                          "SELECT source, COUNT(*), MAX(taken_ms) AS latest FROM browser_history "
                          "GROUP BY source ORDER BY latest DESC, source",
                          NULL, 0, source_row, &l, err);
    if (rc) {
        er_snapshot_sources_free(l.v, l.n);
        l.v = NULL;
        l.n = 0;
    }
    *out = l.v;
    *n = l.n;
    return rc;
}

void er_snapshot_sources_free(er_snapshot_source *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i].source);
    free(s);
}
