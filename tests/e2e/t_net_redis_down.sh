# Redis stops while a task runs: the events published meanwhile are lost, but the
# client falls back to the store and still gets the answer; no task is lost.  A
# new request while Redis is down fails with a clear error; once Redis is back,
# the same workers carry on.
. "$(dirname "$0")/lib.sh"
net_only
script="$ERRAND_TEST_SERVERS/redis.sh"
state="$ERRAND_TEST_STATE/redis"
redis_up() { bash "$script" start "$state" >/dev/null; }
trap 'redis_up; cleanup' EXIT   # the fixture server must outlive this test
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"while redis is down","delay_ms":3000,"text":"answer from the store"},
 {"match":"after redis is back","text":"back to normal"}
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
list=$("$ERRAND_BIN" task list --json)
expect_eq "two tasks, both done" "$(printf '%s' "$list" | /usr/bin/python3 -c 'import json,sys; print(" ".join(t["status"] for t in json.load(sys.stdin)))')" "done done"
finish
