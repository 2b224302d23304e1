# Resuming from the command line: -c / --continue goes on with the most
# recent conversation, -r / --resume ID|last with a given one (an id prefix),
# in ask, the --plain REPL and the full-screen TUI; the TUI and the REPL say
# the conversation's id on quitting; nothing to continue is a clear error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"first question","text":"first answer"},
 {"match":"second question","text":"second answer"},
 {"match":"third question","text":"third answer"},
 {"match":"fourth question","text":"fourth answer"},
 {"match":"fifth question","text":"fifth answer"},
 {"match":"other topic","text":"other answer"}
]}
JSON
start_fake "$T/s.json"
use_openai

"$ERRAND" -c ask "first question" </dev/null >/dev/null 2>"$T/err"; rc=$?
expect_eq "-c with no conversation yet: not found status" "$rc" 1
expect_contains "-c with no conversation yet: says so" "$(cat "$T/err")" "no conversation to continue yet"

out=$("$ERRAND" ask "first question" </dev/null); rc=$?
expect_eq "a first conversation" "$out" "first answer"
conv=$("$ERRAND" conv list | head -1 | cut -c1-13)
"$ERRAND" ask "other topic" </dev/null > /dev/null
out=$("$ERRAND" -r "$conv" ask "second question" </dev/null); rc=$?
expect_eq "-r PREFIX: exit 0" "$rc" 0
expect_contains "-r PREFIX: the earlier turn was sent along" "$(req "$(nreq)" body.messages)" "first answer"
out=$("$ERRAND" -c ask "third question" </dev/null); rc=$?
expect_eq "-c: exit 0" "$rc" 0
expect_contains "-c: the most recent conversation goes on" "$(req "$(nreq)" body.messages)" "second answer"
out=$("$ERRAND" ask --resume last "fourth question" </dev/null); rc=$?
expect_eq "--resume last after the command: exit 0" "$rc" 0
expect_contains "--resume last: the same conversation" "$(req "$(nreq)" body.messages)" "third answer"
"$ERRAND" -r zzzzzz ask "x" </dev/null 2>"$T/err"; rc=$?
check "-r with an unknown id fails" test "$rc" -ne 0
expect_contains "-r with an unknown id says so" "$(cat "$T/err")" "no conversation 'zzzzzz'"

# The REPL (lines on stdin, no terminal): -c continues too.
echo "fifth question" | "$ERRAND" -c --plain > "$T/out" 2>&1
expect_contains "--plain -c: answered" "$(cat "$T/out")" "fifth answer"
expect_contains "--plain -c: in the same conversation" "$(req "$(nreq)" body.messages)" "fourth answer"

# The TUI: -c loads the conversation into the chat; quitting names it.
tui_shell 100 30
tui_run -c
expect_screen "the TUI shows the continued conversation" "fifth answer"
keys C-d
expect_screen "quitting names the conversation and how to go on" "errand -r ${conv:0:8} continues it"
expect_restored "quit" 0
finish
