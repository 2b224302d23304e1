# What a demanding client sends: HEAD on GET routes (RFC 9110: 200 without a
# body, and 405s list HEAD), bytes that are not UTF-8 and "\u0000" in JSON
# bodies and WebSocket messages (refused, never stored and echoed back as
# broken JSON), query numbers too long to read whole, and the 413/415 that
# the auth routes answer being in the OpenAPI document.
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

stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
