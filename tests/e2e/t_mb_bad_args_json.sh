# Agent step, misbehaviour: tool-call arguments that are not JSON.  The call is
# not run; the error goes back (a repair turn); persistently: the task fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"b2\"","text":"notes read"},
 {"match":"arguments are not valid JSON","tool_calls":[{"id":"b2","name":"read_file","arguments":{"path":"notes.txt"}}]},
 {"match":"read the notes","tool_calls":[{"id":"b1","name":"read_file","arguments":"{\"path\": \"notes.t"}]},
 {"match":"keep breaking","repeat":true,"tool_calls":[{"id":"b3","name":"write_file","arguments":"{\"path\": \"x.txt\", \"content\": "}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "read the notes"
  expect_done "$p: repaired" "notes read"
  expect_contains "$p: the model was told" "$(sent_result b1)" "error: arguments are not valid JSON"
  code_ask "keep breaking"
  expect_failed "$p: persistent" 1 "$MB_GAVE_UP arguments are not valid JSON"
  check "$p: persistent: nothing written" test ! -e "$MB_WS/x.txt"
}
each_provider case_fn
finish
