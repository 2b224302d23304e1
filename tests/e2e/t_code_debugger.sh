# The code agent's debugger end to end, against the fake LLM with scripted
# turns: the code agent delegates to the debugger, which runs the tests, reads
# the failing file, makes the one-line fix with edit_file, runs the tests again
# and reports.  Checked on the files (the fixture plus exactly that fix) and on
# the test results the test tool returned, not on the model's words.  Once per
# fixture (C with make, Python with pytest or unittest), with --yes and with
# policy allow; then with exec denied by policy: the model gets the refusal
# and nothing runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
# Debian's python3 first: the pyenv shim on PATH takes seconds to start.
export PATH="/usr/bin:$PATH"

# debugger_script FILE OLD NEW — the debugger's turns.  Later turns come first: the fake
# takes the first unused turn whose match is in the request, and a request
# carries everything before it.
debugger_script() {
  $PY - "$@" > "$T/s.json" <<'EOF'
import json, sys
path, old, new = sys.argv[1:4]
def call(i, name, **args):
    return [{"id": i, "name": name, "arguments": args}]
print(json.dumps({"turns": [
    {"match": "DEBUGGER REPORT", "text": "Fixed: the tests pass now."},
    {"match": '\\"failed\\":0,', "text": "DEBUGGER REPORT: the bug in %s is fixed." % path},
    {"match": "replacements", "tool_calls": call("d4", "test")},
    {"match": "total_lines", "tool_calls": call("d3", "edit_file", path=path, old=old, new=new)},
    {"match": '\\"detected\\":true', "tool_calls": call("d2", "read_file", path=path)},
    {"match": "You are the debugger subagent", "tool_calls": call("d1", "test")},
    {"match": "You are the code agent", "tool_calls": call(
        "t1", "task", subagent="debugger",
        description="The project's tests fail. Reproduce, find the bug, fix it, re-run.")},
]}))
EOF
}

# expected NAME FIXTURE FILE OLD NEW — the fixture with the one-line fix applied.
expected() {
  local dir
  dir=$(workspace "$1" "$2")
  $PY - "$dir/$3" "$4" "$5" <<'EOF'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
assert s.count(old) == 1, "the fix's text must occur once in the fixture"
open(p, "w").write(s.replace(old, new))
EOF
  printf '%s\n' "$dir"
}

