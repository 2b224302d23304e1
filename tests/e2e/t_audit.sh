# The audit log: every side-effecting call, allowed or refused, is appended
# with how it was approved; `errand audit verify` finds a changed entry, a
# removed one, and entries cut from the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
ws="$T/ws"
mkdir -p "$ws"
cat > "$T/s.json" <<'JSON'
{"turns": [
  {"match": "\"tool_call_id\":\"w1\"", "repeat": true, "text": "done"},
  {"match": "You are the code agent", "repeat": true, "tool_calls": [
    {"id": "w1", "name": "write_file", "arguments": {"path": "a.txt", "content": "hi\n"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
log="$XDG_DATA_HOME/errand/audit.jsonl"
out=$("$ERRAND" audit verify); rc=$?
expect_eq "no log yet: intact" "$rc" 0
"$ERRAND" -w "$ws" --yes ask -a code "write a.txt" > /dev/null 2>&1
"$ERRAND" -w "$ws" ask -a code "write a.txt" > /dev/null 2>&1
"$ERRAND" -w "$ws" -o policy.write=allow ask -a code "write a.txt" > /dev/null 2>&1
"$ERRAND" -w "$ws" -o policy.write=deny --yes ask -a code "write a.txt" > /dev/null 2>&1
list=$("$ERRAND" audit list --json)
expect_eq "four entries" "$($PY -c 'import json,sys; print(len(json.load(sys.stdin)))' <<< "$list")" 4
expect_eq "--yes" "$(jget "$list" 0.approval)/$(jget "$list" 0.outcome)" "yes/ok"
expect_eq "no terminal: denied" "$(jget "$list" 1.approval)/$(jget "$list" 1.outcome)" "denied/refused"
expect_eq "allowed by policy" "$(jget "$list" 2.approval)/$(jget "$list" 2.outcome)" "policy/ok"
expect_eq "denied by policy" "$(jget "$list" 3.approval)/$(jget "$list" 3.outcome)" "policy-deny/refused"
expect_eq "the tool" "$(jget "$list" 0.tool)" write_file
expect_contains "the arguments" "$(jget "$list" 0.arguments)" '"path":"a.txt"'
check "the user is named" test -n "$(jget "$list" 0.user_id)"
check "the task is named" test -n "$(jget "$list" 0.task_id)"
check "chained: entry 2 carries entry 1's hash" \
  test "$(jget "$list" 1.prev)" = "$(jget "$list" 0.hash)"
out=$("$ERRAND" audit verify); rc=$?
expect_eq "verify: intact" "$rc" 0
expect_contains "verify: says so" "$out" "intact, 4 entries"
cp "$log" "$T/good"; cp "$log.head" "$T/good.head"

# A changed entry.
sed -i '2s/"denied"/"user"/' "$log"
out=$("$ERRAND" audit verify 2>&1); rc=$?
expect_eq "changed entry: exit 1" "$rc" 1
expect_contains "changed entry: named" "$out" "entry 2: its content does not match its hash"
j=$("$ERRAND" audit verify --json)
expect_eq "json: not intact" "$(jget "$j" intact)" False
expect_eq "json: which entry" "$(jget "$j" bad_entry)" 2
cp "$T/good" "$log"
# A removed entry.
sed -i '2d' "$log"
out=$("$ERRAND" audit verify 2>&1); rc=$?
expect_eq "removed entry: exit 1" "$rc" 1
expect_contains "removed entry: named" "$out" "entry 2: its prev is not the hash"
cp "$T/good" "$log"
# The last entry cut off.
sed -i '$d' "$log"
out=$("$ERRAND" audit verify 2>&1); rc=$?
expect_eq "cut log: exit 1" "$rc" 1
expect_contains "cut log: named" "$out" "removed from the end"
cp "$T/good" "$log"
out=$("$ERRAND" audit verify); rc=$?
expect_eq "restored: intact" "$rc" 0
# Appends after a restore go on with the chain.
"$ERRAND" -w "$ws" --yes ask -a code "write a.txt" > /dev/null 2>&1
out=$("$ERRAND" audit verify); rc=$?
expect_contains "appending goes on" "$out" "intact, 5 entries"
# Several processes at once write one chain.
pids=()
for i in 1 2 3 4; do
  "$ERRAND" -w "$ws" --yes ask -a code "write a.txt" > /dev/null 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"
out=$("$ERRAND" audit verify); rc=$?
expect_contains "concurrent appends: one intact chain" "$out" "intact, 9 entries"
out=$("$ERRAND" audit frob 2>&1); rc=$?
expect_eq "bad subcommand: exit 2" "$rc" 2
finish
