# Type-ahead in the TUI: a request typed while a task runs is queued, not
# refused (the status bar counts it), and sent when the task ends, in the
# order typed; Ctrl-C cancels the task and drops the queue.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
words=$(seq 1 40 | sed 's/^/slow/' | tr '\n' ' ')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"slow one","text":"$words the slow end","chunk_delay_ms":60},
 {"match":"queued two","text":"answer two"},
 {"match":"queued three","text":"answer three"},
 {"match":"slow four","text":"$words four end","chunk_delay_ms":200},
 {"match":"dropped five","text":"should not be asked"}
]}
JSON
tui_begin "$T/s.json"
type_text "slow one"
keys Enter
expect_screen "the first answer streams" "slow1"
type_text "queued two"
keys Enter
expect_screen "a request typed meanwhile is queued" "Queued: sent when the running task ends"
type_text "queued three"
keys Enter
expect_screen "the status bar counts the queue" "2 queued"
expect_screen "the first task ends" "the slow end"
expect_screen "the queued requests are sent in turn" "answer three" 20
wait_idle research
first_line() { grep -nF -- "$1" "$FAKE_REC" | head -1 | cut -d: -f1; }
check "in the order typed" test "$(first_line 'queued two')" -lt "$(first_line 'queued three')"
if screen | grep -qF "Queued:"; then fail "a stale queue hint is left"; else pass "no stale hint once the queue is empty"; fi

type_text "slow four"
keys Enter
expect_screen "a slow task runs" "slow1"
type_text "dropped five"
keys Enter
expect_screen "queued" "1 queued"
keys C-c
expect_screen "Ctrl-C says the queue was dropped" "(1 queued request dropped)"
wait_idle research
sleep 0.5
if grep -qF "dropped five" "$FAKE_REC"; then fail "the dropped request was sent"; else pass "the dropped request was not sent"; fi
keys C-d
expect_restored "quit" 0
finish
