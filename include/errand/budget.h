/* budget.h — the budgets kept in the store (agent.max_cost per task;
 * agent.max_daily_cost, agent.max_daily_tokens, agent.max_daily_seconds per
 * user and UTC day) and the usage rows of LLM requests (store_usage.h), one
 * rule for every request errand sends: the supervisor's routing request and
 * the agents' steps.  The per-task step, token and time budgets
 * (agent.max_steps, agent.max_tokens, agent.max_seconds) are the run's own
 * counts (runtime.c).
 *
 * A request is priced with llm.prices (price.h); the offline brain costs
 * nothing; a model without a price is recorded with an unknown cost, and
 * cannot be kept within a money budget, so a budget refuses it up front. */
#ifndef ERRAND_BUDGET_H
#define ERRAND_BUDGET_H

#include "common.h"
#include "config.h"
#include "error.h"
#include "llm.h"
#include "store.h"
#include "store_usage.h"

/* Before a request of llm (to model; NULL: llm's own) is sent for a task
 * that has cost task_cost so far (micro-dollars) for user_id (NULL: the local
 * user): ER_EBUDGET with the budget named when a budget is spent or the model
 * has no price; another code when today's use cannot be read. */
int er_budget_check(er_store *st, const er_config *cfg, er_llm *llm, const char *model,
                    const char *user_id, int64_t task_cost, er_error *err);

/* Records what one request of llm used: who gives the task, root, user,
 * agent ("code", "code/analyzer", "supervisor"), elapsed_ms and the model
 * asked for (NULL: llm's own); the tokens and cost (cached tokens at their
 * price) come from usage.
 * Returns its known cost in micro-dollars (0 when unknown).  A row that
 * cannot be written is logged: the answer is already paid for. */
int64_t er_budget_account(er_store *st, const er_config *cfg, er_llm *llm, const er_usage *who,
                          const er_llm_usage *usage);

#endif
