# errand ask --output-format stream-json: every event one JSON object per line
# on stdout, in order, ending with a "result" line; nothing else on stdout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
ws="$T/ws"
mkdir -p "$ws"
cat > "$T/s.json" <<'JSON'
{"turns": [
  {"match": "\"tool_call_id\":\"w1\"", "repeat": true, "text": "wrote it"},
  {"match": "You are the code agent", "repeat": true, "tool_calls": [
    {"id": "w1", "name": "write_file", "arguments": {"path": "a.txt", "content": "hi\n"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
"$ERRAND" -w "$ws" --yes ask -a code --output-format stream-json "write a.txt" > "$T/out" 2>"$T/err"; rc=$?
expect_eq "exit 0" "$rc" 0
# every line is one JSON object with a type; the types in order
types=$($PY - "$T/out" <<'PYEOF'
import json, sys
types = []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    assert isinstance(ev, dict) and "type" in ev and ev.get("task_id"), line
    types.append(ev["type"])
print(" ".join(types))
PYEOF
); prc=$?
expect_eq "every line is a JSON event" "$prc" 0
expect_contains "routed, start, step, tool_call, tool_result in order" "$types" "routed start step tool_call tool_result"
expect_contains "the answer's tokens" "$types" "token"
check "the last line is the result" test "${types##* }" = result
last=$(tail -n 1 "$T/out")
expect_eq "result: status" "$(jget "$last" status)" done
expect_eq "result: answer" "$(jget "$last" answer)" "wrote it"
check "result: usage counted" test "$(jget "$last" usage.input_tokens)" -gt 0
check "the tool ran" test -f "$ws/a.txt"
tr=$(grep '"type":"tool_result"' "$T/out")
expect_eq "tool_result carries the tool" "$(jget "$tr" data.tool)" write_file

# No --yes and no terminal: the approval request is an event, the call denied.
rm -f "$ws/a.txt"
"$ERRAND" -w "$ws" ask -a code --output-format stream-json "write a.txt" > "$T/out" 2>"$T/err"
check "approval_request event" grep -q '"type":"approval_request"' "$T/out"
check "the denied write did not happen" not test -f "$ws/a.txt"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# A failing task: result says failed, exit 1, stdout still only JSON.
echo '{"turns": [{"match": "You are the code agent", "repeat": true, "status": 400, "body": "{\"error\": {\"message\": \"bad request\"}}"}]}' > "$T/s.json"
start_fake "$T/s.json"
use_openai
"$ERRAND" -w "$ws" ask -a code --output-format stream-json "x" > "$T/out" 2>"$T/err"; rc=$?
check "a failed task exits nonzero" test "$rc" -ne 0
last=$(tail -n 1 "$T/out")
expect_eq "result: failed" "$(jget "$last" status)" failed
check "result: the error is given" test -n "$(jget "$last" error)"
check "stdout is JSON only" $PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out"

out=$("$ERRAND" ask --output-format yaml x 2>&1); rc=$?
expect_eq "an unknown format: exit 2" "$rc" 2
expect_contains "  named" "$out" "--output-format 'yaml'"
out=$("$ERRAND" ask --json --output-format stream-json x 2>&1); rc=$?
expect_eq "--json with stream-json: exit 2" "$rc" 2
finish
