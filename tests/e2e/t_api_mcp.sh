# /mcp on errand serve: errand as an MCP server over Streamable HTTP, behind
# the API's bearer-token auth, checked with the official MCP SDK client from
# npm (tests/mcp/sdk_client.mjs, `make mcp-deps`) and with errand's own client:
#   - tools route and ask_AGENT run the caller's tasks; the answer comes back;
#   - the caller's tasks, conversations and memories are resources, and only
#     the caller's: another user neither lists nor reads them;
#   - sessions: an initialize gets an Mcp-Session-Id that only its user may use;
#   - no token: 401 with WWW-Authenticate; bad input: clear answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"

PY=/usr/bin/python3
not() { ! "$@"; }
SDK_CLIENT="$ERRAND_SRC/tests/mcp/sdk_client.mjs"
if [ ! -d "$ERRAND_SRC/tests/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "the MCP SDK is not installed: run \`make mcp-deps\` (npm ci in tests/mcp)" >&2
  exit 1
fi
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"You are the code agent","repeat":true,"text":"Answer from the code agent."},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
SERVE_ARGS="--grace 2" start_server -o server.workspaces="$T/users"
ALICE=$(mkuser alice)
BOB=$(mkuser bob)

# mcp TOKEN JSON [extra curl args] — one POST /mcp; STATUS and BODY as call's.
# ACCEPT: the Accept header (default: both, as the transport asks of clients).
mcp() {
  local token=$1 body=$2; shift 2
  STATUS=$(curl -s -o "$T/resp" -D "$T/hdrs" -w '%{http_code}' -X POST \
    ${token:+-H "Authorization: Bearer $token"} -H 'Content-Type: application/json' \
    -H "Accept: ${ACCEPT:-application/json, text/event-stream}" "$@" --data-binary "$body" "$API/mcp")
  BODY=$(cat "$T/resp")
  printf '%s\n' "$BODY" >> "$T/all_responses"
}

# ---- auth ----
mcp "" '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect_status "no token" 401
expect_contains "no token: a bearer challenge" "$(header WWW-Authenticate)" "Bearer"
mcp "not-a-token" '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect_status "a bad token" 401

# ---- the SDK client: tools, a call, resources ----
out=$(cd "$ERRAND_SRC/tests/mcp" && timeout 120 node "$SDK_CLIENT" "$API/mcp" "$ALICE" "write hello" 2>"$T/sdk.err"); rc=$?
expect_eq "sdk: the session ran" "$rc" 0
[ $rc -eq 0 ] || cat "$T/sdk.err" >&2
expect_eq "sdk: the server's name" "$(jget "$out" server.name)" errand
expect_contains "sdk: resources announced" "$(jget "$out" capabilities)" "resources"
check "sdk: a session id was given" test -n "$(jget "$out" session)"
expect_contains "sdk: route listed" "$(jget "$out" tools)" '"route"'
expect_contains "sdk: ask_code listed" "$(jget "$out" tools)" '"ask_code"'
expect_eq "sdk: the call answered" "$(jget "$out" call.content.0.text)" "Answer from the code agent."
expect_eq "sdk: the call did not fail" "$(jget "$out" call.isError)" False
task_uri=$($PY -c 'import json,sys; print(next(r["uri"] for r in json.load(sys.stdin)["resources"] if r["uri"].startswith("errand://tasks/")))' <<<"$out")
conv_uri=$($PY -c 'import json,sys; print(next((r["uri"] for r in json.load(sys.stdin)["resources"] if r["uri"].startswith("errand://conversations/")), ""))' <<<"$out")
check "sdk: the task is a resource" test -n "$task_uri"
check "sdk: its conversation is a resource" test -n "$conv_uri"
expect_contains "sdk: the task read" "$(jget "$out" read.contents.0.text)" '"request":"write hello"'
expect_eq "sdk: read as JSON" "$(jget "$out" read.contents.0.mimeType)" application/json
expect_eq "sdk: an unknown resource: not found" "$(jget "$out" missing.code)" -32002

# A memory of alice's is a resource too.
call POST /api/v1/memory '{"text":"alice likes tea"}' "$ALICE"
expect_status "memory saved" 201
mem_id=$(jget "$BODY" id)
mcp "$ALICE" '{"jsonrpc":"2.0","id":2,"method":"resources/list"}'
expect_contains "alice lists her memory" "$BODY" "errand://memory/$mem_id"
mcp "$ALICE" "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"errand://memory/$mem_id\"}}"
expect_contains "alice reads her memory" "$(jget "$BODY" result.contents.0.text)" "alice likes tea"

# ---- another user sees none of it ----
mcp "$BOB" '{"jsonrpc":"2.0","id":4,"method":"resources/list"}'
expect_status "bob lists" 200
check "bob's list lacks alice's task" not contains "$BODY" "$task_uri"
check "bob's list lacks alice's conversation" not contains "$BODY" "$conv_uri"
check "bob's list lacks alice's memory" not contains "$BODY" "errand://memory/$mem_id"
for uri in "$task_uri" "$conv_uri" "errand://memory/$mem_id"; do
  mcp "$BOB" "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/read\",\"params\":{\"uri\":\"$uri\"}}"
  expect_eq "bob cannot read ${uri%/*}/…" "$(jget "$BODY" error.code)" -32002
  check "  and learns nothing of it" not contains "$BODY" "hello"
done

# ---- sessions ----
mcp "$ALICE" '{"jsonrpc":"2.0","id":6,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
expect_status "initialize" 200
sid=$(header Mcp-Session-Id)
check "initialize: a session id" test -n "$sid"
expect_eq "initialize: the revision asked for" "$(jget "$BODY" result.protocolVersion)" 2025-06-18
mcp "$ALICE" '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "Mcp-Session-Id: $sid"
expect_status "a notification: accepted" 202
mcp "$ALICE" '{"jsonrpc":"2.0","id":7,"method":"ping"}' -H "Mcp-Session-Id: $sid"
expect_status "ping in the session" 200
mcp "$BOB" '{"jsonrpc":"2.0","id":8,"method":"ping"}' -H "Mcp-Session-Id: $sid"
expect_status "bob cannot use alice's session" 404
mcp "$ALICE" '{"jsonrpc":"2.0","id":9,"method":"ping"}' -H "Mcp-Session-Id: ${sid%?}x"
expect_status "a forged session id" 404

# ---- the stateless revision, and an event stream for a call ----
mcp "$ALICE" '{"jsonrpc":"2.0","id":10,"method":"server/discover","params":{}}' -H 'MCP-Protocol-Version: 2026-07-28'
expect_status "server/discover" 200
expect_contains "server/discover: the current revision" "$(jget "$BODY" result.supportedVersions)" "2026-07-28"
mcp "$ALICE" '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"route","arguments":{"request":"hello via route"}}}'
expect_status "tools/call route" 200
expect_contains "an event stream for a call" "$(header Content-Type)" "text/event-stream"
expect_contains "  carrying the answer" "$BODY" '"id":11'
check "  routed and answered" contains "$BODY" '"isError":false'

# ---- bad input ----
mcp "$ALICE" '{"jsonrpc":"2.0","id":12,"method":"resources/frobnicate"}'
expect_eq "unknown method" "$(jget "$BODY" error.code)" -32601
ACCEPT=application/json mcp "$ALICE" '{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"ask_nobody","arguments":{"request":"x"}}}'
expect_eq "unknown tool" "$(jget "$BODY" error.code)" -32602
ACCEPT=application/json mcp "$ALICE" '{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"route","arguments":{}}}'
expect_eq "no request" "$(jget "$BODY" error.code)" -32602
mcp "$ALICE" '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'
expect_eq "an object id" "$(jget "$BODY" error.code)" -32600
mcp "$ALICE" '{this is not json'
expect_status "malformed JSON" 400
mcp "$ALICE" '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
expect_status "a batch (not in the current revisions)" 400
mcp "$ALICE" '{"jsonrpc":"2.0","id":15,"method":"ping"}' -H 'MCP-Protocol-Version: 1999-01-01'
expect_status "an unknown protocol revision" 400
printf '{"jsonrpc":"2.0","id":16,"method":"ping","params":{"pad":"%s"}}' "$(head -c 3000000 /dev/zero | tr '\0' x)" > "$T/big.json"
mcp "$ALICE" "@$T/big.json"
expect_status "an oversized message" 413
call GET /mcp "" "$ALICE"
expect_status "GET /mcp (no server stream)" 405

# ---- errand's own client against /mcp ----
printf '[mcp.self]\nurl = %s/mcp\ntoken = %s\noperator_endpoint = true\n' "$API" "$ALICE" > "$T/self.conf"
out=$("$ERRAND" --config "$T/self.conf" mcp resources self 2>&1); rc=$?
expect_eq "errand mcp resources self: exit 0" "$rc" 0
expect_contains "errand mcp resources self: the task" "$out" "$task_uri"
out=$("$ERRAND" --config "$T/self.conf" mcp read self "errand://memory/$mem_id" 2>&1)
expect_contains "errand mcp read self: the memory" "$out" "alice likes tea"
printf '[mcp.self]\nurl = %s/mcp\noperator_endpoint = true\n' "$API" > "$T/self.conf"
out=$("$ERRAND" --config "$T/self.conf" mcp tools self 2>&1); rc=$?
expect_contains "errand's client without a token: told what to set" "$out" "needs authorisation (HTTP 401"

stop_server
expect_eq "clean stop" "$SERVER_RC" 0

# ---- rate limited like every API route (per user and endpoint) ----
start_server -o server.rate_limit=3 -o server.rate_window=2
limited=""
for _ in $(seq 20); do
  mcp "$ALICE" '{"jsonrpc":"2.0","id":1,"method":"ping"}'
  if [ "$STATUS" = 429 ]; then limited=yes; break; fi
done
expect_eq "/mcp is rate limited" "$limited" yes
check "  with Retry-After" test -n "$(header Retry-After)"
mcp "$BOB" '{"jsonrpc":"2.0","id":1,"method":"ping"}'
expect_status "  another user is not" 200
stop_server
finish
