# Failures get one clear line and the right exit status; nothing crashes, the
# task is marked failed, and later requests work.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"retry me","status":500,"message":"overloaded"},
 {"match":"retry me","text":"recovered"},
 {"match":"bad sse","malformed":"sse"},
 {"match":"cut json","malformed":"truncate","repeat":true},
 {"match":"unknown tool","repeat":true,"tool_calls":[{"id":"u1","name":"launch_rockets","arguments":{}}]},
 {"match":"no done","text":"half","malformed":"no_done","repeat":true},
 {"match":"fine","repeat":true,"text":"fine answer"}
]}
JSON
start_fake "$T/s.json"
use_openai
out=$("$ERRAND" ask --agent code "retry me"); rc=$?
expect_eq "500 then success: exit 0" "$rc" 0
expect_eq "500 then success: answer" "$out" "recovered"
expect_eq "500 then success: two requests" "$(nreq)" 2

for case in "bad sse" "no done"; do
  out=$("$ERRAND" ask --agent code "$case" 2>&1); rc=$?
  expect_eq "$case: exit 1" "$rc" 1
  expect_contains "$case: clear error" "$out" "task failed"
done
# the part streamed before the failure ends its line: the reason is not glued to it
expect_contains "partial answer ends its line" "$out" $'half\nerrand: task failed'
json=$("$ERRAND" ask --json --agent code "cut json"); rc=$?
expect_eq "truncated body: exit 1" "$rc" 1
expect_eq "truncated body: failed" "$(jget "$json" status)" "failed"
json=$("$ERRAND" ask --json --agent code "unknown tool"); rc=$?
expect_eq "unknown tool: exit 1" "$rc" 1
expect_contains "unknown tool: named" "$(jget "$json" error)" "launch_rockets"
out=$("$ERRAND" ask --agent code "fine"); rc=$?
expect_eq "still works afterwards" "$out" "fine answer"
failed=$("$ERRAND" task list --json --status failed)
expect_eq "failed tasks recorded" "$(printf '%s' "$failed" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "4"

# 401: bad key → exit 3 and a message that names the key
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json" --api-key right-key-999999
use_openai
out=$("$ERRAND" ask --agent code "fine" 2>&1); rc=$?
expect_eq "401: exit 3" "$rc" 3
expect_contains "401: names the key" "$out" "OPENAI_API_KEY"
check "401: no key in output" test "${out/test-key-123456/}" = "$out"

# no key for OpenAI's own endpoint: said at once, exit 3, nothing sent
out=$(env -u OPENAI_API_KEY -u OPENAI_BASE_URL "$ERRAND" ask --agent code "fine" 2>&1); rc=$?
expect_eq "no key: exit 3" "$rc" 3
expect_contains "no key: names it" "$out" "OPENAI_API_KEY is not set"

# provider down → exit 3
export OPENAI_BASE_URL="http://127.0.0.1:9/v1"
out=$("$ERRAND" ask --agent code "fine" 2>&1); rc=$?
expect_eq "unreachable provider: exit 3" "$rc" 3
expect_contains "unreachable provider: says so" "$out" "cannot connect"
expect_contains "unreachable provider: names the URL and the setting" "$out" \
  "the model is at http://127.0.0.1:9/v1: change it with OPENAI_BASE_URL"

# store problems
out=$(DATABASE_URL="mysql://x/y" "$ERRAND" ask "hi" 2>&1); rc=$?
expect_eq "unknown scheme: exit 2" "$rc" 2
expect_contains "unknown scheme: names it" "$out" "mysql"
mkdir -p "$T/ro"; chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then bad="sqlite://$T/ro/sub/x.db"; else bad="sqlite:///proc/errand-no/x.db"; fi
out=$(DATABASE_URL="$bad" "$ERRAND" ask "hi" 2>&1); rc=$?
expect_eq "unwritable database: exit 3" "$rc" 3
expect_contains "unwritable database: names the path" "$out" "x.db"
finish
