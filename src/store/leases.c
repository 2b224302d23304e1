/* leases.c — which attempt at a task may still act for it (fencing; store.h).
 *
 * A lease is the task's attempt number: taking the task bumps it, so every
 * earlier attempt has lost it.  The test and the write are one statement
 * (INSERT … SELECT … WHERE attempt = ?), never a read then a write: an attempt
 * that loses the task between the two would otherwise record one more step.
 * The step key's uniqueness does the rest: of two attempts racing on one step,
 * exactly one stores it, and the other is told so and adopts it. */
#include "store_int.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

static int took_row(const er_sql_value *cols, int ncols, void *payload)
{
    er_lease *l = payload;
    if (ncols >= 2) {
        l->attempt = (int)er_sql_col_int(&cols[0]);
        l->deadline_ms = er_sql_col_int(&cols[1]);
    }
    return 1;
}

int er_store_task_take(er_store *st, const char *id, const char *owner, int64_t budget_ms,
                       er_lease *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "task id is empty");
    er_strlcpy(out->task_id, id, sizeof out->task_id);
    int64_t now = er_time_ms();
    er_sql_value params[] = {
        ER_SQL_I(ER_TASK_RUNNING),
        ER_SQL_S(owner),
        budget_ms > 0 ? ER_SQL_I(now + budget_ms) : ER_SQL_N,
        ER_SQL_I(now),
        ER_SQL_S(id),
    };
    int rc = er_sql_query(st,
                          "UPDATE tasks SET status = ?, attempt = attempt + 1, owner = ?, "
                          "deadline_ms = COALESCE(deadline_ms, ?), updated_ms = ? "
                          "WHERE id = ? AND status < 3 RETURNING attempt, deadline_ms",
                          params, (int)ER_ARRAY_LEN(params), took_row, out, err);
    if (rc == 0 && out->attempt == 0) {
        er_task_status now_status;
        rc = er_store_task_status(st, id, &now_status, err);
        if (rc == 0)
            rc = er_error_set(err, ER_ECONFLICT, "task '%s' has already ended (%s)", id,
                              er_task_status_name(now_status));
    }
    return rc;
}

typedef struct holder {
    int attempt;
    int status;
    char owner[160];
    bool found;
} holder;

static int holder_row(const er_sql_value *cols, int ncols, void *payload)
{
    holder *h = payload;
    if (ncols >= 3) {
        h->found = true;
        h->attempt = (int)er_sql_col_int(&cols[0]);
        h->status = (int)er_sql_col_int(&cols[1]);
        const char *o = er_sql_col_borrow(&cols[2]);
        er_strlcpy(h->owner, o ? o : "?", sizeof h->owner);
    }
    return 1;
}

int er_store_lease_check(er_store *st, const er_lease *lease, er_error *err)
{
    holder h = { 0 };
    er_sql_value param = er_sql_str(lease->task_id);
    int rc = er_sql_query(st, "SELECT attempt, status, owner FROM tasks WHERE id = ?", &param, 1,
                          holder_row, &h, err);
    if (rc)
        return rc;
    if (!h.found)
        return er_error_set(err, ER_ECONFLICT, "task '%s' is gone", lease->task_id);
    if (er_task_status_final((er_task_status)h.status))
        return er_error_set(err, ER_ECONFLICT, "task %s has ended (%s) while attempt %d ran it",
                            lease->task_id, er_task_status_name((er_task_status)h.status),
                            lease->attempt);
    if (h.attempt != lease->attempt)
        return er_error_set(err, ER_ECONFLICT, "attempt %d (%s) took task %s over from attempt %d",
                            h.attempt, h.owner, lease->task_id, lease->attempt);
    return 0;
}

int er_store_event_add_leased(er_store *st, const er_lease *lease, const char *step_key,
                              const char *kind, const char *data_json, int64_t *id_out,
                              er_error *err)
{
    if (er_str_empty(kind))
        return er_error_set(err, ER_EINVAL, "an event needs a kind");
    er_sql_value params[] = {
        er_sql_opt(step_key),       ER_SQL_S(kind),
        ER_SQL_S(data_json),        ER_SQL_I(er_time_ms()),
        er_sql_str(lease->task_id), ER_SQL_I(lease->attempt),
    };
    int64_t id = 0;
    /* The WHERE also keeps SQLite from reading ON CONFLICT as a join clause. */
    int rc = er_sql_query_int(st,
                              "INSERT INTO task_events (task_id, step_key, kind, data, "
                              "created_ms) SELECT id, ?, ?, ?, ? FROM tasks "
                              "WHERE id = ? AND attempt = ? AND status < 3 "
                              "ON CONFLICT (task_id, step_key) DO NOTHING RETURNING id",
                              params, (int)ER_ARRAY_LEN(params), &id, NULL, err);
    /* Nothing stored: the key was there already, or the lease is gone. */
    if (rc == 0 && id == 0)
        rc = er_store_lease_check(st, lease, err);
    if (rc == 0 && id == 0 && !step_key)
        rc = er_error_set(err, ER_EINTERNAL, "an event of task %s was not stored", lease->task_id);
    if (rc == 0 && id_out)
        *id_out = id;
    return rc;
}
