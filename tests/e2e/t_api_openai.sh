# The OpenAI-compatible endpoint of errand serve: POST /v1/chat/completions
# (whole, and streamed as Server-Sent Events chunks ending in [DONE]) and GET
# /v1/models, behind the same bearer-token auth as the rest of the API; bad
# bodies get clear 4xx answers.  Read with a client written to OpenAI's wire
# format (python3, no SDK), chunk by chunk as they arrive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
words=$(seq 1 30 | sed 's/^/w/' | tr '\n' ' ' | sed 's/ $//')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"count for me","repeat":true,"text":"$words","chunk_delay_ms":20},
 {"match":"count slowly","repeat":true,"text":"$words","chunk_delay_ms":300},
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":"say hello"}]}}]},
 {"match":"break please","repeat":true,"status":400,"body":"{\"error\":{\"message\":\"bad request\"}}"},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
SERVE_ARGS="--grace 2" start_server -o server.workspaces="$T/users"
BOB=$(mkuser bob)

# Models: errand and every agent; auth required.
call GET /v1/models
expect_status "models without a token" 401
call GET /v1/models "" "$BOB"
expect_status "models" 200
expect_eq "models: a list" "$(jget "$BODY" object)" list
expect_eq "models: errand first" "$(jget "$BODY" data.0.id)" errand
expect_contains "models: the agents" "$BODY" '"id":"code"'

# A whole completion from one agent.
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"user","content":"count for me"}]}'
expect_status "completion without a token" 401
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"count for me"}]}' "$BOB"
expect_status "completion" 200
expect_eq "object" "$(jget "$BODY" object)" chat.completion
expect_eq "the answer" "$(jget "$BODY" choices.0.message.content)" "$words"
expect_eq "role" "$(jget "$BODY" choices.0.message.role)" assistant
expect_eq "finish_reason" "$(jget "$BODY" choices.0.finish_reason)" stop
check "usage counted" test "$(jget "$BODY" usage.total_tokens)" -gt 0
expect_contains "id names the task" "$(jget "$BODY" id)" "chatcmpl-"
check "earlier messages reach the agent as context" grep -q 'system: be brief' "$FAKE_REC"

# model errand: the supervisor routes.
call POST /v1/chat/completions '{"model":"errand","messages":[{"role":"user","content":"hello there"}]}' "$BOB"
expect_status "completion through the supervisor" 200
expect_eq "routed answer" "$(jget "$BODY" choices.0.message.content)" "Generic answer."

# Streamed: chunks arrive as the model writes, then [DONE].
cat > "$T/stream.py" <<'PY'
import http.client, json, sys, time, urllib.parse
api, token = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(api)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
body = json.dumps({"model": "code", "stream": True,
                   "messages": [{"role": "user", "content": "count for me"}]})
t0 = time.monotonic()
c.request("POST", "/v1/chat/completions", body,
          {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
r = c.getresponse()
print("status", r.status, r.getheader("Content-Type"))
text, chunks, first, last, done, finish = "", 0, None, None, False, None
while True:
    line = r.readline()
    if not line:
        break
    line = line.decode().rstrip("\n")
    if not line.startswith("data: "):
        continue
    data = line[6:]
    if data == "[DONE]":
        done = True
        continue
    ev = json.loads(data)
    assert ev["object"] == "chat.completion.chunk", ev
    d = ev["choices"][0]["delta"]
    if "content" in d:
        now = time.monotonic() - t0
        first = now if first is None else first
        last = now
        text += d["content"]
        chunks += 1
    finish = ev["choices"][0]["finish_reason"] or finish
print("text", text)
print("chunks", chunks)
print("spread_ms", int(((last or 0) - (first or 0)) * 1000))
print("done", done, "finish", finish)
PY
out=$(timeout 90 /usr/bin/python3 "$T/stream.py" "$API" "$BOB")
expect_contains "stream: 200 text/event-stream" "$out" "status 200 text/event-stream"
expect_contains "stream: the whole answer" "$out" "text $words"
expect_contains "stream: ends in [DONE] with finish_reason stop" "$out" "done True finish stop"
chunks=$(printf '%s\n' "$out" | awk '/^chunks/ {print $2}')
spread=$(printf '%s\n' "$out" | awk '/^spread_ms/ {print $2}')
check "stream: several chunks ($chunks)" test "$chunks" -ge 5
# the fake writes a chunk every 20 ms: arriving over time, not all at the end
check "stream: chunks arrive as they are written (spread ${spread} ms)" test "$spread" -ge 200

# A failed task: 502 whole; an error event then [DONE] streamed.
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"user","content":"break please"}]}' "$BOB"
expect_status "failed task" 502
out=$(curl -s -N -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' \
  --data-binary '{"model":"code","stream":true,"messages":[{"role":"user","content":"break please"}]}' \
  "$API/v1/chat/completions")
expect_contains "streamed failure: an error event" "$out" '"type":"task_failed"'
expect_contains "streamed failure: then [DONE]" "$out" "data: [DONE]"

# Bad input.
call POST /v1/chat/completions '{"messages":[{"role":"user","content":"x"}]}' "$BOB"
expect_status "no model" 400
call POST /v1/chat/completions '{"model":"nobody","messages":[{"role":"user","content":"x"}]}' "$BOB"
expect_status "unknown model" 404
call POST /v1/chat/completions '{"model":"code","messages":[]}' "$BOB"
expect_status "no messages" 400
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}' "$BOB"
expect_status "last message not the user's" 400
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"wizard","content":"x"}]}' "$BOB"
expect_status "unknown role" 400
call POST /v1/chat/completions '{"model":"code","messages":[{"role":"user","content":[{"type":"image_url"}]}]}' "$BOB"
expect_status "non-text content" 400
call POST /v1/chat/completions '{"model":"code","stream":"yes","messages":[{"role":"user","content":"x"}]}' "$BOB"
expect_status "stream not a boolean" 400
call POST /v1/chat/completions '{"model":"code",' "$BOB"
expect_status "malformed JSON" 400
# A stop while a stream waits for tokens (its connection suspended): the
# server ends the stream and exits cleanly.
curl -s -N -H "Authorization: Bearer $BOB" -H 'Content-Type: application/json' \
  --data-binary '{"model":"code","stream":true,"messages":[{"role":"user","content":"count slowly"}]}' \
  "$API/v1/chat/completions" > "$T/slow.out" 2>&1 &
CURL_PID=$!
for _ in $(seq 100); do grep -q '"content"' "$T/slow.out" 2>/dev/null && break; sleep 0.05; done
check "the slow stream has begun" grep -q '"content"' "$T/slow.out"
stop_server
expect_eq "the server stops cleanly, a stream open" "$SERVER_RC" 0
wait "$CURL_PID" 2>/dev/null
check "the server log has no libmicrohttpd fatal error" bash -c '! grep -q "Fatal error" "$1"' _ "$T/serve.log"
finish
