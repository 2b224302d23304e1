# What a demanding client sends: HEAD on GET routes (RFC 9110: 200 without a
# body, and 405s list HEAD), OPTIONS without CORS (204 with Allow), bytes that
# are not UTF-8 and "\u0000" in JSON bodies and WebSocket messages (refused,
# never stored and echoed back as broken JSON), a body field given twice,
# query numbers too long to read whole, the 413/415 that the auth routes
# answer being in the OpenAPI document, and keep-alive after an error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
start_server
ADMIN=$(mkuser ann admin)
USER=$(mkuser ben)
check "API tokens issued" test -n "$ADMIN" -a -n "$USER"

# is_utf8 FILE — the file decodes as UTF-8 JSON
is_utf8() { /usr/bin/python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' "$1"; }

# HEAD is GET without the body
STATUS=$(curl -s -I -o "$T/hdrs" -w '%{http_code}' "$API/healthz")
expect_eq "HEAD /healthz" "$STATUS" 200
expect_eq "HEAD keeps GET's Content-Length" "$(header Content-Length)" 15
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $USER" "$API/api/v1/tasks")
expect_eq "HEAD on an authenticated GET route" "$STATUS" 200
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' "$API/api/v1/tasks")
expect_eq "HEAD still needs the token" "$STATUS" 401
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' "$API/api/v1/chat")
expect_eq "HEAD on a POST-only route" "$STATUS" 405
# HEAD then GET on one connection: no body was sent for HEAD, or the GET would read it
two=$(/usr/bin/python3 - "${API#http://}" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 200"), data.count(b'{"status":"ok"}'))
PY
)
expect_eq "HEAD answers without a body, GET with it" "$two" "2 1"
call DELETE /healthz
expect_status "DELETE on a GET route" 405
expect_eq "405 lists HEAD beside GET" "$(header Allow)" "GET, HEAD"

# OPTIONS without an Origin is not CORS: it says what the path allows
STATUS=$(curl -s -o /dev/null -D "$T/hdrs" -w '%{http_code}' -X OPTIONS "$API/api/v1/agents/code/config")
expect_eq "plain OPTIONS" "$STATUS" 204
expect_eq "plain OPTIONS lists the methods" "$(header Allow)" "GET, HEAD, PUT, OPTIONS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: http://evil.test' "$API/api/v1/chat")
expect_eq "a foreign origin's preflight is still refused" "$STATUS" 403
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$API/api/v1/nothing-here")
expect_eq "OPTIONS on no route" "$STATUS" 404

# an error answer to a request without a body keeps the connection open
# (libmicrohttpd closes it when the answer is queued before the request ends)
conns=$(curl -s -w '%{num_connects} ' -o /dev/null "$API/nope" -o /dev/null "$API/api/v1/tasks" \
  -o /dev/null "$API/healthz")
expect_eq "404 and 401 keep the connection alive" "$conns" "1 0 0 "
conns=$(curl -s -o /dev/null -w '%{num_connects} ' -H 'Content-Type: application/json' \
  --data-binary '{"message":"x"}' -o /dev/null "$API/api/v1/chat" -o /dev/null "$API/api/v1/chat")
expect_eq "a 401 with a body unread still closes" "$conns" "1 1 "

# bodies that are not UTF-8
bad=$(printf 'caf\xe9')
call PUT /api/v1/agents/research/config "{\"note\":\"$bad\"}" "$ADMIN"
expect_status "config that is not UTF-8" 400
check "its error is UTF-8 JSON" is_utf8 "$T/resp"
call GET /api/v1/agents/research/config "" "$ADMIN"
expect_status "config read back" 200
check "stored config is UTF-8 JSON" is_utf8 "$T/resp"
expect_eq "nothing was stored" "$BODY" '{"agent":"research","config":{}}'
call POST /api/v1/chat "{\"$bad\":1,\"message\":\"hi\"}" "$USER"
expect_status "a field name that is not UTF-8" 400
check "the 400 does not echo the bytes back" is_utf8 "$T/resp"
call POST /api/v1/chat "{\"message\":\"$(printf '\xed\xa0\x80')\"}" "$USER"
expect_status "an encoded surrogate" 400
call POST /api/v1/chat '{"message":"caf\u00e9 \u2603"}' "$USER"
expect_status "escaped non-ASCII is fine" 202
TASK=$(jget "$BODY" task_id)
call GET "/api/v1/tasks/$TASK" "" "$USER"
expect_eq "and stored as sent" "$(jget "$BODY" request)" "café ☃"

# "\u0000" would cut the string short
call POST /api/v1/chat '{"message":"cut\u0000 here"}' "$USER"
expect_status "a NUL in a message" 400
expect_contains "the 400 says why" "$(jget "$BODY" error.message)" "NUL"
call PUT /api/v1/agents/research/config '{"k":"a\u0000b"}' "$ADMIN"
expect_status "a NUL in a config" 400
call POST /api/v1/chat '{"message":"a backslash then u0000: \\u0000"}' "$USER"
expect_status "an escaped backslash before u0000 is text" 202

# a field given twice is ambiguous (which one would count?)
call POST /api/v1/chat '{"message":"first","message":"second"}' "$USER"
expect_status "a field given twice" 400
expect_eq "the 400 names it" "$(jget "$BODY" error.field)" "message"
call POST /api/v1/auth/token "{\"api_token\":\"ert_nope\",\"api_token\":\"$USER\"}"
expect_status "a token given twice" 400

# numbers in the query string are read whole
call GET "/api/v1/tasks?limit=00000000000000000000000000000002oops" "" "$USER"
expect_status "a long limit with junk after the cut" 400
expect_eq "it names the parameter" "$(jget "$BODY" error.field)" "limit"
call GET "/api/v1/conversations?limit=000000000000000000000000000000000000000001" "" "$USER"
expect_status "a limit too long to read" 400
call GET "/api/v1/tasks?limit=2" "" "$USER"
expect_status "a plain limit" 200

# the auth routes' 413 and 415 are documented
STATUS=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/plain' \
  --data-binary '{"api_token":"x"}' "$API/api/v1/auth/token")
expect_eq "auth/token with text/plain" "$STATUS" 415
call GET /api/v1/openapi.json
for route in token refresh logout; do
  codes=$(printf '%s' "$BODY" | /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["paths"]["/api/v1/auth/"+sys.argv[1]]["post"]["responses"])))' "$route")
  expect_contains "openapi: auth/$route documents 413" "$codes" "413"
  expect_contains "openapi: auth/$route documents 415" "$codes" "415"
done

# WebSocket: a text frame must be UTF-8 (RFC 6455: close 1007); no NULs
ws_out=$(/usr/bin/python3 - "$WSAPI" "$USER" "$ERRAND_TESTS/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from ws_client import WS, Closed
ws = WS(sys.argv[1], token=sys.argv[2], timeout=10)
ws.recv()  # hello
ws.send_frame(1, b'{"type":"chat","message":"nul \\u0000 here"}')
print(ws.recv())
ws.send_frame(1, b'{"type":"chat","message":"caf\xe9","agent":"research"}')
try:
    print("message:", ws.recv())
except Closed as e:
    print("closed", e.args[0])
except UnicodeDecodeError:
    print("server sent text that is not UTF-8")
PY
)
expect_contains "ws: a NUL is an error" "$ws_out" "NUL"
expect_contains "ws: not UTF-8 closes with 1007" "$ws_out" "closed 1007"
call GET /api/v1/tasks "" "$USER"
check "no task stored from the bad frame" is_utf8 "$T/resp"

stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
