/* waits.c — tasks parked on a person's answer (store.h, task waits).
 *
 * Parking is fenced like every step of an attempt: the row is inserted only
 * while the attempt's lease holds, in the same statement.  Ending a wait is a
 * DELETE … RETURNING: of two answers racing, exactly one gets the row and
 * resumes the task. */
#include "store_int.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define WAIT_COLS  "task_id, call_id, step_key, tool, admin_only, created_ms, expires_ms"
#define WAIT_NCOLS 7

static void wait_from_row(void *out, const er_sql_value *c, bool copy)
{
    er_task_wait *w = out;
    memset(w, 0, sizeof *w);
    er_sql_col_id(w->task_id, &c[0]);
    w->call_id = er_sql_col_str(&c[1], copy);
    w->step_key = er_sql_col_str(&c[2], copy);
    w->tool = er_sql_col_str(&c[3], copy);
    w->admin_only = er_sql_col_int(&c[4]) != 0;
    w->created_ms = er_sql_col_int(&c[5]);
    w->expires_ms = er_sql_col_int(&c[6]);
}

int er_store_wait_park(er_store *st, const er_lease *lease, const er_task_wait *w, bool *fresh,
                       er_error *err)
{
    if (er_str_empty(w->call_id) || er_str_empty(w->step_key) || er_str_empty(w->tool))
        return er_error_set(err, ER_EINVAL, "a wait needs a call id, a step key and a tool");
    er_sql_value params[] = {
        ER_SQL_S(w->call_id),       ER_SQL_S(w->step_key),    ER_SQL_S(w->tool),
        ER_SQL_I(w->admin_only),    ER_SQL_I(w->created_ms),  ER_SQL_I(w->expires_ms),
        er_sql_str(lease->task_id), ER_SQL_I(lease->attempt),
    };
    int64_t one = 0;
    /* The WHERE also keeps SQLite from reading ON CONFLICT as a join clause. */
    int rc = er_sql_query_int(st,
                              "INSERT INTO task_waits (task_id, call_id, step_key, tool, "
                              "admin_only, created_ms, expires_ms) "
                              "SELECT id, ?, ?, ?, ?, ?, ? FROM tasks "
                              "WHERE id = ? AND attempt = ? AND status < 3 "
                              "ON CONFLICT (task_id) DO NOTHING RETURNING 1",
                              params, (int)ER_ARRAY_LEN(params), &one, NULL, err);
    if (rc == 0 && one == 0) /* there already, or the lease is gone */
        rc = er_store_lease_check(st, lease, err);
    if (rc == 0 && fresh)
        *fresh = one != 0;
    return rc;
}

int er_store_wait_get(er_store *st, const char *task_id, er_task_wait *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    er_sql_value param = er_sql_str(task_id);
    bool found = false;
    int rc = er_sql_get(st, "SELECT " WAIT_COLS " FROM task_waits WHERE task_id = ?", &param, 1,
                        WAIT_NCOLS, wait_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "task '%s' waits for no answer", task_id);
    return rc;
}

typedef struct end_ctx {
    er_store *st;
    const char *task_id;
    const char *call_id;
} end_ctx;

static int end_tx(er_store *st, void *payload, er_error *err)
{
    end_ctx *c = payload;
    er_sql_value params[] = { er_sql_str(c->task_id), ER_SQL_S(c->call_id) };
    int64_t since = 0;
    bool found = false;
    int rc = er_sql_query_int(st,
                              "DELETE FROM task_waits WHERE task_id = ? AND call_id = ? "
                              "RETURNING created_ms",
                              params, 2, &since, &found, err);
    if (rc == 0 && !found)
        return er_error_set(err, ER_ENOTFOUND, "task '%s' does not wait for call '%s'", c->task_id,
                            c->call_id);
    int64_t now = er_time_ms();
    er_sql_value upd[] = { ER_SQL_I(now > since ? now - since : 0), er_sql_str(c->task_id) };
    if (rc == 0)
        rc = er_sql_query(st,
                          "UPDATE tasks SET deadline_ms = deadline_ms + ? "
                          "WHERE id = ? AND deadline_ms IS NOT NULL",
                          upd, 2, NULL, NULL, err);
    return rc;
}

int er_store_wait_end(er_store *st, const char *task_id, const char *call_id, er_error *err)
{
    if (er_str_empty(task_id) || er_str_empty(call_id))
        return er_error_set(err, ER_EINVAL, "ending a wait needs a task id and a call id");
    end_ctx c = { st, task_id, call_id };
    return er_store_transaction(st, end_tx, &c, err);
}

typedef struct due_ctx {
    er_wait_fn fn;
    void *payload;
} due_ctx;

static int due_row(const er_sql_value *cols, int ncols, void *payload)
{
    due_ctx *c = payload;
    if (ncols < WAIT_NCOLS)
        return 0;
    er_task_wait w;
    wait_from_row(&w, cols, false);
    return c->fn(&w, c->payload);
}

int er_store_waits_due(er_store *st, int64_t now_ms, int limit, er_wait_fn fn, void *payload,
                       er_error *err)
{
    er_sql_value params[] = { ER_SQL_I(now_ms), ER_SQL_I(limit > 0 ? limit : 100) };
    due_ctx c = { fn, payload };
    return er_sql_query(st,
                        "SELECT w.task_id, w.call_id, w.step_key, w.tool, w.admin_only, "
                        "w.created_ms, w.expires_ms FROM task_waits w JOIN tasks t "
                        "ON t.id = w.task_id WHERE w.expires_ms < ? OR t.status >= 3 "
                        "ORDER BY w.expires_ms LIMIT ?",
                        params, 2, due_row, &c, err);
}

void er_task_wait_release(er_task_wait *w)
{
    if (!w)
        return;
    free(w->call_id);
    free(w->step_key);
    free(w->tool);
    w->call_id = w->step_key = w->tool = NULL;
}
