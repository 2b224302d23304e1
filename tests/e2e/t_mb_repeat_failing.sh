# Agent step, misbehaviour: the same failing call again and again.  The second
# failure warns that a third try ends the task; the third is not run and the
# task fails naming the call.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"open the missing file","repeat":true,"tool_calls":[{"id":"f1","name":"read_file","arguments":{"path":"nope.c"}}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "open the missing file"
  expect_eq "$p: exit 1" "$MB_RC" 1
  expect_contains "$p: why" "$(jget "$MB_JSON" error)" 'the model repeated a call that had already failed 2 times: read_file {"path":"nope.c"}'
  expect_eq "$p: the third call was not run" "$(count_events "$MB_ID" tool_call)" 2
  expect_contains "$p: the second failure warned" "$(grep -c 'sending it once more ends the task' "$FAKE_REC")" 1
}
each_provider case_fn
finish
