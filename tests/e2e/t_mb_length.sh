# Agent step, misbehaviour: the answer is cut by the output token limit
# (finish_reason length / stop_reason max_tokens).  Calls cut off are not run
# — a half-written file must not happen — and the model is told (a repair
# turn); a text answer cut off is continued and the parts joined.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"l2\"","text":"written"},
 {"match":"output token limit","tool_calls":[{"id":"l2","name":"write_file","arguments":{"path":"out.txt","content":"whole content\n"}}]},
 {"match":"write the file","misbehave":"length","tool_calls":[{"id":"l1","name":"write_file","arguments":{"path":"out.txt","content":"whole content\n"}}]},
 {"match":"Continue exactly where it stopped","text":"-two, as computed."},
 {"match":"long answer","misbehave":"length","text":"The answer is forty"},
 {"match":"always too long","repeat":true,"misbehave":"length","tool_calls":[{"id":"l3","name":"write_file","arguments":{"path":"big.txt","content":"aaaaaaaaaaaaaaaaaaaaaaaa"}}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "write the file"
  expect_eq "$p: cut call: exit 0" "$MB_RC" 0
  expect_contains "$p: cut call: the model was told" "$(sent_result l1)" "hit the output token limit (finish_reason length) before this write_file call was complete, so no call of it was run"
  expect_eq "$p: cut call: only the whole call wrote" "$(cat "$MB_WS/out.txt")" "whole content"
  expect_eq "$p: cut call: one write ran" "$(count_events "$MB_ID" tool_call)" 2
  code_ask "long answer"
  expect_eq "$p: cut text: exit 0" "$MB_RC" 0
  expect_eq "$p: cut text: parts joined" "$(jget "$MB_JSON" answer)" "The answer is forty-two, as computed."
  code_ask "always too long"
  expect_failed "$p: persistent" 1 "$MB_GAVE_UP your answer hit the output token limit"
  check "$p: persistent: nothing written" test ! -e "$MB_WS/big.txt"
}
each_provider case_fn
finish
