# A local errand process killed mid-task (kill -9, a crash): the next command
# that shows tasks ends its task as failed and says why, with the steps it had
# recorded kept; a task whose process still runs is left alone.
. "$(dirname "$0")/lib.sh"
if [ -n "$NETWORKED" ]; then
  # There the broker hands a dead worker's task to another (t_net_kill_worker).
  echo "skipped: local mode only"; exit 77
fi
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"doomed","stall_ms":30000,"text":"never"},
 {"match":"survivor","stall_ms":30000,"text":"never"}
]}
JSON
start_fake "$T/s.json"
use_openai
running() { "$ERRAND" task list --json --status running | /usr/bin/python3 -c \
  'import json,sys; print(len(json.load(sys.stdin)))'; }
"$ERRAND" ask --agent code "doomed" > /dev/null 2>&1 &
doomed=$!
check "the first task runs" wait_for 10 sh -c "[ \"\$(\"$ERRAND\" task list --json --status running | grep -c doomed)\" -ge 1 ]"
"$ERRAND" ask --agent code "survivor" > /dev/null 2>&1 &
survivor=$!
check "both run, and listing them ends neither" wait_for 10 sh -c "[ \"\$(\"$ERRAND\" task list --json --status running | grep -o '\"status\"' | wc -l)\" -eq 2 ]"
list=$("$ERRAND" task list --json)
id=$(printf '%s' "$list" | /usr/bin/python3 -c \
  'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["request"]=="doomed"][0])')

kill -9 "$doomed"
wait "$doomed" 2>/dev/null
show=$("$ERRAND" task show --json "$id")
expect_eq "the killed process's task is failed" "$(jget "$show" status)" "failed"
expect_contains "it says why" "$(jget "$show" error)" "interrupted: the errand process that ran it (pid $doomed) ended"
expect_contains "its recorded steps are kept" "$(events "$id" | tr '\n' ' ')" "routed start"
expect_contains "and end with the failure" "$(events "$id" | tail -1)" "end"
expect_eq "the other task still runs" "$(running)" "1"
check "the live process still has its task" kill -0 "$survivor"

kill -INT "$survivor"
wait "$survivor"
expect_eq "no task is left running" "$(running)" "0"
finish
