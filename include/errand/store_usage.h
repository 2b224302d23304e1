/* store_usage.h — what the LLM requests used and cost (migrations 010, 014):
 * one row per request sent to a provider, summed per day, model, agent, user
 * or conversation for `errand usage` and GET /api/v1/usage, and read by the
 * budgets (budget.h).
 *
 * Same thread-safety and list rules as store.h: rows handed to callbacks are
 * BORROWED for the duration of the call. */
#ifndef ERRAND_STORE_USAGE_H
#define ERRAND_STORE_USAGE_H

#include "store.h"
#include <cjson/cJSON.h>

typedef struct er_usage {
    const char *task_id;
    const char *root_id; /* the top-level task */
    const char *user_id; /* NULL: "" */
    const char *agent;   /* "code", "code/analyzer", "supervisor" */
    const char *model;
    int64_t created_ms;   /* 0: now */
    int64_t input_tokens; /* every input token, cached or not */
    int64_t output_tokens;
    int64_t cost_micros;        /* millionths of a US dollar; < 0: unknown (no price) */
    int64_t cached_tokens;      /* of the input: read from the provider's prompt cache */
    int64_t cache_write_tokens; /* of the input: written to it */
    int64_t elapsed_ms;         /* the run's working time since its previous request */
} er_usage;

/* The row's conversation is the top-level task's (root_id), looked up here. */

int er_store_usage_add(er_store *st, const er_usage *u, er_error *err);

/* What user_id's requests used on one UTC day: the daily budgets' figures. */
typedef struct er_usage_day_totals {
    int64_t cost_micros; /* the known costs */
    int64_t tokens;      /* input + output */
    int64_t elapsed_ms;
} er_usage_day_totals;

/* *out: user_id's ("" or NULL: the local user) totals on day ("YYYY-MM-DD"). */
int er_store_usage_day_totals(er_store *st, const char *user_id, const char *day,
                              er_usage_day_totals *out, er_error *err);

/* *out: the known cost of every request of the top-level task root_id so
 * far (its routing, its steps, its subtasks, earlier attempts). */
int er_store_usage_task_cost(er_store *st, const char *root_id, int64_t *out, er_error *err);

/* The UTC day of a millisecond timestamp, "YYYY-MM-DD", into out (11 bytes). */
void er_usage_day(int64_t ms, char out[11]);

/* Whether text is a day as the rows keep it: "YYYY-MM-DD". */
bool er_usage_day_valid(const char *text);

/* What the report is summed by: a column set, from a fixed list. */
typedef enum {
    ER_USAGE_BY_ALL = 0, /* day, model and agent */
    ER_USAGE_BY_DAY,
    ER_USAGE_BY_MODEL,
    ER_USAGE_BY_AGENT,
    ER_USAGE_BY_USER,
    ER_USAGE_BY_CONVERSATION,
} er_usage_by;

/* "day", "model", "agent", "user", "conversation" into *out; ER_EINVAL else. */
int er_usage_by_parse(const char *name, er_usage_by *out);

/* One line of the report: the columns not summed by are NULL. */
typedef struct er_usage_sum {
    const char *day, *model, *agent, *user_id, *conversation_id;
    int64_t requests;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cached_tokens;
    int64_t cache_write_tokens;
    int64_t elapsed_ms;
    int64_t cost_micros; /* the known costs */
    int64_t unpriced;    /* requests of a model without a price */
} er_usage_sum;

/* Which rows a report sums; NULL or "" fields do not filter. */
typedef struct er_usage_filter {
    const char *since_day; /* "YYYY-MM-DD": from this UTC day on */
    const char *until_day; /* up to this UTC day, included */
    const char *user_id;
    const char *conversation_id;
} er_usage_filter;

typedef int (*er_usage_sum_fn)(const er_usage_sum *s, void *payload);

/* Sums the rows f lets through (NULL: all), grouped by `by`, in order of the
 * grouping columns.  fn returning nonzero stops the listing. */
int er_store_usage_report(er_store *st, er_usage_by by, const er_usage_filter *f,
                          er_usage_sum_fn fn, void *payload, er_error *err);

/* The whole report as JSON, as `errand usage --json` and GET /api/v1/usage
 * give it: {"rows": [...], "total": {...}}, each with requests, input_tokens,
 * output_tokens, cached_tokens, cache_write_tokens, seconds, cost_usd,
 * unpriced_requests, the rows with their grouping columns.  OWNED. */
int er_store_usage_report_json(er_store *st, er_usage_by by, const er_usage_filter *f, cJSON **out,
                               er_error *err);

/* Adds s's figures into total (its grouping columns untouched). */
void er_usage_sum_add(er_usage_sum *total, const er_usage_sum *s);

#endif
