# The supervisor's routing request is priced and recorded like an agent's
# step (agent "supervisor"): `errand usage --by agent` shows it, it counts in
# agent.max_cost of its task and in the user's agent.max_daily_cost, and a
# spent daily budget stops a task before it is even routed.
. "$(dirname "$0")/lib.sh"

# Routing: 2000 in, 500 out; each code step: 1000 in, 200 out (a loop).
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"usage":{"input":2000,"output":500},
  "tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"code","request":""}]}}]},
 {"match":"zz-answer-zz","repeat":true,"text":"answered","usage":{"input":1000,"output":200}},
 {"match":"You are the code agent","repeat":true,"usage":{"input":1000,"output":200},
  "tool_calls":[{"id":"p","name":"write_todos","arguments":{"todos":[{"content":"loop","status":"pending"}]}}]}]}
JSON
settled() { sleep 0.3; nreq; }
# fake-model at $2 in / $10 out per million: routing $0.009, a step $0.004.
export ERRAND_LLM_PRICES="fake-model=2/10"
start_fake "$T/s.json"
use_openai

out=$("$ERRAND" ask --no-stream "zz-answer-zz please" 2>"$T/err"); rc=$?
expect_eq "a routed task succeeds" "$rc" 0
expect_contains "  with its answer" "$out" "answered"
json=$("$ERRAND" usage --json)
expect_eq "two requests recorded: the routing and the step" "$(jget "$json" total.requests)" 2
expect_eq "  their cost: 0.009 + 0.004" "$(jget "$json" total.cost_usd)" 0.013
out=$("$ERRAND" usage --by agent)
expect_contains "usage --by agent names the supervisor" "$out" "supervisor"
expect_contains "  with the routing's cost" "$out" '$0.009000'
json=$("$ERRAND" usage --by agent --json)
expect_eq "  as a row of its own" "$(printf '%s' "$json" | python3 -c 'import json,sys; print(sorted(r["agent"] for r in json.load(sys.stdin)["rows"]))')" "['code', 'supervisor']"

# agent.max_cost counts the routing: $0.015 holds the routing ($0.009) and
# one step ($0.004); without the routing it would hold three steps.
before=$(settled)
json=$(ERRAND_MAX_COST=0.015 "$ERRAND" ask --json "loop forever" 2>"$T/err"); rc=$?
expect_eq "cost budget with routing: exit 1" "$rc" 1
expect_contains "  says why" "$(jget "$json" error)" 'cost budget exhausted ($0.02 spent'
expect_eq "  the routing and two steps sent, not four" "$(( $(settled) - before ))" 3

# The daily budget: $0.030 spent today; at $0.03 the next task is not routed.
before=$(settled)
json=$(ERRAND_MAX_DAILY_COST=0.03 "$ERRAND" ask --json "loop forever" 2>"$T/err"); rc=$?
expect_eq "daily budget spent: exit 1" "$rc" 1
expect_contains "  says why" "$(jget "$json" error)" "daily cost budget exhausted"
expect_eq "  not even the routing request sent" "$(settled)" "$before"

# A money budget and a model without a price: refused before routing.
unset ERRAND_LLM_PRICES
json=$(ERRAND_MAX_COST=1 "$ERRAND" ask --json "zz-answer-zz" 2>"$T/err"); rc=$?
expect_contains "no price: refused before routing" "$(jget "$json" error)" "no price for model 'fake-model'"
expect_eq "  nothing sent" "$(settled)" "$before"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
finish
