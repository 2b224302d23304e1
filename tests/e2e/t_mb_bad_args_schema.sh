# Agent step, misbehaviour: JSON arguments that do not match the tool's schema
# (a number for a path, a missing required argument).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"s2\"","text":"notes read"},
 {"match":"must be a string","tool_calls":[{"id":"s2","name":"read_file","arguments":{"path":"notes.txt"}}]},
 {"match":"read the notes","tool_calls":[{"id":"s1","name":"read_file","arguments":{"path":5}}]},
 {"match":"no content","repeat":true,"tool_calls":[{"id":"s3","name":"write_file","arguments":{"path":"x.txt"}}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "read the notes"
  expect_done "$p: repaired" "notes read"
  expect_contains "$p: the model was told" "$(sent_result s1)" "error: read_file: argument 'path' must be a string"
  code_ask "no content"
  expect_failed "$p: persistent" 1 "$MB_GAVE_UP write_file: missing required argument 'content'"
  check "$p: persistent: nothing written" test ! -e "$MB_WS/x.txt"
}
each_provider case_fn
finish
