# A request made while no worker runs waits in its durable queue; after 10 s the
# client says why it waits; once the workers start, the task is done.
. "$(dirname "$0")/lib.sh"
net_only
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the code agent","text":"worth the wait"}]}
JSON
start_fake "$T/s.json"
use_openai
"$ERRAND_BIN" ask --agent code "anyone there?" > "$T/out" 2> "$T/err" &
ask=$!
hinted() { grep -q "still queued" "$T/err"; }
check "the client says the task waits" wait_for 60 hinted
expect_contains "and names the missing worker" "$(cat "$T/err")" "errand worker supervisor"
expect_eq "the message waits in supervisor.tasks" "$("$BUS_CTL" "$RABBITMQ_URL" info supervisor.tasks)" "1 0"
start_worker supervisor; start_worker aggregator; start_worker code
wait "$ask"; rc=$?
expect_eq "exit 0 once the workers run" "$rc" 0
expect_eq "answer" "$(cat "$T/out")" "worth the wait"
finish
