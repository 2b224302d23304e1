/* cmd_usage.c — `errand usage`: what the LLM requests used and cost, summed
 * per day, model and agent (store_usage.h; prices from llm.prices). */
#include "cli.h"
#include "errand/json.h"
#include "errand/price.h"
#include "errand/store_usage.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    er_usage_by by;
} groupings[] = {
    { "day", ER_USAGE_BY_DAY },
    { "model", ER_USAGE_BY_MODEL },
    { "agent", ER_USAGE_BY_AGENT },
    { "user", ER_USAGE_BY_USER },
};

typedef struct report {
    bool json;
    cJSON *rows;
    er_usage_sum total;
    long lines;
} report;

static void add_opt_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        er_json_add_str(o, key, v);
}

static int on_sum(const er_usage_sum *s, void *payload)
{
    report *r = payload;
    r->total.requests += s->requests;
    r->total.input_tokens += s->input_tokens;
    r->total.output_tokens += s->output_tokens;
    r->total.cost_micros += s->cost_micros;
    r->total.unpriced += s->unpriced;
    r->lines++;
    if (r->json) {
        cJSON *o = cJSON_CreateObject();
        add_opt_str(o, "day", s->day);
        add_opt_str(o, "model", s->model);
        add_opt_str(o, "agent", s->agent);
        add_opt_str(o, "user", s->user_id);
        er_json_add_num(o, "requests", (double)s->requests);
        er_json_add_num(o, "input_tokens", (double)s->input_tokens);
        er_json_add_num(o, "output_tokens", (double)s->output_tokens);
        er_json_add_num(o, "cost_usd", (double)s->cost_micros / 1e6);
        er_json_add_num(o, "unpriced_requests", (double)s->unpriced);
        er_json_append(r->rows, o);
        return 0;
    }
    char cost[32], what[200];
    er_price_format(s->cost_micros, cost, sizeof cost);
    snprintf(what, sizeof what, "%s%s%s%s%s%s", s->day ? s->day : "", s->day ? "  " : "",
             s->model ? s->model : "", s->model ? "  " : "", s->agent ? s->agent : "",
             s->user_id ? (*s->user_id ? s->user_id : "(none)") : "");
    printf("%-48s %8lld %12lld %12lld %12s", what, (long long)s->requests,
           (long long)s->input_tokens, (long long)s->output_tokens, cost);
    if (s->unpriced) /* their cost is not in the figure: say so */
        printf("  (%lld without a price)", (long long)s->unpriced);
    putchar('\n');
    return 0;
}

static void print_json(report *r)
{
    cJSON *j = cJSON_CreateObject();
    er_json_add(j, "rows", r->rows);
    cJSON *t = cJSON_CreateObject();
    er_json_add_num(t, "requests", (double)r->total.requests);
    er_json_add_num(t, "input_tokens", (double)r->total.input_tokens);
    er_json_add_num(t, "output_tokens", (double)r->total.output_tokens);
    er_json_add_num(t, "cost_usd", (double)r->total.cost_micros / 1e6);
    er_json_add_num(t, "unpriced_requests", (double)r->total.unpriced);
    er_json_add(j, "total", t);
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

/* --since YYYY-MM-DD, or --days N (today and the N-1 days before). */
static int since_day(cli_args *a, char out[11])
{
    const char *since = cli_value(a, "since"), *days = cli_value(a, "days");
    out[0] = '\0';
    if (since && days)
        return cli_usage_error("usage", "--since and --days do not go together");
    if (since) {
        unsigned y, m, d;
        char tail;
        if (strlen(since) != 10 || sscanf(since, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
            m < 1 || m > 12 || d < 1 || d > 31)
            return cli_usage_error("usage", "--since '%s' is not a date (YYYY-MM-DD)", since);
        memcpy(out, since, 11);
    } else if (days) {
        long n;
        if (er_str_to_long(days, &n) || n < 1 || n > 100000)
            return cli_usage_error("usage", "--days '%s' is not a number of days (1 or more)",
                                   days);
        er_usage_day(er_time_ms() - (int64_t)(n - 1) * 86400000, out);
    }
    return 0;
}

int cmd_usage(cli *c, cli_args *a)
{
    if (a->npos)
        return cli_usage_error("usage", "unexpected argument '%s'", a->pos[0]);
    er_usage_by by = ER_USAGE_BY_ALL;
    const char *b = cli_value(a, "by");
    if (b) {
        size_t i = 0;
        while (i < ER_ARRAY_LEN(groupings) && strcmp(groupings[i].name, b) != 0)
            i++;
        if (i == ER_ARRAY_LEN(groupings))
            return cli_usage_error("usage", "--by '%s': say day, model, agent or user", b);
        by = groupings[i].by;
    }
    char since[11];
    int rc = since_day(a, since);
    if (rc)
        return rc;
    er_error err = { 0 };
    er_store *st;
    rc = cli_env(c, &err);
    if (!rc)
        rc = er_env_store(c->env, &st, &err);
    if (rc)
        return cli_fail(&err);
    report r = { .json = cli_flag(a, "json"), .rows = cJSON_CreateArray() };
    if (!r.json)
        printf("%-48s %8s %12s %12s %12s\n", "", "requests", "input", "output", "cost");
    rc = er_store_usage_report(st, by, since, NULL, on_sum, &r, &err);
    if (rc) {
        cJSON_Delete(r.rows);
        return cli_fail(&err);
    }
    if (r.json) {
        print_json(&r);
        return EXIT_DONE;
    }
    cJSON_Delete(r.rows);
    if (r.lines != 1)
        on_sum(&(er_usage_sum){ .day = "total",
                                .requests = r.total.requests,
                                .input_tokens = r.total.input_tokens,
                                .output_tokens = r.total.output_tokens,
                                .cost_micros = r.total.cost_micros,
                                .unpriced = r.total.unpriced },
               &(report){ 0 });
    return EXIT_DONE;
}
