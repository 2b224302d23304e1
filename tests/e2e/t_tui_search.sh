# /search WORDS in the TUI: the chat jumps to the newest match, the words
# shown reversed; /search again goes to the match above; no match says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
rows=$(seq 1 80 | sed 's/.*/row &/; s/^row 7$/row 7 Needle-Alpha early/; s/^row 70$/row 70 needle-alpha late/' | tr '\n' '#' | sed 's/#/\\n/g')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"many rows","text":"${rows}the last row"}
]}
JSON
tui_begin "$T/s.json"
type_text "many rows please"
keys Enter
expect_screen "the long answer arrives" "the last row"
wait_idle research
if screen | grep -qF "row 7 "; then fail "row 7 on screen before searching"; else pass "the early match is scrolled away"; fi

type_text "/search needle-alpha"
keys Enter
expect_screen "the newest match first" "Match 2 of 2"
expect_screen "its row on screen" "row 70 needle-alpha late"
row=$(tm capture-pane -p -e | grep -F 'row 70 ')
if printf '%s' "$row" | grep -qE $'\e\\[([0-9]+;)*7m(\e\\[[0-9;]*m)*needle-alpha'; then
  pass "the match is shown reversed"
else
  fail "the match is not reversed: $(printf '%s' "$row" | cat -v)"
fi
type_text "/search"
keys Enter
expect_screen "again: the match above" "Match 1 of 2"
expect_screen "case ignored: the early row on screen" "row 7 Needle-Alpha early"
type_text "/search"
keys Enter
expect_screen "past the oldest: round to the newest" "Match 2 of 2"
type_text "/search zzz-not-there"
keys Enter
expect_screen "no match says so" "No match for 'zzz-not-there'"
keys C-d
expect_restored "search" 0
finish
