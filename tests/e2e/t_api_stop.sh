# The process that runs the tasks (the server in local mode, the worker
# networked) really stops within its grace period (issue 22 #8): a task
# running a long command is interrupted after --grace seconds and the process
# exits a moment later, the command killed; and `glob` with many globstars
# over a 40-deep tree, which used to run for minutes (and on after SIGTERM
# printed "stopped"), answers at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
# The command's length names it for pgrep: unique on the machine while this
# test runs (other suites, the other mode's run of this test, run at once).
long="47.$$"
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"glob deep","tool_calls":[{"id":"g1","name":"glob","arguments":{"pattern":"**/**/**/**/**/**/**/**/**/**/**/**/nothing"}}]},
 {"match":"glob deep","text":"globbed"},
 {"match":"run long","tool_calls":[{"id":"r1","name":"run","arguments":{"cmd":"sleep $long","timeout_s":120}}]},
 {"match":"run long","text":"slept"}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws"
d="$T/ws/deep"
for _ in $(seq 40); do d="$d/d"; done
mkdir -p "$d"
: > "$d/x.c"
SERVE_ARGS="--grace 1" WORKER_ARGS="--grace 1" \
  start_server --workspace "$T/ws" -o policy.exec=allow -o server.rate_limit=0
ADA=$(mkuser ada)

call POST /api/v1/chat '{"message":"glob deep","agent":"code"}' "$ADA"
TASK=$(jget "$BODY" task_id)
expect_eq "a 12-globstar glob over a 40-deep tree ends" "$(wait_task "$TASK" "$ADA")" "done"
call GET "/api/v1/tasks/$TASK" "" "$ADA"
expect_eq "…with the model's answer" "$(jget "$BODY" result)" "globbed"

call POST /api/v1/chat '{"message":"run long","agent":"code"}' "$ADA"
TASK=$(jget "$BODY" task_id)
running() {
  call GET "/api/v1/tasks/$TASK" "" "$ADA"
  contains "$BODY" '"kind":"tool_call"' && pgrep -f "slee[p] $long\$" > /dev/null
}
check "the long command runs" wait_for 20 running
# The process running the task: the server itself, or the worker networked.
RUNNER=${WORKER_PID:-$SERVER_PID}
t0=$(date +%s%N)
kill -TERM "$RUNNER"
wait "$RUNNER"; rc=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stopped in $took ms"
expect_eq "it exits cleanly" "$rc" 0
check "…within the grace period (1 s) and the interruption, not the command's 47 s" test "$took" -lt 6000
check "…and the command is killed" wait_for 5 sh -c "! pgrep -f 'slee[p] $long\$' > /dev/null"
if [ -n "${WORKER_PID:-}" ]; then
  expect_contains "the worker hands the task back" "$(cat "$T/worker.log")" "interrupt"
  stop_server
  expect_eq "the server stops cleanly too" "$SERVER_RC" 0
else
  expect_contains "the server says it interrupted the task" "$(cat "$T/serve.log")" "interrupting"
fi
finish
