# Agent step, misbehaviour: tool calls that share one id.  The very same call
# sent twice runs once (its effect is not doubled); different calls get unique
# ids (d1, d1_2) and both run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"bump twice","misbehave":"dup_ids","tool_calls":[
   {"id":"e1","name":"edit_file","arguments":{"path":"notes.txt","old":"n=1","new":"n=1\nn=2"}},
   {"id":"e1","name":"edit_file","arguments":{"path":"notes.txt","old":"n=1","new":"n=1\nn=2"}}]},
 {"match":"\"e1\"","text":"bumped"},
 {"match":"look around","misbehave":"dup_ids","tool_calls":[
   {"id":"d1","name":"read_file","arguments":{"path":"notes.txt"}},
   {"id":"d9","name":"list_dir","arguments":{"path":"."}}]},
 {"match":"d1_2","text":"looked"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "bump twice"
  expect_eq "$p: same call: exit 0" "$MB_RC" 0
  expect_eq "$p: same call: ran once" "$(cat "$MB_WS/notes.txt")" "$(printf 'n=1\nn=2')"
  expect_eq "$p: same call: one tool call" "$(count_events "$MB_ID" tool_call)" 1
  code_ask "look around"
  expect_done "$p: two calls" "looked"
  expect_contains "$p: two calls: the first ran" "$(sent_result d1)" "n=1"
  expect_contains "$p: two calls: the second ran under d1_2" "$(sent_result d1_2)" "notes.txt"
}
each_provider case_fn
finish
