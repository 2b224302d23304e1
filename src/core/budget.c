/* budget.c — the budgets checked before a request is sent, and the usage
 * rows of LLM requests (budget.h). */
#include "errand/budget.h"
#include "errand/log.h"
#include "errand/price.h"
#include "errand/store_usage.h"
#include "errand/str.h"

static bool offline(er_llm *llm)
{
    return er_str_eq(er_llm_name(llm), "offline");
}

static bool money_budget(const er_config *cfg)
{
    return !er_str_empty(cfg->max_cost) || !er_str_empty(cfg->max_daily_cost);
}

/* agent.max_cost, and whether the model can be kept within a money budget. */
static int check_task_money(const er_config *cfg, er_llm *llm, const char *model, int64_t task_cost,
                            er_error *err)
{
    er_error e = { 0 };
    int64_t limit = 0, probe;
    if (!offline(llm) &&
        er_price_cost(cfg->llm_prices, model ? model : er_llm_model(llm), 0, 0, &probe, &e))
        return er_error_set(err, ER_EBUDGET, "a money budget is set but %s", e.msg);
    if (er_str_empty(cfg->max_cost) || er_price_parse_money(cfg->max_cost, &limit) ||
        task_cost < limit)
        return 0;
    char spent[32], cap[32];
    er_price_format(task_cost, spent, sizeof spent);
    er_price_format(limit, cap, sizeof cap);
    return er_error_set(err, ER_EBUDGET,
                        "cost budget exhausted (%s spent, agent.max_cost is %s); raise "
                        "agent.max_cost (ERRAND_MAX_COST)",
                        spent, cap);
}

/* The three daily budgets against what the user used today. */
static int check_day(const er_config *cfg, const er_usage_day_totals *t, const char *day,
                     er_error *err)
{
    int64_t limit;
    if (!er_str_empty(cfg->max_daily_cost) &&
        er_price_parse_money(cfg->max_daily_cost, &limit) == 0 && t->cost_micros >= limit) {
        char spent[32], cap[32];
        er_price_format(t->cost_micros, spent, sizeof spent);
        er_price_format(limit, cap, sizeof cap);
        return er_error_set(err, ER_EBUDGET,
                            "daily cost budget exhausted (%s spent on %s UTC, "
                            "agent.max_daily_cost is %s); raise agent.max_daily_cost "
                            "(ERRAND_MAX_DAILY_COST) or wait for the next day",
                            spent, day, cap);
    }
    if (cfg->max_daily_tokens > 0 && t->tokens >= cfg->max_daily_tokens)
        return er_error_set(err, ER_EBUDGET,
                            "daily token budget exhausted (%lld tokens used on %s UTC, "
                            "agent.max_daily_tokens is %ld); raise agent.max_daily_tokens "
                            "(ERRAND_MAX_DAILY_TOKENS) or wait for the next day",
                            (long long)t->tokens, day, cfg->max_daily_tokens);
    if (cfg->max_daily_seconds > 0 && t->elapsed_ms >= cfg->max_daily_seconds * 1000)
        return er_error_set(err, ER_EBUDGET,
                            "daily time budget exhausted (%lld s worked on %s UTC, "
                            "agent.max_daily_seconds is %ld); raise agent.max_daily_seconds "
                            "(ERRAND_MAX_DAILY_SECONDS) or wait for the next day",
                            (long long)(t->elapsed_ms / 1000), day, cfg->max_daily_seconds);
    return 0;
}

int er_budget_check(er_store *st, const er_config *cfg, er_llm *llm, const char *model,
                    const char *user_id, int64_t task_cost, er_error *err)
{
    if (money_budget(cfg)) {
        int rc = check_task_money(cfg, llm, model, task_cost, err);
        if (rc)
            return rc;
    }
    if (er_str_empty(cfg->max_daily_cost) && cfg->max_daily_tokens <= 0 &&
        cfg->max_daily_seconds <= 0)
        return 0;
    char day[11];
    er_usage_day_totals today;
    er_error e = { 0 };
    er_usage_day(er_time_ms(), day);
    if (er_store_usage_day_totals(st, user_id ? user_id : "", day, &today, &e))
        return er_error_set(err, e.code, "cannot read what was used today: %s", e.msg);
    return check_day(cfg, &today, day, err);
}

int64_t er_budget_account(er_store *st, const er_config *cfg, er_llm *llm, const er_usage *who,
                          const er_llm_usage *usage)
{
    const char *model = who->model ? who->model : er_llm_model(llm);
    er_error e = { 0 };
    int64_t cost = -1;
    er_price_tokens t = { .input = usage->input_tokens,
                          .output = usage->output_tokens,
                          .cached = usage->cached_tokens,
                          .cache_write = usage->cache_write_tokens };
    if (er_price_cost_tokens(cfg->llm_prices, model, &t, &cost, &e))
        cost = offline(llm) ? 0 : -1;
    er_usage u = *who;
    u.model = model ? model : er_llm_name(llm);
    u.input_tokens = usage->input_tokens;
    u.output_tokens = usage->output_tokens;
    u.cached_tokens = usage->cached_tokens;
    u.cache_write_tokens = usage->cache_write_tokens;
    u.cost_micros = cost;
    if (er_store_usage_add(st, &u, &e))
        er_log(ER_LOG_WARN, "usage", "task %s: usage not recorded: %s", who->task_id, e.msg);
    return cost > 0 ? cost : 0;
}
