# MCP client against the reference server from npm
# (@modelcontextprotocol/server-everything, tests/mcp: `make mcp-deps`), over
# stdio and Streamable HTTP:
#   - errand mcp tools|resources|read|prompts|prompt NAME: every page of the
#     lists, a resource's text, a prompt filled in with its arguments;
#   - an agent reads a resource through mcp__SERVER__read_resource, and what
#     it read comes back fenced as untrusted data;
#   - bearer tokens from token_file and token_env; a 401 names the setting and
#     shows the server's WWW-Authenticate challenge (tests/fakes/fake_mcp.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

EVERYTHING="$ERRAND_SRC/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [ ! -f "$EVERYTHING" ]; then
  echo "the reference MCP server is not installed: run \`make mcp-deps\` (npm ci in tests/mcp)" >&2
  exit 1
fi
DOCS="$(dirname "$EVERYTHING")/docs"
ws="$T/ws"
mkdir -p "$ws"

cat > "$T/conf" <<EOF
[mcp.everything]
command = node
args = $EVERYTHING stdio
agents = code
EOF
E() { "$ERRAND" --config "$T/conf" "$@"; }

# ---- the commands, over stdio ----
out=$(E mcp tools everything 2>"$T/err"); rc=$?
expect_eq "mcp tools: exit 0" "$rc" 0
expect_contains "mcp tools: the echo tool under the agents' name" "$out" "mcp__everything__echo"

