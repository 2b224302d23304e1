# Streamed tokens reach stdout in order, before the task ends.
. "$(dirname "$0")/lib.sh"
words=$(seq 1 60 | sed 's/^/w/' | tr '\n' ' ' | sed 's/ $//')
cat > "$T/s.json" <<JSON
{"turns":[{"match":"You are the code agent","text":"$words","chunk_delay_ms":15}]}
JSON
start_fake "$T/s.json"
use_openai
"$ERRAND" ask --agent code "count" > "$T/out" 2>"$T/err" &
pid=$!
# Part of the answer shows up while the stream is still going.
seen_partial=no
for _ in $(seq 200); do
  n=$(wc -c < "$T/out")
  if [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; then seen_partial=yes; break; fi
  sleep 0.02
done
wait "$pid"; rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "tokens arrived before the end" "$seen_partial" yes
expect_eq "tokens in order, nothing lost" "$(cat "$T/out")" "$words"
expect_eq "stream was requested" "$(req 1 body.stream)" "True"
# Anthropic wire protocol, same expectations
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s.json"
use_anthropic
out=$("$ERRAND" ask --agent code "count"); rc=$?
expect_eq "anthropic exit 0" "$rc" 0
expect_eq "anthropic tokens in order" "$out" "$words"
expect_eq "anthropic path" "$(req 1 path)" "/v1/messages"
expect_contains "anthropic system prompt top-level" "$(req 1 body.system)" "You are the code agent"
expect_eq "anthropic key header" "$(req 1 headers.x-api-key)" "test-key-123456"
finish
