#!/usr/bin/env bash
# api.sh — the API benchmark (figures, not a test): requests per second and
# p99 latency with wrk on 127.0.0.1 for GET /healthz, GET /api/v1/tasks/{id}
# and POST /api/v1/chat, on `errand serve` and, in the same run, on a FastAPI
# app doing the same storage work (bench/api_fastapi.py; uvicorn with uvloop,
# httptools and 2 workers, under /usr/bin/python3).
#
#   bench/api.sh BUILD_DIR        (make bench runs it after the pipeline)
#   BENCH_API_SECONDS=N           seconds per wrk run (default 5)
#   BENCH_API_CONNECTIONS=N       wrk connections (default 50)
#   BENCH_API_ROUNDS=N            runs per route and server, alternating (default 3)
#
# The machine is shared and noisy: each route is run ROUNDS times on each
# server, alternating errand and FastAPI, and the best run of each is kept.
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
SECS=${BENCH_API_SECONDS:-5}
CONNS=${BENCH_API_CONNECTIONS:-50}
ROUNDS=${BENCH_API_ROUNDS:-3}

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
# cpu_ticks PID — user+system CPU (clock ticks) of PID, its threads and children.
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# run NAME ROUTE URL PID [wrk args] — one wrk run, recorded as
# "NAME|ROUTE|req/s|p99|CPU µs per request" (the server's own CPU: what it
# would cost on a machine of its own, whatever else runs here).
run() {
  local name=$1 route=$2 url=$3 pid=$4
  shift 4
  local out c0 c1
  c0=$(cpu_ticks "$pid")
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $JWT" "$@" "$url")
  c1=$(cpu_ticks "$pid")
  local rps p99 bad reqs
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  reqs=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
  bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $5}')
  [ -n "$bad" ] && echo "  ($name $route: $bad non-2xx answers)" >&2
  echo "$name|$route|$rps|$p99|$(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / (reqs > 0 ? reqs : 1) ))" >> "$W/results"
}

echo "API benchmark: wrk -t2 -c$CONNS -d${SECS}s on 127.0.0.1, best of $ROUNDS alternating runs"
echo "(wrk and the servers share the machine with whatever else runs on it)"
cp "$W/errand.db" "$W/fastapi.db"
serve -o server.workers=0 -o server.rate_limit=0 -o server.max_tasks_per_user=0
ERRAND_PID=${PIDS[-1]}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
( cd "$here" && BENCH_DB="$W/fastapi.db" BENCH_SECRET="$ERRAND_JWT_SECRET" exec /usr/bin/python3 -m uvicorn \
    api_fastapi:app --host 127.0.0.1 --port "$port" --workers 2 --loop uvloop --http httptools \
    --log-level warning --no-access-log ) > "$W/uvicorn.log" 2>&1 &
PIDS+=("$!")
FAST_PID=$!
FAST="http://127.0.0.1:$port"
for _ in $(seq 200); do curl -s -o /dev/null "$FAST/healthz" && break; sleep 0.05; done
for _ in $(seq "$ROUNDS"); do
  for base in "errand|$URL|$ERRAND_PID" "fastapi|$FAST|$FAST_PID"; do
    IFS='|' read -r name u pid <<< "$base"
    run "$name" "GET /healthz" "$u/healthz" "$pid"
    run "$name" "GET /api/v1/tasks/{id}" "$u/api/v1/tasks/$TASK" "$pid"
    run "$name" "POST /api/v1/chat" "$u/api/v1/chat" "$pid" -s "$W/post.lua"
  done
done

/usr/bin/python3 - "$W/results" <<'PY'
import sys
def ms(s):
    if s.endswith("us"):
        return float(s[:-2]) / 1000
    if s.endswith("ms"):
        return float(s[:-2])
    return float(s[:-1]) * 1000
best, cpu = {}, {}
for line in open(sys.argv[1]):
    name, route, rps, p99, us = line.strip().split("|")
    cur = best.get((name, route))
    if cur is None or float(rps) > cur[0]:
        best[(name, route)] = (float(rps), ms(p99))
    cpu[(name, route)] = min(cpu.get((name, route), 1e18), float(us))
routes = list(dict.fromkeys(r for _, r in best))
print("%-24s %12s %8s %12s %8s %7s   %s" % ("route", "errand req/s", "p99 ms", "FastAPI", "p99 ms",
                                           "ratio", "server CPU per request"))
for route in routes:
    e, f = best[("errand", route)], best[("fastapi", route)]
    ce, cf = cpu[("errand", route)], cpu[("fastapi", route)]
    print("%-24s %12.0f %8.2f %12.0f %8.2f %6.1fx   %.0f us vs %.0f us (%.1fx)" % (
        route, e[0], e[1], f[0], f[1], e[0] / f[0], ce, cf, cf / ce if ce else 0))
print("target: errand >= 4x FastAPI's requests/s on every route, at a lower p99")
PY
