/* usage.c — the LLM requests' usage and cost (store_usage.h).
 * The day is computed here, in UTC, so both dialects group by one text column
 * and no date function of either is needed. */
#include "store_int.h"
#include "errand/store_usage.h"
#include "errand/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void er_usage_day(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int er_store_usage_add(er_store *st, const er_usage *u, er_error *err)
{
    if (er_str_empty(u->task_id) || er_str_empty(u->agent))
        return er_error_set(err, ER_EINVAL, "a usage row needs a task and an agent");
    int64_t now = u->created_ms ? u->created_ms : er_time_ms();
    char day[11];
    er_usage_day(now, day);
    er_sql_value params[] = {
        ER_SQL_S(u->task_id),
        ER_SQL_S(er_str_empty(u->root_id) ? u->task_id : u->root_id),
        ER_SQL_S(u->user_id ? u->user_id : ""),
        ER_SQL_S(u->agent),
        ER_SQL_S(u->model ? u->model : ""),
        er_sql_str(day),
        ER_SQL_I(now),
        ER_SQL_I(u->input_tokens),
        ER_SQL_I(u->output_tokens),
        u->cost_micros >= 0 ? ER_SQL_I(u->cost_micros) : ER_SQL_N,
    };
    return er_sql_exec(st,
                       "INSERT INTO llm_usage (task_id, root_id, user_id, agent, model, day, "
                       "created_ms, input_tokens, output_tokens, cost_micros) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       params, (int)ER_ARRAY_LEN(params), NULL, err);
}

int er_store_usage_day_cost(er_store *st, const char *user_id, const char *day, int64_t *out,
                            er_error *err)
{
    er_sql_value params[] = { ER_SQL_S(user_id ? user_id : ""), ER_SQL_S(day) };
    *out = 0;
    return er_sql_query_int(st,
                            "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM llm_usage "
                            "WHERE user_id = ? AND day = ?",
                            params, 2, out, NULL, err);
}

int er_store_usage_task_cost(er_store *st, const char *root_id, int64_t *out, er_error *err)
{
    er_sql_value params[] = { ER_SQL_S(root_id) };
    *out = 0;
    return er_sql_query_int(st,
                            "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM llm_usage "
                            "WHERE root_id = ?",
                            params, 1, out, NULL, err);
}

/* The grouping columns of each report, from this table only (no caller text
 * reaches the SQL). */
static const struct {
    const char *cols; /* in the order of er_usage_sum's day, model, agent, user_id */
    bool day, model, agent, user;
} groupings[] = {
    [ER_USAGE_BY_ALL] = { "day, model, agent", true, true, true, false },
    [ER_USAGE_BY_DAY] = { "day", true, false, false, false },
    [ER_USAGE_BY_MODEL] = { "model", false, true, false, false },
    [ER_USAGE_BY_AGENT] = { "agent", false, false, true, false },
    [ER_USAGE_BY_USER] = { "user_id", false, false, false, true },
};

typedef struct report_ctx {
    er_usage_by by;
    er_usage_sum_fn fn;
    void *payload;
} report_ctx;

static int report_row(const er_sql_value *c, int ncols, void *payload)
{
    report_ctx *r = payload;
    er_usage_sum s = { 0 };
    int i = 0;
    if (groupings[r->by].day)
        s.day = er_sql_col_borrow(&c[i++]);
    if (groupings[r->by].model)
        s.model = er_sql_col_borrow(&c[i++]);
    if (groupings[r->by].agent)
        s.agent = er_sql_col_borrow(&c[i++]);
    if (groupings[r->by].user)
        s.user_id = er_sql_col_borrow(&c[i++]);
    if (ncols < i + 5)
        return 1;
    s.requests = er_sql_col_int(&c[i]);
    s.input_tokens = er_sql_col_int(&c[i + 1]);
    s.output_tokens = er_sql_col_int(&c[i + 2]);
    s.cost_micros = er_sql_col_int(&c[i + 3]);
    s.unpriced = er_sql_col_int(&c[i + 4]);
    return r->fn(&s, r->payload);
}

int er_store_usage_report(er_store *st, er_usage_by by, const char *since_day, const char *user_id,
                          er_usage_sum_fn fn, void *payload, er_error *err)
{
    if ((int)by < 0 || by > ER_USAGE_BY_USER)
        return er_error_set(err, ER_EINVAL, "unknown usage grouping");
    const char *cols = groupings[by].cols;
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT %s, COUNT(*), CAST(SUM(input_tokens) AS BIGINT), "
             "CAST(SUM(output_tokens) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), "
             "CAST(SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END) AS BIGINT) "
             "FROM llm_usage WHERE day >= ? AND (? = '' OR user_id = ?) "
             "GROUP BY %s ORDER BY %s",
             cols, cols, cols);
    const char *user = user_id ? user_id : "";
    er_sql_value params[] = { ER_SQL_S(since_day ? since_day : ""), ER_SQL_S(user),
                              ER_SQL_S(user) };
    report_ctx r = { by, fn, payload };
    return er_sql_query(st, sql, params, 3, report_row, &r, err);
}
