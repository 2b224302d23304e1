# Cancellation: Ctrl-C during a stalled model call, and `errand task cancel` from
# another process; the task ends "cancelled" and nothing else is lost.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"first stall","stall_ms":20000,"text":"too late"},
 {"match":"second stall","stall_ms":20000,"text":"too late"},
 {"match":"third streams","text":"t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15 t16 t17 t18 t19 t20","chunk_delay_ms":500},
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
# Cancelled from another process while the answer streams: the client says
# cancelled, and not that the stream was cut (it was not; nothing is missing).
"$ERRAND" ask --agent code "third streams" > "$T/out3" 2> "$T/err3" &
pid=$!
id=$(running_id)
wait_for 10 test -s "$T/out3"
"$ERRAND" task cancel "$id" > /dev/null
wait "$pid"; rc=$?
expect_eq "cancelled while streaming: exit 1" "$rc" 1
expect_contains "cancelled while streaming: says cancelled" "$(cat "$T/err3")" "task cancelled"
check "cancelled while streaming: no false 'stream was cut'" \
  test "$(grep -c 'stream was cut' "$T/err3")" = 0
out=$("$ERRAND" ask --agent code "after"); rc=$?
expect_eq "later requests still work" "$out" "still works"
finish
