# Checkpoints and `errand undo`: what write_file and edit_file change is kept
# per task, and undo puts it back — created files removed, edited ones
# restored — refusing when a file changed since the task wrote it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws/src"
printf 'line one\nline two\n' > "$ws/src/keep.txt"
chmod 640 "$ws/src/keep.txt"
printf 'untouched\n' > "$ws/other.txt"

# script FILE WORD — the code agent creates new.txt and edits keep.txt (WORD
# in both), then answers.
script() {
  cat > "$1" <<JSON
{"turns":[
 {"match":"\"tool_call_id\":\"w2\"","repeat":true,"text":"changed both"},
 {"match":"You are the code agent","repeat":true,"tool_calls":[
   {"id":"w1","name":"write_file","arguments":{"path":"new.txt","content":"made by $2\n"}},
   {"id":"w2","name":"edit_file","arguments":{"path":"src/keep.txt","old":"line two","new":"line $2"}}]}]}
JSON
}
run_task() {
  "$ERRAND" -w "$ws" --yes ask -a code --no-stream "change files" > "$T/out" 2>"$T/err"
}

out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "nothing to undo yet: exit 1" "$rc" 1
expect_contains "  says so" "$out" "nothing to undo"

script "$T/s.json" first
start_fake "$T/s.json"
use_openai
run_task; rc=$?
expect_eq "the task succeeds" "$rc" 0
expect_eq "it created new.txt" "$(cat "$ws/new.txt")" "made by first"
expect_eq "it edited keep.txt" "$(cat "$ws/src/keep.txt")" "$(printf 'line one\nline first')"

list=$("$ERRAND" undo --list --json)
expect_eq "one checkpoint" "$(jget "$list" 1.id)" ""
id=$(jget "$list" 0.id)
expect_eq "  of two files" "$(jget "$list" 0.files)" '["new.txt","src/keep.txt"]'
expect_eq "  in the workspace" "$(jget "$list" 0.root)" "$(cd "$ws" && pwd -P)"

out=$("$ERRAND" undo); rc=$?
expect_eq "undo: exit 0" "$rc" 0
expect_contains "  names the task" "$out" "undid task $id"
expect_contains "  and what it restored" "$out" "restored src/keep.txt"
check "the created file is gone" not test -e "$ws/new.txt"
expect_eq "the edited file is as before" "$(cat "$ws/src/keep.txt")" "$(printf 'line one\nline two')"
expect_eq "  with its mode" "$(stat -c %a "$ws/src/keep.txt")" 640
expect_eq "other files untouched" "$(cat "$ws/other.txt")" untouched
out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "undone already: nothing more to undo" "$rc" 1
out=$("$ERRAND" undo "$id" 2>&1); rc=$?
expect_contains "undoing it by name again is refused" "$out" "was undone already"

# A file changed since the task: refused, nothing touched; --force undoes it.
run_task
printf 'my own edit\n' >> "$ws/src/keep.txt"
out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "a file changed since: exit 1" "$rc" 1
expect_contains "  naming it" "$out" "src/keep.txt changed since task"
check "  nothing touched (new.txt still there)" test -e "$ws/new.txt"
json=$("$ERRAND" undo --force --json); rc=$?
expect_eq "--force: exit 0" "$rc" 0
expect_eq "  removed new.txt" "$(jget "$json" removed)" '["new.txt"]'
expect_eq "  restored keep.txt" "$(cat "$ws/src/keep.txt")" "$(printf 'line one\nline two')"

# A named checkpoint: the older of two tasks, by an id prefix.
script "$T/s.json" second
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json"
use_openai
run_task
first=$(jget "$("$ERRAND" undo --list --json)" 0.id)
printf 'between\n' > "$ws/new.txt"   # the next task overwrites it: kept as it was
script "$T/s.json" third
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json"
use_openai
printf 'line one\nline two\n' > "$ws/src/keep.txt"
run_task
expect_eq "third task wrote new.txt" "$(cat "$ws/new.txt")" "made by third"
out=$("$ERRAND" undo); rc=$?
expect_eq "undo the newest" "$rc" 0
expect_eq "  new.txt as before it (not removed: it existed)" "$(cat "$ws/new.txt")" between
out=$("$ERRAND" undo "${first%????}" 2>&1); rc=$?
expect_eq "undo by a prefix: the file changed since that task, refused" "$rc" 1
expect_contains "  naming the files" "$out" "new.txt"
out=$("$ERRAND" undo no-such-checkpoint 2>&1); rc=$?
expect_eq "an unknown checkpoint: exit 1" "$rc" 1
expect_contains "  named" "$out" "no checkpoint 'no-such-checkpoint'"
out=$("$ERRAND" undo a b 2>&1); rc=$?
expect_eq "two checkpoints: exit 2" "$rc" 2
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
finish
