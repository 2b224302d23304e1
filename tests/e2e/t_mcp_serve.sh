# errand as an MCP server: `errand mcp serve` on stdio, driven by a small
# client here (both eras of the opening, tools/list, tools/call running a
# task, bad input) and by errand's own MCP client (`errand mcp tools`).
# Calls go through the policy: without --yes a write needs an approval no
# one can give, and is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"tool_call_id\":\"w1\"","repeat":true,"echo":"w1"},
 {"match":"You are the code agent","repeat":true,"tool_calls":[
   {"id":"w1","name":"write_file","arguments":{"path":"via-mcp.txt","content":"written through MCP\n"}}]}]}
JSON
start_fake "$T/s.json"
use_openai

# client.py OUT ERRAND-ARGS... — one session: every message below sent in
# turn, every answer (by id) written to OUT as a JSON object.
cat > "$T/client.py" <<'PY'
import json, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def send(raw):
    p.stdin.write(raw.encode() + b"\n"); p.stdin.flush()
def call(mid, method, params=None):
    m = {"jsonrpc": "2.0", "id": mid, "method": method}
    if params is not None:
        m["params"] = params
    send(json.dumps(m))
    return json.loads(p.stdout.readline())
got = {}
got["init"] = call(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                      "clientInfo": {"name": "t", "version": "1"}})
send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
got["discover"] = call(2, "server/discover",
                       {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}})
got["ping"] = call(3, "ping")
got["list"] = call(4, "tools/list", {})
got["call"] = call(5, "tools/call", {"name": "ask_code", "arguments": {"request": "write it"}})
got["unknown_tool"] = call(6, "tools/call", {"name": "ask_nobody", "arguments": {"request": "x"}})
got["no_request"] = call(7, "tools/call", {"name": "route", "arguments": {}})
got["unknown_method"] = call(8, "resources/frobnicate", {})
send("{this is not json")
got["bad_json"] = json.loads(p.stdout.readline())
send(json.dumps({"jsonrpc": "2.0", "id": 9}))
got["no_method"] = json.loads(p.stdout.readline())
send('{"jsonrpc": "2.0", "id": 10, "method": "ping", "params": {"pad": "' + "x" * (5 << 20) + '"}}')
got["too_big"] = json.loads(p.stdout.readline())
got["after_too_big"] = call(11, "ping")
p.stdin.close()
got["exit"] = p.wait(timeout=60)
json.dump(got, open(out, "w"))
PY

run_session() { (cd "$ws" && timeout 120 $PY "$T/client.py" "$1" "${@:2}") 2>"$T/err"; }

# Without --yes: the write needs an approval; refused, no file.
run_session "$T/a.json" "$ERRAND" -w "$ws" mcp serve
a=$(cat "$T/a.json")
expect_eq "initialize: the revision asked for" "$(jget "$a" init.result.protocolVersion)" "2025-06-18"
expect_eq "initialize: names errand" "$(jget "$a" init.result.serverInfo.name)" errand
expect_eq "initialize: offers tools" "$(jget "$a" init.result.capabilities.tools)" "{}"
expect_eq "server/discover: the stateless revision" "$(jget "$a" discover.result.supportedVersions.0)" "2026-07-28"
expect_eq "ping answers" "$(jget "$a" ping.result)" "{}"
expect_eq "tools/list: route first" "$(jget "$a" list.result.tools.0.name)" route
expect_contains "tools/list: ask_code" "$(jget "$a" list.result.tools)" '"name":"ask_code"'
expect_eq "  its argument" "$(jget "$a" list.result.tools.1.inputSchema.required.0)" request
# (The fake model repeats what its tool call got: the refusal.)
expect_contains "tools/call without --yes: the write was refused" "$(jget "$a" call.result.content.0.text)" "denied this write_file call"
check "  and no file was written" not test -e "$ws/via-mcp.txt"
expect_eq "an unknown tool: -32602" "$(jget "$a" unknown_tool.error.code)" -32602
expect_eq "no request: -32602" "$(jget "$a" no_request.error.code)" -32602
expect_eq "an unknown method: -32601" "$(jget "$a" unknown_method.error.code)" -32601
expect_eq "not JSON: -32700" "$(jget "$a" bad_json.error.code)" -32700
expect_eq "no method: -32600" "$(jget "$a" no_method.error.code)" -32600
expect_eq "a message over 4 MB: -32600" "$(jget "$a" too_big.error.code)" -32600
expect_eq "  and the server goes on" "$(jget "$a" after_too_big.result)" "{}"
expect_eq "stdin closed: the server exits 0" "$(jget "$a" exit)" 0

# With --yes the same call writes the file, and the answer comes back.
run_session "$T/b.json" "$ERRAND" -w "$ws" --yes mcp serve
b=$(cat "$T/b.json")
expect_eq "tools/call with --yes: succeeds" "$(jget "$b" call.result.isError)" False
expect_contains "  with the agent's answer" "$(jget "$b" call.result.content.0.text)" "via-mcp.txt"
expect_eq "  the file written" "$(cat "$ws/via-mcp.txt" 2>/dev/null)" "written through MCP"
last_audit() { $PY -c 'import json,sys; e=json.loads(sys.argv[1])[-1]; print(e["tool"]+"/"+e["approval"])' "$1"; }
expect_eq "  the write is in the audit log, approved by --yes" \
  "$(last_audit "$("$ERRAND" audit list --json)")" "write_file/yes"

# errand's own MCP client talks to it: the tools under mcp__self__.
cat > "$T/conf" <<EOF
[mcp.self]
command = $ERRAND_BIN
args = -w $ws mcp serve
EOF
out=$("$ERRAND" --config "$T/conf" mcp tools self --json 2>"$T/err"); rc=$?
expect_eq "errand's MCP client lists them: exit 0" "$rc" 0
expect_contains "  ask_code as mcp__self__ask_code" "$out" "mcp__self__ask_code"
expect_eq "  the revision agreed: the stateless one" "$(jget "$out" revision)" "2026-07-28"
out=$("$ERRAND" mcp serve extra 2>&1); rc=$?
expect_eq "mcp serve with an argument: exit 2" "$rc" 2
finish
