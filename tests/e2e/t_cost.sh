# Cost in detail: cached prompt tokens reported by the provider (OpenAI's
# prompt_tokens_details.cached_tokens, Anthropic's cache_read_input_tokens and
# cache_creation_input_tokens) are stored with the usage and priced at the
# cached prices of llm.prices, to the micro-dollar; usage per conversation;
# the daily token and time budgets stop a task before the step past them.
. "$(dirname "$0")/lib.sh"

# Two steps through OpenAI: 10000 in (8000 cached) + 100 out, then 12000 in
# (9984 cached) + 200 out.
cat > "$T/openai.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"c1\"","repeat":true,"text":"cached answer","usage":{"input":12000,"output":200,"cached":9984}},
 {"match":"You are the code agent","repeat":true,"usage":{"input":10000,"output":100,"cached":8000},
  "tool_calls":[{"id":"c1","name":"write_todos","arguments":{"todos":[{"content":"one","status":"pending"}]}}]}]}
JSON
# One answer through Anthropic: 5000 in, of them 3000 read from the cache
# and 1000 written to it, 100 out.
cat > "$T/anthropic.json" <<'JSON'
{"turns":[{"repeat":true,"text":"anthropic answer","usage":{"input":5000,"output":100,"cached":3000,"cache_write":1000}}]}
JSON
# A model that never stops calling tools: 1000 in + 100 out a step.
cat > "$T/loop.json" <<'JSON'
{"turns":[{"match":"slow loop","repeat":true,"delay_ms":2500,"usage":{"input":1000,"output":100},
  "tool_calls":[{"id":"p","name":"write_todos","arguments":{"todos":[{"content":"loop","status":"pending"}]}}]},
 {"repeat":true,"usage":{"input":1000,"output":100},
  "tool_calls":[{"id":"p","name":"write_todos","arguments":{"todos":[{"content":"loop","status":"pending"}]}}]}]}
JSON
settled() { sleep 0.3; nreq; }

