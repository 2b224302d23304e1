# Approval requests in the TUI: a dialog shows the exact tool and what it
# would do — here the new file's lines as a diff (longer than the dialog, they
# scroll, so nothing is approved unseen);
# y allows, n refuses (the model is told), a allows and answers later requests
# of the same permission class by itself for the rest of the session.
. "$(dirname "$0")/lib.sh"
if ! "$ERRAND" agents | grep -q write_file; then
  echo "skipped: no write_file tool in this build"
  exit 77
fi
. "$(dirname "$0")/tui_lib.sh"
call() { # call ID PATH [MORE] — a turn asking for write_file (MORE: extra content lines)
  printf '{"match":"make %s","tool_calls":[{"id":"%s","name":"write_file","arguments":{"path":"%s","content":"content of %s\\nsecond line\\n%s"}}]}' \
    "$1" "$1" "$2" "$1" "${3:-}"
}
long=$(seq 3 60 | sed 's/.*/line & of one\\n/' | tr -d '\n')
done_turn() { printf '{"match":"\\"tool_call_id\\":\\"%s\\"","text":"%s"}' "$1" "$2"; }
cat > "$T/s.json" <<JSON
{"turns":[
 $(call one one.txt "$long"), $(done_turn one "finished one"),
 $(call two two.txt), $(done_turn two "finished two"),
 $(call three three.txt), $(done_turn three "finished three"),
 $(call four four.txt), $(done_turn four "finished four")
]}
JSON
tui_begin "$T/s.json" -o policy.write=ask

type_text "@code make one"
keys Enter
expect_screen "a dialog asks" "Approval needed"
expect_screen "it names the tool" "code wants to write a file (write_file)"
expect_screen "it names the file and says it is new" "new file one.txt, 60 lines"
expect_screen "file content shown as the file would be" "+content of one"
check "nothing written before the answer" test ! -e "$T/ws/one.txt"
expect_screen "a long argument says it scrolls" "of 64 · ↑↓ PgUp PgDn scroll"
if screen | grep -qF "line 60 of one"; then fail "60 lines fit a 30-row dialog?"; else pass "the end is below"; fi
keys NPage; keys NPage; keys NPage
expect_screen "PgDn scrolls to the argument's last line" "line 60 of one"
expect_screen "the dialog says which rows show" "rows 43-64 of 64"
keys Home
expect_screen "Home goes back to the top" "new file one.txt"
check "scrolling answers nothing" test ! -e "$T/ws/one.txt"
keys y
expect_screen "y: the task goes on" "finished one"
wait_idle code
check "y: the file was written" test -f "$T/ws/one.txt"
expect_screen "the chat notes the decision" "allowed write_file"

type_text "@code make two"
keys Enter
expect_screen "a second dialog" "Approval needed"
keys n
expect_screen "n: the task goes on" "finished two"
wait_idle code
check "n: no file" test ! -e "$T/ws/two.txt"
expect_contains "n: the model was told it was denied" "$(tail -1 "$FAKE_REC")" "denied"

type_text "@code make three"
keys Enter
expect_screen "a third dialog" "Approval needed"
keys a
expect_screen "a: the task goes on" "finished three"
wait_idle code
check "a: the file was written" test -f "$T/ws/three.txt"

type_text "@code make four"
keys Enter
expect_screen "always: the next write needs no question" "finished four"
wait_idle code
check "always: the file was written" test -f "$T/ws/four.txt"
expect_screen "always: the chat says it was answered for the session" "always for write tools"
if screen | grep -qF "Approval needed"; then fail "a dialog is still open"; else pass "no dialog left open"; fi
keys C-d
expect_restored "quit" 0
finish
