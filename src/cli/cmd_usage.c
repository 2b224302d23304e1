/* cmd_usage.c — `errand usage`: what the LLM requests used and cost, summed
 * per day, model, agent, user or conversation (store_usage.h; prices from
 * llm.prices). */
#include "cli.h"
#include "errand/json.h"
#include "errand/price.h"
#include "errand/store_usage.h"
#include "errand/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct report {
    er_usage_sum total;
    long lines;
} report;

/* One line: the grouping columns, then the figures. */
static void print_sum(const er_usage_sum *s)
{
    const char *cols[] = { s->day, s->model, s->agent, s->user_id, s->conversation_id };
    char cost[32], what[200] = "";
    size_t len = 0;
    for (size_t i = 0; i < ER_ARRAY_LEN(cols) && len < sizeof what; i++) {
        if (!cols[i])
            continue;
        bool named = i >= 3; /* user and conversation: "" is "none" */
        len += (size_t)snprintf(what + len, sizeof what - len, "%s%s", len ? "  " : "",
                                named && !*cols[i] ? "(none)" : cols[i]);
    }
    er_price_format(s->cost_micros, cost, sizeof cost);
    printf("%-48s %8lld %12lld %10lld %12lld %9.1f %12s", what, (long long)s->requests,
           (long long)s->input_tokens, (long long)s->cached_tokens, (long long)s->output_tokens,
           (double)s->elapsed_ms / 1e3, cost);
    if (s->unpriced) /* their cost is not in the figure: say so */
        printf("  (%lld without a price)", (long long)s->unpriced);
    putchar('\n');
}

static int on_sum(const er_usage_sum *s, void *payload)
{
    report *r = payload;
    er_usage_sum_add(&r->total, s);
    r->lines++;
    print_sum(s);
    return 0;
}

static int parse_day(const char *opt, const char *text, char out[11])
{
    if (!er_usage_day_valid(text))
        return cli_usage_error("usage", "--%s '%s' is not a date (YYYY-MM-DD)", opt, text);
    memcpy(out, text, 11);
    return 0;
}

/* --since YYYY-MM-DD or --days N (today and the N-1 days before); --until. */
static int day_range(cli_args *a, char since[11], char until[11])
{
    const char *from = cli_value(a, "since"), *days = cli_value(a, "days"),
               *to = cli_value(a, "until");
    since[0] = until[0] = '\0';
    if (from && days)
        return cli_usage_error("usage", "--since and --days do not go together");
    int rc = to ? parse_day("until", to, until) : 0;
    if (rc || from)
        return rc ? rc : parse_day("since", from, since);
    if (days) {
        long n;
        if (er_str_to_long(days, &n) || n < 1 || n > 100000)
            return cli_usage_error("usage", "--days '%s' is not a number of days (1 or more)",
                                   days);
        er_usage_day(er_time_ms() - (int64_t)(n - 1) * 86400000, since);
    }
    return 0;
}

static int print_json(er_store *st, er_usage_by by, const er_usage_filter *f)
{
    cJSON *j = NULL;
    er_error err = { 0 };
    if (er_store_usage_report_json(st, by, f, &j, &err))
        return cli_fail(&err);
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
    return EXIT_DONE;
}

int cmd_usage(cli *c, cli_args *a)
{
    if (a->npos)
        return cli_usage_error("usage", "unexpected argument '%s'", a->pos[0]);
    er_usage_by by = ER_USAGE_BY_ALL;
    const char *b = cli_value(a, "by");
    if (b && er_usage_by_parse(b, &by))
        return cli_usage_error("usage", "--by '%s': say day, model, agent, user or conversation",
                               b);
    char since[11], until[11];
    int rc = day_range(a, since, until);
    if (rc)
        return rc;
    er_usage_filter f = { .since_day = since,
                          .until_day = until,
                          .conversation_id = cli_value(a, "conversation") };
    er_error err = { 0 };
    er_store *st;
    rc = cli_env(c, &err);
    if (!rc)
        rc = er_env_store(c->env, &st, &err);
    if (rc)
        return cli_fail(&err);
    if (cli_flag(a, "json"))
        return print_json(st, by, &f);
    printf("%-48s %8s %12s %10s %12s %9s %12s\n", "", "requests", "input", "cached", "output",
           "seconds", "cost");
    report r = { 0 };
    rc = er_store_usage_report(st, by, &f, on_sum, &r, &err);
    if (rc)
        return cli_fail(&err);
    if (r.lines != 1) {
        r.total.day = "total";
        print_sum(&r.total);
    }
    return EXIT_DONE;
}
