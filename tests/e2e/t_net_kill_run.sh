# A worker is killed while `run` executes a command.  `run` may have done
# anything (appended, sent, deployed): the worker that takes the task over does
# not run it again — the ledger has one line — and the task's result says
# which call was interrupted and not repeated, so "done" does not read as
# "everything happened".  The model is told too.
. "$(dirname "$0")/lib.sh"
net_only
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"r-1\"","text":"carried on"},
 {"match":"bump the ledger","tool_calls":[{"id":"r-1","name":"run","arguments":{"cmd":"echo once >> ledger.txt; sleep 30"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws" && cd "$T/ws"
opts=(-o policy.exec=allow --log-level info)
start_worker supervisor "${opts[@]}"
start_worker aggregator "${opts[@]}"
start_worker code "${opts[@]}"; a=$WORKER_PID
"$ERRAND_BIN" ask --agent code "bump the ledger" > "$T/out" 2> "$T/err" &
ask=$!
appended() { [ -s ledger.txt ]; }
check "the command ran" wait_for 60 appended
kill -9 "$a"; wait "$a" 2>/dev/null
start_worker code "${opts[@]}"; b=$WORKER_PID
wait "$ask"; rc=$?
expect_eq "ask exits 0" "$rc" 0
expect_eq "the model's answer" "$(cat "$T/out")" "carried on"
expect_contains "ask says a call was not repeated" "$(cat "$T/err")" \
  "errand: 1 tool call was interrupted by a worker restart and not repeated; check its effect"
sleep 1
expect_eq "the command ran once" "$(cat ledger.txt)" "once"
id=$(jget "$("$ERRAND_BIN" task list --json)" 0.id)
show=$("$ERRAND_BIN" task show --json "$id")
expect_eq "done" "$(jget "$show" status)" "done"
expect_contains "the result names the call" "$(jget "$show" result)" \
  '[errand: 1 tool call was interrupted by a worker restart (begun, no result recorded) and not repeated; check its effect: run {"cmd":"echo once >> ledger.txt; sleep 30"}]'
end=$(/usr/bin/python3 -c 'import json,sys
for e in json.load(sys.stdin)["events"]:
    if e["kind"] == "end": print(json.dumps(e["data"]))' <<<"$show")
expect_eq "the end event lists it" "$(jget "$end" interrupted.0.tool)" "run"
expect_contains "the model was told" "$(tail -1 "$FAKE_REC")" \
  "this run call was interrupted by a restart and was not repeated"
expect_eq "one tool call recorded" "$(events "$id" | grep -cx tool_call)" 1
check "the second worker is still running" ours "$b"
finish
