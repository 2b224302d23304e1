/* budget.c — money budgets and usage rows of LLM requests (budget.h). */
#include "errand/budget.h"
#include "errand/log.h"
#include "errand/price.h"
#include "errand/store_usage.h"
#include "errand/str.h"

static bool offline(er_llm *llm)
{
    return er_str_eq(er_llm_name(llm), "offline");
}

int er_budget_check(er_store *st, const er_config *cfg, er_llm *llm, const char *user_id,
                    int64_t task_cost, er_error *err)
{
    if (er_str_empty(cfg->max_cost) && er_str_empty(cfg->max_daily_cost))
        return 0;
    er_error e = { 0 };
    int64_t limit = 0, probe;
    if (!offline(llm) && er_price_cost(cfg->llm_prices, er_llm_model(llm), 0, 0, &probe, &e))
        return er_error_set(err, ER_EBUDGET, "a money budget is set but %s", e.msg);
    char spent[32], cap[32];
    if (!er_str_empty(cfg->max_cost) && er_price_parse_money(cfg->max_cost, &limit) == 0 &&
        task_cost >= limit) {
        er_price_format(task_cost, spent, sizeof spent);
        er_price_format(limit, cap, sizeof cap);
        return er_error_set(err, ER_EBUDGET,
                            "cost budget exhausted (%s spent, agent.max_cost is %s); raise "
                            "agent.max_cost (ERRAND_MAX_COST)",
                            spent, cap);
    }
    if (er_str_empty(cfg->max_daily_cost) || er_price_parse_money(cfg->max_daily_cost, &limit))
        return 0;
    char day[11];
    int64_t today = 0;
    er_usage_day(er_time_ms(), day);
    if (er_store_usage_day_cost(st, user_id ? user_id : "", day, &today, &e))
        return er_error_set(err, e.code, "cannot read today's cost: %s", e.msg);
    if (today < limit)
        return 0;
    er_price_format(today, spent, sizeof spent);
    er_price_format(limit, cap, sizeof cap);
    return er_error_set(err, ER_EBUDGET,
                        "daily cost budget exhausted (%s spent on %s UTC, "
                        "agent.max_daily_cost is %s); raise agent.max_daily_cost "
                        "(ERRAND_MAX_DAILY_COST) or wait for the next day",
                        spent, day, cap);
}

int64_t er_budget_account(er_store *st, const er_config *cfg, er_llm *llm, const char *task_id,
                          const char *root_id, const char *user_id, const char *agent,
                          const er_llm_usage *usage)
{
    const char *model = er_llm_model(llm);
    er_error e = { 0 };
    int64_t cost = -1;
    if (er_price_cost(cfg->llm_prices, model, usage->input_tokens, usage->output_tokens, &cost, &e))
        cost = offline(llm) ? 0 : -1;
    er_usage u = {
        .task_id = task_id,
        .root_id = root_id,
        .user_id = user_id,
        .agent = agent,
        .model = model ? model : er_llm_name(llm),
        .input_tokens = usage->input_tokens,
        .output_tokens = usage->output_tokens,
        .cost_micros = cost,
    };
    if (er_store_usage_add(st, &u, &e))
        er_log(ER_LOG_WARN, "usage", "task %s: usage not recorded: %s", task_id, e.msg);
    return cost > 0 ? cost : 0;
}
