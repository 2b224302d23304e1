# The WebSocket /ws: a task's streamed tokens arrive live and in order with
# its final result (chat over the socket, a REST task followed by id, a
# conversation followed as a whole); approval requests reach the client and
# its answer comes back on the socket (allow and deny); authentication, the
# Origin check, ownership and malformed messages.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
words=$(seq 1 40 | sed 's/^/w/' | tr '\n' ' ' | sed 's/ $//')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"count for me","text":"$words","chunk_delay_ms":5},
 {"match":"please write","tool_calls":[{"id":"c1","name":"write_file","arguments":{"path":"out.txt","content":"hello from the agent"}}]},
 {"match":"please write","text":"Wrote it: $words","chunk_delay_ms":5},
 {"match":"do not write","tool_calls":[{"id":"c2","name":"write_file","arguments":{"path":"no.txt","content":"x"}}]},
 {"match":"do not write","text":"Fine, not written."},
 {"match":"in the conversation","text":"conversation $words","chunk_delay_ms":5},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
start_server -o server.workspaces="$T/users" -o server.cors_origins=http://app.test
BOB=$(mkuser bob)
CAROL=$(mkuser carol)
BOB_WS="$T/users/$(uid bob)"   # each user works in a workspace of their own
ws() { timeout 60 /usr/bin/python3 "$WS_CLIENT" "$WSAPI" "$@"; }
# tokens FILE — the text of the token events in FILE, concatenated in order.
tokens() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    m = json.loads(line)
    e = m.get("event") or {}
    if m.get("type") == "event" and e.get("kind") == "token":
        out.append(e["data"]["text"])
print("".join(out), end="")
PY
}
# last_of FILE TYPE [KIND] — the last message of a type (and event kind).
last_of() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
found = ""
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == sys.argv[2] and (len(sys.argv) < 4 or (m.get("event") or {}).get("kind") == sys.argv[3]):
        found = line.strip()
print(found)
PY
}

# chat over the socket: subscribed before the task starts, so every token arrives
ws --token "$BOB" --send '{"type":"chat","message":"count for me","agent":"code","id":"c-1"}' \
   --until-end > "$T/chat.jsonl"; rc=$?
expect_eq "chat over ws: reached the end" "$rc" 0
expect_eq "hello names the user" "$(jget "$(head -1 "$T/chat.jsonl")" user.name)" "bob-$RUN_ID"
accepted=$(last_of "$T/chat.jsonl" accepted)
expect_eq "accepted echoes the ref" "$(jget "$accepted" ref)" "c-1"
TASK=$(jget "$accepted" task_id)
expect_eq "tokens in order, none lost" "$(tokens "$T/chat.jsonl")" "$words"
end=$(last_of "$T/chat.jsonl" event end)
expect_eq "final result on the socket" "$(jget "$end" event.data.answer)" "$words"
expect_eq "final status" "$(jget "$end" event.data.status)" "done"
expect_eq "no error" "$(jget "$end" event.data.error)" ""
call GET "/api/v1/tasks/$TASK" "" "$BOB"
expect_eq "same result over REST" "$(jget "$BODY" result)" "$words"

# a REST task followed by id: the stored steps are replayed, the approval
# request reaches the client, its answer goes back on the socket
call POST /api/v1/chat '{"message":"please write a file","agent":"code"}' "$BOB"
W1=$(jget "$BODY" task_id)
ws --token "$BOB" --send "{\"type\":\"subscribe\",\"task_id\":\"$W1\"}" --answer-approvals allow \
   --until-end > "$T/allow.jsonl"; rc=$?
