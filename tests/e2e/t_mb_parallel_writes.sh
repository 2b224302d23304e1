# Agent step, misbehaviour: two calls of one answer write the same file.  The
# first that succeeds stands; the second is refused (the two would race) and
# the model is told to read the file and send one change.  Writes to
# different files in one answer both go through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"write twice","tool_calls":[
   {"id":"w1","name":"write_file","arguments":{"path":"same.txt","content":"first\n"}},
   {"id":"w2","name":"write_file","arguments":{"path":"./same.txt","content":"second\n"}},
   {"id":"w3","name":"write_file","arguments":{"path":"other.txt","content":"other\n"}}]},
 {"match":"\"w2\"","text":"one write stood"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "write twice"
  expect_eq "$p: exit 0" "$MB_RC" 0
  expect_eq "$p: the first write stands" "$(cat "$MB_WS/same.txt")" "first"
  expect_eq "$p: another file is written too" "$(cat "$MB_WS/other.txt")" "other"
  expect_contains "$p: the second was refused" "$(sent_result w2)" "error: ./same.txt was already changed by call w1 of this same answer"
}
each_provider case_fn
finish
