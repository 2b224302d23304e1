# lib.sh — shared set-up for end-to-end tests: a private HOME and XDG dirs, the
# fake LLM server, and small assertions.  Sourced by tests/e2e/t_*.sh, which
# ctest runs with ERRAND (the binary), ERRAND_BUILD, ERRAND_TESTS and ERRAND_SRC set.
set -u
: "${ERRAND:?run through ctest (ERRAND is the errand binary)}"
FAKE_LLM="$ERRAND_BUILD/tests/fake_llm"
T=$(mktemp -d "${TMPDIR:-/tmp}/errand-e2e.XXXXXX")
export HOME="$T/home" XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
mkdir -p "$HOME"
unset DATABASE_URL RABBITMQ_URL REDIS_URL OPENAI_API_KEY ANTHROPIC_API_KEY OPENAI_BASE_URL \
      ANTHROPIC_BASE_URL ERRAND_LLM ERRAND_MODEL ERRAND_LOG
# The networked runs of the same tests (e2e-net.*, tests/CMakeLists.txt) set these.
if [ -n "${ERRAND_E2E_DATABASE_URL:-}" ]; then export DATABASE_URL="$ERRAND_E2E_DATABASE_URL"; fi
if [ -n "${ERRAND_E2E_RABBITMQ_URL:-}" ]; then export RABBITMQ_URL="$ERRAND_E2E_RABBITMQ_URL"; fi
if [ -n "${ERRAND_E2E_REDIS_URL:-}" ]; then export REDIS_URL="$ERRAND_E2E_REDIS_URL"; fi
export ERRAND_HTTP_BACKOFF_MS=20
FAILS=0
PIDS=()
NETWORKED=
E2E_DB=

# ours PID — is PID still a child of this shell?  A child that ended was reaped by
# bash at once, and with pid_max at 32768 its PID may belong to another
# process (another test's fake) by now: never signal it.
ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

cleanup() {
  for p in "${PIDS[@]}"; do if ours "$p"; then kill "$p" 2>/dev/null; fi; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$E2E_DB" ] && [ -z "${KEEP:-}" ]; then
    psql "$ERRAND_E2E_DATABASE_URL" -qAt -c "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" \
      >/dev/null 2>&1 || echo "could not drop database $E2E_DB" >&2
  fi
  if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "state kept in $T" >&2; fi
}
trap cleanup EXIT

# claim_slot — the networked tests run side by side (ctest -j), each in a slot
# of its own: RabbitMQ vhost e2eN (its queues and exchanges, made by
# tests/servers/rabbitmq.sh) and Redis database N.  A slot is held by a lock on
# build/servers/slots/N.lock for as long as this shell (or anything it started
# that still runs) keeps the file open, so no worker of another test can take
# this one's messages or see its keys.  Sets SLOT.  Only the tests that restart
# a server need the servers to themselves (tests/CMakeLists.txt runs them first).
claim_slot() {
  local dir="$ERRAND_BUILD/servers/slots" i
  mkdir -p "$dir"
  for _ in $(seq 1200); do
    for i in $(seq "${ERRAND_TEST_NET_SLOTS:-8}"); do
      exec {SLOT_FD}> "$dir/$i.lock"
      if flock -n "$SLOT_FD"; then SLOT=$i; return 0; fi
      exec {SLOT_FD}>&-
    done
    sleep 0.25
  done
  echo "no free slot for a networked test after 300 s" >&2
  return 1
}

# Networked mode: a slot, a fresh PostgreSQL database for this test, empty queues, and
# $ERRAND runs the commands that run tasks against `errand worker` processes of
# their configuration, kept by a pool manager (net_errand.py); $ERRAND_BIN is
# the binary itself.
ERRAND_BIN="$ERRAND"
if [ -n "${RABBITMQ_URL:-}" ]; then
  NETWORKED=1
  export ERRAND_BIN="$ERRAND" ERRAND_NET_LOGS="$T/workers" ERRAND_NET_POOL="$T/pool"
  ERRAND="$ERRAND_TESTS/e2e/net_errand.py"
  BUS_CTL="$ERRAND_BUILD/tests/bus_ctl"
  mkdir -p "$ERRAND_NET_LOGS" "$ERRAND_NET_POOL"
  claim_slot || exit 1
  export RABBITMQ_URL="${RABBITMQ_URL%/}/e2e$SLOT"
  if [ -n "${REDIS_URL:-}" ]; then
    export REDIS_URL="${REDIS_URL%/*}/$SLOT"
    # What the slot's last test left (rate limits, cached results) must not count here.
    if [ "$(redis-cli -u "$REDIS_URL" flushdb 2>&1)" != OK ]; then
      echo "cannot empty Redis database $SLOT" >&2; exit 1
    fi
  fi
  if ! "$BUS_CTL" "$RABBITMQ_URL" purge; then echo "cannot empty the queues" >&2; exit 1; fi
  # The slot is ours alone: a consumer now is a stray worker of the slot's last
  # test, which would take this one's messages.
  strays=$("$BUS_CTL" "$RABBITMQ_URL" consumers)
  if [ "$strays" != 0 ]; then
    echo "$strays consumer(s) on the queues already: another test's workers still run" >&2; exit 1
  fi
  "$ERRAND" --pool "$ERRAND_NET_POOL" > "$T/pool.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -S "$ERRAND_NET_POOL/pool.sock" ] && break; sleep 0.05; done
fi
case "${DATABASE_URL:-}" in
postgres*)
  E2E_DB="e2e_$(basename "$0" .sh | tr -c 'a-z0-9_\n' _)_$$"
  if ! psql "$DATABASE_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $E2E_DB" >/dev/null; then
    echo "cannot create database $E2E_DB" >&2; E2E_DB=; exit 1
  fi
  export DATABASE_URL="${DATABASE_URL%/*}/$E2E_DB"
  ;;
