# The REPL without a terminal: one request or slash command per line.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"first question","text":"first answer"},
 {"match":"second question","text":"second answer"},
 {"match":"third question","text":"third answer"},
 {"match":"fourth question","text":"fourth answer"}
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

# "@agent request" picks the agent, as in the full-screen interface.
before=$(wc -l < "$FAKE_REC")
out=$(printf '@code fourth question\n@nosuch x\n@code\n' | "$ERRAND" --plain 2>"$T/err"); rc=$?
expect_eq "repl with @agent exits 0" "$rc" 0
expect_contains "@code answered" "$out" "fourth answer"
expect_eq "the code agent got it, unrouted" "$(tail -n +$((before + 1)) "$FAKE_REC" | grep -c 'You are the code agent')" 1
expect_eq "no route asked" "$(tail -n +$((before + 1)) "$FAKE_REC" | grep -c '"name":"route"')" 0
expect_contains "an unknown agent is named" "$(cat "$T/err")" "no agent 'nosuch'"
expect_contains "@agent alone asks for the request" "$(cat "$T/err")" "what should @code do?"
finish
