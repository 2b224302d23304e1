# Transport: a retry never repeats a tool call that already ran.  The model's
# edit runs; the next request fails (500, then a stream cut) and is retried
# with the same tool result; the edit happened once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"r1\"","status":500,"message":"hiccup"},
 {"match":"\"r1\"","malformed":"truncate","text":"the counter is bumped now"},
 {"match":"\"r1\"","text":"the counter is bumped now"},
 {"match":"bump the counter","tool_calls":[{"id":"r1","name":"edit_file","arguments":{"path":"notes.txt","old":"n=1","new":"n=1\nn=2"}}]}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "bump the counter"
  expect_eq "$p: exit 0" "$MB_RC" 0
  expect_eq "$p: answer" "$(jget "$MB_JSON" answer)" "the counter is bumped now"
  expect_eq "$p: the edit happened once" "$(cat "$MB_WS/notes.txt")" "$(printf 'n=1\nn=2')"
  expect_eq "$p: one tool call" "$(count_events "$MB_ID" tool_call)" 1
  expect_eq "$p: the step after it was asked three times" "$(grep -c '"r1"' "$FAKE_REC")" 3
}
each_provider case_fn
finish
