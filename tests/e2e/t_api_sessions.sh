# Sessions end when they should (issue 22 #5, #12): a refresh chain ends at
# its session's original end however often it is refreshed; revoking an API
# token ends the sessions started with it and closes the WebSockets opened
# with either; one session can be revoked by id, or all of a user's; logout
# ends the session's access tokens at once.  Every request looks the user up:
# a demoted admin loses the role and their sockets, a deleted user's tokens
# stop working — changes made by `errand user`, another process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
ws() { timeout 60 /usr/bin/python3 "$WS_CLIENT" "$WSAPI" "$@"; }
# token_id NAME — the id of the user's newest valid API token.
token_id() {
  "$ERRAND" user list --json | /usr/bin/python3 -c 'import json,sys
for u in json.load(sys.stdin):
    if u["name"] == sys.argv[1]:
        print([t["id"] for t in u["tokens"] if not t["revoked"]][-1])' "$1"
}
# open_ws NAME TOKEN — a WebSocket held open in the background: WS_NAME_PID, $T/ws_NAME.
open_ws() {
  ws --token "$2" --timeout 40 > "$T/ws_$1" 2>&1 &
  eval "WS_$1_PID=$!"
  PIDS+=("$!")
  wait_for 10 grep -q '"type": "hello"' "$T/ws_$1" || fail "ws $1 did not open: $(cat "$T/ws_$1")"
}
# closed_by_server NAME — the socket ended with a close frame 1008.
closed_by_server() { grep -q '"closed": 1008' "$T/ws_$1"; }
status_of() { call GET "$1" "" "$2"; printf '%s' "$STATUS"; }
is_401() { [ "$(status_of /api/v1/auth/me "$1")" = 401 ]; }

# a refresh chain ends with its session (refresh_ttl 10 s), not 10 s after the
# last refresh (the timing follows the server's own answers: the machine may be slow)
start_server -o server.refresh_ttl=10 -o server.rate_limit=0
ADA=$(mkuser ada)
call POST /api/v1/auth/token "{\"api_token\":\"$ADA\"}"
R=$(jget "$BODY" refresh_token)
SID=$(jget "$BODY" session_id)
first=$(jget "$BODY" refresh_expires_in)
for i in 1 2; do
  sleep 1.5
  call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R\"}"
  expect_status "refresh $i within the session" 200
  R=$(jget "$BODY" refresh_token)
  A=$(jget "$BODY" access_token)
  left=$(jget "$BODY" refresh_expires_in)
done
check "the session's end does not move (refresh_expires_in $first → $left)" test "${left:-99}" -lt "$first"
expect_eq "…and the session stays the same" "$(jget "$BODY" session_id)" "$SID"
sleep "$(( ${left:-0} + 2 ))"
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R\"}"
expect_status "past the session's end the chain is over" 401
expect_contains "…saying so" "$(jget "$BODY" error.message)" "expired"
check "…and its access token too" is_401 "$A"
sessions=$("$ERRAND" user sessions "ada-$RUN_ID" --json)
expect_eq "errand user sessions lists it" "$(jget "$sessions" 0.id)" "$SID"
expect_eq "…ended" "$(jget "$sessions" 0.state)" "ended"
expect_eq "…started with ada's API token" "$(jget "$sessions" 0.api_token_id)" "$(token_id "ada-$RUN_ID")"
stop_server

start_server -o server.rate_limit=0
BOB=$(mkuser bob)
ADA_TID=$(token_id "ada-$RUN_ID")
call POST /api/v1/auth/token "{\"api_token\":\"$ADA\"}"
A=$(jget "$BODY" access_token)
R=$(jget "$BODY" refresh_token)
expect_eq "ada's access token works" "$(status_of /api/v1/tasks "$A")" 200
open_ws access "$A"
open_ws apitoken "$ADA"
open_ws bob "$BOB"