# debug NAME FIXTURE FILE OLD NEW ERRAND-OPTIONS... — one debugger run, checked.
debug() {
  local name=$1 fixture=$2 file=$3 old=$4 new=$5
  shift 5
  local ws exp json rc
  ws=$(workspace "$name" "$fixture")
  exp=$(expected "$name.expected" "$fixture" "$file" "$old" "$new")
  check "$name: the fix changes the fixture" not diff -q "$ws/$file" "$exp/$file" >/dev/null
  debugger_script "$file" "$old" "$new"
  start_fake "$T/s.json"
  use_openai
  json=$("$ERRAND" -w "$ws" "$@" ask --json --agent code "the tests fail, fix it" 2>"$T/$name.err")
  rc=$?
  expect_eq "$name: exit 0" "$rc" 0
  expect_eq "$name: done" "$(jget "$json" status)" "done"
  expect_eq "$name: seven model calls" "$(nreq)" 7
  check "$name: no approval was asked" not grep -q "approval" "$T/$name.err"
  # the files: the fixture plus exactly the fix (build products and caches aside)
  check "$name: workspace = fixture + fix" \
    diff -r -x __pycache__ -x .pytest_cache -x test_stats -x '*.pyc' "$exp" "$ws"
  # the test runs as the tool returned them: failing, then passing
  expect_eq "$name: two test runs" "$(results "$json" test | wc -l | tr -d ' ')" 2
  local f1 p2 f2
  f1=$(result_of "$json" d1 failed)
  check "$name: first run fails ($f1 failed)" test "${f1:-0}" -gt 0
  check "$name: first run exits non-zero" test "$(result_of "$json" d1 exit_code)" != 0
  p2=$(result_of "$json" d4 passed)
  f2=$(result_of "$json" d4 failed)
  expect_eq "$name: second run: 0 failed" "$f2" 0
  expect_eq "$name: second run: 3 passed" "$p2" 3
  expect_eq "$name: second run exits 0" "$(result_of "$json" d4 exit_code)" 0
  # ... and what the model was sent: the debugger saw both results
  expect_eq "$name: model got the passing run" "$(sent d4 failed)" 0
  check "$name: model got the failing run" test "$(sent d1 failed)" -gt 0
  expect_contains "$name: read_file showed the bug" "$(sent d2 content)" "$old"
  local diff
  diff=$(sent d3 diff)
  expect_contains "$name: edit diff removes the old line" "$diff" "-    $old"
  expect_contains "$name: edit diff adds the new line" "$diff" "+    $new"
  expect_eq "$name: one replacement" "$(sent d3 replacements)" 1
  # the delegation: the debugger's own prompt and tools, its report to the agent
  expect_contains "$name: debugger prompt" "$(req 2 body.messages.0.content)" \
    "You are the debugger subagent"
  local tools
  tools=$(req 2 body.tools)
  expect_contains "$name: debugger has edit_file" "$tools" '"name":"edit_file"'
  expect_contains "$name: debugger has test" "$tools" '"name":"test"'
  expect_contains "$name: report reached the agent" "$(sent t1)" "DEBUGGER REPORT"
  kill "$FAKE_PID" 2>/dev/null
  wait "$FAKE_PID" 2>/dev/null
}

debug c buggy_c stats.c "for (size_t i = 1; i < n - 1; i++)" "for (size_t i = 1; i < n; i++)" \
  --yes
debug py buggy_py textstats.py 'return len(text.split(" "))' 'return len(text.split())' \
  -o policy.write=allow -o policy.exec=allow

# exec denied by policy (which --yes does not override): the refusal is the
# tool result the model gets next, and nothing ran.
cat > "$T/deny.json" <<'JSON'
{"turns":[
 {"match":"COULD NOT TEST","text":"The tests could not be run here."},
 {"match":"denied by policy","text":"COULD NOT TEST: running the tests is denied."},
 {"match":"You are the debugger subagent","tool_calls":[{"id":"d1","name":"test","arguments":{}},
   {"id":"d2","name":"run","arguments":{"cmd":"touch ran-anyway"}}]},
 {"match":"You are the code agent","tool_calls":[{"id":"t1","name":"task",
   "arguments":{"subagent":"debugger","description":"The tests fail; fix it."}}]}
]}
JSON
ws=$(workspace deny buggy_c)
start_fake "$T/deny.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes -o policy.exec=deny ask --json --agent code "fix the tests" \
  2>"$T/deny.err"); rc=$?
expect_eq "deny: exit 0" "$rc" 0
expect_eq "deny: four model calls" "$(nreq)" 4
last=$(req 3 body.messages.3)
expect_eq "deny: next request carries the refusal (test)" "$(jget "$last" tool_call_id)" "d1"
expect_contains "deny: refusal names the policy" "$(jget "$last" content)" \
  "denied by policy (exec tools are denied: policy.exec = deny)"
expect_contains "deny: run refused too" "$(sent d2)" "error: denied by policy"
errors=$(printf '%s' "$json" | $PY -c 'import json,sys
print(all(s["data"]["is_error"] for s in json.load(sys.stdin)["steps"]
          if s["kind"] == "tool_result" and s["data"]["tool"] in ("test", "run")))')
expect_eq "deny: the results are errors" "$errors" "True"
check "deny: nothing was built" test ! -e "$ws/test_stats"
check "deny: nothing was run" test ! -e "$ws/ran-anyway"
check "deny: workspace unchanged" diff -r "$ERRAND_TESTS/fixtures/buggy_c" "$ws"
finish
