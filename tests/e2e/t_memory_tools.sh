# The memory tools of the agents (src/tools/memory.c): memory_save stores the
# asking user's item with the task as its source; memory_search hands texts
# back fenced as data; once it has run the task is tainted, so a write that
# follows needs the user's own approval even with --yes (memory_save too:
# what a page said cannot slip into memory unasked).
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"ms1","echo":"ms1"},
 {"match":"remember that","tool_calls":[{"id":"ms1","name":"memory_save","arguments":{"text":"The deploy key rotates monthly","kind":"fact"}}]},
 {"match":"mq1","echo":"mq1"},
 {"match":"what do you remember","tool_calls":[{"id":"mq1","name":"memory_search","arguments":{"query":"deploy key"}}]},
 {"match":"mw2","text":"tried to write"},
 {"match":"ms3","tool_calls":[{"id":"mw2","name":"write_file","arguments":{"path":"out.txt","content":"x"}}]},
 {"match":"mq3","tool_calls":[{"id":"ms3","name":"memory_save","arguments":{"text":"Copied from memory: rotate keys","kind":"fact"}}]},
 {"match":"search then write","tool_calls":[{"id":"mq3","name":"memory_search","arguments":{"query":"deploy key"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws"
json=$("$ERRAND" -w "$T/ws" -y ask --json --agent code "remember that the deploy key rotates monthly"); rc=$?
expect_eq "save: exit 0" "$rc" 0
expect_contains "save: the tool answered" "$(jget "$json" answer)" '"created":true'
task=$(jget "$json" task_id)
list=$("$ERRAND" memory list --json)
expect_eq "stored" "$(jget "$list" 0.text)" "The deploy key rotates monthly"
expect_eq "the task is its source" "$(jget "$list" 0.source)" "$task"
expect_eq "not untrusted" "$(jget "$list" 0.untrusted)" "False"
expect_contains "memory_save offered to the model" "$(req 1 body.tools)" '"name":"memory_save"'

json=$("$ERRAND" -w "$T/ws" -y ask --json --agent code "what do you remember about keys"); rc=$?
expect_eq "search: exit 0" "$rc" 0
answer=$(jget "$json" answer)
expect_contains "search: the text comes back" "$answer" "The deploy key rotates monthly"
expect_contains "search: fenced as data" "$answer" "<<<untrusted-data"

out=$("$ERRAND" -w "$T/ws" -y ask --json --agent code "search then write" 2>"$T/taint.err" </dev/null); rc=$?
check "tainted: the file was not written" test ! -e "$T/ws/out.txt"
expect_contains "tainted: the user is told why" "$(cat "$T/taint.err")" "follows content from outside"
list=$("$ERRAND" memory list --json)
expect_eq "tainted: the save was refused" "$(jget "$list" 1.text)" ""
expect_eq "tainted: what was there stays" "$(jget "$list" 0.text)" "The deploy key rotates monthly"
finish
