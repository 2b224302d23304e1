# Abuse of HTTP itself, without any account (issue 22 #6, #14): a slowloris
# flood (1,200 connections from 60 loopback addresses, each trickling a header
# byte a second) never keeps /healthz from answering, and each of them is cut
# off at the header deadline however it trickles; one address gets no more
# than server.max_connections_per_ip connections; a request with both
# Content-Length and Transfer-Encoding is refused with 400 and its connection
# closed (RFC 9112 6.3: request smuggling).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
SLOW="$ERRAND_TESTS/e2e/slow_clients.py"
start_server -o server.max_connections=300 -o server.max_connections_per_ip=20 \
             -o server.header_timeout_ms=3000 -o server.rate_limit=0
PORT=${API##*:}
ADA=$(mkuser ada)

# Content-Length and Transfer-Encoding together: 400, and the connection ends
out=$(/usr/bin/python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
          b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except socket.timeout:
    data += b"\n<still open>"
print(data.decode(errors="replace"))
PY
)
expect_contains "CL + TE: 400" "$(printf '%s' "$out" | head -1)" "400"
expect_contains "…naming the rule" "$out" "RFC 9112"
expect_contains "…with Connection: close" "$out" "Connection: close"
check "…and the connection is closed (the smuggled request is never answered)" \
  test "$(printf '%s' "$out" | grep -c 'HTTP/1.1')" = 1 -a "${out/still open/}" = "$out"

# the flood: health checks all answered, promptly; every slow client cut off
res=$(timeout 120 /usr/bin/python3 "$SLOW" flood "$PORT" --ips 60 --per-ip 20 --hold 8 --trickle 1)
echo "flood: $(jget "$res" opened) opened, $(jget "$res" health_ok)/$(jget "$res" health_total) health checks, worst $(jget "$res" health_worst_s) s, $(jget "$res" alive) alive"
check "the flood opened over 1,000 connections" test "$(jget "$res" opened)" -ge 1000
check "health checks were made" test "$(jget "$res" health_total)" -ge 20
expect_eq "every health check answered 200" "$(jget "$res" health_ok)" "$(jget "$res" health_total)"
check "…each within 1.5 s" /usr/bin/python3 -c "import sys; sys.exit(not $(jget "$res" health_worst_s) < 1.5)"
expect_eq "no trickling client outlived the header deadline" "$(jget "$res" alive)" 0
late=$(/usr/bin/python3 -c "import json,sys; print(sum(1 for c in json.loads(sys.argv[1])['cut_after_s'] if c > 5.5))" "$res")
expect_eq "…each cut within the deadline (3 s) and a little" "$late" 0

# one address: 20 connections, the 10 more are closed at once
res=$(timeout 30 /usr/bin/python3 "$SLOW" per-ip "$PORT" --count 30 --addr 127.0.0.99)
expect_eq "past max_connections_per_ip: closed at once" "$(jget "$res" cut_at_once)" 10

call GET /healthz
expect_status "healthy after the flood" 200
call GET /api/v1/auth/me "" "$ADA"
expect_status "users are served after the flood" 200
stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
