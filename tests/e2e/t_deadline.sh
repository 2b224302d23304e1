# Every task has a deadline enforced outside the worker: its time budget
# (agent.max_seconds) plus agent.deadline_margin after it first started.  Here
# the worker is stuck in a command that outlasts both; `errand ask`, which
# follows the task, fails it at the deadline and exits 1 saying why, and the
# worker, told the task has ended, kills the command and publishes nothing.
. "$(dirname "$0")/lib.sh"
# The command's length names it for pgrep: unique on the machine while this
# test runs (other suites, the other mode's run of this test, run at once).
long="sleep 25.$$"
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"take your time","tool_calls":[{"id":"s-1","name":"run","arguments":{"cmd":"$long; echo late > late.txt","timeout_s":60}}]},
 {"match":"\"s-1\"","text":"too late"}
]}
JSON
start_fake "$T/s.json"
use_openai
export ERRAND_MAX_SECONDS=1 ERRAND_DEADLINE_MARGIN=2
mkdir -p "$T/ws" && cd "$T/ws"
t0=$(date +%s%N)
"$ERRAND" -o policy.exec=allow ask --agent code "take your time" > "$T/out" 2> "$T/err"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "ask exits 1" "$rc" 1
check "at the deadline, not when the command ends (${ms} ms)" test "$ms" -lt 15000
expect_contains "saying why" "$(cat "$T/err")" \
  "errand: task failed: no worker finished it by its deadline (agent.max_seconds 1 s + agent.deadline_margin 2 s after it first started; 1 attempt)"
id=$(jget "$("$ERRAND_BIN" task list --json)" 0.id)
show=$("$ERRAND_BIN" task show --json "$id")
expect_eq "failed in the store" "$(jget "$show" status)" "failed"
check "it had a deadline" test -n "$(jget "$show" deadline)"
expect_eq "one end event" "$(events "$id" | grep -cx end)" 1
expect_eq "the model was not asked again" "$(grep -c '"turn":1,' "$FAKE_REC")" 0
# The command was killed (the worker's watch of its task saw it end).
running() { pgrep -f "$long; echo late > late.txt" > /dev/null; }
not() { ! "$@"; }
check "the command was stopped" wait_for 10 not running
finish
