# Pasting into the full-screen TUI: a bracketed paste of several lines is one
# request, kept in the input for editing until Enter (the status bar says how
# many lines came); Ctrl-J and Alt-Enter break lines by key; a paste while the
# approval dialog is open answers nothing (a pasted "y" is not a yes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"alpha line\\\\nbeta line\\\\ngamma line edited","text":"got the whole paste"},
 {"match":"by key one\\\\nby key two\\\\nby key three","text":"got the keyed lines"},
 {"match":"make it","tool_calls":[{"id":"w","name":"write_file","arguments":{"path":"p.txt","content":"x\\n"}}]},
 {"match":"\"tool_call_id\":\"w\"","text":"write over"}
]}
JSON
not_recorded() { ! grep -qF -- "$1" "$FAKE_REC"; }
tui_begin "$T/s.json" -o policy.write=ask
# tmux pastes with the brackets (-p) only when the application asked for them
# (mode 2004): without them the lines would arrive as keys, Enter and all.

tm set-buffer "$(printf 'alpha line\nbeta line\ngamma line')"
tm paste-buffer -p
expect_screen "the paste says how many lines came" "[pasted 3 lines]"
expect_screen "the pasted lines stay in the input" "gamma line"
check "nothing was sent by the paste" not_recorded 'alpha line'
type_text " edited"
keys Enter
expect_screen "the three lines were one request" "got the whole paste"
wait_idle research
expect_contains "the model got all three lines, edited" "$(grep -F 'alpha line' "$FAKE_REC" | tail -1)" 'gamma line edited'

type_text "by key one"
keys C-j
type_text "by key two"
keys M-Enter
type_text "by key three"
check "Ctrl-J and Alt-Enter send nothing" not_recorded 'by key one'
keys Enter
expect_screen "lines broken by key are one request" "got the keyed lines"
wait_idle research

type_text "@code make it"
keys Enter
expect_screen "the approval dialog opens" "Approval needed"
tm set-buffer "y"
tm paste-buffer -p
expect_screen "a paste during the dialog is refused" "Paste ignored"
check "the pasted y did not approve" test ! -e "$T/ws/p.txt"
expect_screen "the dialog still asks" "Approval needed"
keys n
expect_screen "the task goes on after n" "write over"
wait_idle code
check "nothing written" test ! -e "$T/ws/p.txt"
keys C-d
expect_restored "quit" 0
finish
