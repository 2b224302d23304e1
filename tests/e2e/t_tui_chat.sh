# The full-screen TUI against the fake LLM: an answer streams into the chat
# panel with its code block set off and highlighted; resizing mid-stream (down
# to 80x24, then narrower) neither crashes nor corrupts the screen; the task
# shows as done in the tracker; scrollback with PgUp/PgDn and the wheel; the
# status bar and the help at 80x24; completion, multi-line input, history
# shared between sessions; the memory view finds and continues a
# conversation; quitting restores the terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
words=$(seq 1 50 | sed 's/^/word/' | tr '\n' ' ')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"first question","text":"Answer begins. $words\n\n\`\`\`c\nint main(void) { return 0; }\n\`\`\`\nAnswer ends here.","chunk_delay_ms":40},
 {"match":"many rows","text":"$(seq 1 60 | sed 's/.*/row &/' | tr '\n' '#' | sed 's/#/\\n/g')the last row"},
 {"match":"line three","text":"got three lines"},
 {"match":"another topic","text":"something else"},
 {"match":"second question","text":"second answer"}
]}
JSON
tui_begin "$T/s.json"
expect_screen "four panels in the tab bar, named by the keys that show them" "F5 Memory"

type_text "first question"
keys Enter
expect_screen "the answer starts streaming" "Answer begins."
if screen | grep -qF "Answer ends here."; then
  fail "the whole answer was there at once: not streamed"
else
  pass "part of the answer shows while it streams"
fi
tm resize-window -x 80 -y 24
sleep 0.2
check "alive after shrinking to 80x24 mid-stream" alive
tm resize-window -x 60 -y 20
sleep 0.2
check "alive at 60 columns" alive
expect_screen "narrow: still the chat" "F2 Chat"
if screen | grep -qF "F3 Agents"; then fail "narrow terminal still shows the other panels"; else pass "narrow terminal collapses to the chat panel"; fi
if screen | grep -qF "Tab/S-Tab"; then fail "narrow: the status bar offers panels there are none of"; else pass "narrow: no panel keys in the status bar"; fi
tm resize-window -x 100 -y 30
expect_screen "the stream ends" "Answer ends here."
check "alive after resizing back" alive
expect_screen "code block behind a gutter" "│ int main(void) { return 0; }"
# Highlighted: the C keywords in a colour of their own (magenta, theme.c).
code_row=$(tm capture-pane -p -e | grep -F ' main(')
if printf '%s' "$code_row" | grep -qE $'\e\\[([0-9]+;)*35m(int|return)'; then
  pass "code block highlighted"
else
  fail "code block not highlighted: $(printf '%s' "$code_row" | cat -v)"
fi
expect_screen "the wrapped words all arrived" "word50"
wait_gone "● research" 10
before=$(screen)
keys C-l
sleep 0.5
after=$(screen)
expect_eq "the screen after the resizes is what a full redraw draws" "$before" "$after"
expect_eq "top row is the tab bar" "$(screen | head -1 | cut -c1-8)" " errand "

keys F4
expect_screen "tracker shows the task" "first question"
check "tracker shows it done" wait_for 10 sh -c "tmux -L $TMUX_SOCK capture-pane -p | grep -E 'done +research .*first question'"
keys Enter
expect_screen "Enter opens the task's steps" "routed"
expect_screen "steps end with the answer" "done: Answer begins."
keys Escape
keys F3
expect_screen "monitor lists the agents" "research"
# The monitor refreshes on its own tick (networked, from the workers' reports): wait for it.
check "monitor: research ran once and is idle" wait_for 10 sh -c "tmux -L $TMUX_SOCK capture-pane -p | grep -E '^ research +idle .* 1\$'"
keys F2

