/* usage.c — the LLM requests' usage and cost (store_usage.h).
 * The day is computed here, in UTC, so both dialects group by one text column
 * and no date function of either is needed. */
#include "store_int.h"
#include "errand/store_usage.h"
#include "errand/json.h"
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

bool er_usage_day_valid(const char *text)
{
    unsigned y, m, d;
    char tail;
    return text && strlen(text) == 10 && sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 &&
           text[4] == '-' && text[7] == '-' && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int er_store_usage_add(er_store *st, const er_usage *u, er_error *err)
{
    if (er_str_empty(u->task_id) || er_str_empty(u->agent))
        return er_error_set(err, ER_EINVAL, "a usage row needs a task and an agent");
    int64_t now = u->created_ms ? u->created_ms : er_time_ms();
    char day[11];
    er_usage_day(now, day);
    const char *root = er_str_empty(u->root_id) ? u->task_id : u->root_id;
    er_sql_value params[] = {
        ER_SQL_S(u->task_id),
        ER_SQL_S(root),
        ER_SQL_S(u->user_id ? u->user_id : ""),
        ER_SQL_S(u->agent),
        ER_SQL_S(u->model ? u->model : ""),
        er_sql_str(day),
        ER_SQL_I(now),
        ER_SQL_I(u->input_tokens),
        ER_SQL_I(u->output_tokens),
        u->cost_micros >= 0 ? ER_SQL_I(u->cost_micros) : ER_SQL_N,
        ER_SQL_I(u->cached_tokens),
        ER_SQL_I(u->cache_write_tokens),
        ER_SQL_I(u->elapsed_ms < 0 ? 0 : u->elapsed_ms),
        ER_SQL_S(root),
    };
    return er_sql_exec(st,
                       "INSERT INTO llm_usage (task_id, root_id, user_id, agent, model, day, "
                       "created_ms, input_tokens, output_tokens, cost_micros, cached_tokens, "
                       "cache_write_tokens, elapsed_ms, conversation_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT "
                       "conversation_id FROM tasks WHERE id = ?), ''))",
                       params, (int)ER_ARRAY_LEN(params), NULL, err);
}

static int day_row(const er_sql_value *c, int ncols, void *payload)
{
    er_usage_day_totals *t = payload;
    if (ncols < 3)
        return 1;
    t->cost_micros = er_sql_col_int(&c[0]);
    t->tokens = er_sql_col_int(&c[1]);
    t->elapsed_ms = er_sql_col_int(&c[2]);
    return 0;
}

int er_store_usage_day_totals(er_store *st, const char *user_id, const char *day,
                              er_usage_day_totals *out, er_error *err)
{
    er_sql_value params[] = { ER_SQL_S(user_id ? user_id : ""), ER_SQL_S(day) };
    memset(out, 0, sizeof *out);
    return er_sql_query(st,
                        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), "
                        "CAST(COALESCE(SUM(input_tokens + output_tokens), 0) AS BIGINT), "
                        "CAST(COALESCE(SUM(elapsed_ms), 0) AS BIGINT) FROM llm_usage "
                        "WHERE user_id = ? AND day = ?",
                        params, 2, day_row, out, err);
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
    const char *name; /* as `--by` and ?by= say it */
    const char *cols; /* in the order of er_usage_sum's day, model, agent, user_id, conversation */
    bool day, model, agent, user, conversation;
} groupings[] = {
    [ER_USAGE_BY_ALL] = { "all", "day, model, agent", true, true, true, false, false },
    [ER_USAGE_BY_DAY] = { "day", "day", true, false, false, false, false },
    [ER_USAGE_BY_MODEL] = { "model", "model", false, true, false, false, false },
    [ER_USAGE_BY_AGENT] = { "agent", "agent", false, false, true, false, false },
    [ER_USAGE_BY_USER] = { "user", "user_id", false, false, false, true, false },
    [ER_USAGE_BY_CONVERSATION] = { "conversation", "conversation_id", false, false, false, false,
                                   true },
};

int er_usage_by_parse(const char *name, er_usage_by *out)
{
    for (size_t i = ER_USAGE_BY_DAY; i < ER_ARRAY_LEN(groupings); i++)
        if (er_str_eq(name, groupings[i].name)) {
            *out = (er_usage_by)i;
            return 0;
        }
    return ER_EINVAL;
}

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
    if (groupings[r->by].conversation)
        s.conversation_id = er_sql_col_borrow(&c[i++]);
    if (ncols < i + 8)
        return 1;
    s.requests = er_sql_col_int(&c[i]);
    s.input_tokens = er_sql_col_int(&c[i + 1]);
    s.output_tokens = er_sql_col_int(&c[i + 2]);
    s.cost_micros = er_sql_col_int(&c[i + 3]);
    s.unpriced = er_sql_col_int(&c[i + 4]);
    s.cached_tokens = er_sql_col_int(&c[i + 5]);
    s.cache_write_tokens = er_sql_col_int(&c[i + 6]);
    s.elapsed_ms = er_sql_col_int(&c[i + 7]);
    return r->fn(&s, r->payload);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

