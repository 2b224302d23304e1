# GET /api/v1/usage: a user's LLM requests summed per day, model, agent or
# conversation, cached input at its own price; a user sees only their own
# (another's conversation sums to nothing, another's user_id is 403); an admin
# sees everyone's, per user or for one; bad groupings and days are 400.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
# One answer: 4000 in (3000 of them cached) + 100 out, at $2 in, $10 out,
# $0.50 cached per million: 1000 x 2 + 3000 x 0.5 + 100 x 10 = 4500 micro-dollars.
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the","repeat":true,"text":"Counted.","usage":{"input":4000,"output":100,"cached":3000}}]}
JSON
start_fake "$T/s.json"
use_openai
export ERRAND_LLM_PRICES="fake-model=2/10/0.5"
start_server
ADMIN=$(mkuser ann admin)
BOB=$(mkuser bob)
CAROL=$(mkuser carol)
BOB_ID=$(uid bob)

call GET /api/v1/usage
expect_status "no token" 401
call GET /api/v1/usage "" "ert_not-a-real-token"
expect_status "unknown token" 401

call POST /api/v1/chat '{"message":"count this","agent":"research"}' "$BOB"
BOB_TASK=$(jget "$BODY" task_id)
BOB_CONV=$(jget "$BODY" conversation_id)
expect_eq "bob's task ends" "$(wait_task "$BOB_TASK" "$BOB")" done
call POST /api/v1/chat '{"message":"count that","agent":"research"}' "$CAROL"
CAROL_TASK=$(jget "$BODY" task_id)
expect_eq "carol's task ends" "$(wait_task "$CAROL_TASK" "$CAROL")" done

call GET /api/v1/usage "" "$BOB"
expect_status "usage" 200
expect_eq "bob: his one request" "$(jget "$BODY" total.requests)" 1
expect_eq "  its input tokens" "$(jget "$BODY" total.input_tokens)" 4000
expect_eq "  of them cached" "$(jget "$BODY" total.cached_tokens)" 3000
expect_eq "  its cost, cached input at the cached price" "$(jget "$BODY" total.cost_usd)" 0.0045
expect_eq "  by default per day, model and agent" \
  "$(jget "$BODY" rows.0.day)/$(jget "$BODY" rows.0.model)/$(jget "$BODY" rows.0.agent)" \
  "$(date -u +%F)/fake-model/research"
call GET "/api/v1/usage?by=conversation" "" "$BOB"
expect_eq "by conversation: his conversation" "$(jget "$BODY" rows.0.conversation_id)" "$BOB_CONV"
call GET "/api/v1/usage?by=agent&conversation_id=$BOB_CONV" "" "$BOB"
expect_eq "one conversation, by agent" "$(jget "$BODY" rows.0.agent)" research
expect_eq "  its cost" "$(jget "$BODY" rows.0.cost_usd)" 0.0045
call GET "/api/v1/usage?by=day&from=$(date -u +%F)&to=$(date -u +%F)" "" "$BOB"
expect_eq "from and to today: the request" "$(jget "$BODY" total.requests)" 1
call GET "/api/v1/usage?to=2000-01-01" "" "$BOB"
expect_eq "to a day long past: nothing" "$(jget "$BODY" total.requests)" 0

# Cross-user: carol sees her own only.
call GET /api/v1/usage "" "$CAROL"
expect_eq "carol: her one request" "$(jget "$BODY" total.requests)" 1
call GET "/api/v1/usage?conversation_id=$BOB_CONV" "" "$CAROL"
expect_status "carol asks for bob's conversation" 200
expect_eq "  and sees nothing of it" "$(jget "$BODY" total.requests)" 0
call GET "/api/v1/usage?user_id=$BOB_ID" "" "$CAROL"
expect_status "carol names bob" 403
expect_eq "  the field named" "$(jget "$BODY" error.field)" user_id
call GET "/api/v1/usage?by=user" "" "$CAROL"
expect_status "by=user for a user" 403
call GET "/api/v1/usage?user_id=$BOB_ID" "" "$BOB"
expect_status "bob names himself" 200
expect_eq "  his request" "$(jget "$BODY" total.requests)" 1

# Admins: everyone's, per user, or one user's.
call GET "/api/v1/usage?by=user" "" "$ADMIN"
expect_status "admin by user" 200
users=$(printf '%s' "$BODY" | python3 -c 'import json,sys
print(" ".join(r["user"] for r in json.load(sys.stdin)["rows"]))')
expect_contains "  bob is there" "$users" "$BOB_ID"
call GET "/api/v1/usage?user_id=$BOB_ID&by=agent" "" "$ADMIN"
expect_eq "admin: bob's requests" "$(jget "$BODY" total.requests)" 1
call GET /api/v1/usage "" "$ADMIN"
check "admin: everyone's (bob's and carol's at least)" test "$(jget "$BODY" total.requests)" -ge 2

# Bad input names the parameter.
call GET "/api/v1/usage?by=week" "" "$BOB"
expect_status "by=week" 400
expect_eq "  the field named" "$(jget "$BODY" error.field)" by
expect_contains "  the choices given" "$(jget "$BODY" error.message)" "day, model, agent, conversation"
call GET "/api/v1/usage?from=yesterday" "" "$BOB"
expect_status "from=yesterday" 400
expect_eq "  the field named" "$(jget "$BODY" error.field)" from
call GET "/api/v1/usage?to=2026-13-01" "" "$BOB"
expect_status "to: month 13" 400
call POST /api/v1/usage '{}' "$BOB"
expect_status "POST is not allowed" 405
stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
