# `errand worker` on SIGTERM: a short task in hand is finished; a long one is
# handed back to its queue after --grace seconds (or at a second signal) and
# another worker finishes it; the worker exits 0 either way.
. "$(dirname "$0")/lib.sh"
net_only
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"short job","delay_ms":1500,"text":"short done"},
 {"match":"long job","stall_ms":60000,"text":"too late"},
 {"match":"long job","text":"long done"},
 {"match":"other job","stall_ms":60000,"text":"too late"},
 {"match":"other job","text":"other done"}
]}
JSON
start_fake "$T/s.json"
use_openai
start_worker supervisor; start_worker aggregator
running() { [ -n "$(jget "$("$ERRAND_BIN" task list --json --status running)" 0.id)" ]; }

start_worker code --log-level info; w=$WORKER_PID; log=$WORKER_LOG
"$ERRAND_BIN" ask --agent code "short job" > "$T/out1" 2>&1 &
ask=$!
check "short: running" wait_for 60 running
kill -TERM "$w"
wait "$w"; rc=$?
expect_eq "short: the worker exits 0" "$rc" 0
wait "$ask"; rc=$?
expect_eq "short: the task was finished" "$rc" 0
expect_eq "short: answer" "$(cat "$T/out1")" "short done"
expect_contains "short: the worker said it was stopping" "$(cat "$log")" "worker code stopping"

start_worker code --grace 1 --log-level info; w=$WORKER_PID; log=$WORKER_LOG
"$ERRAND_BIN" ask --agent code "long job" > "$T/out2" 2>&1 &
ask=$!
check "long: running" wait_for 60 running
sleep 0.3   # into the stalled model call
start=$(date +%s)
kill -TERM "$w"
wait "$w"; rc=$?
expect_eq "long: the worker exits 0" "$rc" 0
check "long: it did not wait for the stalled call" test $(( $(date +%s) - start )) -lt 20
expect_contains "long: the task went back to the queue" "$(cat "$log")" "interrupted by the shutdown"
check "long: the client still waits" ours "$ask"
start_worker code
wait "$ask"; rc=$?
expect_eq "long: another worker finished it" "$rc" 0
expect_eq "long: answer" "$(cat "$T/out2")" "long done"

w=$WORKER_PID; log=$WORKER_LOG
"$ERRAND_BIN" ask --agent code "other job" > "$T/out3" 2>&1 &
ask=$!
check "second signal: running" wait_for 60 running
sleep 0.3
kill -TERM "$w"; sleep 0.5; kill -TERM "$w"
wait "$w"; rc=$?
expect_eq "second signal: the worker exits 0" "$rc" 0
start_worker code
wait "$ask"; rc=$?
expect_eq "second signal: another worker finished it" "$rc" 0
expect_eq "second signal: answer" "$(cat "$T/out3")" "other done"
for id in $("$ERRAND_BIN" task list --json | /usr/bin/python3 -c 'import json,sys
for t in json.load(sys.stdin): print(t["id"])'); do
  expect_eq "task ${id:0:13}: done" "$(jget "$("$ERRAND_BIN" task show --json "$id")" status)" done
  expect_eq "task ${id:0:13}: one end event" "$(events "$id" | grep -cx end)" 1
done
expect_eq "nothing dead-lettered" "$("$BUS_CTL" "$RABBITMQ_URL" info errand.dead | cut -d' ' -f1)" 0
finish
