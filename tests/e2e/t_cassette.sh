# Record/replay: --record FILE appends every LLM exchange of a run; --replay
# FILE runs the same request again with no provider (no network, no key),
# the same way; a request the cassette lacks fails, saying so.
. "$(dirname "$0")/lib.sh"

ws="$T/ws"
mkdir -p "$ws"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"w1\"","repeat":true,"text":"wrote the note for you","usage":{"input":40,"output":7}},
 {"match":"You are the code agent","repeat":true,"usage":{"input":30,"output":5},"tool_calls":[
   {"id":"w1","name":"write_file","arguments":{"path":"note.txt","content":"from the model\n"}}]}]}
JSON
start_fake "$T/s.json"
use_openai
tape="$T/run.cassette"
out=$("$ERRAND" --record "$tape" -w "$ws" --yes ask -a code "write a note" 2>"$T/err"); rc=$?
expect_eq "recording: the task succeeds" "$rc" 0
expect_contains "  with the model's answer" "$out" "wrote the note for you"
expect_eq "  two exchanges recorded" "$(wc -l < "$tape" | tr -d ' ')" 2
line=$(head -1 "$tape")
check "  each with the request (its tools)" test -n "$(jget "$line" request.tools.0.name)"
expect_eq "  and the answer" "$(jget "$line" response.tool_calls.0.name)" write_file
expect_eq "  and its usage" "$(jget "$line" response.usage.input)" 30
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# Replay: the provider is gone and no key is set.
rm -f "$ws/note.txt"
unset OPENAI_API_KEY OPENAI_BASE_URL ERRAND_LLM ERRAND_MODEL
out=$("$ERRAND" --replay "$tape" -w "$ws" --yes ask -a code "write a note" 2>"$T/err"); rc=$?
expect_eq "replay: the task succeeds" "$rc" 0
expect_contains "  with the recorded answer" "$out" "wrote the note for you"
expect_eq "  and the same effect" "$(cat "$ws/note.txt")" "from the model"
json=$("$ERRAND" --replay "$tape" -w "$ws" --yes ask --json -a code "write a note"); rc=$?
expect_eq "replay with the file there: the tool's result differs, so does the request" "$rc" 1
rm -f "$ws/note.txt"
json=$("$ERRAND" --replay "$tape" -w "$ws" --yes ask --json -a code "write a note"); rc=$?
expect_eq "replay again (--json): succeeds" "$rc" 0
expect_eq "  the recorded usage" "$(jget "$json" usage.input_tokens)" 70

# A request the cassette does not hold.
json=$("$ERRAND" --replay "$tape" -w "$ws" --yes ask --json -a code "something else"); rc=$?
expect_eq "an unrecorded request: exit 1" "$rc" 1
expect_contains "  says the cassette lacks it" "$(jget "$json" error)" "has no answer for LLM request"
expect_contains "  and what to do" "$(jget "$json" error)" "record it again with --record"

# Bad cassettes and options.
out=$("$ERRAND" --replay "$T/none.cassette" -w "$ws" ask -a code "x" 2>&1); rc=$?
expect_contains "a missing cassette is named" "$out" "cannot read the cassette '$T/none.cassette'"
echo '{"not": "a cassette"}' > "$T/bad.cassette"
out=$("$ERRAND" --replay "$T/bad.cassette" -w "$ws" ask -a code "x" 2>&1); rc=$?
expect_contains "a file that is not a cassette is named" "$out" "is not one (line 1"
out=$("$ERRAND" --replay "$tape" --record "$T/x" -w "$ws" ask -a code "x" 2>&1); rc=$?
expect_contains "--record with --replay is refused" "$out" "do not go together"
finish
