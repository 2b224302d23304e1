/* tasks.c — task rows: what was asked, by whom, where it is, what came out.
 *
 * A task's status only moves forward (queued → routed → running → done |
 * failed | cancelled).  Workers on several processes may race to move the same
 * task, so the rule is enforced by the UPDATE itself (WHERE status < bound),
 * never by reading the status first. */
#include "store_int.h"
#include "errand/alloc.h"
#include "errand/buf.h"
#include "errand/id.h"
#include "errand/str.h"

#include <stdlib.h>
#include <string.h>

#define TASK_COLS                                                                        \
    "id, parent_id, conversation_id, user_id, trace_id, agent, request, result, error, " \
    "meta, status, tokens_in, tokens_out, created_ms, updated_ms, attempt, deadline_ms"
#define TASK_NCOLS         17
#define DEFAULT_LIST_LIMIT 100

static const char *const status_names[] = {
    [ER_TASK_QUEUED] = "queued", [ER_TASK_ROUTED] = "routed", [ER_TASK_RUNNING] = "running",
    [ER_TASK_DONE] = "done",     [ER_TASK_FAILED] = "failed", [ER_TASK_CANCELLED] = "cancelled",
};

static bool status_valid(int s)
{
    return s >= 0 && (size_t)s < ER_ARRAY_LEN(status_names);
}

const char *er_task_status_name(er_task_status s)
{
    return status_valid((int)s) ? status_names[s] : "unknown";
}

int er_task_status_parse(const char *name, er_task_status *out)
{
    for (size_t i = 0; name && i < ER_ARRAY_LEN(status_names); i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (er_task_status)i;
            return 0;
        }
    }
    return ER_EINVAL;
}

static void task_from_row(void *out, const er_sql_value *c, bool copy)
{
    er_task *t = out;
    er_sql_col_id(t->id, &c[0]);
    er_sql_col_id(t->parent_id, &c[1]);
    er_sql_col_id(t->conversation_id, &c[2]);
    er_sql_col_id(t->user_id, &c[3]);
    er_sql_col_id(t->trace_id, &c[4]);
    t->agent = er_sql_col_str(&c[5], copy);
    t->request = er_sql_col_str(&c[6], copy);
    t->result = er_sql_col_str(&c[7], copy);
    t->error = er_sql_col_str(&c[8], copy);
    t->meta = er_sql_col_str(&c[9], copy);
    t->status = (er_task_status)er_sql_col_int(&c[10]);
    t->tokens_in = er_sql_col_int(&c[11]);
    t->tokens_out = er_sql_col_int(&c[12]);
    t->created_ms = er_sql_col_int(&c[13]);
    t->updated_ms = er_sql_col_int(&c[14]);
    t->attempt = (int)er_sql_col_int(&c[15]);
    t->deadline_ms = er_sql_col_int(&c[16]);
}

void er_task_release(er_task *t)
{
    if (!t)
        return;
    free(t->agent);
    free(t->request);
    free(t->result);
    free(t->error);
    free(t->meta);
    memset(t, 0, sizeof *t);
}

void er_task_copy(er_task *out, const er_task *t)
{
    *out = *t;
    out->agent = er_xstrdup(t->agent);
    out->request = er_xstrdup(t->request);
    out->result = er_xstrdup(t->result);
    out->error = er_xstrdup(t->error);
    out->meta = er_xstrdup(t->meta);
}

int er_store_task_create(er_store *st, er_task *t, er_error *err)
{
    if (!status_valid((int)t->status))
        return er_error_set(err, ER_EINVAL, "task status %d is out of range", (int)t->status);
    if (!t->id[0])
        er_id_new(t->id);
    t->created_ms = t->updated_ms = er_time_ms();
    er_sql_value params[TASK_NCOLS] = {
        er_sql_str(t->id),
        er_sql_opt(t->parent_id),
        er_sql_opt(t->conversation_id),
        er_sql_opt(t->user_id),
        er_sql_opt(t->trace_id),
        ER_SQL_S(t->agent),
        ER_SQL_S(t->request ? t->request : ""),
        ER_SQL_S(t->result),
        ER_SQL_S(t->error),
        ER_SQL_S(t->meta),
        ER_SQL_I(t->status),
        ER_SQL_I(t->tokens_in),
        ER_SQL_I(t->tokens_out),
        ER_SQL_I(t->created_ms),
        ER_SQL_I(t->updated_ms),
        ER_SQL_I(t->attempt),
        t->deadline_ms ? ER_SQL_I(t->deadline_ms) : ER_SQL_N,
    };
    int rc = er_sql_exec(st,
                         "INSERT INTO tasks (" TASK_COLS ") "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         params, TASK_NCOLS, NULL, err);
    if (rc == ER_EEXISTS)
        return er_error_set(err, rc, "task '%s' already exists", t->id);
    return rc;
}

