# Agent step, misbehaviour: a call to a tool that does not exist.  The error
# goes back to the model naming the tools there are (a repair turn); a model
# that keeps doing it fails the task after ER_REPAIR_TURNS repairs, saying why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"is not one of the tools of code","text":"done without rockets"},
 {"match":"try the rockets","tool_calls":[{"id":"u1","name":"launch_rockets","arguments":{}}]},
 {"match":"always rockets","repeat":true,"tool_calls":[{"id":"u2","name":"launch_rockets","arguments":{"n":1}}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "try the rockets"
  expect_done "$p: repaired" "done without rockets"
  expect_contains "$p: the model was told" "$(sent_result u1)" "error: launch_rockets is not one of the tools of code; use: write_todos, task, read_file"
  code_ask "always rockets"
  expect_eq "$p: persistent: exit 1" "$MB_RC" 1
  expect_eq "$p: persistent: failed" "$(jget "$MB_JSON" status)" failed
  expect_contains "$p: persistent: why" "$(jget "$MB_JSON" error)" "the model's answer was malformed 3 times in a row (after 2 repair turns); the last time: launch_rockets is not one of the tools of code"
  expect_eq "$p: persistent: three model calls" "$(grep -c 'always rockets' "$FAKE_REC")" 3
}
each_provider case_fn
finish
