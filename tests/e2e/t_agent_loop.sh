# The deep-agent loop: a tool call round trip (write_todos), delegation to a
# subagent through the task tool (fresh context), and the step events.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"You are the analyzer subagent","text":"The bug is in line 3."},
 {"match":"The bug is in line 3.","text":"Done: the analyzer found the bug in line 3."},
 {"match":"Plan updated","tool_calls":[{"id":"t1","name":"task","arguments":{"subagent":"analyzer","description":"Find the bug in main.c"}}]},
 {"match":"You are the code agent","tool_calls":[{"id":"p1","name":"write_todos","arguments":{"todos":[{"content":"analyse","status":"in_progress"},{"content":"report","status":"pending"}]}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" ask --json --agent code "find the bug"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "final answer" "$(jget "$json" answer)" "Done: the analyzer found the bug in line 3."
expect_eq "four model calls" "$(nreq)" 4
# call 2 carries the write_todos result back as a tool message
expect_eq "tool result role" "$(req 2 body.messages.3.role)" "tool"
expect_eq "tool result id" "$(req 2 body.messages.3.tool_call_id)" "p1"
expect_contains "todo text returned" "$(req 2 body.messages.3.content)" "[~] analyse"
# the subagent starts fresh: its system prompt and only the delegated task
expect_contains "subagent system prompt" "$(req 3 body.messages.0.content)" "You are the analyzer subagent"
expect_eq "subagent sees only its task" "$(req 3 body.messages.1.content)" "Find the bug in main.c"
expect_eq "subagent context is fresh" "$(req 3 body.messages.2)" ""
tools3=$(req 3 body.tools)
check "subagent cannot delegate" test "${tools3/\"name\":\"task\"/}" = "$tools3"
# back in the parent: the subagent's answer is the task tool's result
expect_eq "delegation result id" "$(req 4 body.messages.5.tool_call_id)" "t1"
expect_eq "delegation result" "$(req 4 body.messages.5.content)" "The bug is in line 3."
tools1=$(req 1 body.tools)
expect_contains "task tool offered to the agent" "$tools1" "\"name\":\"task\""
expect_contains "task tool lists subagents" "$tools1" "debugger"
kinds=$(printf '%s' "$json" | /usr/bin/python3 -c 'import json,sys; print(" ".join(s["kind"] for s in json.load(sys.stdin)["steps"]))')
expect_contains "events: routed, start" "$kinds" "routed start llm"
expect_contains "events: todos" "$kinds" "todos"
expect_contains "events: delegate" "$kinds" "delegate"
expect_contains "events: end" "$kinds" "end"
finish
