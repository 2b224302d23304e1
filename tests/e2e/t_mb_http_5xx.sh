# Transport, misbehaviour: HTTP 500, 502, 503.  Retried with bounded
# exponential backoff and jitter (llm.retries more attempts), and the task
# goes on; a server that stays down fails the task clearly (exit 3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"flaky server","status":500,"message":"internal error"},
 {"match":"flaky server","status":502,"message":"bad gateway"},
 {"match":"flaky server","status":503,"message":"overloaded"},
 {"match":"flaky server","text":"fourth time lucky"},
 {"match":"dead server","repeat":true,"status":503,"message":"upstream overloaded"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "flaky server"
  expect_eq "$p: exit 0" "$MB_RC" 0
  expect_eq "$p: answer" "$(jget "$MB_JSON" answer)" "fourth time lucky"
  expect_eq "$p: four requests" "$(grep -c 'flaky server' "$FAKE_REC")" 4
  code_ask "dead server"
  expect_eq "$p: down: exit 3" "$MB_RC" 3
  expect_contains "$p: down: why" "$(jget "$MB_JSON" error)" "is unavailable (HTTP 503, 4 attempts): upstream overloaded"
  expect_eq "$p: down: llm.retries + 1 requests" "$(grep -c 'dead server' "$FAKE_REC")" 4
}
each_provider case_fn
finish
