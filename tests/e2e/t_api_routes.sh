# The REST API, route by route: chat, tasks, conversations, agents, agent
# configs, who-am-I; success and error cases; a user sees only their own tasks
# and conversations (others' are 404), an admin sees everything; metrics and
# JSON-lines logging.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"first question","text":"First answer."},
 {"match":"follow-up","text":"Second answer."},
 {"match":"stall here","stall_ms":20000,"text":"too late"},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
export ERRAND_LOG=info
start_server
ADMIN=$(mkuser alice admin)
BOB=$(mkuser bob)
CAROL=$(mkuser carol)
check "API tokens issued" test -n "$ADMIN" -a -n "$BOB" -a -n "$CAROL"
expect_contains "API token shape" "$BOB" "ert_"

# probes
call GET /healthz
expect_status "healthz" 200
expect_eq "healthz body" "$(jget "$BODY" status)" "ok"
call GET /readyz
expect_status "readyz" 200
expect_eq "readyz store" "$(jget "$BODY" checks.store)" "ok"
expect_eq "readyz bus" "$(jget "$BODY" checks.bus)" "ok"
expect_eq "readyz cache" "$(jget "$BODY" checks.cache)" "ok"
call GET /nope
expect_status "unknown path" 404
expect_eq "404 is a JSON error" "$(jget "$BODY" error.code)" "not_found"
check "errors carry a request id" test -n "$(jget "$BODY" request_id)"
call DELETE /api/v1/chat
expect_status "wrong method" 405
expect_eq "405 says what is allowed" "$(header Allow)" "POST"

# authentication
call GET /api/v1/tasks
expect_status "no token" 401
expect_contains "401 challenges for a bearer token" "$(header WWW-Authenticate)" "Bearer"
call GET /api/v1/tasks "" "ert_not-a-real-token"
expect_status "unknown API token" 401
call GET /api/v1/tasks "" "garbage"
expect_status "garbage token" 401
call GET /api/v1/auth/me "" "$BOB"
expect_status "me with an API token" 200
expect_eq "me: name" "$(jget "$BODY" name)" "bob-$RUN_ID"
expect_eq "me: role" "$(jget "$BODY" role)" "user"
BOB_JWT=$(login "$BOB")
expect_eq "access token is a JWT" "$(printf '%s' "$BOB_JWT" | tr -cd . | wc -c | tr -d ' ')" "2"
call GET /api/v1/auth/me "" "$BOB_JWT"
expect_status "me with an access token" 200
BOB_ID=$(jget "$BODY" id)

# chat → task → done
call POST /api/v1/chat '{"message":"first question"}' "$BOB_JWT"
expect_status "chat" 202
TASK=$(jget "$BODY" task_id)
CONV=$(jget "$BODY" conversation_id)
expect_eq "chat answers queued" "$(jget "$BODY" status)" "queued"
expect_eq "chat Location" "$(header Location)" "/api/v1/tasks/$TASK"
expect_eq "task ends done" "$(wait_task "$TASK" "$BOB")" "done"
call GET "/api/v1/tasks/$TASK" "" "$BOB"
expect_status "task get" 200
expect_eq "task result" "$(jget "$BODY" result)" "First answer."
expect_eq "task agent" "$(jget "$BODY" agent)" "research"
expect_eq "task owner" "$(jget "$BODY" user_id)" "$BOB_ID"
kinds=$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys; print(" ".join(s["kind"] for s in json.load(sys.stdin)["steps"]))')
expect_contains "task steps in order" "$kinds" "routed start llm"
expect_contains "task steps end" "$kinds" "end"
check "task has a subtasks list" test "$(jget "$BODY" subtasks)" = "[]"
call POST /api/v1/chat "{\"message\":\"follow-up please\",\"conversation_id\":\"$CONV\"}" "$BOB"
expect_status "chat continues a conversation" 202
expect_eq "same conversation" "$(jget "$BODY" conversation_id)" "$CONV"
T2=$(jget "$BODY" task_id)
expect_eq "follow-up done" "$(wait_task "$T2" "$BOB")" "done"
expect_contains "history reached the model" "$(req "$(nreq)" body.messages)" "First answer."

