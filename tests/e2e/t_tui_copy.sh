# /copy in the TUI: the last answer, or its N-th code block, goes to the
# clipboard through OSC 52 — captured here by tmux (set-clipboard on) as its
# paste buffer — as received: no gutter, no hard wraps.  /mouse turns mouse
# reporting off so the terminal selects text itself, and back on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
long=$(seq 1 30 | sed 's/^/long/' | tr '\n' ' ')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"two blocks","text":"Intro $long end.\n\n\`\`\`sh\necho first\n\`\`\`\n\nThen:\n\n\`\`\`python\nprint('second')\nx = 2\n\`\`\`\nDone."}
]}
JSON
unset DISPLAY WAYLAND_DISPLAY   # OSC 52 only: no desktop clipboard tool here
tui_begin "$T/s.json"
tm set -s set-clipboard on
type_text "/copy"
keys Enter
expect_screen "/copy before any answer says so" "No answer to copy yet"
type_text "two blocks"
keys Enter
expect_screen "the answer comes" "Done."
wait_idle research
type_text "/copy"
keys Enter
expect_screen "/copy says where it went" "to the terminal (OSC 52)"
expect_eq "/copy: the whole answer, unwrapped" "$(tm show-buffer)" \
  "$(printf 'Intro %s end.\n\n```sh\necho first\n```\n\nThen:\n\n```python\nprint('"'"'second'"'"')\nx = 2\n```\nDone.' "$long")"
type_text "/copy 2"
keys Enter
expect_screen "/copy 2 copies a code block" "Copied the code block"
expect_eq "/copy 2: the second block, without fences" "$(tm show-buffer)" "$(printf "print('second')\nx = 2")"
type_text "/copy 1"
keys Enter
expect_screen "/copy 1" "Copied the code block"
expect_eq "/copy 1: the first block" "$(tm show-buffer)" "echo first"
type_text "/copy 9"
keys Enter
expect_screen "/copy 9: no such block" "The last answer has no code block 9"
type_text "/copy x"
keys Enter
expect_screen "/copy x: says how to use it" "/copy N its N-th code block"

expect_eq "mouse reporting on at first" "$(tm display -p '#{mouse_any_flag}')" "1"
type_text "/mouse"
keys Enter
expect_screen "/mouse says what changed" "Mouse off"
expect_eq "/mouse: reporting off" "$(tm display -p '#{mouse_any_flag}')" "0"
type_text "/mouse"
keys Enter
expect_screen "/mouse again" "Mouse on"
expect_eq "/mouse again: reporting on" "$(tm display -p '#{mouse_any_flag}')" "1"
keys C-d
expect_restored "quit" 0
finish
