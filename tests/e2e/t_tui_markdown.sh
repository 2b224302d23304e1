# Markdown answers laid out (issue 24, item 9): in the TUI's chat a model's
# list items get bullets and its table aligned columns; `errand ask` on a
# terminal does the same and styles headings, bold and code; piped, ask
# prints the Markdown as the model wrote it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
not() { ! "$@"; }
# "Files" in bold on the screen (tmux writes the styles its own way: \e[0;1m…)
bold_heading() { tm capture-pane -p -e | grep -qE $'\e\\[([0-9]+;)*1m(\e\\[[0-9;]*m)*Files'; }
md='# Files\n\nThe **two** files:\n\n- first item\n- [x] checked item\n\n| Name | Size |\n|:-----|-----:|\n| a.c | 12 |\n| long_name.c | 1200 |\n\nUse `make` to build.'
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"list the files","repeat":true,"text":"$md"}
]}
JSON
tui_begin "$T/s.json"
type_text "list the files"
keys Enter
expect_screen "TUI: list items get bullets" "• first item"
expect_screen "TUI: a task item gets a box" "☑ checked item"
expect_screen "TUI: the table's header" "Name        │ Size"
expect_screen "TUI: the header's rule" "────────────┼─────"
expect_screen "TUI: a row, the number right-aligned" "a.c         │   12"
expect_screen "TUI: the longest row" "long_name.c │ 1200"
check "TUI: no raw table rows" not contains "$(screen)" "| a.c |"
wait_idle research
keys C-d
expect_restored "TUI: Ctrl-D leaves" 0

# ask on the terminal of the pane: laid out and styled
tm send-keys -l "clear; $ERRAND -w $T/ws ask 'list the files again'; echo ASK=\$?"
keys Enter
expect_screen "ask on a terminal: exit 0" "ASK=0"
out=$(screen)
expect_contains "ask on a terminal: bullets" "$out" "• first item"
expect_contains "ask on a terminal: the table aligned" "$out" "a.c         │   12"
check "ask on a terminal: the heading without its #" not contains "$out" "# Files"
check "ask on a terminal: bold without its stars" not contains "$out" "**two**"
check "ask on a terminal: the heading in bold" bold_heading
# NO_COLOR: laid out, no styles
tm send-keys -l "clear; NO_COLOR=1 $ERRAND -w $T/ws ask 'list the files once more'; echo ASK=\$?"
keys Enter
expect_screen "ask, NO_COLOR: exit 0" "ASK=0"
expect_contains "ask, NO_COLOR: still aligned" "$(screen)" "a.c         │   12"
check "ask, NO_COLOR: no styles" not bold_heading

# piped: the Markdown as written
out=$("$ERRAND" -w "$T/ws" ask "list the files piped")
expect_contains "ask piped: the raw table" "$out" "| a.c | 12 |"
expect_contains "ask piped: the raw list" "$out" "- first item"
expect_contains "ask piped: the raw heading" "$out" "# Files"
check "ask piped: no escape codes" test "${out//$'\033'/}" = "$out"
finish
