# api_lib.sh — shared by the API tests (t_api_*.sh), sourced after lib.sh:
# start `errand serve` on a free port, make users and tokens, call the API
# with curl, follow it with the WebSocket client (ws_client.py).
#
# Networked mode: lib.sh turns ERRAND_E2E_{DATABASE,RABBITMQ,REDIS}_URL into
# DATABASE_URL etc.; start_server then also starts an `errand worker all`
# (the server only publishes in networked mode).  The stores may be shared
# between runs, so user names carry a per-run suffix and no check assumes an
# empty table.
WS_CLIENT="$ERRAND_TESTS/e2e/ws_client.py"
FAKE_OIDC="$ERRAND_BUILD/tests/fake_oidc"
# A known signing key: the JWT tests forge tokens with it.
export ERRAND_JWT_SECRET="e2e-secret-0123456789abcdef0123456789abcdef"
RUN_ID="$(date +%s%N | tail -c 8)$$"

# start_server [errand options...] — sets API, WSAPI, SERVER_PID.  SERVE_ARGS
# and WORKER_ARGS: options of the serve and worker commands (e.g. --grace 1).
start_server() {
  : > "$T/serve.log"
  # shellcheck disable=SC2086
  "$ERRAND" "$@" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} > "$T/serve.out" 2> "$T/serve.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  API=""
  for _ in $(seq 200); do
    API=$(grep -o 'serving on http://127.0.0.1:[0-9]*' "$T/serve.log" | head -1 | sed 's/serving on //')
    [ -n "$API" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$API" ]; then
    fail "server did not start: $(cat "$T/serve.log")"
    finish
  fi
  WSAPI="ws://${API#http://}/ws"
  if [ -n "${RABBITMQ_URL:-}" ] && [ -z "${WORKER_PID:-}" ]; then
    # shellcheck disable=SC2086
    "$ERRAND" "$@" worker all ${WORKER_ARGS:-} > "$T/worker.log" 2>&1 &
    WORKER_PID=$!
    PIDS+=("$WORKER_PID")
    for _ in $(seq 200); do grep -q ready "$T/worker.log" && break; sleep 0.05; done
  fi
}

# stop_server — SIGTERM, and wait for a clean exit (sets SERVER_RC).
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID"
  SERVER_RC=$?
}

# mkuser NAME [ROLE] — creates NAME-RUN_ID and prints an API token for it.
mkuser() {
  "$ERRAND" user add "$1-$RUN_ID" --role "${2:-user}" > /dev/null || fail "user add $1"
  "$ERRAND" user token "$1-$RUN_ID" 2> /dev/null
}

# uid NAME — the id of user NAME-RUN_ID.
uid() {
  "$ERRAND" user list --json | /usr/bin/python3 -c 'import json,sys
print(next(u["id"] for u in json.load(sys.stdin) if u["name"] == sys.argv[1]))' "$1-$RUN_ID"
}

# call METHOD PATH [JSON-BODY] [TOKEN] — sets STATUS and BODY; headers in $T/hdrs.
call() {
  local method=$1 path=$2 body=${3:-} token=${4:-}
  local args=(-s -o "$T/resp" -D "$T/hdrs" -w '%{http_code}' -X "$method")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  STATUS=$(curl "${args[@]}" "$API$path")
  BODY=$(cat "$T/resp")
  printf '%s\n' "$BODY" >> "$T/all_responses"
}

# header NAME — a header of the last call's answer.
header() { grep -i "^$1:" "$T/hdrs" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }

expect_status() { expect_eq "$1 (status)" "$STATUS" "$2"; }

# login API-TOKEN — prints an access token.
login() {
  call POST /api/v1/auth/token "{\"api_token\":\"$1\"}"
  jget "$BODY" access_token
}

# wait_task ID TOKEN [STATUS] — polls until the task ends (or has STATUS); prints it.
wait_task() {
  local t=""
  for _ in $(seq 300); do
    call GET "/api/v1/tasks/$1" "" "$2"
    t=$(jget "$BODY" status)
    if [ -n "${3:-}" ]; then [ "$t" = "$3" ] && break
    else case "$t" in done|failed|cancelled) break ;; esac; fi
    sleep 0.05
  done
  printf '%s' "$t"
}

# forge_jwt CLAIMS-JSON [ALG] [KEY] — an HS256 token over the claims (the
# server's key unless KEY), or a token with another header alg.
forge_jwt() {
  /usr/bin/python3 - "$1" "${2:-HS256}" "${3:-$ERRAND_JWT_SECRET}" <<'PY'
import base64, hashlib, hmac, json, sys
claims, alg, key = sys.argv[1], sys.argv[2], sys.argv[3].encode()
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
head = b(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b(claims.encode())
if alg == "none":
    print(head + ".")
elif alg == "HS512":
    print(head + "." + b(hmac.new(key, head.encode(), hashlib.sha512).digest()))
else:
    print(head + "." + b(hmac.new(key, head.encode(), hashlib.sha256).digest()))
PY
}

# start_oidc — the fake OpenID provider; sets OIDC_URL.
start_oidc() {
  rm -f "$T/oidc.port"
  "$FAKE_OIDC" --port 0 --port-file "$T/oidc.port" --client-id errand-test \
    --client-secret "oidc-secret-42" > "$T/oidc.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 200); do [ -s "$T/oidc.port" ] && break; sleep 0.05; done
  OIDC_URL="http://127.0.0.1:$(cat "$T/oidc.port")"
}
