# Tool steps in the chat: each call is a compact line ("read_file
# nope.txt", "run `seq 1 20`", not JSON), marked ✓ with the first lines it
# showed (a write's diff, a command's output, the rest counted) or ✗ with its
# error — in the chat, not only in the task's detail.
. "$(dirname "$0")/lib.sh"
if ! "$ERRAND" agents | grep -q write_file; then
  echo "skipped: no write_file tool in this build"
  exit 77
fi
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"do the steps","tool_calls":[{"id":"c1","name":"read_file","arguments":{"path":"nope.txt"}}]},
 {"match":"\"tool_call_id\":\"c1\"","tool_calls":[{"id":"c2","name":"write_file","arguments":{"path":"out.txt","content":"hello\nworld\n"}}]},
 {"match":"\"tool_call_id\":\"c2\"","tool_calls":[{"id":"c3","name":"run","arguments":{"cmd":"seq 1 20"}}]},
 {"match":"\"tool_call_id\":\"c3\"","text":"all steps done"}
]}
JSON
mkdir -p "$T/ws"
printf 'hello\nthere\n' > "$T/ws/out.txt"
tui_begin "$T/s.json" -o policy.write=allow -o policy.exec=allow
type_text "@code do the steps"
keys Enter
expect_screen "the answer comes" "all steps done"
wait_idle code
expect_screen "a failed call: ✗, its line and its error" "✗ code: read_file nope.txt — "
expect_screen "a write: ✓ and its line" "✓ code: write_file out.txt"
expect_screen "a write: its diff under it" "+world"
expect_screen "a write: the removed line too" "-there"
expect_screen "a command: its line as a command" '✓ code: run `seq 1 20`'
expect_screen "a command: its first output lines" "│ 8"
expect_screen "a command: the rest counted" "… 12 more lines"
if screen | grep -qF '{"path"'; then fail "raw JSON arguments in the chat"; else pass "no raw JSON arguments"; fi
row=$(tm capture-pane -p -e | grep -F 'read_file nope.txt')
if printf '%s' "$row" | grep -qE $'\e\\[([0-9]+;)*31m'; then pass "the failed step is red"; else fail "failed step not red: $(printf '%s' "$row" | cat -v)"; fi
keys C-d
expect_restored "quit" 0
finish
