# ask: routed answer streamed to stdout, --json, conversation continuation, history sent.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"capital of France","text":"The capital of France is Paris.","usage":{"input":12,"output":7}},
 {"match":"capital of Spain","text":"Madrid."},
 {"match":"and of Italy","text":"Rome."}
]}
JSON
start_fake "$T/s.json"
use_openai

out=$("$ERRAND" ask "what is the capital of France?" 2>"$T/err"); rc=$?
expect_eq "ask exits 0" "$rc" 0
expect_eq "answer on stdout" "$out" "The capital of France is Paris."

out=$("$ERRAND" ask --no-stream "what is the capital of Spain?"); rc=$?
expect_eq "--no-stream exits 0" "$rc" 0
expect_eq "--no-stream answer" "$out" "Madrid."

"$ERRAND" conv list > "$T/convs"
conv=$(head -1 "$T/convs" | cut -c1-13)
json=$("$ERRAND" ask --json --conversation "$conv" "and of Italy?"); rc=$?
expect_eq "continue exits 0" "$rc" 0
expect_eq "json answer" "$(jget "$json" answer)" "Rome."
expect_eq "json agent" "$(jget "$json" agent)" "research"
expect_eq "json agents" "$(jget "$json" agents)" '["research"]'
expect_eq "json status done" "$(jget "$json" status)" "done"
check "json has a task id" test -n "$(jget "$json" task_id)"
check "json has steps" test "$(jget "$json" steps.0.kind)" != ""
last=$(nreq)
hist=$(req "$last" body.messages)
expect_contains "history carries the earlier question" "$hist" "capital of Spain"
expect_contains "history carries the earlier answer" "$hist" "Madrid."
expect_contains "system prompt sent" "$(req "$last" body.messages.0.content)" "You are the research agent"
expect_eq "model sent" "$(req "$last" body.model)" "fake-model"
expect_contains "bearer key sent" "$(req "$last" headers.authorization)" "Bearer test-key-123456"

shown=$("$ERRAND" conv show "$conv")
expect_contains "conversation has both turns" "$shown" "Rome."
check "conv show into a pipe: no colour codes" test "${shown/$'\033'/}" = "$shown"
out=$("$ERRAND" conv show 01a219d6-47f7-7000-8000-000000000000 2>&1); rc=$?
expect_eq "unknown conversation: exit 1" "$rc" 1
expect_contains "unknown conversation: says so" "$out" "no conversation"
tasks=$("$ERRAND" task list)
expect_contains "task list shows done tasks" "$tasks" "done"
finish
