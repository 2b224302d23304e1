/* events.c — task events: every step of a task, in the order it happened.
 *
 * A step that may run twice (a worker died and the message was redelivered)
 * carries a step key; storing it again changes nothing, so replay is safe.
 * The event's id is its position: lists page with after_id. */
#include "store_int.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define EVENT_COLS "id, task_id, step_key, kind, data, created_ms"

static void event_from_row(void *out, const er_sql_value *c, bool copy)
{
    er_event *e = out;
    e->id = er_sql_col_int(&c[0]);
    er_sql_col_id(e->task_id, &c[1]);
    e->step_key = er_sql_col_str(&c[2], copy);
    e->kind = er_sql_col_str(&c[3], copy);
    e->data = er_sql_col_str(&c[4], copy);
    e->created_ms = er_sql_col_int(&c[5]);
}

void er_event_release(er_event *e)
{
    if (!e)
        return;
    free(e->step_key);
    free(e->kind);
    free(e->data);
    memset(e, 0, sizeof *e);
}

static int returned_id(const er_sql_value *cols, int ncols, void *payload)
{
    if (ncols > 0)
        *(int64_t *)payload = er_sql_col_int(&cols[0]);
    return 1;
}

int er_store_event_add(er_store *st, const char *task_id, const char *step_key, const char *kind,
                       const char *data_json, int64_t *id_out, er_error *err)
{
    if (er_str_empty(task_id))
        return er_error_set(err, ER_EINVAL, "an event needs a task id");
    if (er_str_empty(kind))
        return er_error_set(err, ER_EINVAL, "an event needs a kind");
    er_sql_value params[] = { ER_SQL_S(task_id), er_sql_opt(step_key), ER_SQL_S(kind),
                              ER_SQL_S(data_json), ER_SQL_I(er_time_ms()) };
    int64_t id = 0; /* stays 0 when the step key was already stored */
    int rc = er_sql_query(st,
                          "INSERT INTO task_events (task_id, step_key, kind, data, created_ms) "
                          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id, step_key) DO NOTHING "
                          "RETURNING id",
                          params, 5, returned_id, &id, err);
    if (rc == ER_ENOTFOUND)
        return er_error_set(err, rc, "no task '%s' to add a '%s' event to", task_id, kind);
    if (rc == 0 && id_out)
        *id_out = id;
    return rc;
}

typedef struct event_list_ctx {
    er_event_fn fn;
    void *payload;
} event_list_ctx;

static int event_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    event_list_ctx *c = payload;
    if (ncols < 6)
        return 1;
    er_event e;
    event_from_row(&e, cols, false);
    return c->fn(&e, c->payload);
}

int er_store_event_list(er_store *st, const char *task_id, int64_t after_id, er_event_fn fn,
                        void *payload, er_error *err)
{
    event_list_ctx c = { fn, payload };
    er_sql_value params[] = { ER_SQL_S(task_id), ER_SQL_I(after_id) };
    return er_sql_query(st,
                        "SELECT " EVENT_COLS " FROM task_events WHERE task_id = ? AND id > ? "
                        "ORDER BY id",
                        params, 2, event_list_row, &c, err);
}

int er_store_event_find(er_store *st, const char *task_id, const char *step_key, er_event *out,
                        er_error *err)
{
    memset(out, 0, sizeof *out);
    if (er_str_empty(step_key))
        return er_error_set(err, ER_EINVAL, "finding an event needs a step key");
    bool found = false;
    er_sql_value params[] = { ER_SQL_S(task_id), ER_SQL_S(step_key) };
    int rc =
        er_sql_get(st, "SELECT " EVENT_COLS " FROM task_events WHERE task_id = ? AND step_key = ?",
                   params, 2, 6, event_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "task '%s' has no event with step key '%s'",
                          task_id ? task_id : "", step_key);
    return rc;
}