int er_store_task_get(er_store *st, const char *id, er_task *out, er_error *err)
{
    memset(out, 0, sizeof *out);
    bool found = false;
    er_sql_value param = ER_SQL_S(id);
    int rc = er_sql_get(st, "SELECT " TASK_COLS " FROM tasks WHERE id = ?", &param, 1, TASK_NCOLS,
                        task_from_row, out, &found, err);
    if (rc == 0 && !found)
        rc = er_error_set(err, ER_ENOTFOUND, "no task '%s'", id ? id : "");
    return rc;
}

int er_store_task_status(er_store *st, const char *id, er_task_status *out, er_error *err)
{
    er_sql_value param = ER_SQL_S(id);
    int64_t status = 0;
    bool found = false;
    int rc = er_sql_query_int(st, "SELECT status FROM tasks WHERE id = ?", &param, 1, &status,
                              &found, err);
    if (rc)
        return rc;
    if (!found)
        return er_error_set(err, ER_ENOTFOUND, "no task '%s'", id ? id : "");
    *out = (er_task_status)status;
    return 0;
}

typedef struct ended_ctx {
    const char (*ids)[ER_ID_LEN];
    size_t n;
    bool *out;
} ended_ctx;

static int ended_row(const er_sql_value *cols, int ncols, void *payload)
{
    ended_ctx *c = payload;
    const char *id = ncols >= 1 ? er_sql_col_borrow(&cols[0]) : NULL;
    for (size_t i = 0; id && i < c->n; i++)
        if (strcmp(c->ids[i], id) == 0)
            c->out[i] = true;
    return 0;
}

int er_store_tasks_ended(er_store *st, const char (*ids)[ER_ID_LEN], size_t n, bool *out,
                         er_error *err)
{
    if (n > ER_STORE_IDS_MAX)
        return er_error_set(err, ER_EINVAL, "at most %d task ids at once", ER_STORE_IDS_MAX);
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    er_sql_value params[ER_STORE_IDS_MAX + 1];
    char sql[96 + 2 * ER_STORE_IDS_MAX];
    size_t len = er_strlcpy(sql, "SELECT id FROM tasks WHERE status >= ? AND id IN (?", sizeof sql);
    params[0] = ER_SQL_I(ER_TASK_DONE);
    for (size_t i = 0; i < n; i++) {
        params[i + 1] = er_sql_str(ids[i]);
        if (i > 0)
            len += er_strlcpy(sql + len, ",?", sizeof sql - len);
    }
    er_strlcpy(sql + len, ")", sizeof sql - len);
    ended_ctx c = { ids, n, out };
    return er_sql_query(st, sql, params, (int)n + 1, ended_row, &c, err);
}

static int count_row(const er_sql_value *cols, int ncols, void *payload)
{
    int64_t *counts = payload;
    int64_t s = ncols >= 2 ? er_sql_col_int(&cols[0]) : -1;
    if (status_valid((int)s))
        counts[s] = er_sql_col_int(&cols[1]);
    return 0;
}

int er_store_task_counts(er_store *st, int64_t counts[ER_TASK_CANCELLED + 1], er_error *err)
{
    memset(counts, 0, sizeof(int64_t) * (ER_TASK_CANCELLED + 1));
    return er_sql_query(st, "SELECT status, COUNT(*) FROM tasks GROUP BY status", NULL, 0,
                        count_row, counts, err);
}

typedef struct task_list_ctx {
    er_task_fn fn;
    void *payload;
} task_list_ctx;

static int task_list_row(const er_sql_value *cols, int ncols, void *payload)
{
    task_list_ctx *c = payload;
    if (ncols < TASK_NCOLS)
        return 1;
    er_task t;
    task_from_row(&t, cols, false);
    return c->fn(&t, c->payload);
}

typedef struct task_query {
    er_buf sql;
    er_sql_value params[5];
    int n;
    bool where;
} task_query;

static void add_cond(task_query *q, const char *col, const char *op)
{
    er_buf_printf(&q->sql, " %s %s %s", q->where ? "AND" : "WHERE", col, op);
    q->where = true;
}

/* An optional id filter: NULL adds nothing, "" means "none" (IS NULL). */
static void filter_id(task_query *q, const char *col, const char *val)
{
    if (!val)
        return;
    if (*val) {
        add_cond(q, col, "= ?");
        q->params[q->n++] = ER_SQL_S(val);
    } else {
        add_cond(q, col, "IS NULL");
    }
}

