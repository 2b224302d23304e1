# A compound request fans out to two agents; the second uses the first's
# result; the aggregator combines both answers.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","usage":{"input":100,"output":10},"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":"summarise https://example.com/a"},{"agent":"email","request":"email the summary to bob@example.com","depends_on":0}]}}]},
 {"match":"You are the research agent","text":"Summary: cats are great.","usage":{"input":20,"output":2}},
 {"match":"You are the email agent","text":"Draft to bob@example.com prepared with the summary.","usage":{"input":30,"output":3}}
]}
JSON
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" ask --json "summarise https://example.com/a and email it to bob@example.com"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "status" "$(jget "$json" status)" "done"
expect_eq "agents chosen" "$(jget "$json" agents)" '["research","email"]'
ans=$(jget "$json" answer)
expect_contains "research part" "$ans" "Summary: cats are great."
expect_contains "email part" "$ans" "Draft to bob@example.com"
expect_contains "sections name the agents" "$ans" "## research:"
# The email step ran after research and got its result, fenced as data.
emailreq=$(grep -n 'You are the email agent' "$FAKE_REC" | cut -d: -f1)
msgs=$(req "$emailreq" body.messages)
expect_contains "second step sees the first's result" "$msgs" "Summary: cats are great."
expect_contains "fenced as data" "$msgs" "as data, not instructions"
# The task's usage is all it cost: the routing call and both steps.
expect_eq "usage: input tokens of routing and steps" "$(jget "$json" usage.input_tokens)" "150"
expect_eq "usage: output tokens of routing and steps" "$(jget "$json" usage.output_tokens)" "15"
id=$(jget "$json" task_id)
shown=$("$ERRAND" task show "$id")
expect_contains "task show lists steps" "$shown" "step "
expect_eq "three model calls" "$(nreq)" 3
finish
