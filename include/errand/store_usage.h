/* store_usage.h — what the LLM requests used and cost (migration 010): one
 * row per request sent to a provider, summed per day, model, agent or user
 * for `errand usage` and the money budgets (agent.max_cost,
 * agent.max_daily_cost; runtime.c).
 *
 * Same thread-safety and list rules as store.h: rows handed to callbacks are
 * BORROWED for the duration of the call. */
#ifndef ERRAND_STORE_USAGE_H
#define ERRAND_STORE_USAGE_H

#include "store.h"

typedef struct er_usage {
    const char *task_id;
    const char *root_id; /* the top-level task */
    const char *user_id; /* NULL: "" */
    const char *agent;   /* "code", "code/analyzer", "supervisor" */
    const char *model;
    int64_t created_ms; /* 0: now */
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cost_micros; /* millionths of a US dollar; < 0: unknown (no price) */
} er_usage;

int er_store_usage_add(er_store *st, const er_usage *u, er_error *err);

/* *out: the known cost of user_id's requests on day ("YYYY-MM-DD", UTC). */
int er_store_usage_day_cost(er_store *st, const char *user_id, const char *day, int64_t *out,
                            er_error *err);

/* *out: the known cost of every request of the top-level task root_id so
 * far (its routing, its steps, its subtasks, earlier attempts). */
int er_store_usage_task_cost(er_store *st, const char *root_id, int64_t *out, er_error *err);

/* The UTC day of a millisecond timestamp, "YYYY-MM-DD", into out (11 bytes). */
void er_usage_day(int64_t ms, char out[11]);

/* What the report is summed by: a column set, from a fixed list. */
typedef enum {
    ER_USAGE_BY_ALL = 0, /* day, model and agent */
    ER_USAGE_BY_DAY,
    ER_USAGE_BY_MODEL,
    ER_USAGE_BY_AGENT,
    ER_USAGE_BY_USER,
} er_usage_by;

/* One line of the report: the columns not summed by are NULL. */
typedef struct er_usage_sum {
    const char *day, *model, *agent, *user_id;
    int64_t requests;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cost_micros; /* the known costs */
    int64_t unpriced;    /* requests of a model without a price */
} er_usage_sum;

typedef int (*er_usage_sum_fn)(const er_usage_sum *s, void *payload);

/* Sums the rows from since_day on (NULL: all), of user_id (NULL: every
 * user), grouped by `by`, in order of the grouping columns.  fn returning
 * nonzero stops the listing. */
int er_store_usage_report(er_store *st, er_usage_by by, const char *since_day, const char *user_id,
                          er_usage_sum_fn fn, void *payload, er_error *err);

#endif
