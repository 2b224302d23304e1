# The REPL without a terminal: one request or slash command per line.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"first question","text":"first answer"},
 {"match":"second question","text":"second answer"},
 {"match":"third question","text":"third answer"}
]}
JSON
start_fake "$T/s.json"
use_openai
out=$(printf 'first question\nsecond question\n/tasks\n/agents\n/new\nthird question\n/help\n/nosuch\n/quit\nnever sent\n' | "$ERRAND" --plain -o agent.max_steps=5 2>"$T/err"); rc=$?
expect_eq "repl exits 0" "$rc" 0
expect_contains "first answer" "$out" "first answer"
expect_contains "second answer" "$out" "second answer"
expect_contains "/tasks lists tasks" "$out" "STATUS"
expect_contains "/agents lists agents" "$out" "browser"
expect_contains "/new" "$out" "new conversation"
expect_contains "/help" "$out" "/quit"
expect_contains "unknown slash command" "$out" "unknown command /nosuch"
expect_eq "three requests reached the agent" "$(grep -c 'You are the research agent' "$FAKE_REC")" 3
# second question continued the first conversation; the third started a new one
expect_contains "same conversation" "$(req 4 body.messages)" "first answer"
check "new conversation after /new" test "$(req 6 body.messages.2)" = ""
expect_eq "two conversations" "$("$ERRAND" conv list | wc -l | tr -d ' ')" "2"
finish
