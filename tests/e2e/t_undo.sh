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

# Undo per step: a task that writes steps.txt in step 2, creates notes.txt in
# step 3 and writes steps.txt again in step 4.  Undoing from step 4 leaves
# step 2's content; from step 2, the original (and notes.txt gone).
printf 'original\n' > "$ws/steps.txt"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"a4\"","repeat":true,"text":"four steps done"},
 {"match":"\"tool_call_id\":\"a3\"","repeat":true,"tool_calls":[
   {"id":"a4","name":"write_file","arguments":{"path":"steps.txt","content":"four\n"}}]},
 {"match":"\"tool_call_id\":\"a2\"","repeat":true,"tool_calls":[
   {"id":"a3","name":"write_file","arguments":{"path":"notes.txt","content":"notes\n"}}]},
 {"match":"\"tool_call_id\":\"a1\"","repeat":true,"tool_calls":[
   {"id":"a2","name":"write_file","arguments":{"path":"steps.txt","content":"two\n"}}]},
 {"match":"You are the code agent","repeat":true,"tool_calls":[
   {"id":"a1","name":"read_file","arguments":{"path":"steps.txt"}}]}]}
JSON
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json"
use_openai
steps_task() {
  printf 'original\n' > "$ws/steps.txt"
  rm -f "$ws/notes.txt"
  "$ERRAND" -w "$ws" --yes ask -a code --no-stream "work in steps" > "$T/out" 2>"$T/err"
}
steps_task; rc=$?
expect_eq "the four-step task succeeds" "$rc" 0
expect_eq "  steps.txt as step 4 wrote it" "$(cat "$ws/steps.txt")" four
list=$("$ERRAND" undo --list --json)
sid=$(jget "$list" 0.id)
expect_eq "its checkpoint lists the steps that changed files" \
  "$(jget "$list" 0.steps | tr -d ' \n')" \
  '[{"step":2,"agents":["code"],"files":["steps.txt"],"undone":false},{"step":3,"agents":["code"],"files":["notes.txt"],"undone":false},{"step":4,"agents":["code"],"files":["steps.txt"],"undone":false}]'
out=$("$ERRAND" undo --list)
expect_contains "undo --list shows step 4 and its file" "$out" "  step 4 (code): steps.txt"
out=$("$ERRAND" undo --show "$sid" --step 4)
expect_contains "undo --show --step 4: the steps" "$out" "  step 2 (code): steps.txt"
expect_contains "  what it would restore" "$out" "  restore steps.txt"
check "  touching nothing" test "$(cat "$ws/steps.txt")" = four

out=$("$ERRAND" undo "$sid" --step 4); rc=$?
expect_eq "undo --step 4: exit 0" "$rc" 0
expect_contains "  says which steps" "$out" "undid steps 4 and later of task $sid"
expect_eq "  steps.txt as step 2 left it" "$(cat "$ws/steps.txt")" two
expect_eq "  notes.txt (step 3) kept" "$(cat "$ws/notes.txt")" notes
list=$("$ERRAND" undo --list --json)
expect_eq "  step 4 marked undone" "$(jget "$list" 0.steps.2.undone)" True
expect_eq "  step 3 not" "$(jget "$list" 0.steps.1.undone)" False
expect_eq "  the checkpoint partly undone" "$(jget "$list" 0.undone_from)" 4
out=$("$ERRAND" undo "$sid" --step 4 2>&1); rc=$?
expect_eq "undo --step 4 again: exit 1" "$rc" 1
expect_contains "  undone already" "$out" "steps 4 and later of task $sid were undone already"
out=$("$ERRAND" undo "$sid" --step 2); rc=$?
expect_eq "undo --step 2: exit 0" "$rc" 0
expect_eq "  steps.txt as before the task" "$(cat "$ws/steps.txt")" original
check "  notes.txt (created in step 3) removed" test ! -e "$ws/notes.txt"
expect_eq "  the whole checkpoint undone now" "$(jget "$("$ERRAND" undo --list --json)" 0.undone)" True