# revoking the API token: its session, its access tokens, and the sockets of both
out=$("$ERRAND" user revoke "$ADA_TID")
expect_contains "errand user revoke TOKEN_ID" "$out" "revoked $ADA_TID"
check "the socket opened with the access token is closed (1008)" wait_for 5 closed_by_server access
check "the socket opened with the API token is closed (1008)" wait_for 5 closed_by_server apitoken
check "the access token stops working" wait_for 5 is_401 "$A"
call GET /api/v1/auth/me "" "$A"
expect_contains "…saying why" "$(jget "$BODY" error.message)" "revoked"
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R\"}"
expect_status "its refresh token too" 401
expect_eq "the API token too" "$(status_of /api/v1/tasks "$ADA")" 401
check "bob's socket stays open" kill -0 "$WS_bob_PID"
expect_eq "…and bob is served" "$(status_of /api/v1/tasks "$BOB")" 200

# one session by id; then everything of the user
ADA2=$("$ERRAND" user token "ada-$RUN_ID" 2> /dev/null)
call POST /api/v1/auth/token "{\"api_token\":\"$ADA2\"}"
A3=$(jget "$BODY" access_token)
S3=$(jget "$BODY" session_id)
call POST /api/v1/auth/token "{\"api_token\":\"$ADA2\"}"
A4=$(jget "$BODY" access_token)
R4=$(jget "$BODY" refresh_token)
out=$("$ERRAND" user sessions "ada-$RUN_ID")
expect_contains "sessions lists the new one as active" "$out" "$S3  active"
"$ERRAND" user revoke "$S3" > /dev/null
check "errand user revoke SESSION_ID: its access token stops" wait_for 5 is_401 "$A3"
expect_eq "another session of the user goes on" "$(status_of /api/v1/tasks "$A4")" 200
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R4\"}"
expect_status "…and refreshes" 200
A4=$(jget "$BODY" access_token)
expect_eq "the API token goes on" "$(status_of /api/v1/tasks "$ADA2")" 200
out=$("$ERRAND" user revoke --all "ada-$RUN_ID")
expect_contains "revoke --all" "$out" "revoked 2 tokens and sessions"
check "…the last session's access token stops" wait_for 5 is_401 "$A4"
expect_eq "…and the API token" "$(status_of /api/v1/tasks "$ADA2")" 401
out=$("$ERRAND" user revoke "$S3" 2>&1); rc=$?
expect_eq "revoking it again says so" "$rc" 1
expect_contains "…naming what was not found" "$out" "no valid API token or session"

# logout ends the session's access token at once
call POST /api/v1/auth/token "{\"api_token\":\"$BOB\"}"
AB=$(jget "$BODY" access_token)
call POST /api/v1/auth/logout "{\"refresh_token\":\"$(jget "$BODY" refresh_token)\"}"
expect_status "logout" 204
expect_eq "the access token of a logged-out session is refused at once" "$(status_of /api/v1/tasks "$AB")" 401

# the user behind a token, per request: a demoted admin, a deleted user
CAROL=$(mkuser carol admin)
call POST /api/v1/auth/token "{\"api_token\":\"$CAROL\"}"
AC=$(jget "$BODY" access_token)
call PUT /api/v1/agents/code/config '{"note":"by carol"}' "$AC"
expect_status "an admin may change an agent's config" 200
open_ws carol "$AC"
"$ERRAND" user role "carol-$RUN_ID" user > /dev/null
not_admin() { call PUT /api/v1/agents/code/config '{"note":"again"}' "$AC"; [ "$STATUS" = 403 ]; }
check "demoted: her access token no longer carries the admin role" wait_for 5 not_admin
call GET /api/v1/auth/me "" "$AC"
expect_eq "…it says user" "$(jget "$BODY" role)" "user"
check "…and her socket (opened as an admin) is closed" wait_for 5 closed_by_server carol
"$ERRAND" user delete "carol-$RUN_ID" > /dev/null
check "deleted: her access token stops" wait_for 5 is_401 "$AC"
call GET /api/v1/auth/me "" "$AC"
expect_contains "…saying so" "$(jget "$BODY" error.message)" "no longer exists"
expect_eq "…and her API token" "$(status_of /api/v1/tasks "$CAROL")" 401
kill "$WS_bob_PID" 2>/dev/null
stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
