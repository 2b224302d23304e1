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
  local p=$1 out rc t0 took
  fresh_ws
  t0=$(date +%s.%N)
  out=$(cd "$MB_WS" && ERRAND_LLM_TIMEOUT=1 "$ERRAND" ask --agent code "quiet once" 2>"$T/err"); rc=$?
  took=$(secs_since "$t0")
  expect_eq "$p: exit 0" "$rc" 0
  expect_eq "$p: the answer shown once" "$out" "one two three four five six"
  check "$p: within the idle timeout and a retry (took $took s)" at_least 20 "$took"
  t0=$(date +%s.%N)
  MB_JSON=$(cd "$MB_WS" && ERRAND_MAX_SECONDS=3 "$ERRAND" ask --json --agent code "quiet always"); MB_RC=$?
  took=$(secs_since "$t0")
  expect_eq "$p: stalled: exit 1" "$MB_RC" 1
  expect_contains "$p: stalled: why" "$(jget "$MB_JSON" error)" "time budget exhausted (3 s)"
  check "$p: stalled: ended by the budget (took $took s)" at_least 30 "$took"
}
each_provider case_fn
finish
