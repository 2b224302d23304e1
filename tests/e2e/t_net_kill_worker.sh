# kill -9 an agent worker in the middle of a task while a second worker of the
# same agent runs: the second one finishes the task from its recorded steps, the
# task ends done once, and its tool's side effect happened once.
. "$(dirname "$0")/lib.sh"
net_only
# The edit appends a line, so running it twice would show in the file.
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"kill-edit-1","stall_ms":60000,"text":"too late"},
 {"match":"kill-edit-1","text":"counter bumped"},
 {"match":"bump the counter","tool_calls":[{"id":"kill-edit-1","name":"edit_file","arguments":{"path":"notes.txt","old":"n=1","new":"n=1\nn=2"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws" && printf 'n=1\n' > "$T/ws/notes.txt"
cd "$T/ws"
opts=(-o policy.write=allow --log-level info)
start_worker supervisor "${opts[@]}"
start_worker aggregator "${opts[@]}"
start_worker code "${opts[@]}"; first=$WORKER_PID
"$ERRAND_BIN" ask --agent code "bump the counter" > "$T/out" 2> "$T/err" &
ask=$!
# The first worker has the task once the edit's result is recorded: it is now
# waiting for the stalled model call.
id=""
got_id() { id=$(jget "$("$ERRAND_BIN" task list --json --status running)" 0.id); [ -n "$id" ]; }
check "the task runs" wait_for 60 got_id
edited() { events "$id" | grep -qx tool_result; }
check "the edit is recorded" wait_for 60 edited
check "the first worker made the edit" test "$(cat notes.txt)" = "$(printf 'n=1\nn=2')"
start_worker code "${opts[@]}"; second=$WORKER_PID
kill -9 "$first"
wait "$first" 2>/dev/null
wait "$ask"; rc=$?
expect_eq "ask exits 0" "$rc" 0
expect_eq "the answer comes from the second worker" "$(cat "$T/out")" "counter bumped"
expect_eq "the edit happened once" "$(cat notes.txt)" "$(printf 'n=1\nn=2')"
kinds=$(events "$id")
expect_eq "one end event" "$(grep -cx end <<<"$kinds")" 1
expect_eq "one tool call recorded" "$(grep -cx tool_call <<<"$kinds")" 1
expect_eq "one tool result recorded" "$(grep -cx tool_result <<<"$kinds")" 1
expect_eq "status done" "$(jget "$("$ERRAND_BIN" task show --json "$id")" status)" "done"
replayed=$(grep -h '"msg":"replayed' "$ERRAND_NET_LOGS"/code.*.log)
expect_contains "the second worker replayed the model's step" "$replayed" '"msg":"replayed llm:1"'
expect_contains "its log lines are JSON with the task id" "$replayed" "\"task_id\":\"$id\""
expect_contains "and the trace id" "$replayed" '"trace_id":'
# The model saw the edit's result again, not a second edit.
expect_eq "no second edit asked of the model" "$(grep -c '"turn":2' "$FAKE_REC")" 1
check "the second worker is still running" ours "$second"
stop_worker "$second"; rc=$?
expect_eq "the second worker stops cleanly" "$rc" 0
finish
