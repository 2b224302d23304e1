# /undo in the TUI: shows what undoing the conversation's last checkpoint
# would restore and remove, puts "/undo yes ID" in the input line so Enter
# confirms, and restores through the same module as `errand undo` — the
# file tools' writes and what a `run` command deleted.  A file changed since
# is named and the undo refused until /undo force.  /undo ID step N undoes
# steps N and later only.  The REPL has the same /undo.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
mkdir -p "$T/ws"
printf 'before\n' > "$T/ws/keep.txt"
printf 'doomed\n' > "$T/ws/gone.txt"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"t2\"","repeat":true,"text":"edited twice"},
 {"match":"\"tool_call_id\":\"t1\"","repeat":true,"tool_calls":[
   {"id":"t2","name":"write_file","arguments":{"path":"keep.txt","content":"second\n"}}]},
 {"match":"edit twice","repeat":true,"tool_calls":[
   {"id":"t1","name":"write_file","arguments":{"path":"keep.txt","content":"first\n"}}]},
 {"match":"\"tool_call_id\":\"x1\"","repeat":true,"text":"changed them"},
 {"match":"change them","repeat":true,"tool_calls":[
   {"id":"w1","name":"write_file","arguments":{"path":"keep.txt","content":"after\n"}},
   {"id":"x1","name":"run","arguments":{"cmd":"rm gone.txt"}}]},
 {"match":"You are the","repeat":true,"text":"ok"}
]}
JSON
start_fake "$T/s.json"
use_openai
tui_shell 100 40
tui_run -w "$T/ws" -o policy.write=allow -o policy.exec=allow
expect_screen "the session starts" "/help lists commands"

type_text "/undo"
keys Enter
expect_screen "/undo before any change says so" "Nothing to undo"

type_text "@code change them"
keys Enter
expect_screen "the task ran" "changed them"
wait_idle code
expect_eq "it wrote keep.txt" "$(cat "$T/ws/keep.txt")" after
check "its command deleted gone.txt" test ! -e "$T/ws/gone.txt"
id=$(jget "$("$ERRAND" undo --list --json)" 0.id)

type_text "/undo"
keys Enter
expect_screen "/undo names the task" "Undo task $id"
expect_screen "  what it restores" "restore keep.txt"
expect_screen "  the deleted file too" "restore gone.txt"
expect_screen "  and how to confirm" "Enter restores them"
expect_screen "the input line holds the confirmation" "› /undo yes $id"
check "nothing restored before the confirmation" test ! -e "$T/ws/gone.txt"
keys Enter
expect_screen "Enter: undone" "Undid task $id"
expect_eq "keep.txt as before" "$(cat "$T/ws/keep.txt")" before
expect_eq "gone.txt back" "$(cat "$T/ws/gone.txt")" doomed

type_text "/undo list"
keys Enter
expect_screen "/undo list shows the checkpoint as undone" "(undone)"

# A file changed since the task: named, refused, then forced.
type_text "@code change them"
keys Enter
wait_for 15 test ! -e "$T/ws/gone.txt"
wait_idle code
id2=$(jget "$("$ERRAND" undo --list --json)" 0.id)
printf 'my own edit\n' > "$T/ws/keep.txt"
type_text "/clear"
keys Enter
type_text "/undo"
keys Enter
expect_screen "/undo names the file changed since" "Changed since the task wrote them"
expect_screen "  and offers force" "/undo force $id2 puts back"
if screen | grep -qF "› /undo yes"; then fail "a confirmation offered over a changed file"; else pass "no confirmation offered over a changed file"; fi
type_text "/undo yes $id2"
keys Enter
expect_screen "/undo yes is refused" "not undone: keep.txt changed since task"
expect_eq "  nothing touched" "$(cat "$T/ws/keep.txt")" "my own edit"
check "  gone.txt still gone" test ! -e "$T/ws/gone.txt"
type_text "/undo force $id2"
keys Enter
expect_screen "/undo force undoes" "Undid task $id2"
expect_eq "  keep.txt as before the task" "$(cat "$T/ws/keep.txt")" before
expect_eq "  gone.txt back" "$(cat "$T/ws/gone.txt")" doomed

# One step of a task: keep.txt written in step 1 and again in step 2.
type_text "@code edit twice"
keys Enter
expect_screen "the two-step task ran" "edited twice"
wait_idle code
expect_eq "keep.txt as step 2 wrote it" "$(cat "$T/ws/keep.txt")" second
id4=$(jget "$("$ERRAND" undo --list --json)" 0.id)
type_text "/clear"
keys Enter
type_text "/undo $id4 step 2"
keys Enter
expect_screen "/undo ID step 2 names the steps" "Undo steps 2 and later of task $id4"
expect_screen "  lists the steps with their files" "step 2 (code): keep.txt"
expect_screen "the input line holds the step's confirmation" "› /undo yes $id4 step 2"
keys Enter
expect_screen "Enter: the step undone" "Undid steps 2 and later of task $id4"
expect_eq "  keep.txt as step 1 left it" "$(cat "$T/ws/keep.txt")" first
type_text "/undo $id4 step x"
keys Enter
expect_screen "a bad step number is explained" "step N takes a step number"
keys C-d
expect_restored "quit" 0

# The REPL (--plain): the same /undo, the confirmation typed.
tui_run --plain -w "$T/ws" -o policy.write=allow -o policy.exec=allow
expect_screen "the REPL prompts" "errand>"
type_text "@code change them"
keys Enter
expect_screen "REPL: the task ran" "changed them"
wait_for 15 test ! -e "$T/ws/gone.txt"
id3=$(jget "$("$ERRAND" undo --list --json)" 0.id)
type_text "/undo"
keys Enter
expect_screen "REPL: /undo shows the deleted file" "restore gone.txt"
expect_screen "  and the confirmation to type" "Type /undo yes $id3 to restore them"
check "  nothing restored yet" test ! -e "$T/ws/gone.txt"
type_text "/undo yes $id3"
keys Enter
expect_screen "REPL: /undo yes undoes" "Undid task $id3"
expect_eq "  gone.txt back" "$(cat "$T/ws/gone.txt")" doomed
type_text "@code edit twice"
keys Enter
expect_screen "REPL: the two-step task ran" "edited twice"
wait_for 15 grep -qx second "$T/ws/keep.txt"
id5=$(jget "$("$ERRAND" undo --list --json)" 0.id)
type_text "/undo $id5 step 2"
keys Enter
expect_screen "REPL: /undo ID step 2 offers the step's undo" "Type /undo yes $id5 step 2 to restore them"
type_text "/undo yes $id5 step 2"
keys Enter
expect_screen "REPL: the step undone" "Undid steps 2 and later of task $id5"
expect_eq "  keep.txt as step 1 left it" "$(cat "$T/ws/keep.txt")" first
type_text "/quit"
keys Enter
expect_restored "REPL quit" 0
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
finish
