# Transport, misbehaviour: the stream stops halfway with the provider's error
# event (OpenAI {"error": …}, Anthropic event: error, overloaded_error).  The
# answer is asked for again and the task goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"overloaded once","misbehave":"stream_error","text":"one two three four five six"},
 {"match":"overloaded once","text":"one two three four five six"}
]}
JSON
case_fn() {
  local p=$1 out rc
  fresh_ws
  out=$(cd "$MB_WS" && "$ERRAND" ask --agent code "overloaded once" 2>"$T/err"); rc=$?
  expect_eq "$p: exit 0" "$rc" 0
  expect_eq "$p: the answer shown once" "$out" "one two three four five six"
  expect_eq "$p: asked twice" "$(grep -c 'overloaded once' "$FAKE_REC")" 2
}
each_provider case_fn
finish
