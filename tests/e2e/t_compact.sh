# A conversation that outgrows the model's context window (llm.context_window)
# has its older turns compacted: the model summarises them, and the request
# that follows carries the summary (fenced as data) and the recent turns only,
# the latest instruction verbatim.  The messages all stay in the store.  A
# process killed while the model summarises loses nothing: the next run
# compacts again.  A conversation resumed later (ask -c, a new process, the
# TUI) starts from the stored summary, and so does the supervisor's routing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"You compact a conversation","stall_ms":60000,"text":"too late"},
 {"match":"You compact a conversation","repeat":true,"text":"SUMMARY-NOTES: the project is called Zephyr; the user prefers teal."},
 {"match":"QID:","repeat":true,"text":"noted"}
]}
JSON
start_fake "$T/s.json"
use_openai
export ERRAND_LLM_CONTEXT_WINDOW=4000 ERRAND_LOG=info
pad=$(printf 'lorem ipsum %.0s' $(seq 170))  # about 500 tokens a question

if [ -n "$NETWORKED" ]; then
  start_worker supervisor; start_worker aggregator
  start_worker research; research=$WORKER_PID; logf=$WORKER_LOG
fi
compacting() { grep -q "compacting conversation" "$logf"; }
ended() { ! kill -0 "$ask" 2>/dev/null; }
ended_or_compacting() { ended || compacting; }

# Turns until one sets off a compaction (the first one stalls at the model).
n=0; cont=()
while [ $n -lt 12 ]; do
  n=$((n + 1))
  [ -z "$NETWORKED" ] && logf="$T/err.$n"
  "$ERRAND_BIN" "${cont[@]}" ask "QID:$n $pad" </dev/null > "$T/out.$n" 2> "$T/err.$n" &
  ask=$!
  wait_for 60 ended_or_compacting
  if compacting; then break; fi
  wait "$ask"; rc=$?
  if [ $rc -ne 0 ]; then fail "turn $n: exit $rc: $(cat "$T/err.$n")"; break; fi
  cont=(-c)
done
check "a turn past the window sets off a compaction" compacting
check "not before the window is reached" test "$n" -gt 2
conv=$("$ERRAND_BIN" conv list | head -1 | cut -c1-13)
id=$(jget "$("$ERRAND_BIN" task list --json --status running)" 0.id)
check "the compacting task is running" test -n "$id"

# The crash, while the model writes the summary.
if [ -z "$NETWORKED" ]; then
  kill -9 "$ask"; wait "$ask" 2>/dev/null
else
  kill -9 "$research"; wait "$research" 2>/dev/null
fi
shown=$("$ERRAND_BIN" conv show "$conv")
check "every question is still in the store" test "$(grep -o 'QID:[0-9]*' <<<"$shown" | sort -u | wc -l)" -eq "$n"
check "no compaction was recorded by the killed run" sh -c "! \"$ERRAND_BIN\" task show --json $id | grep -q '\"compaction\"'"

if [ -z "$NETWORKED" ]; then
  # The next turn compacts again, and succeeds.
  out=$("$ERRAND_BIN" -c ask "QID:final $pad" </dev/null 2>"$T/err.final"); rc=$?
  expect_eq "the turn after the crash succeeds" "$rc" 0
  expect_eq "its answer" "$out" "noted"
  last="QID:final"
else
  # Another worker takes the task over and compacts again.
  start_worker research
  wait "$ask"; rc=$?
  expect_eq "the task taken over succeeds" "$rc" 0
  expect_eq "its answer" "$(cat "$T/out.$n")" "noted"
  last="QID:$n "
fi
body=$(grep -F "$last" "$FAKE_REC" | grep -v "You compact" | tail -1)
msgs=$(jget "$body" body.messages)
expect_contains "the request carries the summary" "$msgs" "SUMMARY-NOTES: the project is called Zephyr"
expect_contains "fenced as data" "$msgs" "untrusted-data kind=\\\"conversation-summary\\\""
expect_contains "the latest instruction verbatim" "$msgs" "$last"
check "the oldest turn is not sent again" sh -c "! grep -q 'QID:1 ' <<'EOF2'
$msgs
EOF2"
summ=$(grep "You compact a conversation" "$FAKE_REC" | tail -1)
expect_contains "the model was given the oldest turns to summarise" "$summ" "QID:1 "
tid=$(jget "$("$ERRAND_BIN" task list --json --limit 1)" 0.id)
ev=$("$ERRAND_BIN" task show --json "$tid")
expect_contains "the compaction is an event of the task" "$ev" '"compaction"'
expect_contains "…and it was stored" "$ev" 'stored'

# Resumed later (a new process): the stored summary comes along, the model is
# not asked to summarise the same turns again.
ncompact=$(grep -c "You compact a conversation" "$FAKE_REC")
out=$("$ERRAND_BIN" -c ask "QID:after short question" </dev/null 2>"$T/err.after"); rc=$?
expect_eq "a resumed turn succeeds" "$rc" 0
msgs=$(jget "$(grep -F "QID:after" "$FAKE_REC" | tail -1)" body.messages)
expect_contains "the resumed conversation starts from the summary" "$msgs" "SUMMARY-NOTES"
check "the oldest turn stays out" sh -c "! grep -q 'QID:1 ' <<'EOF2'
$msgs
EOF2"
# The supervisor routes with the summary and the recent turns, like the agents.
route=$(grep -F "QID:after" "$FAKE_REC" | grep -F '"name":"route"' | tail -1)
rmsgs=$(jget "$route" body.messages)
expect_contains "the routing request starts from the summary" "$rmsgs" "SUMMARY-NOTES"
expect_contains "…fenced as data" "$rmsgs" "untrusted-data kind=\\\"conversation-summary\\\""
check "…and leaves the oldest turn out" sh -c "! grep -q 'QID:1 ' <<'EOF2'
$rmsgs
EOF2"
expect_eq "no new compaction for a turn that fits" "$(grep -c "You compact a conversation" "$FAKE_REC")" "$ncompact"
# The TUI resumes it too: the next request from its chat carries the summary.
tui_shell 100 30
tui_run -c
expect_screen "the TUI shows the resumed conversation" "noted"
type_text "QID:tui asked in the TUI"; keys Enter
# The agent's request, not the supervisor's routing one.
tui_asked() { grep -F "QID:tui" "$FAKE_REC" | grep -vqF '"name":"route"'; }
check "the TUI's request reaches the agent's model" wait_for 30 tui_asked
msgs=$(jget "$(grep -F "QID:tui" "$FAKE_REC" | grep -vF '"name":"route"' | tail -1)" body.messages)
expect_contains "the TUI's request starts from the summary" "$msgs" "SUMMARY-NOTES"
check "the TUI's request leaves the oldest turn out" sh -c "! grep -q 'QID:1 ' <<'EOF2'
$msgs
EOF2"
wait_idle research
keys C-d
expect_restored "quit" 0
check "all the messages are still shown" test "$("$ERRAND_BIN" conv show "$conv" | grep -o 'QID:[0-9a-z]*' | sort -u | wc -l)" -ge "$((n + 1))"
finish
