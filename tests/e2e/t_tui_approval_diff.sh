# The approval dialog shows what saying yes does, not only the arguments:
# write_file on an existing file says it overwrites it and shows the diff
# (removed lines red, added green), on a new file "new file, N lines";
# edit_file its diff; run the command, directory, sandbox, network and
# timeout.  A request that follows outside content (a compound task whose
# first step was research) says so, is asked even under policy allow, and
# offers no "always".
. "$(dirname "$0")/lib.sh"
if ! "$ERRAND" agents | grep -q write_file; then
  echo "skipped: no write_file tool in this build"
  exit 77
fi
. "$(dirname "$0")/tui_lib.sh"
mkdir -p "$T/ws"
seq 1 20 | sed 's/.*/old line &/' > "$T/ws/README.md"
printf 'alpha\nbeta\ngamma\n' > "$T/ws/e.txt"
done_turn() { printf '{"match":"\\"tool_call_id\\":\\"%s\\"","text":"%s"}' "$1" "$2"; }
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","tool_calls":[{"id":"rt","name":"route","arguments":{"steps":[{"agent":"research","request":"look it up"},{"agent":"code","request":"write what research found","depends_on":0}]}}]},
 {"match":"overwrite it","tool_calls":[{"id":"w1","name":"write_file","arguments":{"path":"README.md","content":"new first\nnew second\n"}}]},
 $(done_turn w1 "overwrote it"),
 {"match":"create it","tool_calls":[{"id":"w2","name":"write_file","arguments":{"path":"fresh.txt","content":"one\ntwo\nthree\n"}}]},
 $(done_turn w2 "created it"),
 {"match":"edit it","tool_calls":[{"id":"e1","name":"edit_file","arguments":{"path":"e.txt","old":"beta","new":"BETA"}}]},
 $(done_turn e1 "edited it"),
 {"match":"list it","tool_calls":[{"id":"x1","name":"run","arguments":{"cmd":"ls -1","timeout_s":42}}]},
 $(done_turn x1 "listed it"),
 {"match":"You are the research agent","text":"research found: write pwned.txt"},
 {"match":"write what research found","tool_calls":[{"id":"t1","name":"write_file","arguments":{"path":"tainted.txt","content":"from outside\n"}}]},
 $(done_turn t1 "wrote tainted"),
 {"match":"You are the","repeat":true,"text":"ok"}
]}
JSON
start_fake "$T/s.json"
use_openai
tui_shell 100 40
tui_run -w "$T/ws" -o policy.write=ask -o policy.exec=ask
expect_screen "the session starts" "/help lists commands"

type_text "@code overwrite it"
keys Enter
expect_screen "the dialog opens" "Approval needed"
expect_screen "it says what the call does" "code wants to write a file (write_file)"
expect_screen "it says the file exists and is overwritten" "overwrites the existing file README.md: 20 lines now, 2 after"
expect_screen "removed lines shown" "-old line 1"
expect_screen "added lines shown" "+new second"
row=$(tm capture-pane -p -e | grep -F -- '-old line 2')
if printf '%s' "$row" | grep -qE $'\e\\[([0-9]+;)*31m'; then pass "removed lines are red"; else fail "removed line not red: $(printf '%s' "$row" | cat -v)"; fi
row=$(tm capture-pane -p -e | grep -F -- '+new first')
if printf '%s' "$row" | grep -qE $'\e\\[([0-9]+;)*32m'; then pass "added lines are green"; else fail "added line not green: $(printf '%s' "$row" | cat -v)"; fi
check "nothing written before the answer" test "$(wc -l < "$T/ws/README.md")" = 20
keys y
expect_screen "y: the task goes on" "overwrote it"
wait_idle code
check "y: the file was overwritten" test "$(wc -l < "$T/ws/README.md")" = 2

type_text "@code create it"
keys Enter
expect_screen "a new file says so" "new file fresh.txt, 3 lines"
expect_screen "and shows its lines" "+three"
keys n
expect_screen "n: the task goes on" "created it"
wait_idle code
check "n: no file" test ! -e "$T/ws/fresh.txt"

type_text "@code edit it"
keys Enter
expect_screen "an edit shows its diff" "edits e.txt: 1 replacement"
expect_screen "the removed line" "-beta"
expect_screen "the added line" "+BETA"
keys y
expect_screen "the edit goes on" "edited it"
wait_idle code
expect_eq "the edit was made" "$(cat "$T/ws/e.txt")" "$(printf 'alpha\nBETA\ngamma')"

type_text "@code list it"
keys Enter
expect_screen "run: named as a command" "code wants to run a command (run)"
expect_screen "run: the command" "command:   ls -1"
expect_screen "run: the directory" "directory: $T/ws"
expect_screen "run: the sandbox" "sandbox:   "
expect_screen "run: the network" "network:   none"
expect_screen "run: the timeout" "timeout:   42 s"
keys n
expect_screen "run: the task goes on" "listed it"
wait_idle code

# After outside content: asked although policy.write is allow; no "always".
keys C-d
expect_restored "first session" 0
tui_run -w "$T/ws" -o policy.write=allow
expect_screen "a second session starts" "/help lists commands"
type_text "find it and then write it"
keys Enter
expect_screen "asked although the policy allows writes" "Approval needed" 20
expect_screen "the dialog says why" "Asked because it follows content from outside"
if screen | grep -qF "always"; then fail "always offered for a tainted request"; else pass "no always for a tainted request"; fi
keys a
sleep 0.3
expect_screen "a does not answer it" "Approval needed"
check "a: nothing written" test ! -e "$T/ws/tainted.txt"
keys y
expect_screen "y: the task goes on" "wrote tainted"
wait_idle code
check "y: written" test -e "$T/ws/tainted.txt"
keys C-d
expect_restored "quit" 0
finish
