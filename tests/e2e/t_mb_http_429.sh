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
  local p=$1
  fresh_ws
  code_ask "slow down please"
  expect_done "$p" "after the wait"
  check "$p: waited Retry-After (1 s; took $MB_TOOK s)" at_least "$MB_TOOK" 1
  expect_eq "$p: two requests" "$(grep -c 'slow down please' "$FAKE_REC")" 2
  code_ask ERRAND_MAX_SECONDS=20 "come back later"
  expect_failed "$p: past the budget" 3 "is rate limiting (HTTP 429, 1 attempt): Rate limit reached"
  check "$p: past the budget: no wait (took $MB_TOOK s)" at_least 15 "$MB_TOOK"
}
each_provider case_fn
finish
