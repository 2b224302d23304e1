# Transport, misbehaviour: HTTP 429 with Retry-After.  errand waits what the
# server asked and the task goes on; a wait past the task's time budget is not
# made: the task fails at once, saying the provider rate-limits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"slow down please","status":429,"retry_after":1,"message":"Rate limit reached"},
 {"match":"slow down please","text":"after the wait"},
 {"match":"come back later","repeat":true,"status":429,"retry_after":120,"message":"Rate limit reached"}
]}
JSON
case_fn() {
  local p=$1 t0 took
  fresh_ws
  t0=$(date +%s.%N)
  code_ask "slow down please"
  took=$(secs_since "$t0")
  expect_eq "$p: exit 0" "$MB_RC" 0
  expect_eq "$p: answer" "$(jget "$MB_JSON" answer)" "after the wait"
  check "$p: waited Retry-After (1 s; took $took s)" at_least "$took" 1
  expect_eq "$p: two requests" "$(grep -c 'slow down please' "$FAKE_REC")" 2
  t0=$(date +%s.%N)
  MB_JSON=$(cd "$MB_WS" && ERRAND_MAX_SECONDS=20 "$ERRAND" ask --json --agent code "come back later"); MB_RC=$?
  took=$(secs_since "$t0")
  expect_eq "$p: past the budget: exit 3" "$MB_RC" 3
  expect_contains "$p: past the budget: why" "$(jget "$MB_JSON" error)" "is rate limiting (HTTP 429, 1 attempt): Rate limit reached"
  check "$p: past the budget: no wait (took $took s)" at_least 15 "$took"
}
each_provider case_fn
finish
