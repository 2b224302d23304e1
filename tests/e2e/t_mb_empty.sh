# Agent step, misbehaviour: an empty answer (no text, no tool call).  The model
# is asked for an answer (a repair turn); persistently: the task fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"Your answer was empty","text":"here is the answer"},
 {"match":"say something","misbehave":"empty","text":"never sent"},
 {"match":"say nothing","repeat":true,"misbehave":"empty"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "say something"
  expect_done "$p: repaired" "here is the answer"
  code_ask "say nothing"
  expect_failed "$p: persistent" 1 "$MB_GAVE_UP the answer was empty (no text, no tool call)"
  expect_eq "$p: persistent: three model calls" "$(grep -c 'say nothing' "$FAKE_REC")" 3
}
each_provider case_fn
finish
