# "Always" in the approval dialog is as wide as the user chooses: c allows
# this exact command again for the session, t every call of this tool, a the
# whole permission class.  A command allowed with c does not cover another
# command; a tool allowed with t does not cover another tool.
. "$(dirname "$0")/lib.sh"
if ! "$ERRAND" agents | grep -q write_file; then
  echo "skipped: no write_file tool in this build"
  exit 77
fi
. "$(dirname "$0")/tui_lib.sh"
mkdir -p "$T/ws"
run_turn() { # run_turn WORD ID CMD — a turn asking to run CMD
  printf '{"match":"%s","tool_calls":[{"id":"%s","name":"run","arguments":{"cmd":"%s"}}]}' "$1" "$2" "$3"
}
done_turn() { printf '{"match":"\\"tool_call_id\\":\\"%s\\"","text":"%s"}' "$1" "$2"; }
cat > "$T/s.json" <<JSON
{"turns":[
 $(run_turn alpha x1 "echo one > one.txt"), $(done_turn x1 "finished alpha"),
 $(run_turn bravo x2 "echo one > one.txt"), $(done_turn x2 "finished bravo"),
 $(run_turn charlie x3 "echo two > two.txt"), $(done_turn x3 "finished charlie"),
 $(run_turn delta x4 "echo three > three.txt"), $(done_turn x4 "finished delta"),
 {"match":"echo","tool_calls":[{"id":"w1","name":"write_file","arguments":{"path":"w.txt","content":"w\\n"}}]},
 $(done_turn w1 "finished echo"),
 {"match":"You are the","repeat":true,"text":"ok"}
]}
JSON
tui_begin "$T/s.json" -o policy.exec=ask -o policy.write=ask

type_text "@code alpha"
keys Enter
expect_screen "a dialog asks" "Approval needed"
expect_screen "always is for this session" "always for this session:"
expect_screen "c is offered for a command" " c  command"
expect_screen "t is offered" " t  tool"
expect_screen "a is offered" " a  all exec tools"
keys c
expect_screen "c: the task goes on" "finished alpha"
wait_idle code
check "c: the command ran" test -f "$T/ws/one.txt"
expect_screen "c: the chat says what it covers" "always this command this session"

rm -f "$T/ws/one.txt"
type_text "@code bravo"
keys Enter
expect_screen "the same command needs no question" "finished bravo"
wait_idle code
check "the same command ran" test -f "$T/ws/one.txt"

type_text "@code charlie"
keys Enter
expect_screen "another command is asked" "Approval needed"
check "nothing ran before the answer" test ! -e "$T/ws/two.txt"
keys t
expect_screen "t: the task goes on" "finished charlie"
wait_idle code
check "t: the command ran" test -f "$T/ws/two.txt"
expect_screen "t: the chat says what it covers" "always run this session"

type_text "@code delta"
keys Enter
expect_screen "any command of the tool needs no question" "finished delta"
wait_idle code
check "the third command ran" test -f "$T/ws/three.txt"

# run allowed with t does not cover another tool: write_file asks, and n refuses it.
type_text "@code echo"
keys Enter
expect_screen "another tool is still asked" "Approval needed"
expect_screen "it is the other tool" "write_file"
if screen | grep -qF " c  command"; then fail "c offered without a command"; else pass "no c without a command"; fi
keys n
expect_screen "n: the task goes on" "finished echo"
wait_idle code
check "n: nothing written" test ! -e "$T/ws/w.txt"
keys C-d
expect_restored "quit" 0
finish
