# Usage and cost: every request to the provider is recorded with the tokens
# it reported and its price (llm.prices); `errand usage` sums them; the money
# budgets (agent.max_cost per task, agent.max_daily_cost per user and day)
# stop a task before the step that would go past them, saying so.
. "$(dirname "$0")/lib.sh"

# Two steps: a tool call (1000 in, 200 out), then the answer (500 in, 100 out).
cat > "$T/two.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"p1\"","repeat":true,"text":"all done","usage":{"input":500,"output":100}},
 {"match":"You are the code agent","repeat":true,"usage":{"input":1000,"output":200},
  "tool_calls":[{"id":"p1","name":"write_todos","arguments":{"todos":[{"content":"one","status":"pending"}]}}]}]}
JSON
# A model that never stops calling tools: 1000 in, 200 out each step.
cat > "$T/loop.json" <<'JSON'
{"turns":[{"repeat":true,"usage":{"input":1000,"output":200},
 "tool_calls":[{"id":"p","name":"write_todos","arguments":{"todos":[{"content":"loop","status":"pending"}]}}]}]}
JSON

# The fake writes its record of a request after answering it: let it land.
settled() { sleep 0.3; nreq; }

# fake-model at $2 in / $10 out per million: 1000 in + 200 out = $0.004.
export ERRAND_LLM_PRICES="other=1/1, fake-model=2/10"

start_fake "$T/two.json"
use_openai
out=$("$ERRAND" ask -a code --no-stream "do it" 2>"$T/err"); rc=$?
expect_eq "a priced task succeeds" "$rc" 0
expect_contains "  with its answer" "$out" "all done"
json=$("$ERRAND" usage --json); rc=$?
expect_eq "usage --json exits 0" "$rc" 0
expect_eq "two requests recorded" "$(jget "$json" total.requests)" 2
expect_eq "their input tokens (the provider's usage)" "$(jget "$json" total.input_tokens)" 1500
expect_eq "their output tokens" "$(jget "$json" total.output_tokens)" 300
expect_eq "their cost: 0.004 + 0.002 dollars" "$(jget "$json" total.cost_usd)" 0.006
expect_eq "per day, model and agent: one row" "$(jget "$json" rows.0.model)/$(jget "$json" rows.0.agent)/$(jget "$json" rows.0.day)" \
  "fake-model/code/$(date -u +%F)"
out=$("$ERRAND" usage --by agent)
expect_contains "usage --by agent: the agent and its cost" "$out" "code"
expect_contains "  the cost in dollars" "$out" '$0.006000'
out=$("$ERRAND" usage --since 2000-01-01 --by model)
expect_contains "usage --since, --by model" "$out" "fake-model"
json=$("$ERRAND" usage --since 2999-01-01 --json)
expect_eq "usage --since a later day: nothing" "$(jget "$json" total.requests)" 0
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# The per-task budget: $0.01 holds two steps ($0.008); the third goes past it,
# and the fourth is not sent.
start_fake "$T/loop.json"
use_openai
json=$(ERRAND_MAX_COST=0.01 "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_eq "cost budget: exit 1" "$rc" 1
expect_eq "cost budget: failed" "$(jget "$json" status)" failed
expect_contains "cost budget: says why and which setting" "$(jget "$json" error)" \
  'cost budget exhausted ($0.01 spent, agent.max_cost is $0.01); raise agent.max_cost'
expect_eq "cost budget: three requests, not four" "$(settled)" 3

# The daily budget: $0.018 spent today; $0.02 allows one more step.
before=$(settled)
json=$(ERRAND_MAX_DAILY_COST=0.02 "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_eq "daily budget: exit 1" "$rc" 1
expect_contains "daily budget: says why" "$(jget "$json" error)" "daily cost budget exhausted"
expect_contains "  naming the setting" "$(jget "$json" error)" "agent.max_daily_cost is \$0.02"
expect_eq "daily budget: one step sent" "$(( $(settled) - before ))" 1
before=$(settled)
json=$(ERRAND_MAX_DAILY_COST=0.02 "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_contains "daily budget spent: the next task is stopped" "$(jget "$json" error)" "daily cost budget exhausted"
expect_eq "  before any request" "$(settled)" "$before"

# A model without a price: counted, not priced; refused under a money budget.
unset ERRAND_LLM_PRICES
before=$(settled)
json=$(ERRAND_MAX_COST=1 "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_eq "a budget and no price: exit 1" "$rc" 1
expect_contains "  says so" "$(jget "$json" error)" "no price for model 'fake-model'; add it to llm.prices"
expect_eq "  before any request" "$(settled)" "$before"
ERRAND_MAX_STEPS=1 "$ERRAND" ask -a code "loop forever" >/dev/null 2>&1
json=$("$ERRAND" usage --json)
expect_eq "an unpriced request is recorded" "$(jget "$json" total.unpriced_requests)" 1
expect_contains "  and shown as such" "$("$ERRAND" usage)" "1 without a price"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# Bad settings and options are named.
out=$(ERRAND_MAX_COST=lots "$ERRAND" usage 2>&1); rc=$?
expect_contains "a bad agent.max_cost is named" "$out" "agent.max_cost: 'lots' is not an amount of US dollars"
out=$("$ERRAND" -o llm.prices=fake-model=2 usage 2>&1)
expect_contains "a bad price entry is named" "$out" "'fake-model=2' is not MODEL=INPUT/OUTPUT"
out=$("$ERRAND" usage --by week 2>&1); rc=$?
expect_eq "usage --by week: exit 2" "$rc" 2
expect_contains "  names the choices" "$out" "day, model, agent, user or conversation"
out=$("$ERRAND" usage --since yesterday 2>&1); rc=$?
expect_eq "usage --since junk: exit 2" "$rc" 2
finish