# chat errors: each names the field
call POST /api/v1/chat '{}' "$BOB"
expect_status "missing message" 400
expect_eq "missing message: field" "$(jget "$BODY" error.field)" "message"
call POST /api/v1/chat '{"message":""}' "$BOB"
expect_eq "empty message: field" "$(jget "$BODY" error.field)" "message"
call POST /api/v1/chat '{"message":42}' "$BOB"
expect_status "message not a string" 400
expect_contains "type named" "$(jget "$BODY" error.message)" "must be a string"
call POST /api/v1/chat '{"message":"x","colour":"red"}' "$BOB"
expect_eq "unknown field named" "$(jget "$BODY" error.field)" "colour"
call POST /api/v1/chat '{"message":"x","agent":"plumber"}' "$BOB"
expect_status "unknown agent" 400
expect_eq "unknown agent: field" "$(jget "$BODY" error.field)" "agent"
call POST /api/v1/chat '{"message":"x","conversation_id":"01890000-0000-7000-8000-000000000000"}' "$BOB"
expect_status "unknown conversation" 404
STATUS=$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $BOB" -H 'Content-Type: text/plain' --data 'hello' "$API/api/v1/chat")
expect_status "not JSON content" 415

# lists and filters
call GET /api/v1/tasks "" "$BOB"
expect_status "tasks list" 200
ids=$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["tasks"]))')
expect_contains "list has the task" "$ids" "$TASK"
expect_eq "newest first" "${ids%% *}" "$T2"
call GET "/api/v1/tasks?status=done&limit=1" "" "$BOB"
expect_eq "limit 1" "$(jget "$BODY" tasks.1.id)" ""
expect_eq "status filter" "$(jget "$BODY" tasks.0.status)" "done"
call GET "/api/v1/tasks?status=sleeping" "" "$BOB"
expect_status "bad status" 400
expect_eq "bad status: field" "$(jget "$BODY" error.field)" "status"
call GET "/api/v1/tasks?limit=0" "" "$BOB"
expect_eq "bad limit: field" "$(jget "$BODY" error.field)" "limit"
call GET "/api/v1/tasks?conversation_id=$CONV" "" "$BOB"
expect_eq "conversation filter" "$(jget "$BODY" tasks.2.id)" ""
call GET /api/v1/conversations "" "$BOB"
expect_status "conversations list" 200
expect_eq "conversation listed" "$(jget "$BODY" conversations.0.id)" "$CONV"
call GET "/api/v1/conversations/$CONV" "" "$BOB"
expect_status "conversation get" 200
expect_eq "first message" "$(jget "$BODY" messages.0.content)" "first question"
expect_eq "assistant reply" "$(jget "$BODY" messages.1.content)" "First answer."
expect_eq "assistant role" "$(jget "$BODY" messages.1.role)" "assistant"
call GET /api/v1/conversations/unknown "" "$BOB"
expect_status "unknown conversation get" 404
call GET /api/v1/tasks/unknown "" "$BOB"
expect_status "unknown task" 404

# isolation: carol sees nothing of bob's; alice (admin) sees all
call GET "/api/v1/tasks/$TASK" "" "$CAROL"
expect_status "carol cannot read bob's task" 404
expect_eq "…exactly as a missing one" "$(jget "$BODY" error.message)" "no task '$TASK'"
call POST "/api/v1/tasks/$TASK/cancel" "" "$CAROL"
expect_status "carol cannot cancel bob's task" 404
call GET "/api/v1/conversations/$CONV" "" "$CAROL"
expect_status "carol cannot read bob's conversation" 404
call POST /api/v1/chat "{\"message\":\"x\",\"conversation_id\":\"$CONV\"}" "$CAROL"
expect_status "carol cannot write into bob's conversation" 404
call GET /api/v1/tasks "" "$CAROL"
expect_eq "carol's list is empty" "$(jget "$BODY" tasks)" "[]"
call GET /api/v1/conversations "" "$CAROL"
expect_eq "carol's conversations are empty" "$(jget "$BODY" conversations)" "[]"
call GET "/api/v1/tasks/$TASK" "" "$ADMIN"
expect_status "admin reads bob's task" 200
call GET "/api/v1/tasks?user_id=$BOB_ID" "" "$ADMIN"
expect_eq "admin filters by user" "$(jget "$BODY" tasks.0.user_id)" "$BOB_ID"
call GET "/api/v1/tasks?user_id=someone-else" "" "$BOB"
expect_contains "user_id is ignored for users" "$BODY" "$TASK"