out=$(E mcp resources everything --json 2>"$T/err"); rc=$?
expect_eq "mcp resources: exit 0" "$rc" 0
# Every document of the server's docs/ is a static resource: all listed,
# whatever the page size.
for f in "$DOCS"/*.md; do
  expect_contains "mcp resources: $(basename "$f") listed" "$out" "demo://resource/static/document/$(basename "$f")"
done
ndocs=$(ls "$DOCS"/*.md | wc -l)
nlisted=$($PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for r in d["resources"] if r["uri"].startswith("demo://resource/static/document/")))' <<<"$out")
expect_eq "mcp resources: each document once" "$nlisted" "$ndocs"
expect_contains "mcp resources: templates listed" "$out" '"uriTemplate"'

out=$(E mcp read everything demo://resource/static/document/features.md 2>"$T/err"); rc=$?
expect_eq "mcp read: exit 0" "$rc" 0
expect_eq "mcp read: the resource's text, as is" "$out" "$(cat "$DOCS/features.md")"
out=$(E mcp read everything demo://resource/static/document/no-such.md 2>&1); rc=$?
check "mcp read: an unknown resource fails" test "$rc" -ne 0
expect_contains "mcp read: the server's error is shown" "$out" "resources/read failed"

out=$(E mcp prompts everything 2>"$T/err"); rc=$?
expect_eq "mcp prompts: exit 0" "$rc" 0
expect_contains "mcp prompts: args-prompt listed" "$out" "args-prompt"
expect_contains "mcp prompts: its required argument" "$out" "city (required)"
out=$(E mcp prompt everything args-prompt city=Paris state=Texas 2>"$T/err"); rc=$?
expect_eq "mcp prompt: exit 0" "$rc" 0
expect_eq "mcp prompt: filled in" "$out" "user: What's weather in Paris, Texas?"
out=$(E mcp prompt everything args-prompt city 2>&1); rc=$?
expect_eq "mcp prompt: an argument without = is a usage error" "$rc" 2
out=$(E mcp read nosuch x://y 2>&1); rc=$?
expect_contains "an unknown server is named" "$out" "no MCP server 'nosuch'"

# ---- an agent reads a resource: fenced as outside data ----
cat > "$T/s.json" <<'JSON'
{"turns": [
  {"match": "\"tool_call_id\":\"r1\"", "repeat": true, "echo": "r1"},
  {"match": "You are the code agent", "repeat": true, "tool_calls": [
    {"id": "r1", "name": "mcp__everything__read_resource",
     "arguments": {"uri": "demo://resource/static/document/instructions.md"}}]}
]}
JSON
start_fake "$T/s.json"
use_openai
out=$(E -w "$ws" --yes ask -a code --no-stream "read the instructions" 2>"$T/err"); rc=$?
expect_eq "agent: the task succeeds" "$rc" 0
expect_contains "agent: the resource is fenced as untrusted data" "$out" \
  '<<<untrusted-data kind="mcp-result" source="everything/demo://resource/static/document/instructions.md"'
expect_contains "agent: its text reaches the answer" "$out" "$(head -n 1 "$DOCS/instructions.md")"
check "agent: the resource tools are offered" grep -q '"name":"mcp__everything__list_resources"' "$FAKE_REC"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null

# ---- the same server over Streamable HTTP ----
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port setpriv --pdeathsig TERM node "$EVERYTHING" streamableHttp > "$T/everything-http.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q "listening on port" "$T/everything-http.log" && break; sleep 0.05; done
cat > "$T/conf" <<EOF
[mcp.evhttp]
url = http://127.0.0.1:$port/mcp
operator_endpoint = true
EOF
out=$(E mcp prompt evhttp args-prompt city=Lyon 2>"$T/err"); rc=$?
expect_eq "http: mcp prompt exit 0" "$rc" 0
expect_eq "http: the prompt filled in" "$out" "user: What's weather in Lyon?"
out=$(E mcp read evhttp demo://resource/static/document/structure.md 2>"$T/err")
expect_eq "http: mcp read" "$out" "$(cat "$DOCS/structure.md")"

# ---- bearer tokens (the fake server demands one) ----
rm -f "$T/mcp.port"
setpriv --pdeathsig TERM $PY "$ERRAND_TESTS/fakes/fake_mcp.py" --http --era legacy --token tok-from-file \
  --port-file "$T/mcp.port" --log "$T/mcp-http.log" > "$T/mcp-http.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/mcp.port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$T/mcp.port")/mcp"
printf 'tok-from-file\n' > "$T/token"
printf '[mcp.auth]\nurl = %s\noperator_endpoint = true\n' "$url" > "$T/conf.none"
out=$("$ERRAND" --config "$T/conf.none" mcp tools auth 2>&1); rc=$?
expect_eq "no token: exit 3 (unreachable)" "$rc" 3
expect_contains "no token: says what is needed" "$out" "needs authorisation (HTTP 401"
expect_contains "no token: shows the challenge" "$out" 'resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"'
expect_contains "no token: names the settings" "$out" "mcp.auth.token, token_file or token_env"
cp "$T/conf.none" "$T/conf.file"; echo "token_file = $T/token" >> "$T/conf.file"
out=$("$ERRAND" --config "$T/conf.file" mcp tools auth 2>&1); rc=$?
expect_eq "token_file: exit 0" "$rc" 0
expect_contains "token_file: the tools listed" "$out" "mcp__auth__echo"
check "token_file: the newline is not part of the token" grep -q '"authorization": "Bearer tok-from-file"' "$T/mcp-http.log"
cp "$T/conf.none" "$T/conf.env"; echo "token_env = MCP_TEST_TOKEN" >> "$T/conf.env"
out=$(MCP_TEST_TOKEN=tok-from-file "$ERRAND" --config "$T/conf.env" mcp tools auth 2>&1); rc=$?
expect_eq "token_env: exit 0" "$rc" 0
out=$(MCP_TEST_TOKEN=wrong "$ERRAND" --config "$T/conf.env" mcp tools auth 2>&1); rc=$?
expect_contains "a wrong token: refused, said so" "$out" "refused the credentials (HTTP 401"
out=$(env -u MCP_TEST_TOKEN "$ERRAND" --config "$T/conf.env" mcp tools auth 2>&1); rc=$?
expect_contains "token_env unset: named" "$out" "MCP_TEST_TOKEN (mcp.auth.token_env) is not set"
echo "token = also" >> "$T/conf.env"
out=$("$ERRAND" --config "$T/conf.env" mcp tools auth 2>&1); rc=$?
expect_contains "two token settings: refused" "$out" "more than one of token, token_file and token_env"

finish