# Refused when the file changed since; --force undoes anyway.
steps_task
sid=$(jget "$("$ERRAND" undo --list --json)" 0.id)
out=$("$ERRAND" undo "$sid" --step 9 2>&1); rc=$?
expect_contains "a step that changed nothing: said" "$out" "step 9 of task $sid changed no file"
printf 'mine\n' > "$ws/steps.txt"
out=$("$ERRAND" undo "$sid" --step 4 2>&1); rc=$?
expect_eq "a step's file changed since: exit 1" "$rc" 1
expect_contains "  naming it" "$out" "steps.txt changed since task $sid"
expect_eq "  nothing touched" "$(cat "$ws/steps.txt")" mine
out=$("$ERRAND" undo "$sid" --step 4 --force); rc=$?
expect_eq "  --force: exit 0" "$rc" 0
expect_eq "  steps.txt as step 2 left it" "$(cat "$ws/steps.txt")" two
out=$("$ERRAND" undo --step zero 2>&1); rc=$?
expect_eq "--step with no number: exit 2" "$rc" 2
"$ERRAND" undo "$sid" > /dev/null

# A checkpoint of an older errand (lines without a step) is undone whole.
old_id=0123456789abcdef-old
old_dir="${XDG_DATA_HOME:-$HOME/.local/share}/errand/checkpoints/$old_id"
mkdir -p "$old_dir"
printf 'before the old task\n' > "$old_dir/b0"
root=$(cd "$ws" && pwd -P)
after=$(printf 'old task wrote this\n' | sha256sum | cut -d' ' -f1)
printf '{"path":"legacy.txt","root":"%s","ts":1,"after":"%s","existed":true,"mode":420,"before":"b0"}\n' \
  "$root" "$after" > "$old_dir/index.jsonl"
printf 'old task wrote this\n' > "$ws/legacy.txt"
list=$("$ERRAND" undo --list --json)
expect_contains "an old checkpoint is listed, its change as step 0" "$list" '"step":	0'
out=$("$ERRAND" undo "$old_id" --step 1 2>&1); rc=$?
expect_contains "  a step of it: nothing from then on" "$out" "changed no file"
out=$("$ERRAND" undo "$old_id"); rc=$?
expect_eq "  undone whole" "$(cat "$ws/legacy.txt")" "before the old task"

# A subagent's changes belong to the step that delegated to it, and name it.
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"c3\"","repeat":true,"text":"delegated, then wrote"},
 {"match":"\"tool_call_id\":\"d1\"","repeat":true,"tool_calls":[
   {"id":"c3","name":"write_file","arguments":{"path":"sub.txt","content":"top\n"}}]},
 {"match":"\"tool_call_id\":\"s2\"","repeat":true,"text":"WRITER: done"},
 {"match":"\"tool_call_id\":\"s1\"","repeat":true,"tool_calls":[
   {"id":"s2","name":"write_file","arguments":{"path":"sub.txt","content":"writer two\n"}}]},
 {"match":"You are the writer subagent","repeat":true,"tool_calls":[
   {"id":"s1","name":"write_file","arguments":{"path":"sub.txt","content":"writer one\n"}}]},
 {"match":"\"tool_call_id\":\"b1\"","repeat":true,"tool_calls":[
   {"id":"d1","name":"task","arguments":{"subagent":"writer","description":"write sub.txt"}}]},
 {"match":"You are the code agent","repeat":true,"tool_calls":[
   {"id":"b1","name":"read_file","arguments":{"path":"steps.txt"}}]}]}
JSON
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json"
use_openai
"$ERRAND" -w "$ws" --yes ask -a code --no-stream "delegate the writing" > "$T/out" 2>"$T/err"; rc=$?
expect_eq "the delegating task succeeds" "$rc" 0
expect_eq "  sub.txt as the agent wrote it last" "$(cat "$ws/sub.txt")" top
list=$("$ERRAND" undo --list --json)
subid=$(jget "$list" 0.id)
expect_eq "the writer's two steps count as the agent's step 2, naming it" \
  "$(jget "$list" 0.steps.0 | tr -d ' \n')" \
  '{"step":2,"agents":["code/writer"],"files":["sub.txt"],"undone":false}'
expect_eq "  the agent's own write is step 3" "$(jget "$list" 0.steps.1.agents)" '["code"]'
"$ERRAND" undo "$subid" --step 3 > /dev/null; rc=$?
expect_eq "undo --step 3: sub.txt as the writer left it" "$(cat "$ws/sub.txt")" "writer two"
"$ERRAND" undo "$subid" --step 2 > /dev/null; rc=$?
check "undo --step 2: sub.txt (created by the writer) removed" test ! -e "$ws/sub.txt"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
finish
