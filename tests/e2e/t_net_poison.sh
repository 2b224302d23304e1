# A poison message (not JSON, or naming no task we know) on an agent's queue is
# dead-lettered to errand.dead and logged; the workers keep going.
. "$(dirname "$0")/lib.sh"
net_only
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the code agent","repeat":true,"text":"still here"}]}
JSON
start_fake "$T/s.json"
use_openai
start_worker supervisor; start_worker aggregator
start_worker code; code=$WORKER_PID; code_log=$WORKER_LOG
"$BUS_CTL" "$RABBITMQ_URL" publish agent agent.code 'this is {not json'
"$BUS_CTL" "$RABBITMQ_URL" publish agent agent.code '{"task_id":"0190aaaa-0000-7000-8000-000000000000"}'
dead() { [ "$("$BUS_CTL" "$RABBITMQ_URL" info errand.dead)" = "2 0" ]; }
check "both are dead-lettered" wait_for 30 dead
log=$(cat "$code_log")
expect_contains "the poison is logged" "$log" '"msg":"poison message on agent.code'
expect_contains "the dead letter is logged" "$log" "dead-lettered a message from 'agent.code' to 'errand.dead'"
expect_contains "the unknown task is logged" "$log" "0190aaaa-0000-7000-8000-000000000000"
check "the worker is still running" ours "$code"
out=$("$ERRAND_BIN" ask --agent code "are you there?"); rc=$?
expect_eq "a later task still works" "$rc" 0
expect_eq "its answer" "$out" "still here"
doc=$("$ERRAND_BIN" doctor); rc=$?
expect_eq "doctor exits 0" "$rc" 0
expect_contains "doctor shows the dead letters" "$doc" "errand.dead       2 waiting, 0 consumers"
expect_contains "doctor shows the code worker" "$doc" "agent.code        0 waiting, 1 consumer"
stop_worker "$code"; rc=$?
expect_eq "the worker stops cleanly" "$rc" 0
finish
