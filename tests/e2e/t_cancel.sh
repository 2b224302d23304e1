# Cancellation: Ctrl-C during a stalled model call, and `errand task cancel` from
# another process; the task ends "cancelled" and nothing else is lost.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"first stall","stall_ms":20000,"text":"too late"},
 {"match":"second stall","stall_ms":20000,"text":"too late"},
 {"match":"after","text":"still works"}
]}
JSON
start_fake "$T/s.json"
use_openai
# running_id — the id of the task that is running, once it is (the model call stalls).
running_id() {
  local id=""
  for _ in $(seq 200); do
    id=$(jget "$("$ERRAND" task list --json --status running)" 0.id)
    [ -n "$id" ] && break
    sleep 0.05
  done
  printf '%s' "$id"
}
"$ERRAND" ask --agent code "first stall" > "$T/out1" 2> "$T/err1" &
pid=$!
check "first task runs" test -n "$(running_id)"
sleep 0.3   # let the model call begin
start=$(date +%s)
kill -INT "$pid"
wait "$pid"; rc=$?
took=$(( $(date +%s) - start ))
expect_eq "Ctrl-C: exit 1" "$rc" 1
check "Ctrl-C: ended well before the stall" test "$took" -lt 10
expect_contains "Ctrl-C: says cancelled" "$(cat "$T/err1")" "cancelled"
list=$("$ERRAND" task list --json)
expect_eq "Ctrl-C: status stored" "$(jget "$list" 0.status)" "cancelled"

"$ERRAND" ask --agent code "second stall" > "$T/out2" 2> "$T/err2" &
pid=$!
id=$(running_id)
check "running task listed" test -n "$id"
out=$("$ERRAND" task cancel "$id"); rc=$?
expect_eq "task cancel exits 0" "$rc" 0
start=$(date +%s)
wait "$pid"; rc=$?
took=$(( $(date +%s) - start ))
expect_eq "cancelled ask exits 1" "$rc" 1
check "cancel from another process ended it promptly" test "$took" -lt 10
out=$("$ERRAND" task cancel "$id" 2>&1); rc=$?
expect_eq "cancelling an ended task fails" "$rc" 1
expect_contains "says it had ended" "$out" "already ended"
out=$("$ERRAND" ask --agent code "after"); rc=$?
expect_eq "later requests still work" "$out" "still works"
finish
