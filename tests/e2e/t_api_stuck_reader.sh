# A client that never reads, on the streaming routes of errand serve
# (POST /v1/chat/completions with "stream", POST /mcp tools/call as an event
# stream): while its connection sits with a full window, health checks and
# another user's request are answered; the server lets go of the stuck
# connection within server.timeout_ms (its write timeout) plus a margin, and
# the task behind it still ends (its follower does not hang on).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
STUCK="$ERRAND_TESTS/e2e/stuck_reader.py"
# A long answer, streamed: far more than the socket buffers of a client that
# never reads can hold.
big=$(/usr/bin/python3 -c 'print(" ".join("w%05d-%s" % (i, "x" * 1500) for i in range(3500)))')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"a long story","repeat":true,"text":"$big"},
 {"match":"You are the","repeat":true,"text":"Short answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
SERVE_ARGS="--grace 2" start_server -o server.timeout_ms=2000 -o server.workspaces="$T/users"
BOB=$(mkuser bob)
ANN=$(mkuser ann)
port=${API##*:}

stuck_on() { # stuck_on WHAT PATH BODY
  local what=$1 out
  out=$(/usr/bin/python3 "$STUCK" "$port" "$SERVER_PID" "$BOB" "$ANN" "$2" "$3" --wait 20)
  echo "$what: $out"
  expect_eq "$what: the stuck connection was held by the server first" "$(jget "$out" held_at_start)" True
  expect_eq "$what: health answered meanwhile (5 of 5)" "$(jget "$out" health_ok)" 5
  check "$what: health answered promptly ($(jget "$out" health_worst_s) s)" \
    /usr/bin/python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 2)" "$(jget "$out" health_worst_s)"
  expect_eq "$what: another user's request answered meanwhile" "$(jget "$out" other_status)" 200
  local dropped
  dropped=$(jget "$out" dropped_after_s)
  check "$what: the server let go of the stuck connection (after ${dropped} s)" \
    /usr/bin/python3 -c "import sys; sys.exit(sys.argv[1] in ('', 'None', 'null') or float(sys.argv[1]) > 15)" "$dropped"
}

stuck_on "openai stream" /v1/chat/completions \
  '{"model":"code","stream":true,"messages":[{"role":"user","content":"tell me a long story"}]}'
# MCP: a session, then a tools/call answered as an event stream.
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"stuck","version":"1"}}}'
curl -s -D "$T/mcp_hdrs" -o /dev/null -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' --data-binary "$init" "$API/mcp"
stuck_on "mcp tools/call" /mcp \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ask_code","arguments":{"request":"tell me a long story"}}}'

# The tasks behind the stuck streams ended: nothing waits on them forever.
for _ in $(seq 100); do
  body=$(curl -s -H "Authorization: Bearer $BOB" "$API/api/v1/tasks")
  running=$(printf '%s' "$body" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin); items=d.get("tasks", d) if isinstance(d, dict) else d
print(sum(1 for t in items if t.get("status") in ("queued","routed","running")))')
  [ "$running" = 0 ] && break
  sleep 0.2
done
expect_eq "the stuck clients' tasks ended" "$running" 0
threads=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")
sleep 1
expect_eq "no follower thread left behind (threads steady)" "$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")" "$threads"
stop_server
expect_eq "the server stops cleanly" "$SERVER_RC" 0
finish