esac
# net_only — ends a test that only means something in networked mode (exit 77: skipped).
net_only() {
  if [ -z "$NETWORKED" ]; then echo "skipped: networked mode only"; exit 77; fi
}

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
expect_contains() { # expect_contains "description" haystack needle
  if contains "$2" "$3"; then pass "$1"; else fail "$1: expected to find [$3] in [$2]"; fi
}
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got [$2], expected [$3]"; fi
}
finish() {
  # The pool's workers must all stop cleanly (exit 0 after SIGTERM).
  if [ -S "${ERRAND_NET_POOL:-/nonexistent}/pool.sock" ] &&
     ! "$ERRAND" --pool-stop "$ERRAND_NET_POOL"; then
    fail "a worker did not stop cleanly (see above)"
  fi
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"; exit 0
}

# start_fake SCRIPT [extra fake_llm args] — starts the fake LLM; sets FAKE_PORT, FAKE_URL, FAKE_REC.
# A test's next fake takes the port of its last one when that is free again:
# networked, the workers' configuration (OPENAI_BASE_URL…) then stays the same
# and the pool keeps them (net_errand.py), as production keeps its workers,
# instead of restarting them all for every fake.  Else any free port.
start_fake() {
  local script=$1 port=${FAKE_PORT:-0}; shift
  FAKE_REC="$T/requests.jsonl"
  while :; do
    : > "$FAKE_REC"
    rm -f "$T/fake.port"
    setpriv --pdeathsig TERM "$FAKE_LLM" --script "$script" --port "$port" --port-file "$T/fake.port" \
      --record "$FAKE_REC" "$@" > "$T/fake.log" 2>&1 &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    for _ in $(seq 100); do
      [ -s "$T/fake.port" ] && break
      kill -0 "$FAKE_PID" 2>/dev/null || break
      sleep 0.05
    done
    if [ -s "$T/fake.port" ] || [ "$port" = 0 ]; then break; fi
    wait "$FAKE_PID" 2>/dev/null   # the port was taken meanwhile
    port=0
  done
  FAKE_PORT=$(cat "$T/fake.port")
  FAKE_URL="http://127.0.0.1:$FAKE_PORT"
}

# use_openai / use_anthropic — point errand at the fake.
use_openai() {
  export ERRAND_LLM=openai OPENAI_BASE_URL="$FAKE_URL/v1" OPENAI_API_KEY=test-key-123456 ERRAND_MODEL=fake-model
}
use_anthropic() {
  export ERRAND_LLM=anthropic ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY=test-key-123456 ERRAND_MODEL=fake-model
}

# jget JSON-TEXT PATH — a value out of JSON (jq is not assumed: python3's json).
jget() {
  printf '%s' "$1" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    try:
        d = d[int(k)] if isinstance(d, list) else d.get(k)
    except (IndexError, ValueError, AttributeError):
        d = None
    if d is None: break
print("" if d is None else (json.dumps(d, separators=(",", ":")) if isinstance(d,(dict,list)) else d))' "$2"
}
# jkey JSON-TEXT KEY... — like jget, but each key is one argument (keys may hold dots).
jkey() {
  local j=$1; shift
  printf '%s' "$j" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else d)' "$@"
}
# nreq — how many requests the fake recorded.
nreq() { wc -l < "$FAKE_REC" | tr -d ' '; }
# more_req N: the fake has recorded more than N requests (it records one once answered).
more_req() { [ "$(nreq)" -gt "$1" ]; }
# req N PATH — a value from the Nth recorded request (1-based).
req() { jget "$(sed -n "${1}p" "$FAKE_REC")" "$2"; }

# start_worker NAME [OPTIONS…] — `errand worker NAME OPTIONS…` in the background
# (networked mode), its stderr in $ERRAND_NET_LOGS/NAME.N.log; waits until it is
# ready.  Sets WORKER_PID and WORKER_LOG.
WORKER_N=0
start_worker() {
  local name=$1; shift
  WORKER_N=$((WORKER_N + 1))
  WORKER_LOG="$ERRAND_NET_LOGS/$name.$WORKER_N.log"
  # --pdeathsig: it dies with this shell, even when ctest kills the shell on a timeout.
  setpriv --pdeathsig TERM "$ERRAND_BIN" worker "$name" "$@" > /dev/null 2> "$WORKER_LOG" &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
  for _ in $(seq 1200); do
    if grep -q "worker $name ready" "$WORKER_LOG"; then return 0; fi
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
      fail "worker $name exited at start: $(cat "$WORKER_LOG")"; return 1
    fi
    sleep 0.05
  done
  fail "worker $name is not ready after 60 s"; return 1
}
# agent_names — the agents of the registry (errand agents), one a line.
agent_names() {
  "$ERRAND_BIN" agents --json | /usr/bin/python3 -c 'import json,sys
for a in json.load(sys.stdin): print(a["name"])'
}
# start_workers [OPTIONS…] — supervisor, aggregator and one worker per agent.
start_workers() {
  local w
  for w in supervisor aggregator $(agent_names); do start_worker "$w" "$@"; done
}
# stop_worker PID — SIGTERM, then wait; returns the worker's exit status.
stop_worker() { if ours "$1"; then kill -TERM "$1"; fi; wait "$1"; }
# wait_for SECONDS COMMAND… — polls COMMAND every 50 ms until it succeeds (1 on timeout).
wait_for() {
  local n=$(( $1 * 20 )); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
  return 1
}
# events ID — the kinds of a task's stored events, one a line.
events() {
  "$ERRAND_BIN" task show --json "$1" | /usr/bin/python3 -c 'import json,sys
for e in json.load(sys.stdin)["events"]: print(e["kind"])'
}
