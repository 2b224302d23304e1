# The TUI's memory view has a second tab, `m`, of what the agents remember:
# the user's memories and the shared ones, newest first; `/` searches them by
# words and meaning, best first; `d` twice forgets the selected one (once
# only asks).  `m` again goes back to the conversations.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the","repeat":true,"text":"Generic answer."}]}
JSON
"$ERRAND_BIN" memory add --kind preference "Ann prefers tea over coffee" > /dev/null
"$ERRAND_BIN" memory add "Deploys happen on Tuesdays" > /dev/null
"$ERRAND_BIN" memory add --scope global "The office closes at six" > /dev/null
tui_begin "$T/s.json"
keys F5
expect_screen "the memory view names its tabs" "m: memories"
keys m
expect_screen "m shows the memories" "Ann prefers tea over coffee"
expect_screen "…every one of them" "Deploys happen on Tuesdays"
expect_screen "…with their kind" "preference"
keys /
expect_screen "/ asks for a search" "search:"
type_text "what does Ann drink"
keys Enter
expect_screen "the search says what it shows" "memories, best first"
first=$(screen | grep -n -e "Ann prefers tea" -e "Deploys happen" -e "office closes" | head -1)
expect_contains "the matching memory ranks first" "$first" "Ann prefers tea"
keys d
expect_screen "d once only asks" "Press d again to forget"
check "…and forgets nothing yet" sh -c "\"$ERRAND_BIN\" memory list | grep -q 'Ann prefers tea'"
keys d
expect_screen "d again forgets it" "Forgotten: Ann prefers tea"
check "…in the store" sh -c "! \"$ERRAND_BIN\" memory list | grep -q 'Ann prefers tea'"
check "…and nothing else" sh -c "\"$ERRAND_BIN\" memory list | grep -q 'Deploys happen'"
keys Escape
check "Esc goes back to the list" wait_gone "best first" 5
expect_screen "…of every memory left" "Deploys happen on Tuesdays"
keys m
expect_screen "m goes back to the conversations" "TITLE"
keys q
expect_restored "quit" 0
finish
