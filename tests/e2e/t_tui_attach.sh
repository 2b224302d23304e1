# @path in the TUI input: Tab completes workspace paths (directories to go on
# from, ignored files left out as code search leaves them), and a file named
# with @ goes with the request: its text is in what the model reads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"zebra-marker-77","text":"I read the notes file."},
 {"match":"summarise","text":"no file came with it"}
]}
JSON
mkdir -p "$T/ws/docs/deep" "$T/ws/build"
printf 'line one\nzebra-marker-77\n' > "$T/ws/docs/deep/notes.txt"
printf 'build/\nsecret-*.txt\n' > "$T/ws/.gitignore"
printf 'x\n' > "$T/ws/secret-one.txt"
printf 'y\n' > "$T/ws/build/out.txt"
tui_begin "$T/s.json"

type_text "summarise @do"
keys Tab
expect_screen "Tab completes a directory" "summarise @docs/"
keys Tab
expect_screen "and goes on into it" "summarise @docs/deep/"
type_text "no"
keys Tab
expect_screen "down to the file" "summarise @docs/deep/notes.txt"
keys C-u
type_text "look at @sec"
keys Tab
sleep 0.3
if screen | grep -qF "@secret-one.txt"; then fail "an ignored file was offered"; else pass "ignored files are not offered"; fi
keys C-u
type_text "look at @bu"
keys Tab
sleep 0.3
if screen | grep -qF "@build/"; then fail "an ignored directory was offered"; else pass "ignored directories are not offered"; fi
keys C-u

type_text "summarise @docs/deep/notes.txt, please"
keys Enter
expect_screen "the model answers from the attached text" "I read the notes file."
expect_screen "the status says what went along" "Attached docs/deep/notes.txt"
wait_idle research
last=$(nreq)
body=$(req "$last" body.messages)
expect_contains "the file's text was sent" "$body" "zebra-marker-77"
expect_contains "named as the file" "$body" "File docs/deep/notes.txt:"
if screen | grep -qF "zebra-marker-77"; then fail "the file's text fills the chat"; else pass "the chat shows the request as typed"; fi

# A word that names no file is text: the request goes as typed.
type_text "summarise @nothing-here"
keys Enter
expect_screen "no file: sent as typed" "no file came with it"
keys C-d
expect_restored "attach" 0
finish
