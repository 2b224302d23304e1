# Transport, misbehaviour: the server stops sending halfway, the connection
# open.  The idle timeout (llm.timeout) notices, the answer is asked for again,
# and the task goes on.  A server that stalls for good cannot hold a task past
# its time budget.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"quiet once","misbehave":"stall_midway","stall_ms":30000,"text":"one two three four five six"},
 {"match":"quiet once","text":"one two three four five six"},
 {"match":"quiet always","repeat":true,"stall_ms":60000,"text":"never"}
]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  plain_ask ERRAND_LLM_TIMEOUT=1 "quiet once"
  # (the fake records a request once it is answered: the stalled one is not yet)
  expect_eq "$p: exit 0" "$MB_RC" 0
  expect_eq "$p: the answer shown once" "$MB_OUT" "one two three four five six"
  check "$p: within the idle timeout and a retry (took $MB_TOOK s)" at_least 20 "$MB_TOOK"
  code_ask ERRAND_MAX_SECONDS=3 "quiet always"
  expect_failed "$p: stalled" 1 "time budget exhausted (3 s)"
  check "$p: stalled: ended by the budget (took $MB_TOOK s)" at_least 30 "$MB_TOOK"
}
each_provider case_fn
finish
