# The worker holding a task is killed 5 times in a row: the bus dead-letters its
# message, and that ends the task as failed with the reason — `errand ask`
# exits 1 at once instead of waiting in silence, `task show`, the REST API and
# the WebSocket say why, and the message stays in errand.dead for the operator.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
net_only
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"doomed request","stall_ms":120000,"repeat":true,"text":"never"}]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws" && cd "$T/ws"
not() { ! "$@"; }
start_worker supervisor
start_worker aggregator
start_worker code --log-level info; holder=$WORKER_PID; log=$WORKER_LOG
# The holder logs the task it takes, then waits for the stalled model.
holds() { grep -q "running task $1 .* (attempt $2," "$log"; }
# kill_holder ID — kills the worker that holds task ID 5 times; T0 is when
# the 5th kill happened (ns).
kill_holder() {
  local n
  for n in 1 2 3 4 5; do
    check "attempt $n has the task" wait_for 60 holds "$1" "$n"
    kill -9 "$holder"; wait "$holder" 2>/dev/null
    T0=$(date +%s%N)
    start_worker code --log-level info; holder=$WORKER_PID; log=$WORKER_LOG
  done
}
reason="agent.code gave up on it: its worker died or lost the broker at each of its 5 attempts"

# ---- errand ask
"$ERRAND_BIN" ask --agent code "doomed request" > "$T/out" 2> "$T/err" &
ask=$!
id=""
got_id() { id=$(jget "$("$ERRAND_BIN" task list --json)" 0.id); [ -n "$id" ]; }
check "the task is stored" wait_for 60 got_id
kill_holder "$id"
# The last worker gets the message back at its 5th attempt: dead letter.
wait "$ask"; rc=$?
ms=$(( ($(date +%s%N) - T0) / 1000000 ))
expect_eq "ask exits 1 (task failed)" "$rc" 1
check "ask ended promptly (${ms} ms after the 5th kill)" test "$ms" -lt 15000
err=$(cat "$T/err")
expect_contains "ask says why" "$err" "errand: task failed: $reason"
expect_contains "and where the message is" "$err" "dead-letter queue errand.dead"
expect_eq "nothing on stdout" "$(cat "$T/out")" ""
ran() { grep -q "running task" "$log"; }
check "the last worker did not run it" not ran
show=$("$ERRAND_BIN" task show --json "$id")
expect_eq "the store says failed" "$(jget "$show" status)" "failed"
expect_contains "with the reason" "$(jget "$show" error)" "$reason"
expect_eq "5 attempts took it" "$(jget "$show" attempts)" 5
expect_eq "one end event" "$(events "$id" | grep -cx end)" 1
expect_eq "the message is in errand.dead" \
  "$("$BUS_CTL" "$RABBITMQ_URL" info errand.dead | cut -d' ' -f1)" 1

# ---- the same through the server: the WebSocket gets the end, the API the reason
start_server --workspace "$T/ws"   # networked: it only publishes; our workers do the work
BOB=$(mkuser bob)
timeout 120 /usr/bin/python3 "$WS_CLIENT" "$WSAPI" --token "$BOB" --until-end --timeout 110 \
  --send '{"type":"chat","message":"doomed request","agent":"code","id":"d-1"}' \
  > "$T/ws.jsonl" &
wsc=$!
accepted() { grep -q '"accepted"' "$T/ws.jsonl"; }
check "the chat is accepted" wait_for 60 accepted
wid=$(jget "$(grep '"accepted"' "$T/ws.jsonl" | head -1)" task_id)
kill_holder "$wid"
wait "$wsc"; rc=$?
expect_eq "the WebSocket client saw the end" "$rc" 0
end=$(grep '"kind": "end"' "$T/ws.jsonl" | tail -1)
expect_eq "the end says failed" "$(jget "$end" event.data.status)" "failed"
expect_contains "with the reason" "$(jget "$end" event.data.error)" "$reason"
call GET "/api/v1/tasks/$wid" "" "$BOB"
expect_status "the task over the API" 200
expect_eq "the API says failed" "$(jget "$BODY" status)" "failed"
expect_contains "with the reason" "$(jget "$BODY" error)" "$reason"
expect_eq "two messages in errand.dead" \
  "$("$BUS_CTL" "$RABBITMQ_URL" info errand.dead | cut -d' ' -f1)" 2
check "the last worker is still running" ours "$holder"
stop_server
finish
