# lib_ownership.sh — set-up shared by the task-ownership soaks (sourced by
# frozen_worker.sh and kill_cycles.sh): throwaway PostgreSQL, Redis and
# RabbitMQ (tests/servers/*.sh) unless DATABASE_URL, RABBITMQ_URL and REDIS_URL
# are all set, a fresh database and empty queues, the fake LLM, and workers.
#
#   SCRIPT [BUILD_DIR]     BUILD_DIR defaults to build
#   Ports of the throwaway servers: ERRAND_SOAK_PG_PORT (55442), ERRAND_SOAK_REDIS_PORT
#   (56389), ERRAND_SOAK_AMQP_PORT (55682, and the next 18), ERRAND_SOAK_EPMD_PORT (54379).
# Everything it starts is stopped by PID on exit; KEEP=1 keeps the work directory.
set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd) || { echo "no build directory ${1:-build}" >&2; exit 2; }
ERRAND_BIN="$BUILD/errand"
FAKE_LLM="$BUILD/tests/fake_llm"
BUS_CTL="$BUILD/tests/bus_ctl"
for f in "$ERRAND_BIN" "$FAKE_LLM" "$BUS_CTL"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 2; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/errand-soak.XXXXXX")
export HOME="$W/home" XDG_DATA_HOME="$W/data" XDG_STATE_HOME="$W/state" XDG_CONFIG_HOME="$W/config"
mkdir -p "$HOME" "$W/logs" "$W/ws"
unset OPENAI_API_KEY ANTHROPIC_API_KEY OPENAI_BASE_URL ANTHROPIC_BASE_URL ERRAND_LLM ERRAND_MODEL
PIDS=()
SERVERS=()
SOAK_DB=

ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

soak_cleanup() {
  local p s
  for p in "${PIDS[@]}"; do
    if ours "$p"; then disown "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; fi   # no job notices
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
  if [ -n "$SOAK_DB" ]; then
    psql "$ADMIN_DB_URL" -qAt -c "DROP DATABASE IF EXISTS $SOAK_DB WITH (FORCE)" >/dev/null 2>&1
  fi
  for s in "${SERVERS[@]}"; do bash "$SRC/tests/servers/$s.sh" stop "$W/servers/$s" >/dev/null 2>&1; done
  if [ -z "${KEEP:-}" ]; then rm -rf "$W"; else echo "kept $W" >&2; fi
}
trap soak_cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${DATABASE_URL:-}" ] || [ -z "${RABBITMQ_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  export ERRAND_TEST_PG_PORT=${ERRAND_SOAK_PG_PORT:-55442}
  export ERRAND_TEST_REDIS_PORT=${ERRAND_SOAK_REDIS_PORT:-56389}
  export ERRAND_TEST_AMQP_PORT=${ERRAND_SOAK_AMQP_PORT:-55682}
  export ERRAND_TEST_EPMD_PORT=${ERRAND_SOAK_EPMD_PORT:-54379}
  for s in postgres redis rabbitmq; do
    echo "starting $s" >&2
    SERVERS+=("$s")
    bash "$SRC/tests/servers/$s.sh" start "$W/servers/$s" > "$W/logs/$s.log" 2>&1 ||
      { echo "cannot start $s (see $W/logs/$s.log)" >&2; KEEP=1; exit 1; }
  done
  export DATABASE_URL="postgresql://errand:errand@127.0.0.1:$ERRAND_TEST_PG_PORT/errand"
  export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$ERRAND_TEST_AMQP_PORT/"
  export REDIS_URL="redis://127.0.0.1:$ERRAND_TEST_REDIS_PORT/0"
fi
ADMIN_DB_URL=$DATABASE_URL
SOAK_DB="soak_$$"
psql "$ADMIN_DB_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $SOAK_DB" >/dev/null ||
  { echo "cannot create database $SOAK_DB" >&2; SOAK_DB=; exit 1; }
export DATABASE_URL="${ADMIN_DB_URL%/*}/$SOAK_DB"
"$BUS_CTL" "$RABBITMQ_URL" purge || exit 1
if [ "$("$BUS_CTL" "$RABBITMQ_URL" consumers)" != 0 ]; then
  echo "the broker has consumers already: another run uses it" >&2; exit 1
fi

# start_fake SCRIPT — the fake LLM; FAKE_REC gets one line per answered request.
start_fake() {
  FAKE_REC="$W/requests.jsonl"
  : > "$FAKE_REC"
  "$FAKE_LLM" --script "$1" --port 0 --port-file "$W/fake.port" --record "$FAKE_REC" \
    > "$W/logs/fake.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 200); do [ -s "$W/fake.port" ] && break; sleep 0.05; done
  export ERRAND_LLM=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$W/fake.port")/v1" \
         OPENAI_API_KEY=soak-key-123456 ERRAND_MODEL=fake-model
}

# start_worker NAME [OPTIONS…] — sets WORKER_PID and WORKER_LOG once it is ready.
WORKER_N=0
start_worker() {
  local name=$1; shift
  WORKER_N=$((WORKER_N + 1))
  WORKER_LOG="$W/logs/$name.$WORKER_N.log"
  (cd "$W/ws" && exec "$ERRAND_BIN" worker "$name" "$@") > /dev/null 2> "$WORKER_LOG" &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
  for _ in $(seq 1200); do
    grep -q "worker $name ready" "$WORKER_LOG" && return 0
    kill -0 "$WORKER_PID" 2>/dev/null || { echo "worker $name died: $(cat "$WORKER_LOG")" >&2; return 1; }
    sleep 0.05
  done
  echo "worker $name not ready after 60 s" >&2; return 1
}

# sql QUERY — one value per line from the soak's database.
sql() { psql "$DATABASE_URL" -qAt -c "$1"; }

# pct FILE P — the P-th percentile of the numbers in FILE (one a line).
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (NR) { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print v[i] } else print "-" }'; }
