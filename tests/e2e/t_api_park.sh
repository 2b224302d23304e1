# Nobody holds the workers (issue 22, item 7), in local mode and networked
# (api_lib.sh starts a worker): a task whose `run` waits for an approval is
# parked — its wait in the store, its worker free — so two such tasks of one
# user, with the 2 code workers of the default set-up, do not keep another
# user's task waiting; an answer resumes the parked task from its recorded
# steps (allow runs the command once, deny ends it with the refusal), a
# parked task survives a restart of the worker (networked, a SIGKILL of it
# too), an unanswered one is denied
# after agent.approval_timeout, and server.max_tasks_per_user refuses a new
# task (429) while the user has that many not ended.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
. "$(dirname "$0")/code_lib.sh"

USERS="$T/users"
ws() { timeout 60 /usr/bin/python3 "$WS_CLIENT" "$WSAPI" "$@"; }
restart() {
  stop_server
  if [ -n "${WORKER_PID:-}" ]; then kill -TERM "$WORKER_PID"; wait "$WORKER_PID"; WORKER_PID=; fi
  start_server "$@"
}
# chat TOKEN MESSAGE — submits to the code agent; prints the task id.
chat() {
  call POST /api/v1/chat "{\"message\":\"$2\",\"agent\":\"code\"}" "$1"
  jget "$BODY" task_id
}
# parked ID TOKEN — waits until the task is parked; prints the call it waits on.
parked() {
  local c=""
  for _ in $(seq 300); do
    call GET "/api/v1/tasks/$1" "" "$2"
    c=$(jget "$BODY" waiting.call_id 2>/dev/null)
    [ -n "$c" ] && [ "$c" != null ] && break
    sleep 0.05
  done
  printf '%s' "$c"
}
# answer TOKEN TASK CALL DECISION — over the WebSocket; prints the decision sent.
answer() {
  local out
  out=$(ws --token "$1" --send "{\"type\":\"approval\",\"task_id\":\"$2\",\"call_id\":\"$3\",\"decision\":\"$4\"}" \
        --until-type approval_sent | tail -1)
  jget "$out" decision
}
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"role\":\"tool\"","repeat":true,"text":"checked"},
 {"match":"alice one","tool_calls":[{"id":"p1","name":"run","arguments":{"cmd":"echo ran-one >> runs.txt; echo ran-one"}}]},
 {"match":"alice two","tool_calls":[{"id":"p2","name":"run","arguments":{"cmd":"echo ran-two"}}]},
 {"match":"alice three","tool_calls":[{"id":"p3","name":"run","arguments":{"cmd":"echo ran-three"}}]},
 {"match":"alice four","tool_calls":[{"id":"p4","name":"run","arguments":{"cmd":"echo ran-four"}}]},
 {"match":"alice five","tool_calls":[{"id":"p5","name":"run","arguments":{"cmd":"echo ran-five"}}]},
 {"match":"alice six","tool_calls":[{"id":"p6","name":"run","arguments":{"cmd":"echo ran-six"}}]},
 {"match":"alice seven","tool_calls":[{"id":"p7","name":"run","arguments":{"cmd":"echo ran-seven"}}]},
 {"match":"bob asks","repeat":true,"text":"bob's answer"}
]}
JSON
ALICE=$(mkuser alice)
BOB=$(mkuser bob)
A_ID=$(uid alice)
start_fake "$T/s.json"
use_openai
OPTS=(-o server.workspaces="$USERS" -o policy.exec=ask -o agent.approval_timeout=300)
start_server "${OPTS[@]}"

# two of alice's tasks wait for her answer; neither holds a worker
T1=$(chat "$ALICE" "alice one")
T2=$(chat "$ALICE" "alice two")
expect_eq "task 1 parked on its run call" "$(parked "$T1" "$ALICE")" p1
expect_eq "task 2 parked on its run call" "$(parked "$T2" "$ALICE")" p2
call GET "/api/v1/tasks/$T1" "" "$ALICE"
expect_eq "…its status says it runs" "$(jget "$BODY" status)" running
expect_eq "…waiting for an approval" "$(jget "$BODY" waiting.for)" approval
expect_eq "…of run" "$(jget "$BODY" waiting.tool)" run
expect_contains "errand task show says so" "$("$ERRAND" task show "$T1" 2>&1)" \
  "waiting   for the approval of run call p1"
call GET "/api/v1/tasks" "" "$ALICE"
listed=$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys
for t in json.load(sys.stdin)["tasks"]: print(t["id"], t["status"], (t.get("waiting") or {}).get("for", "-"))')
expect_contains "the task list marks it waiting" "$listed" "$T1 running approval"
expect_contains "errand task list shows waiting" "$("$ERRAND_BIN" task list 2>&1)" "${T1:0:13}  waiting"
expect_eq "errand task list --json: waiting" \
  "$("$ERRAND_BIN" task list --json | /usr/bin/python3 -c 'import json,sys
