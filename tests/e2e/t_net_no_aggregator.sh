# A task whose agent worker runs but no aggregator does: its result waits in
# agent.results.  The client must not wait in silence: after 10 s without
# progress it names the queue nobody consumes and the worker to start; once the
# aggregator runs, the task ends.
. "$(dirname "$0")/lib.sh"
net_only
export ERRAND_LLM=offline
start_worker supervisor; start_worker code
"$ERRAND_BIN" ask --agent code "ls" > "$T/out" 2> "$T/err" &
ask=$!
hinted() { grep -q "agent.results" "$T/err"; }
check "the client says where the task is stuck" wait_for 60 hinted
expect_contains "and names the missing worker" "$(cat "$T/err")" "errand worker aggregator"
start_worker aggregator
wait "$ask"; rc=$?
expect_eq "exit 0 once the aggregator runs" "$rc" 0
finish
