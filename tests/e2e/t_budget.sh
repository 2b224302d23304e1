# Budgets end a task with a clear status: steps, tokens, wall time (a stalled
# model call included).
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"zz-stall-zz","stall_ms":30000,"text":"too late"},
 {"repeat":true,"tool_calls":[{"id":"p","name":"write_todos","arguments":{"todos":[{"content":"loop","status":"pending"}]}}],"usage":{"input":100,"output":50}}]}
JSON
start_fake "$T/s.json"
use_openai
out=$(ERRAND_MAX_STEPS=3 "$ERRAND" ask --agent code "loop forever" 2>&1); rc=$?
expect_eq "step budget: exit 1" "$rc" 1
expect_contains "step budget: says why" "$out" "step budget exhausted (3 steps)"
expect_eq "step budget: three model calls" "$(nreq)" 3
json=$(ERRAND_MAX_TOKENS=400 "$ERRAND" ask --json --agent code "loop forever"); rc=$?
expect_eq "token budget: exit 1" "$rc" 1
expect_eq "token budget: failed" "$(jget "$json" status)" "failed"
expect_contains "token budget: says why" "$(jget "$json" error)" "token budget exhausted"
expect_eq "token budget: usage counted" "$(jget "$json" usage.input_tokens)" "300"

# The wall-clock budget also cuts a model call that stalls (llm.timeout is 120 s).
start=$(date +%s)
json=$(ERRAND_MAX_SECONDS=1 "$ERRAND" ask --json --agent code "zz-stall-zz"); rc=$?
took=$(( $(date +%s) - start ))
expect_eq "time budget: exit 1" "$rc" 1
expect_eq "time budget: failed" "$(jget "$json" status)" "failed"
expect_contains "time budget: says why" "$(jget "$json" error)" "time budget exhausted (1 s)"
check "time budget: the stalled call did not run its course" test "$took" -lt 20
finish