expect_eq "followed to the end" "$rc" 0
expect_eq "subscribed" "$(jget "$(last_of "$T/allow.jsonl" subscribed)" task_id)" "$W1"
req=$(last_of "$T/allow.jsonl" event approval_request)
expect_eq "approval request reached the client" "$(jget "$req" event.data.tool)" "write_file"
expect_eq "…with the call's arguments" "$(jget "$req" event.data.arguments.path)" "out.txt"
expect_eq "answer acknowledged" "$(jget "$(last_of "$T/allow.jsonl" approval_sent)" decision)" "allow"
expect_eq "allowed: the tool ran" "$(cat "$BOB_WS/out.txt" 2>/dev/null)" "hello from the agent"
expect_eq "tokens after the approval, in order" "$(tokens "$T/allow.jsonl")" "Wrote it: $words"
expect_eq "final answer" "$(jget "$(last_of "$T/allow.jsonl" event end)" event.data.answer)" "Wrote it: $words"
kinds=$(/usr/bin/python3 -c 'import json,sys
print(" ".join(m["event"]["kind"] for m in map(json.loads, open(sys.argv[1])) if m.get("type")=="event" and m["event"]["kind"]!="token"))' "$T/allow.jsonl")
expect_contains "events in order" "$kinds" "approval_request"
ids=$(/usr/bin/python3 -c 'import json,sys
ids=[m["event"]["id"] for m in map(json.loads, open(sys.argv[1])) if m.get("type")=="event" and "id" in m["event"]]
print("sorted" if ids==sorted(ids) and len(ids)==len(set(ids)) else "unsorted %s" % ids)' "$T/allow.jsonl")
expect_eq "stored events once each, in order" "$ids" "sorted"

call POST /api/v1/chat '{"message":"do not write it","agent":"code"}' "$BOB"
W2=$(jget "$BODY" task_id)
ws --token "$BOB" --send "{\"type\":\"subscribe\",\"task_id\":\"$W2\"}" --answer-approvals deny \
   --until-end > "$T/deny.jsonl"
expect_eq "denied: final answer" "$(jget "$(last_of "$T/deny.jsonl" event end)" event.data.answer)" "Fine, not written."
check "denied: the tool did not run" test ! -e "$BOB_WS/no.txt"

# a conversation followed as a whole: a later task in it streams to the client
CONV=$(jget "$accepted" conversation_id)
ws --token "$BOB" --send "{\"type\":\"subscribe\",\"conversation_id\":\"$CONV\"}" --until-end \
   > "$T/conv.jsonl" &
wpid=$!
for _ in $(seq 200); do grep -q subscribed "$T/conv.jsonl" 2>/dev/null && break; sleep 0.05; done
call POST /api/v1/chat "{\"message\":\"in the conversation\",\"conversation_id\":\"$CONV\",\"agent\":\"code\"}" "$BOB"
wait "$wpid"; rc=$?
expect_eq "conversation followed to the task's end" "$rc" 0
expect_eq "conversation: tokens in order" "$(tokens "$T/conv.jsonl")" "conversation $words"

# authentication, origin, ownership, bad messages
out=$(ws)
expect_eq "no token: 401" "$(jget "$out" handshake)" "401"
out=$(ws --token ert_bogus)
expect_eq "bad token: 401" "$(jget "$out" handshake)" "401"
out=$(ws --query-token "$BOB" --send '{"type":"ping","id":7}' --until-type pong | tail -1)
expect_eq "token in the query works" "$(jget "$out" ref)" "7"
out=$(ws --token "$BOB" --origin http://evil.test)
expect_eq "foreign origin: 403" "$(jget "$out" handshake)" "403"
out=$(ws --token "$BOB" --origin http://app.test --send '{"type":"ping"}' --until-type pong | tail -1)
expect_eq "allowed origin" "$(jget "$out" type)" "pong"
out=$(ws --token "$CAROL" --send "{\"type\":\"subscribe\",\"task_id\":\"$TASK\"}" --until-type error | tail -1)
expect_eq "carol cannot follow bob's task" "$(jget "$out" field)" "task_id"
out=$(ws --token "$CAROL" --send "{\"type\":\"subscribe\",\"conversation_id\":\"$CONV\"}" --until-type error | tail -1)
expect_eq "carol cannot follow bob's conversation" "$(jget "$out" field)" "conversation_id"
out=$(ws --token "$CAROL" --send "{\"type\":\"approval\",\"task_id\":\"$W1\",\"call_id\":\"c1\",\"decision\":\"allow\"}" --until-type error | tail -1)
expect_eq "carol cannot answer bob's approvals" "$(jget "$out" field)" "task_id"
out=$(ws --token "$BOB" --send "{\"type\":\"approval\",\"task_id\":\"$W1\",\"call_id\":\"c1\",\"decision\":\"maybe\"}" --until-type error | tail -1)
expect_eq "bad decision named" "$(jget "$out" field)" "decision"
out=$(ws --token "$BOB" --send '{"type":"dance"}' --until-type error | tail -1)
expect_eq "unknown type named" "$(jget "$out" field)" "type"
out=$(ws --token "$BOB" --send '{"type":"chat"}' --until-type error | tail -1)
expect_eq "chat without message" "$(jget "$out" field)" "message"
out=$(ws --token "$BOB" --send '"just a string"' --until-type error | tail -1)
expect_contains "non-object message" "$(jget "$out" error)" "JSON objects"
call GET /ws "" "$BOB"
expect_status "plain GET /ws" 426
call GET /metrics
expect_contains "websockets gauge" "$BODY" "errand_websockets_open"
stop_server
expect_eq "clean stop (and no leaks under ASan)" "$SERVER_RC" 0
finish
