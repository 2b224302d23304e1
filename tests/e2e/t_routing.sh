# Routing to each of the five agents: the supervisor's decision is followed and
# the chosen agent's system prompt reaches the model.
. "$(dirname "$0")/lib.sh"
agents="code research data email browser"
{
  echo '{"turns":['
  for a in $agents; do
    echo "{\"match\":\"job for $a\",\"tool_calls\":[{\"id\":\"r-$a\",\"name\":\"route\",\"arguments\":{\"steps\":[{\"agent\":\"$a\",\"request\":\"job for $a\"}]}}]},"
    echo "{\"match\":\"You are the $a agent\",\"text\":\"handled by $a\"},"
  done
  echo '{"match":"never","text":"unused"}]}'
} > "$T/s.json"
start_fake "$T/s.json"
use_openai
for a in $agents; do
  json=$("$ERRAND" ask --json "job for $a"); rc=$?
  expect_eq "$a: exit 0" "$rc" 0
  expect_eq "$a: agent chosen" "$(jget "$json" agent)" "$a"
  expect_eq "$a: answer" "$(jget "$json" answer)" "handled by $a"
done
# --agent skips routing: no route request is made
before=$(nreq)
cat > "$T/s2.json" <<'JSON'
{"turns":[{"match":"You are the data agent","text":"direct"}]}
JSON
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
start_fake "$T/s2.json"; use_openai
out=$("$ERRAND" ask --agent data "anything"); rc=$?
expect_eq "--agent exit 0" "$rc" 0
expect_eq "--agent answer" "$out" "direct"
expect_eq "--agent made one request" "$(nreq)" 1
out=$("$ERRAND" ask --agent nosuch "x" 2>&1); rc=$?
expect_eq "unknown agent is a usage error" "$rc" 2
expect_contains "unknown agent named" "$out" "nosuch"
finish
