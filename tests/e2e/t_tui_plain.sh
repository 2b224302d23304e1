# errand --plain on a terminal: the readline REPL for dumb terminals and screen
# readers — a prompt, Tab completing slash commands and @agent names, answers
# printed as lines, history, Ctrl-C clearing the line, Ctrl-D leaving with the
# terminal as it was; TERM=dumb gets the same REPL without being asked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"first question","text":"first answer"},
 {"match":"second question","text":"second answer"}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws"
tui_shell 100 30
tui_run --plain -w "$T/ws"
expect_screen "the REPL prompts" "errand>"
if screen | grep -qF "F2 Chat"; then fail "--plain opened the full-screen interface"; else pass "no full screen"; fi

type_text "/he"
keys Tab
expect_screen "Tab completes slash commands" "errand> /help"
keys Enter
expect_screen "/help answers" "/quit"
type_text "@res"
keys Tab
type_text "first question"
expect_screen "Tab completes agent names" "errand> @research first question"
keys Enter
expect_screen "the answer is printed" "first answer"
expect_screen "and the prompt comes back" "errand>"
expect_contains "the request went to research, as named" "$(tail -1 "$FAKE_REC")" "You are the research agent"

type_text "junk never sent"
keys C-c
sleep 0.3
check "Ctrl-C at the prompt leaves the REPL running" alive
type_text "second question"
keys Enter
expect_screen "Ctrl-C cleared the line: the next one is sent alone" "second answer"
if grep -qF "junk never sent" "$FAKE_REC"; then fail "the cleared line was sent"; else pass "the cleared line was not sent"; fi
keys Up
expect_screen "Up recalls the last request" "errand> second question"
keys C-u
keys C-d
expect_restored "Ctrl-D leaves" 0
check "history kept" grep -q "second question" "$XDG_STATE_HOME/errand/history"

TUI_ENV="TERM=dumb" tui_run -w "$T/ws"
expect_screen "TERM=dumb: the REPL, without asking for it" "errand>"
if screen | grep -qF "F2 Chat"; then fail "TERM=dumb opened the full-screen interface"; else pass "TERM=dumb: no full screen"; fi
type_text "/quit"
keys Enter
expect_restored "/quit leaves" 0
finish
