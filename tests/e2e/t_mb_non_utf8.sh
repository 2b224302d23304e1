# Agent step, misbehaviour: bytes that are not UTF-8.  In text they become
# U+FFFD (and the answer is stored, also in PostgreSQL, which refuses invalid
# UTF-8); in a call's arguments the call is not run — they are not what the
# model meant — and the model is told (a repair turn).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"bad bytes in text","misbehave":"non_utf8","text":"caf\u00e9 ok"},
 {"match":"are not UTF-8","tool_calls":[{"id":"u2","name":"write_file","arguments":{"path":"out.txt","content":"clean\n"}}]},
 {"match":"\"u2\"","text":"written cleanly"},
 {"match":"bad bytes in a call","misbehave":"non_utf8","tool_calls":[{"id":"u1","name":"write_file","arguments":{"path":"out.txt","content":"spoiled\n"}}]}
]}
JSON
case_fn() {
  local p=$1 ans stored
  fresh_ws
  code_ask "bad bytes in text"
  expect_eq "$p: text: exit 0" "$MB_RC" 0
  ans=$(jget "$MB_JSON" answer)
  expect_contains "$p: text: kept" "$ans" "café ok"
  expect_contains "$p: text: bad bytes are U+FFFD" "$ans" "� caf� ���"
  stored=$(jget "$("$ERRAND_BIN" task show --json "$MB_ID")" result)
  expect_eq "$p: text: stored as answered" "$stored" "$ans"
  code_ask "bad bytes in a call"
  expect_eq "$p: call: exit 0" "$MB_RC" 0
  expect_contains "$p: call: the model was told" "$(sent_result u1)" "error: the arguments of this write_file call held bytes that are not UTF-8; it was not run"
  expect_eq "$p: call: only the clean call wrote" "$(cat "$MB_WS/out.txt")" "clean"
}
each_provider case_fn
finish