print([t.get("waiting") for t in json.load(sys.stdin) if t["id"] == sys.argv[1]][0])' "$T1")" True
# bob's task does not wait for alice's answers
start=$(date +%s%N)
TB=$(chat "$BOB" "bob asks a question")
expect_eq "bob's task done while alice's wait" "$(wait_task "$TB" "$BOB")" done
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "…promptly (${took} ms < 10000)" test "$took" -lt 10000
call GET "/api/v1/tasks/$TB" "" "$BOB"
expect_eq "…with its answer" "$(jget "$BODY" result)" "bob's answer"

# allow: task 1 resumes from its recorded steps and runs the command once
expect_eq "alice allows p1" "$(answer "$ALICE" "$T1" p1 allow)" allow
expect_eq "task 1 done" "$(wait_task "$T1" "$ALICE")" done
expect_eq "p1 ran" "$(sent p1 stdout)" ran-one
expect_eq "…once" "$(cat "$USERS/$A_ID/runs.txt")" ran-one
call GET "/api/v1/tasks/$T1" "" "$ALICE"
check "…and waits no more" not contains "$BODY" '"waiting"'
# deny: task 2 ends with the refusal, the command not run
expect_eq "alice denies p2" "$(answer "$ALICE" "$T2" p2 deny)" deny
expect_eq "task 2 done" "$(wait_task "$T2" "$ALICE")" done
expect_contains "p2 refused" "$(sent p2)" "the user denied this run call"
check "p2 did not run" not contains "$(sent p2)" ran-two
# bob cannot answer alice's request (not his task)
T3=$(chat "$ALICE" "alice three")
expect_eq "task 3 parked" "$(parked "$T3" "$ALICE")" p3
err=$(ws --token "$BOB" --send "{\"type\":\"approval\",\"task_id\":\"$T3\",\"call_id\":\"p3\",\"decision\":\"allow\"}" \
      --until-type error | tail -1)
expect_eq "bob's answer to alice's task refused" "$(jget "$err" field)" task_id

# a restart of the worker (networked: the worker process; local: the server
# that runs the workers) loses no parked task
restart "${OPTS[@]}"
call GET "/api/v1/tasks/$T3" "" "$ALICE"
expect_eq "after the restart task 3 still waits" "$(jget "$BODY" waiting.call_id)" p3
expect_eq "alice allows p3" "$(answer "$ALICE" "$T3" p3 allow)" allow
expect_eq "task 3 done after the restart" "$(wait_task "$T3" "$ALICE")" done
expect_eq "p3 ran" "$(sent p3 stdout)" ran-three

# networked: a worker killed (SIGKILL) while a task is parked; another one
# goes on with it once it is answered
if [ -n "${WORKER_PID:-}" ]; then
  T7=$(chat "$ALICE" "alice seven")
  expect_eq "task 7 parked" "$(parked "$T7" "$ALICE")" p7
  kill -KILL "$WORKER_PID"; wait "$WORKER_PID" 2>/dev/null; WORKER_PID=
  "$ERRAND" "${OPTS[@]}" worker all > "$T/worker2.log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
  for _ in $(seq 200); do grep -q ready "$T/worker2.log" && break; sleep 0.05; done
  expect_eq "alice allows p7" "$(answer "$ALICE" "$T7" p7 allow)" allow
  expect_eq "task 7 done by the new worker" "$(wait_task "$T7" "$ALICE")" done
  expect_eq "p7 ran" "$(sent p7 stdout)" ran-seven
fi

# the cap, and the timeout: an unanswered request is denied
restart "${OPTS[@]}" -o server.max_tasks_per_user=2 -o agent.approval_timeout=8 \
  -o agent.deadline_margin=2
T4=$(chat "$ALICE" "alice four")
T5=$(chat "$ALICE" "alice five")
expect_eq "task 4 parked" "$(parked "$T4" "$ALICE")" p4
expect_eq "task 5 parked" "$(parked "$T5" "$ALICE")" p5
call POST /api/v1/chat '{"message":"alice six","agent":"code"}' "$ALICE"
expect_status "a third task of alice's refused" 429
expect_contains "…naming the setting" "$(jget "$BODY" error.message)" server.max_tasks_per_user
call POST /api/v1/chat '{"message":"bob asks again","agent":"code"}' "$BOB"
expect_status "bob's is not" 202
ws --token "$ALICE" --send '{"type":"chat","message":"alice six","agent":"code"}' \
   --until-type error > "$T/ws_cap.jsonl"
expect_contains "the WebSocket refuses it too" "$(tail -1 "$T/ws_cap.jsonl")" server.max_tasks_per_user
call POST "/api/v1/tasks/$T5/cancel" "" "$ALICE"
expect_eq "a parked task can be cancelled" "$(jget "$BODY" status)" cancelled
expect_eq "…and stays so" "$(wait_task "$T5" "$ALICE")" cancelled
check "p5 did not run" not contains "$(sent p5 2>/dev/null)" ran-five
expect_eq "task 4 ends unanswered" "$(wait_task "$T4" "$ALICE")" done
expect_contains "…denied for want of an answer" "$(sent p4)" "no answer to the approval request in time"
check "p4 did not run" not contains "$(sent p4)" ran-four
call POST /api/v1/chat '{"message":"alice six","agent":"code"}' "$ALICE"
expect_status "under the cap again: accepted" 202
stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
