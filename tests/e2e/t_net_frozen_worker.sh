# A worker frozen (SIGSTOP: a VM pause or a partition does the same) past the
# AMQP heartbeat loses its delivery; the broker hands the task to another
# worker, which finishes it.  When the first one wakes with its own answer from
# the model, it must not act on it: its lease is gone, so it records nothing
# and runs no tool — the ledger gets one line, not two.
. "$(dirname "$0")/lib.sh"
net_only
# A's request stalls; B's is answered at once.  Each answer's call appends to
# the ledger; the follow-ups are told apart by the call id they carry.
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"b-1\"","text":"done by B"},
 {"match":"\"a-1\"","text":"done by A"},
 {"match":"ledger it","stall_ms":10000,"tool_calls":[{"id":"a-1","name":"run","arguments":{"cmd":"echo A >> ledger.txt"}}]},
 {"match":"ledger it","tool_calls":[{"id":"b-1","name":"run","arguments":{"cmd":"echo B >> ledger.txt"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws" && cd "$T/ws"
opts=(-o policy.exec=allow --log-level info)
start_worker supervisor "${opts[@]}"
start_worker aggregator "${opts[@]}"
# A heartbeat of 2 s: the broker gives up on a silent connection after 4-6 s.
RABBITMQ_URL="$RABBITMQ_URL?heartbeat=2" start_worker code "${opts[@]}"; a=$WORKER_PID; alog=$WORKER_LOG
"$ERRAND_BIN" ask --agent code "ledger it" > "$T/out" 2> "$T/err" &
ask=$!
holds() { grep -Eq "running task .* \(attempt 1[,)]" "$alog"; }
check "A has the task" wait_for 60 holds
sleep 0.5   # A now waits for its stalled model call
kill -STOP "$a"
start_worker code "${opts[@]}"; b=$WORKER_PID
wait "$ask"; rc=$?
expect_eq "ask exits 0" "$rc" 0
expect_eq "B answered" "$(cat "$T/out")" "done by B"
expect_eq "B's call ran" "$(cat ledger.txt)" "B"
# A wakes up; its model answer (call a-1) comes in, and it gives up the task.
kill -CONT "$a"
stopped() { grep -q '"attempt 1 at task .* stopped: abandoned: ' "$alog"; }
check "A gave the task up" wait_for 60 stopped
expect_contains "because it ended" "$(grep -h 'stopped: abandoned' "$alog")" "has ended (done)"
sleep 1   # were it to go on, its call would run now
expect_eq "the ledger has one line" "$(cat ledger.txt)" "B"
expect_eq "A did not ask the model again" "$(grep -c '"turn":1,' "$FAKE_REC")" 0
id=$(jget "$("$ERRAND_BIN" task list --json)" 0.id)
show=$("$ERRAND_BIN" task show --json "$id")
expect_eq "done" "$(jget "$show" status)" "done"
expect_eq "2 attempts" "$(jget "$show" attempts)" 2
expect_eq "one tool call recorded" "$(events "$id" | grep -cx tool_call)" 1
expect_eq "two model steps recorded, both B's" "$(events "$id" | grep -cx llm)" 2
check "A is still running" ours "$a"
check "B is still running" ours "$b"
finish