int er_store_usage_report(er_store *st, er_usage_by by, const er_usage_filter *f,
                          er_usage_sum_fn fn, void *payload, er_error *err)
{
    if ((int)by < 0 || (size_t)by >= ER_ARRAY_LEN(groupings))
        return er_error_set(err, ER_EINVAL, "unknown usage grouping");
    er_usage_filter none = { 0 };
    if (!f)
        f = &none;
    const char *cols = groupings[by].cols;
    char sql[900];
    snprintf(sql, sizeof sql,
             "SELECT %s, COUNT(*), CAST(SUM(input_tokens) AS BIGINT), "
             "CAST(SUM(output_tokens) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), "
             "CAST(SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END) AS BIGINT), "
             "CAST(SUM(cached_tokens) AS BIGINT), CAST(SUM(cache_write_tokens) AS BIGINT), "
             "CAST(SUM(elapsed_ms) AS BIGINT) "
             "FROM llm_usage WHERE day >= ? AND (? = '' OR day <= ?) AND (? = '' OR user_id = ?) "
             "AND (? = '' OR conversation_id = ?) GROUP BY %s ORDER BY %s",
             cols, cols, cols);
    const char *until = or_empty(f->until_day), *user = or_empty(f->user_id),
               *conv = or_empty(f->conversation_id);
    er_sql_value params[] = { ER_SQL_S(or_empty(f->since_day)),
                              ER_SQL_S(until),
                              ER_SQL_S(until),
                              ER_SQL_S(user),
                              ER_SQL_S(user),
                              ER_SQL_S(conv),
                              ER_SQL_S(conv) };
    report_ctx r = { by, fn, payload };
    return er_sql_query(st, sql, params, (int)ER_ARRAY_LEN(params), report_row, &r, err);
}

void er_usage_sum_add(er_usage_sum *total, const er_usage_sum *s)
{
    total->requests += s->requests;
    total->input_tokens += s->input_tokens;
    total->output_tokens += s->output_tokens;
    total->cached_tokens += s->cached_tokens;
    total->cache_write_tokens += s->cache_write_tokens;
    total->elapsed_ms += s->elapsed_ms;
    total->cost_micros += s->cost_micros;
    total->unpriced += s->unpriced;
}

static void add_opt_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        er_json_add_str(o, key, v);
}

static cJSON *sum_json(const er_usage_sum *s)
{
    cJSON *o = cJSON_CreateObject();
    add_opt_str(o, "day", s->day);
    add_opt_str(o, "model", s->model);
    add_opt_str(o, "agent", s->agent);
    add_opt_str(o, "user", s->user_id);
    add_opt_str(o, "conversation_id", s->conversation_id);
    er_json_add_num(o, "requests", (double)s->requests);
    er_json_add_num(o, "input_tokens", (double)s->input_tokens);
    er_json_add_num(o, "output_tokens", (double)s->output_tokens);
    er_json_add_num(o, "cached_tokens", (double)s->cached_tokens);
    er_json_add_num(o, "cache_write_tokens", (double)s->cache_write_tokens);
    er_json_add_num(o, "seconds", (double)s->elapsed_ms / 1e3);
    er_json_add_num(o, "cost_usd", (double)s->cost_micros / 1e6);
    er_json_add_num(o, "unpriced_requests", (double)s->unpriced);
    return o;
}

typedef struct json_ctx {
    cJSON *rows;
    er_usage_sum total;
} json_ctx;

static int json_row(const er_usage_sum *s, void *payload)
{
    json_ctx *x = payload;
    er_json_append(x->rows, sum_json(s));
    er_usage_sum_add(&x->total, s);
    return 0;
}

int er_store_usage_report_json(er_store *st, er_usage_by by, const er_usage_filter *f, cJSON **out,
                               er_error *err)
{
    json_ctx x = { .rows = cJSON_CreateArray() };
    int rc = er_store_usage_report(st, by, f, json_row, &x, err);
    if (rc) {
        cJSON_Delete(x.rows);
        return rc;
    }
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "rows", x.rows);
    er_json_add(j, "total", sum_json(&x.total));
    *out = j;
    return 0;
}
