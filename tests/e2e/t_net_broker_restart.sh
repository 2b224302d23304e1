# RabbitMQ restarts while tasks are in flight: the workers reconnect, every task
# finishes once, and the workers take new tasks afterwards.
. "$(dirname "$0")/lib.sh"
net_only
script="$ERRAND_TEST_SERVERS/rabbitmq.sh"
state="$ERRAND_TEST_STATE/rabbitmq"
broker_up() { bash "$script" start_app "$state" >/dev/null 2>&1; }
trap 'broker_up; cleanup' EXIT   # the fixture broker must outlive this test
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"in flight 1","delay_ms":2500,"text":"answer 1"},
 {"match":"in flight 2","delay_ms":2500,"text":"answer 2"},
 {"match":"in flight 3","delay_ms":2500,"text":"answer 3"},
 {"match":"in flight 4","delay_ms":2500,"text":"answer 4"},
 {"match":"afterwards","text":"answer 5"}
]}
JSON
start_fake "$T/s.json"
use_openai
start_workers
asks=()
for i in 1 2 3 4; do
  if [ "$i" -le 2 ]; then agent=(--agent research); else agent=(); fi
  "$ERRAND_BIN" ask "${agent[@]}" "in flight $i" > "$T/out$i" 2> "$T/err$i" &
  asks+=($!)
done
running() { [ "$(jget "$("$ERRAND_BIN" task list --json --status running)" 0.status)" = running ]; }
check "tasks are running" wait_for 60 running
bash "$script" stop_app "$state"; rc=$?
expect_eq "broker stopped" "$rc" 0
sleep 1
broker_up; rc=$?
expect_eq "broker started again" "$rc" 0
for i in 1 2 3 4; do
  wait "${asks[$((i - 1))]}"; rc=$?
  expect_eq "task $i: exit 0" "$rc" 0
  expect_eq "task $i: answer" "$(cat "$T/out$i")" "answer $i"
done
out=$("$ERRAND_BIN" ask --agent research "afterwards"); rc=$?
expect_eq "a new task after the restart: exit 0" "$rc" 0
expect_eq "a new task after the restart: answer" "$out" "answer 5"
for id in $("$ERRAND_BIN" task list --json | /usr/bin/python3 -c 'import json,sys
for t in json.load(sys.stdin): print(t["id"])'); do
  expect_eq "task ${id:0:13}: one end event" "$(events "$id" | grep -cx end)" 1
done
expect_eq "all five done" "$("$ERRAND_BIN" task list --json --status done | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 5
expect_eq "nothing dead-lettered" "$("$BUS_CTL" "$RABBITMQ_URL" info errand.dead | cut -d' ' -f1)" 0
for i in "${!PIDS[@]}"; do
  [ "$i" -eq 0 ] && continue   # the fake LLM
  check "worker $i survived the restart" ours "${PIDS[$i]}"
done
finish
