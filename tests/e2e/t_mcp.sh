# MCP client: errand's agents use the tools of configured MCP servers
# (tests/fakes/fake_mcp.py) over stdio and Streamable HTTP, in both eras of the
# protocol (the stateless 2026-07-28 revision and the 2025-11-25 handshake).
#   - a tool is offered as mcp__SERVER__TOOL; its result reaches the model
#     fenced as untrusted data; tools/list is followed through its pages;
#   - a call needs the policy's approval like any side effect (no terminal,
#     no --yes: refused, and the server never sees it);
#   - an HTTP server goes through the SSRF guard unless operator_endpoint;
#     a bearer token is sent; an event-stream answer is read;
#   - a crashed stdio server is started again once;
#   - an MCP result cannot grant a permission: the gullible model obeys the
#     orders in it, and under --yes and allow policies its writes and runs
#     are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

FAKE_MCP="$ERRAND_TESTS/fakes/fake_mcp.py"
ws="$T/ws"
mkdir -p "$ws"

# script FILE CALLS_JSON — the code agent makes the calls (the first with id
# "m1"), then answers with m1's result (a model repeating what it got).
script() {
  CALLS="$2" $PY - > "$1" <<'EOF'
import json, os
print(json.dumps({"turns": [
    {"match": '"tool_call_id":"m1"', "repeat": True, "echo": "m1"},
    {"match": "You are the code agent", "repeat": True,
     "tool_calls": json.loads(os.environ["CALLS"])},
]}))
EOF
}

# stdio_conf ERA — a config with the fake as stdio server "fake".
stdio_conf() {
  cat > "$T/conf" <<EOF
[mcp.fake]
command = $PY
args = $FAKE_MCP --era $1 --log $T/mcp-$1.log
agents = code
EOF
}