type_text "/he"
keys Tab
expect_screen "Tab completes slash commands" "› /help"
keys C-u
type_text "@res"
keys Tab
expect_screen "Tab completes agent names" "› @research"
keys C-u
type_text 'line one\'
keys Enter
type_text "line two"
keys M-Enter
type_text "line three"
expect_screen "multi-line input shows its lines" "line two"
keys Enter
expect_screen "multi-line request answered" "got three lines"
wait_idle research
last_user=$(tail -1 "$FAKE_REC" | /usr/bin/python3 -c 'import json,sys
m=[x for x in json.load(sys.stdin)["body"]["messages"] if x["role"]=="user"]
print(repr(m[-1]["content"]))')
expect_eq "backslash-Enter and Alt-Enter insert newlines" "$last_user" "'line one\\nline two\\nline three'"

keys C-d
expect_restored "Ctrl-D quits" 0
check "history kept" grep -q "first question" "$XDG_STATE_HOME/errand/history"
check "the TUI logs to a file" test -f "$XDG_STATE_HOME/errand/errand.log"

# A second session: history comes back, a new conversation, then the memory view.
tui_run -w "$T/ws"
expect_screen "second session starts" "/help lists commands"
keys Up
expect_screen "Up recalls the last request (multi-line)" "› line one"
expect_screen "with all its lines" "line three"
if screen | grep -qF "first question"; then
  fail "history entries were merged on reading"; screen >&2
else
  pass "history entries stay apart"
fi
keys Up
expect_screen "Up again: the first request" "› first question"
keys C-u
type_text "another topic"
keys Enter
expect_screen "another conversation" "something else"
wait_idle research

# Scrollback: an answer taller than the panel; PgUp/PgDn and the wheel.
type_text "many rows"
keys Enter
expect_screen "a long answer" "the last row"
wait_idle research
keys PPage
expect_screen "PgUp scrolls back" "more (PgDn)"
if screen | grep -qF "the last row"; then fail "PgUp left the end on screen"; else pass "PgUp: the end is below"; fi
keys NPage
expect_screen "PgDn comes back to the end" "the last row"
if screen | grep -qF "more (PgDn)"; then fail "still scrolled back after PgDn"; else pass "PgDn: back at the end"; fi
keys Home
expect_screen "Home on an empty line goes to the top of the chat" "ask anything"
if screen | grep -qF "the last row"; then fail "Home left the end on screen"; else pass "Home: the end is below"; fi
keys End
expect_screen "End comes back to the end" "the last row"
type_text $'\e[M`*('   # the wheel up (xterm mouse report, button 4), as a terminal sends it
expect_screen "the wheel scrolls back three rows" "↓ 3 more (PgDn)"
type_text $'\e[Ma*('   # the wheel down
wait_gone "more (PgDn)" 5 || fail "the wheel did not scroll forward again"
check "the wheel scrolls forward to the end" sh -c "tmux -L $TMUX_SOCK capture-pane -p | grep -qF 'the last row'"

# 80x24: the status bar shows whole keys, the help all of its lines.
tm resize-window -x 80 -y 24
expect_screen "80x24: the status bar names the keys" "Tab/S-Tab panels  F1/? help  ^C cancel  ^L redraw  ^D quit"
keys "?"
expect_screen "? on an empty input line opens the help" "errand — keys"
expect_screen "the help says it scrolls at 80x24" "PgUp PgDn scroll"
keys End
expect_screen "End shows the help's last command" "/quit"
keys Escape
wait_gone "errand — keys" 5 || fail "Esc did not close the help"
check "the ? was not typed into the input" sh -c "tmux -L $TMUX_SOCK capture-pane -p | grep -qx '› *'"
keys F4
expect_screen "80x24: q quits outside the input line" "q quit"
keys F3
expect_screen "80x24: the monitor's columns stay apart" "TOOL / LAST  ELAPSED"
keys F2
tm resize-window -x 100 -y 30

keys F5
expect_screen "memory lists conversations" "another topic"
keys /
expect_screen "/ asks for a search" "search:"
type_text "ends here"
keys Enter
expect_screen "search finds the first conversation only" "1 of 2 conversations match"
expect_screen "with where it matched" "Answer ends here"
keys Enter
expect_screen "Enter continues it in the chat" "Continuing conversation"
expect_screen "its messages are loaded" "Answer ends here."
type_text "second question"
keys Enter
expect_screen "continued conversation answered" "second answer"
wait_idle research
expect_contains "the request carried the earlier messages" "$(tail -1 "$FAKE_REC")" "Answer ends here."
keys F3
sleep 0.2
keys q
expect_restored "q quits outside the input line" 0
finish