# cancel
call POST /api/v1/chat '{"message":"stall here"}' "$BOB"
STALL=$(jget "$BODY" task_id)
expect_eq "stalled task runs" "$(wait_task "$STALL" "$BOB" running)" "running"
call POST "/api/v1/tasks/$STALL/cancel" "" "$BOB"
expect_status "cancel" 200
expect_eq "cancelled" "$(jget "$BODY" status)" "cancelled"
call POST "/api/v1/tasks/$STALL/cancel" "" "$BOB"
expect_status "cancel again" 409
call POST /api/v1/tasks/unknown/cancel "" "$BOB"
expect_status "cancel unknown" 404

# agents and their configs
call GET /api/v1/agents "" "$BOB"
expect_status "agents" 200
names=$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys; print(" ".join(a["name"] for a in json.load(sys.stdin)["agents"]))')
expect_eq "agents listed" "$names" "code research data email browser"
expect_eq "agent queue" "$(jget "$BODY" agents.0.status.queue)" "agent.code"
check "agent has live state" test -n "$(jget "$BODY" agents.0.status.state)"
expect_eq "code agent subagent" "$(jget "$BODY" agents.0.subagents.0.name)" "analyzer"
expect_contains "code agent tools" "$(jget "$BODY" agents.0.tools)" "read_file"
call GET /api/v1/agents/code/config "" "$BOB"
expect_status "config get" 200
call PUT /api/v1/agents/code/config '{"temperature":0.2}' "$BOB"
expect_status "users cannot set configs" 403
call PUT /api/v1/agents/code/config '{"temperature":0.2,"notes":"x"}' "$ADMIN"
expect_status "admin sets a config" 200
call GET /api/v1/agents/code/config "" "$BOB"
expect_eq "config stored" "$(jget "$BODY" config.temperature)" "0.2"
call PUT /api/v1/agents/code/config '[1,2]' "$ADMIN"
expect_status "config must be an object" 400
call PUT /api/v1/agents/plumber/config '{}' "$ADMIN"
expect_status "config of no agent" 404
call GET /api/v1/agents/plumber/config "" "$BOB"
expect_status "config get of no agent" 404

# metrics
call GET /metrics
expect_status "metrics" 200
expect_contains "metrics content type" "$(header Content-Type)" "text/plain"
expect_contains "requests by route and status" "$BODY" 'errand_http_requests_total{route="chat",status="202"}'
expect_contains "404s counted" "$BODY" 'errand_http_requests_total{route="tasks.get",status="404"}'
expect_contains "latency histogram" "$BODY" 'errand_http_request_duration_seconds_bucket{route="tasks.get",le="+Inf"}'
expect_contains "tasks by status" "$BODY" 'errand_tasks{status="done"}'
expect_contains "queue depths" "$BODY" 'errand_queue_depth{queue="agent.code"}'

# the log is JSON lines, and no token reached it
stop_server
expect_eq "SIGTERM: clean exit" "$SERVER_RC" 0
expect_contains "SIGTERM: says stopped" "$(cat "$T/serve.log")" "errand: stopped"
bad=$(grep -v '^errand: ' "$T/serve.log" | /usr/bin/python3 -c 'import json,sys
n=0
for line in sys.stdin:
    try: json.loads(line)
    except ValueError: n+=1
print(n)')
expect_eq "every log line is JSON" "$bad" "0"
expect_contains "requests are logged" "$(cat "$T/serve.log")" "\"component\":\"http\""
if [ -n "${RABBITMQ_URL:-}" ]; then mode=networked; else mode=local; fi
expect_contains "the server knows its mode" "$(cat "$T/serve.log")" "$mode mode"
check "no API token in the log" test -z "$(grep -F "$BOB" "$T/serve.log")"
check "no access token in the log" test -z "$(grep -F "$BOB_JWT" "$T/serve.log")"
finish