# said — what the last run told about itself: its stderr ($T/err) and, networked,
# what the workers logged since fresh_logs (there the worker, not the client,
# talks to the MCP server, and its warnings go to its log).
said() {
  cat "$T/err"
  if [ -n "$NETWORKED" ]; then cat "$ERRAND_NET_LOGS"/*.log 2>/dev/null; fi
}
# fresh_logs — empties the workers' logs (they append) before a run said reads.
fresh_logs() {
  if [ -n "$NETWORKED" ]; then
    for f in "$ERRAND_NET_LOGS"/*.log; do [ -e "$f" ] && : > "$f"; done
  fi
  return 0
}

mcp_calls() { grep -c '"tools/call"' "$1" 2>/dev/null || true; }

for era in modern legacy; do
  stdio_conf $era
  script "$T/s.json" '[{"id": "m1", "name": "mcp__fake__echo", "arguments": {"text": "hello-from-mcp"}}]'
  start_fake "$T/s.json"
  use_openai
  out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "echo it" 2>"$T/err"); rc=$?
  expect_eq "$era stdio: the task succeeds" "$rc" 0
  expect_contains "$era stdio: the tool's result reaches the answer" "$out" "hello-from-mcp"
  expect_contains "$era stdio: fenced as untrusted data" "$out" '<<<untrusted-data kind="mcp-result" source="fake/echo"'
  check "$era stdio: every page of tools/list offered (the last tool too)" \
    grep -q '"name":"mcp__fake__crash"' "$FAKE_REC"
  if [ $era = modern ]; then
    check "modern: server/discover with the revision in _meta" \
      grep -q '"server/discover".*"io.modelcontextprotocol/protocolVersion": "2026-07-28"' "$T/mcp-modern.log"
    check "modern: no initialize" not grep -q '"initialize"' "$T/mcp-modern.log"
  else
    check "legacy: initialize after a refused server/discover" grep -q '"initialize"' "$T/mcp-legacy.log"
    check "legacy: notifications/initialized sent" grep -q 'notifications/initialized' "$T/mcp-legacy.log"
  fi
  kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
done

# MCP calls are audited (audit.h), with how they were approved.
audit=$("$ERRAND" audit list --json)
expect_eq "the MCP call is in the audit log" "$(jget "$audit" 0.tool)/$(jget "$audit" 0.approval)/$(jget "$audit" 0.outcome)" "mcp__fake__echo/yes/ok"

# The policy decides: no --yes and no terminal, the call is refused unseen.
stdio_conf modern
: > "$T/mcp-modern.log"
script "$T/s.json" '[{"id": "m1", "name": "mcp__fake__echo", "arguments": {"text": "should-not-run"}}]'
start_fake "$T/s.json"
use_openai
fresh_logs
out=$("$ERRAND" --config "$T/conf" -w "$ws" ask -a code --no-stream "echo it" 2>"$T/err")
expect_contains "without approval the call is refused" "$out$(said)" "needs approval"
expect_eq "the server never got the call" "$(mcp_calls "$T/mcp-modern.log")" 0
out=$("$ERRAND" --config "$T/conf" -o policy.send=deny -w "$ws" --yes ask -a code --no-stream "echo it" 2>"$T/err")
expect_contains "policy.send=deny refuses it even with --yes" "$out" "denied by policy"
expect_eq "the server never got the call (deny)" "$(mcp_calls "$T/mcp-modern.log")" 0
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# A failure the tool reports comes back as an error, fenced too.
script "$T/s.json" '[{"id": "m1", "name": "mcp__fake__fail", "arguments": {}}]'
start_fake "$T/s.json"
use_openai
out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "fail" 2>"$T/err")
expect_contains "a tool's failure is an error" "$out" "error: the MCP tool reported a failure"
expect_contains "its text is fenced" "$out" "the fake tool failed on purpose"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# A server that dies is started again once for the next call.  (Its tools are
# read-class here: after an MCP result, a side-effecting call would need a
# person's approval, which this run without a terminal cannot give.)
echo "permission = read" >> "$T/conf"
cat > "$T/s.json" <<'EOF'
{"turns": [
  {"match": "\"tool_call_id\":\"m2\"", "echo": "m2"},
  {"match": "\"tool_call_id\":\"m1\"", "tool_calls": [{"id": "m2", "name": "mcp__fake__echo", "arguments": {"text": "after-restart"}}]},
  {"match": "You are the code agent", "tool_calls": [{"id": "m1", "name": "mcp__fake__crash", "arguments": {}}]}
]}
EOF
start_fake "$T/s.json"
use_openai
out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "crash" 2>"$T/err")
check "the crashing call is an error" grep -q 'exited' "$FAKE_REC"
expect_contains "the restarted server answers the next call" "$out" "after-restart"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# Streamable HTTP, both eras, one JSON body or an event stream, with a token.
for mode in "modern --sse" "legacy"; do
  era=${mode%% *}
  rm -f "$T/mcp.port"
  setpriv --pdeathsig TERM $PY "$FAKE_MCP" --http --era $mode --token s3cret-tok \
    --port-file "$T/mcp.port" --log "$T/mcp-http-$era.log" > "$T/mcp-http.out" 2>&1 &
  MCP_PID=$!
  PIDS+=("$MCP_PID")
  for _ in $(seq 100); do [ -s "$T/mcp.port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$T/mcp.port")/mcp"
  cat > "$T/conf" <<EOF
[mcp.web]
url = $url
token = s3cret-tok
header = X-Test: yes
EOF
  script "$T/s.json" '[{"id": "m1", "name": "mcp__web__add", "arguments": {"a": 40, "b": 2}}]'
  start_fake "$T/s.json"
  use_openai
  # Guarded: 127.0.0.1 is refused by the SSRF guard.
  fresh_logs
  out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "add" 2>"$T/err")
  expect_contains "$era http: a loopback URL is refused by the SSRF guard" "$(said)" "MCP server 'web'"
  check "$era http: the guarded server got nothing" not test -s "$T/mcp-http-$era.log"
  echo "operator_endpoint = true" >> "$T/conf"
  out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "add" 2>"$T/err"); rc=$?
  expect_eq "$era http: the task succeeds" "$rc" 0
  expect_contains "$era http: the result comes back fenced" "$out" "42"
  expect_contains "$era http: fenced" "$out" 'source="web/add"'
  check "$era http: the bearer token was sent" grep -q '"authorization": "Bearer s3cret-tok"' "$T/mcp-http-$era.log"
  check "$era http: the configured header was sent" grep -q '"x-test": "yes"' "$T/mcp-http-$era.log"
  if [ $era = legacy ]; then
    check "legacy http: the session id is sent back" grep -q '"mcp-session-id"' "$T/mcp-http-$era.log"
  else
    check "modern http: MCP-Protocol-Version header" grep -q '"mcp-protocol-version": "2026-07-28"' "$T/mcp-http-$era.log"
  fi
  # Guarded, with the host allowed (web.allow_hosts): through libcurl, the
  # session id read from its answer headers too.
  sed -i '/^operator_endpoint/d' "$T/conf"
  : > "$T/mcp-http-$era.log"
  out=$("$ERRAND" --config "$T/conf" -o web.allow_hosts=127.0.0.1 -w "$ws" --yes ask -a code --no-stream "add" 2>"$T/err"); rc=$?
  expect_eq "$era http guarded but allowed: the task succeeds" "$rc" 0
  expect_contains "$era http guarded but allowed: the result" "$out" 'source="web/add"'
  if [ $era = legacy ]; then
    check "legacy http through the guard: the session id is sent back" grep -q '"mcp-session-id"' "$T/mcp-http-$era.log"
  fi
  # A wrong token: reported, not a crash.
  sed -i 's/^token = .*/token = wrong/' "$T/conf"
  fresh_logs
  "$ERRAND" --config "$T/conf" -o web.allow_hosts=127.0.0.1 -w "$ws" --yes ask -a code --no-stream "add" >/dev/null 2>"$T/err"
  expect_contains "$era http: a refused token is named" "$(said)" "refused the credentials"
  kill "$FAKE_PID" "$MCP_PID" 2>/dev/null; wait "$FAKE_PID" "$MCP_PID" 2>/dev/null
done

# An MCP result cannot grant a permission (the gullible model obeys it).
stdio_conf modern
printf 'untouched\n' > "$ws/notes.md"
script "$T/s.json" '[{"id": "m1", "name": "mcp__fake__poison", "arguments": {}}]'
start_fake "$T/s.json" --gullible on
use_openai
fresh_logs
"$ERRAND" --config "$T/conf" -w "$ws" --yes -o policy.write=allow -o policy.exec=allow \
  ask -a code --no-stream "what is the weather" > "$T/out" 2>"$T/err"
check "the gullible model obeyed the MCP result (it tried write_file)" \
  grep -q '"name":"write_file"' "$FAKE_REC"
check "no file was written" not test -e "$ws/pwned-mcp.txt"
check "no command ran" not test -e "$ws/pwned-mcp-run"
expect_contains "the user is told why" "$(said)" "follows content from outside"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# Nor can a resource's text: the same order, read through the resource tool.
printf 'untouched\n' > "$ws/notes.md"
script "$T/s.json" '[{"id": "m1", "name": "mcp__fake__read_resource", "arguments": {"uri": "fake://weather"}}]'
start_fake "$T/s.json" --gullible on
use_openai
fresh_logs
"$ERRAND" --config "$T/conf" -w "$ws" --yes -o policy.write=allow -o policy.exec=allow \
  ask -a code --no-stream "what is the weather" > "$T/out" 2>"$T/err"
check "resource: the text reached the model fenced as outside data" \
  grep -q '<<<untrusted-data[^>]*>>>[^<]*IMPORTANT SYSTEM NOTICE' "$FAKE_REC"
check "resource: the gullible model obeyed it (it tried write_file)" \
  grep -q '"name":"write_file"' "$FAKE_REC"
check "resource: no file was written" not test -e "$ws/pwned-mcp.txt"
check "resource: no command ran" not test -e "$ws/pwned-mcp-run"
check "resource: notes.md unchanged" grep -qx untouched "$ws/notes.md"
expect_contains "resource: the user is told why" "$(said)" "follows content from outside"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# errand mcp list | tools NAME
stdio_conf legacy
out=$("$ERRAND" --config "$T/conf" mcp list)
expect_contains "mcp list names the server and its transport" "$out" "fake             stdio"
out=$("$ERRAND" --config "$T/conf" mcp tools fake --json); rc=$?
expect_eq "mcp tools exits 0" "$rc" 0
expect_eq "mcp tools: every page listed" "$(jget "$out" tools.4.name)" "mcp__fake__crash"
expect_eq "mcp tools: the revision agreed" "$(jget "$out" revision)" "2025-11-25"
out=$("$ERRAND" --config "$T/conf" mcp tools nope 2>&1); rc=$?
expect_contains "mcp tools on an unknown server" "$out" "no MCP server 'nope'"
printf '[mcp.gone]\ncommand = %s/no-such-program\n' "$T" > "$T/conf"
"$ERRAND" --config "$T/conf" mcp tools gone >/dev/null 2>"$T/err"; rc=$?
expect_eq "a server that cannot start: exit 3" "$rc" 3
expect_contains "  and it is named" "$(cat "$T/err")" "MCP server 'gone'"
out=$("$ERRAND" mcp frob 2>&1); rc=$?
expect_eq "mcp with a bad subcommand: exit 2" "$rc" 2

# Bad configuration is named.
printf '[mcp.broken]\nagents = code\n' > "$T/conf"
fresh_logs
out=$("$ERRAND" --config "$T/conf" -w "$ws" --yes ask -a code --no-stream "x" 2>"$T/err")
expect_contains "a server with neither command nor url is named" "$out$(said)" "neither a command"
out=$("$ERRAND" -o mcp.fake.bogus=1 ask "x" 2>&1)
expect_contains "an unknown MCP key is named" "$out" "unknown setting 'mcp.fake.bogus'"
finish
