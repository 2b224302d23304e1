# Checkpoints of `run`: the workspace is snapshotted before an approved
# command and compared after it, so `errand undo` puts back what the command
# modified or deleted and removes what it created — as for the file tools —
# refusing when a file changed since.  Ignored directories are left out; a
# file past sandbox.undo_mb is named as not undoable; sandbox.undo_mb = 0
# turns the snapshot off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws/src/deep" "$ws/build"
printf 'line one\nline two\n' > "$ws/src/keep.txt"
chmod 640 "$ws/src/keep.txt"
printf 'doomed\n' > "$ws/gone.txt"
printf 'nested\n' > "$ws/src/deep/inner.txt"
printf 'secret-ish\n' > "$ws/.env"
printf 'untouched\n' > "$ws/other.txt"
printf 'build/\n' > "$ws/.gitignore"
printf 'old artefact\n' > "$ws/build/out.o"

# run_cmd CMD — the code agent runs CMD (approved by --yes), then answers.
run_cmd() {
  calls '[c("x1", "run", cmd=CMD)]' "CMD=$1"
  if [ -n "${FAKE_PID:-}" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; fi
  start_fake "$T/s.json"
  use_openai
  "$ERRAND" -w "$ws" --yes "${@:2}" ask --json -a code "run it" > "$T/out.json" 2>"$T/err"
}

cmd='rm gone.txt && rm -r src/deep && printf "line three\n" >> src/keep.txt && printf "made\n" > made.txt && mkdir -p new/dir && printf x > new/dir/f.txt && rm .env && printf "new artefact\n" > build/out.o'
run_cmd "$cmd"; rc=$?
expect_eq "the task succeeds" "$rc" 0
check "the command deleted gone.txt" not test -e "$ws/gone.txt"
check "  and the directory src/deep" not test -e "$ws/src/deep"
cp_json=$(result_of "$(cat "$T/out.json")" x1 checkpoint)
expect_eq "the run's result says what undo can restore: modified" "$(jget "$cp_json" modified)" '["src/keep.txt"]'
expect_eq "  deleted" "$(jget "$cp_json" deleted)" '[".env","gone.txt","src/deep/inner.txt"]'
expect_eq "  created" "$(jget "$cp_json" created)" '["made.txt","new/dir/f.txt"]'
list=$("$ERRAND" undo --list --json)
expect_eq "one checkpoint, of the task" "$(jget "$list" 0.id)" "$(jget "$(cat "$T/out.json")" task_id)"
expect_eq "  ignored build/ is not in it" "$(jget "$list" 0.files)" \
  '["made.txt","new/dir/f.txt","src/keep.txt",".env","gone.txt","src/deep/inner.txt"]'

out=$("$ERRAND" undo); rc=$?
expect_eq "undo: exit 0" "$rc" 0
expect_contains "  restored the deleted file" "$out" "restored gone.txt"
expect_eq "gone.txt is back" "$(cat "$ws/gone.txt")" doomed
expect_eq "the file in the removed directory is back" "$(cat "$ws/src/deep/inner.txt")" nested
expect_eq "the hidden file is back" "$(cat "$ws/.env")" secret-ish
expect_eq "the modified file is as before" "$(cat "$ws/src/keep.txt")" "$(printf 'line one\nline two')"
expect_eq "  with its mode" "$(stat -c %a "$ws/src/keep.txt")" 640
check "the created file is gone" not test -e "$ws/made.txt"
check "  and the nested one" not test -e "$ws/new/dir/f.txt"
expect_eq "the ignored directory is not restored" "$(cat "$ws/build/out.o")" "new artefact"
expect_eq "other files untouched" "$(cat "$ws/other.txt")" untouched

# A file changed since the command: refused, nothing touched; --force undoes.
run_cmd 'rm gone.txt && printf "by run\n" > other.txt'
printf 'recreated by hand\n' > "$ws/gone.txt"
out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "a file changed since the run: exit 1" "$rc" 1
expect_contains "  naming it" "$out" "gone.txt changed since task"
expect_eq "  nothing touched" "$(cat "$ws/other.txt")" "by run"
out=$("$ERRAND" undo --force); rc=$?
expect_eq "--force: exit 0" "$rc" 0
expect_eq "  gone.txt as before the run" "$(cat "$ws/gone.txt")" doomed
expect_eq "  other.txt as before the run" "$(cat "$ws/other.txt")" untouched

# A command that changes nothing adds nothing; a touch without a change neither.
run_cmd 'touch other.txt; cat gone.txt'
expect_eq "no change: no checkpoint in the result" "$(result_of "$(cat "$T/out.json")" x1 checkpoint)" ""
out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "  and nothing to undo" "$rc" 1

# A file past the snapshot's budget is named, not silently lost.
head -c 2097152 /dev/zero > "$ws/big.bin"
run_cmd 'printf more >> big.bin' -o sandbox.undo_mb=1
expect_eq "past sandbox.undo_mb: named as not undoable" \
  "$(jget "$(result_of "$(cat "$T/out.json")" x1 checkpoint)" not_undoable)" '["big.bin"]'
rm -f "$ws/big.bin"

# sandbox.undo_mb = 0: no snapshot, no checkpoint.
run_cmd 'printf gone > other.txt' -o sandbox.undo_mb=0
expect_eq "undo_mb=0: the command ran" "$(cat "$ws/other.txt")" gone
out=$("$ERRAND" undo 2>&1); rc=$?
expect_eq "  and left nothing to undo" "$rc" 1
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
finish