# $2 in, $10 out, $0.50 cached per million tokens:
#   step 1: 2000 x 2 + 8000 x 0.5 + 100 x 10 =  9000 micro-dollars
#   step 2: 2016 x 2 + 9984 x 0.5 + 200 x 10 = 11024 micro-dollars
export ERRAND_LLM_PRICES="fake-model=2/10/0.5"
start_fake "$T/openai.json"
use_openai
json=$("$ERRAND" ask --json -a code "cache me" 2>"$T/err"); rc=$?
expect_eq "openai: the task succeeds" "$rc" 0
conv1=$(jget "$json" conversation_id)
check "  in a conversation" test -n "$conv1"
json=$("$ERRAND" usage --json --conversation "$conv1")
expect_eq "openai: two requests" "$(jget "$json" total.requests)" 2
expect_eq "  all their input tokens" "$(jget "$json" total.input_tokens)" 22000
expect_eq "  of them cached (prompt_tokens_details.cached_tokens)" "$(jget "$json" total.cached_tokens)" 17984
expect_eq "  no cache writes on OpenAI" "$(jget "$json" total.cache_write_tokens)" 0
expect_eq "  cost: cached at the cached price" "$(jget "$json" total.cost_usd)" 0.020024
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# $3 in, $15 out, $0.30 cached, $3.75 written:
#   1000 x 3 + 3000 x 0.3 + 1000 x 3.75 + 100 x 15 = 9150 micro-dollars
export ERRAND_LLM_PRICES="fake-model=3/15/0.3/3.75"
start_fake "$T/anthropic.json"
use_anthropic
json=$("$ERRAND" ask --json -a code "cache me too" 2>"$T/err"); rc=$?
expect_eq "anthropic: the task succeeds" "$rc" 0
conv2=$(jget "$json" conversation_id)
json=$("$ERRAND" usage --json --conversation "$conv2")
expect_eq "anthropic: one request" "$(jget "$json" total.requests)" 1
expect_eq "  input counts reads and writes" "$(jget "$json" total.input_tokens)" 5000
expect_eq "  cache reads" "$(jget "$json" total.cached_tokens)" 3000
expect_eq "  cache writes" "$(jget "$json" total.cache_write_tokens)" 1000
expect_eq "  cost: each kind at its price" "$(jget "$json" total.cost_usd)" 0.00915
# The same conversation again: its figures add up.
json=$("$ERRAND" ask --json -a code --conversation "$conv2" "and again" 2>"$T/err"); rc=$?
expect_eq "  continued" "$rc" 0
json=$("$ERRAND" usage --json --conversation "$conv2" --by agent)
expect_eq "  two requests in that conversation" "$(jget "$json" total.requests)" 2
expect_eq "  twice the cost" "$(jget "$json" total.cost_usd)" 0.0183
expect_eq "  by agent: the code agent" "$(jget "$json" rows.0.agent)" code
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# Per conversation: one row each, with its id.
json=$("$ERRAND" usage --json --by conversation)
rows=$(printf '%s' "$json" | python3 -c 'import json,sys
for r in json.load(sys.stdin)["rows"]: print(r["conversation_id"], r["requests"], r["cost_usd"])')
expect_contains "by conversation: the first" "$rows" "$conv1 2 0.020024"
expect_contains "  and the second" "$rows" "$conv2 2 0.0183"
out=$("$ERRAND" usage --by conversation)
expect_contains "  as text, the conversation's id" "$out" "$conv1"
expect_contains "  and the cached column" "$out" "cached"
json=$("$ERRAND" usage --json --conversation no-such-conversation)
expect_eq "an unknown conversation: nothing" "$(jget "$json" total.requests)" 0
json=$("$ERRAND" usage --json --until 2000-01-01)
expect_eq "--until a day long past: nothing" "$(jget "$json" total.requests)" 0

# The daily token budget: a step fits under it, the next does not.
start_fake "$T/loop.json"
use_openai
today=$(jget "$("$ERRAND" usage --json)" total.input_tokens)
today=$(( today + $(jget "$("$ERRAND" usage --json)" total.output_tokens) ))
before=$(settled)
json=$(ERRAND_MAX_DAILY_TOKENS=$(( today + 1 )) "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_eq "daily tokens: exit 1" "$rc" 1
expect_contains "  says why and which setting" "$(jget "$json" error)" \
  "daily token budget exhausted ($(( today + 1100 )) tokens used on $(date -u +%F) UTC, agent.max_daily_tokens is $(( today + 1 )))"
expect_eq "  one step sent" "$(( $(settled) - before ))" 1
before=$(settled)
json=$(ERRAND_MAX_DAILY_TOKENS=$(( today + 1 )) "$ERRAND" ask --json -a code "loop forever" 2>"$T/err"); rc=$?
expect_contains "  spent: the next task stops" "$(jget "$json" error)" "raise agent.max_daily_tokens"
expect_eq "  before any request" "$(settled)" "$before"

# The daily time budget: what today's runs worked, counted at each request.
secs=$(jget "$("$ERRAND" usage --json)" total.seconds)
limit=$(python3 -c "import math; print(math.ceil($secs) + 1)")
before=$(settled)
json=$(ERRAND_MAX_DAILY_SECONDS=$limit "$ERRAND" ask --json -a code "slow loop" 2>"$T/err"); rc=$?
expect_eq "daily time: exit 1" "$rc" 1
expect_contains "  says why" "$(jget "$json" error)" "daily time budget exhausted"
expect_contains "  naming the setting" "$(jget "$json" error)" "agent.max_daily_seconds is $limit"
expect_eq "  one slow step sent" "$(( $(settled) - before ))" 1
secs2=$(jget "$("$ERRAND" usage --json)" total.seconds)
check "  the step's 2.5 s are counted" python3 -c "import sys; sys.exit(0 if $secs2 - $secs >= 2.5 else 1)"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

out=$(ERRAND_MAX_DAILY_TOKENS=lots "$ERRAND" usage 2>&1); rc=$?
expect_contains "a bad agent.max_daily_tokens is named" "$out" "agent.max_daily_tokens: 'lots'"
out=$("$ERRAND" -o llm.prices=m=1/2/3/4/5 usage 2>&1)
expect_contains "five prices are refused" "$out" "two to four amounts"
out=$("$ERRAND" usage --until soon 2>&1); rc=$?
expect_eq "usage --until junk: exit 2" "$rc" 2
finish