/* Newest first.  The SQL has one of 72 shapes; each is prepared once and cached. */
int er_store_task_list(er_store *st, const er_task_filter *f, er_task_fn fn, void *payload,
                       er_error *err)
{
    static const er_task_filter any = { NULL, NULL, NULL, -1, 0, false };
    if (!f)
        f = &any;
    task_query q = { ER_BUF_INIT, { ER_SQL_N }, 0, false };
    er_buf_puts(&q.sql, "SELECT " TASK_COLS " FROM tasks");
    filter_id(&q, "user_id", f->user_id);
    filter_id(&q, "parent_id", f->parent_id);
    filter_id(&q, "conversation_id", f->conversation_id);
    if (f->status >= 0) {
        add_cond(&q, "status", "= ?");
        q.params[q.n++] = ER_SQL_I(f->status);
    }
    _Static_assert(ER_TASK_DONE == 3, "tasks_open's bound (migration 004) is done = 3");
    if (f->open) /* literal: the partial index tasks_open (migration 004) is for it */
        add_cond(&q, "status", "< 3");
    er_buf_puts(&q.sql, " ORDER BY created_ms DESC, id DESC LIMIT ?");
    q.params[q.n++] = ER_SQL_I(f->limit > 0 ? f->limit : DEFAULT_LIST_LIMIT);
    task_list_ctx c = { fn, payload };
    int rc = er_sql_query(st, er_buf_cstr(&q.sql), q.params, q.n, task_list_row, &c, err);
    er_buf_release(&q.sql);
    return rc;
}

int er_store_tasks_overdue(er_store *st, int64_t now_ms, int limit, er_task_fn fn, void *payload,
                           er_error *err)
{
    er_sql_value params[] = { ER_SQL_I(now_ms), ER_SQL_I(limit > 0 ? limit : DEFAULT_LIST_LIMIT) };
    task_list_ctx c = { fn, payload };
    /* The literal bound lets the planner use the partial index tasks_open.  A parked
     * task is not late: nobody works on it (waits). */
    return er_sql_query(st,
                        "SELECT " TASK_COLS " FROM tasks WHERE status < 3 AND deadline_ms < ? "
                        "AND NOT EXISTS (SELECT 1 FROM task_waits w WHERE w.task_id = tasks.id) "
                        "ORDER BY created_ms LIMIT ?",
                        params, 2, task_list_row, &c, err);
}

/* Explains why an advance changed nothing: no such task, its status is past,
 * or another attempt has it now. */
static int advance_refused(er_store *st, const char *id, er_task_status to, int attempt,
                           er_error *err)
{
    er_task t;
    int rc = er_store_task_get(st, id, &t, err);
    if (rc)
        return rc;
    if (attempt && t.attempt != attempt && !er_task_status_final(t.status))
        rc = er_error_set(err, ER_ECONFLICT,
                          "task '%s' is run by attempt %d now; the outcome "
                          "of attempt %d is dropped",
                          id, t.attempt, attempt);
    else
        rc = er_error_set(err, ER_ECONFLICT, "task '%s' is already %s; it cannot move to %s", id,
                          er_task_status_name(t.status), er_task_status_name(to));
    er_task_release(&t);
    return rc;
}

int er_store_task_advance(er_store *st, const char *id, er_task_status to,
                          const er_task_update *upd, er_error *err)
{
    if (!status_valid((int)to))
        return er_error_set(err, ER_EINVAL, "task status %d is out of range", (int)to);
    if (er_str_empty(id))
        return er_error_set(err, ER_EINVAL, "task id is empty");
    static const er_task_update no_update;
    if (!upd)
        upd = &no_update;
    /* Final statuses are never left; a non-final one may be re-entered to update fields. */
    int below = er_task_status_final(to) ? ER_TASK_DONE : (int)to + 1;
    er_sql_value params[] = {
        ER_SQL_I(to),
        ER_SQL_S(upd->agent),
        ER_SQL_S(upd->result),
        ER_SQL_S(upd->error),
        ER_SQL_S(upd->meta),
        ER_SQL_I(upd->tokens_in),
        ER_SQL_I(upd->tokens_out),
        ER_SQL_I(er_time_ms()),
        ER_SQL_S(id),
        ER_SQL_I(below),
        ER_SQL_I(upd->attempt),
        ER_SQL_I(upd->attempt),
    };
    int64_t changed = 0;
    int rc = er_sql_exec(st,
                         "UPDATE tasks SET status = ?, agent = COALESCE(?, agent), "
                         "result = COALESCE(?, result), error = COALESCE(?, error), "
                         "meta = COALESCE(?, meta), tokens_in = tokens_in + ?, "
                         "tokens_out = tokens_out + ?, updated_ms = ? "
                         "WHERE id = ? AND status < ? AND (? = 0 OR attempt = ?)",
                         params, (int)ER_ARRAY_LEN(params), &changed, err);
    if (rc == 0 && changed == 0)
        rc = advance_refused(st, id, to, upd->attempt, err);
    return rc;
}
