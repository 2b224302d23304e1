#!/usr/bin/env bash
# api.sh — the API benchmark (figures, not a test): requests per second and
# p99 latency with wrk on 127.0.0.1 for GET /healthz, GET /api/v1/tasks/{id}
# and POST /api/v1/chat, on `errand serve` and, in the same run, on a FastAPI
# app doing the same storage work (bench/api_fastapi.py; uvicorn with uvloop,
# httptools and 2 workers, under /usr/bin/python3).
#
#   bench/api.sh BUILD_DIR        (make bench runs it after the pipeline)
#   BENCH_API_SECONDS=N           seconds per wrk run (default 8)
#   BENCH_API_CONNECTIONS=N       wrk connections (default 50)
#
# Both servers read and write the same rows of an SQLite file in errand's
# schema (the task read carries its routing and agent events).  errand serve
# runs with server.workers = 0 so that POST /chat measures the API (task
# stored and queued), not the agents; rate limiting is off.  Missing Debian
# packages (wrk, python3-fastapi, python3-uvicorn, python3-uvloop,
# python3-httptools) are installed when run as root, otherwise the run stops
# with the apt-get line to run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
ERRAND="$build/errand"
SECS=${BENCH_API_SECONDS:-8}
CONNS=${BENCH_API_CONNECTIONS:-50}

pkgs=(wrk python3-fastapi python3-uvicorn python3-uvloop python3-httptools)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "api bench needs: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/errand-api-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
export HOME="$W/home" XDG_DATA_HOME="$W/data" XDG_STATE_HOME="$W/state" XDG_CONFIG_HOME="$W/config"
unset DATABASE_URL RABBITMQ_URL REDIS_URL OPENAI_API_KEY ANTHROPIC_API_KEY ERRAND_LLM ERRAND_LOG
export ERRAND_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef"
export DATABASE_URL="sqlite://$W/errand.db"
mkdir -p "$HOME"

# serve [options] — starts errand serve; sets URL, appends its PID to PIDS.
serve() {
  "$ERRAND" "$@" serve --listen 127.0.0.1:0 > /dev/null 2> "$W/serve.log" &
  PIDS+=("$!")
  for _ in $(seq 200); do
    URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/serve.log" | head -1 || true)
    [ -n "$URL" ] && return
    sleep 0.05
  done
  echo "errand serve did not start: $(cat "$W/serve.log")" >&2
  exit 1
}
stop_last() { local p=${PIDS[-1]}; kill "$p"; wait "$p" 2>/dev/null || true; unset 'PIDS[-1]'; }
json() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Data: a user, and one task that went through the agents (offline brain) so
# that reading it returns its steps.
"$ERRAND" user add bench >/dev/null
TOKEN=$("$ERRAND" user token bench 2>/dev/null)
serve
JWT=$(curl -s -H 'Content-Type: application/json' -d "{\"api_token\":\"$TOKEN\"}" "$URL/api/v1/auth/token" | json access_token)
TASK=$(curl -s -H "Authorization: Bearer $JWT" -H 'Content-Type: application/json' \
       -d '{"message":"ls","agent":"code"}' "$URL/api/v1/chat" | json task_id)
for _ in $(seq 100); do
  st=$(curl -s -H "Authorization: Bearer $JWT" "$URL/api/v1/tasks/$TASK" | json status)
  [ "$st" = done ] && break
  sleep 0.05
done
stop_last

cat > "$W/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"message":"summarise the quarterly report and list the open questions"}'
wrk.headers["Content-Type"] = "application/json"
LUA
# run NAME URL [wrk args] — one wrk run; prints "NAME req/s p99".
run() {
  local name=$1 url=$2
  shift 2
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $JWT" "$@" "$url")
  local rps p99 non2xx
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-8s %-22s %12s req/s   p99 %9s%s\n' "$name" "$ROUTE" "$rps" "$p99" \
         "${non2xx:+   ($non2xx non-2xx!)}"
  echo "$name|$ROUTE|$rps|$p99" >> "$W/results"
}
bench_all() { # NAME BASE-URL
  ROUTE="GET /healthz" run "$1" "$2/healthz"
  ROUTE="GET /api/v1/tasks/{id}" run "$1" "$2/api/v1/tasks/$TASK"
  ROUTE="POST /api/v1/chat" run "$1" "$2/api/v1/chat" -s "$W/post.lua"
}

echo "API benchmark: wrk -t2 -c$CONNS -d${SECS}s on 127.0.0.1 (wrk and the server share the machine)"
cp "$W/errand.db" "$W/fastapi.db"
serve -o server.workers=0 -o server.rate_limit=0
bench_all errand "$URL"
stop_last

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
( cd "$here" && BENCH_DB="$W/fastapi.db" BENCH_SECRET="$ERRAND_JWT_SECRET" exec /usr/bin/python3 -m uvicorn \
    api_fastapi:app --host 127.0.0.1 --port "$port" --workers 2 --loop uvloop --http httptools \
    --log-level warning --no-access-log ) > "$W/uvicorn.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
bench_all fastapi "http://127.0.0.1:$port"

/usr/bin/python3 - "$W/results" <<'PY'
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1])]
def ms(s):
    n = float(s.rstrip("umsµ"))
    return n / 1000 if s.endswith("us") else n * 1000 if s.endswith("s") and not s.endswith("ms") else n
by = {(r[0], r[1]): (float(r[2]), ms(r[3])) for r in rows}
print("\nerrand vs FastAPI (target: >= 4x the requests/s, lower p99)")
for route in dict.fromkeys(r[1] for r in rows):
    e, f = by.get(("errand", route)), by.get(("fastapi", route))
    if e and f:
        print("  %-24s %6.1fx req/s   p99 %.2f ms vs %.2f ms" % (route, e[0] / f[0], e[1], f[1]))
PY
