# Redis stops while a task runs: the events published meanwhile are lost, but the
# client falls back to the store and still gets the answer; no task is lost.  A
# new request while Redis is down fails with a clear error; once Redis is back,
# the same workers carry on.  An answer whose stream is cut is printed whole.
. "$(dirname "$0")/lib.sh"
net_only
script="$ERRAND_TEST_SERVERS/redis.sh"
state="$ERRAND_TEST_STATE/redis"
# The fixture's server outlives this test: it must not keep the slot's lock open.
redis_up() { bash "$script" start "$state" {SLOT_FD}>&- >/dev/null; }
trap 'redis_up; cleanup' EXIT   # the fixture server must outlive this test
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"while redis is down","delay_ms":3000,"text":"answer from the store"},
 {"match":"after redis is back","text":"back to normal"},
 {"match":"stream then stop","chunk_delay_ms":400,"text":"alpha beta gamma delta epsilon zeta eta theta"}
]}
JSON
start_fake "$T/s.json"
use_openai
start_workers
"$ERRAND_BIN" ask --agent code "while redis is down" > "$T/out" 2> "$T/err" &
ask=$!
running() { [ -n "$(jget "$("$ERRAND_BIN" task list --json --status running)" 0.id)" ]; }
check "the task runs" wait_for 60 running
bash "$script" stop "$state"
out=$("$ERRAND_BIN" ask --agent code "never stored" 2>&1); rc=$?
expect_eq "a new request while Redis is down: exit 3" "$rc" 3
expect_contains "a new request while Redis is down: says so" "$out" "cannot connect to Redis"
wait "$ask"; rc=$?
expect_eq "the running task: exit 0" "$rc" 0
expect_eq "the running task: answer read from the store" "$(cat "$T/out")" "answer from the store"
redis_up
out=$("$ERRAND_BIN" ask --agent code "after redis is back"); rc=$?
expect_eq "after Redis is back: exit 0" "$rc" 0
expect_eq "after Redis is back: answer" "$out" "back to normal"

"$ERRAND_BIN" ask --agent code "stream then stop" > "$T/out3" 2> "$T/err3" &
ask=$!
streaming() { [ -s "$T/out3" ]; }
check "cut stream: tokens arrive" wait_for 60 streaming
bash "$script" stop "$state"
wait "$ask"; rc=$?
redis_up
expect_eq "cut stream: exit 0" "$rc" 0
expect_eq "cut stream: the whole answer ends the output" "$(tail -n 1 "$T/out3")" \
  "alpha beta gamma delta epsilon zeta eta theta"
expect_contains "cut stream: says so" "$(cat "$T/err3")" "stream was cut"
list=$("$ERRAND_BIN" task list --json)
expect_eq "three tasks, all done" "$(printf '%s' "$list" | /usr/bin/python3 -c 'import json,sys; print(" ".join(t["status"] for t in json.load(sys.stdin)))')" "done done done"
finish
