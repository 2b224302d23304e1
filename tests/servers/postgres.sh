#!/usr/bin/env bash
# postgres.sh — a throwaway PostgreSQL 15 for the backend tests (a ctest fixture).
#
#   postgres.sh start STATE_DIR   initdb in STATE_DIR, listen on 127.0.0.1:$PORT only,
#                                 create role errand/errand and database errand, wait until ready
#   postgres.sh stop STATE_DIR    stop the server by its PID and remove STATE_DIR
#
# Runs the server as the postgres user when started as root (initdb refuses root).
# A server left behind by a crashed earlier run with the same STATE_DIR is stopped first.
set -euo pipefail

cmd=${1:-}
state=${2:-}
PORT=${ERRAND_TEST_PG_PORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "postgres.sh: $*" >&2; exit 1; }
[ -n "$cmd" ] && [ -n "$state" ] || die "usage: postgres.sh start|stop STATE_DIR"
[ -x "$PGBIN/pg_ctl" ] || die "no PostgreSQL 15 in $PGBIN (apt-get install postgresql-15, or set PGBIN)"

data=$state/data
sock=$state/sock
pidfile=$state/postgres.pid

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Stops the server recorded in STATE_DIR, by PID; quiet when there is none.
stop_server() {
  local pid=""
  [ -f "$pidfile" ] && pid=$(head -n1 "$pidfile")
  [ -z "$pid" ] && [ -f "$data/postmaster.pid" ] && pid=$(head -n1 "$data/postmaster.pid")
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  # Only a postgres process is ours to stop: the PID may have been reused.
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
    postgres|postmaster) ;;
    *) return 0 ;;
  esac
  if [ -d "$data" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if kill -0 "$pid" 2>/dev/null; then
    die "PostgreSQL (PID $pid) did not stop"
  fi
}

start() {
  stop_server            # a stale run with this state dir
  rm -rf "$state"
  if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
    die "something already answers on 127.0.0.1:$PORT and it is not ours; stop it or set ERRAND_TEST_PG_PORT"
  fi
  mkdir -p "$state"
  chmod 755 "$state"
  install -d -m 700 "$data"
  install -d -m 755 "$sock"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$data" "$sock" "$state"; fi
  as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; die "initdb failed"; }
  if ! as_owner "$PGBIN/pg_ctl" -D "$data" -l "$state/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -p $PORT -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
       start >/dev/null; then
    tail -n 20 "$state/server.log" >&2 || true
    die "PostgreSQL did not start"
  fi
  head -n1 "$data/postmaster.pid" >"$pidfile"
  for _ in $(seq 100); do
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.1
  done
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "PostgreSQL is not ready on 127.0.0.1:$PORT"
  as_owner "$PGBIN/psql" -h "$sock" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE errand LOGIN PASSWORD 'errand'" \
    -c "CREATE DATABASE errand OWNER errand" >/dev/null
  echo "PostgreSQL ready on 127.0.0.1:$PORT (PID $(cat "$pidfile"))"
}

stop() {
  stop_server
  rm -rf "$state"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) die "unknown command '$cmd' (use start or stop)" ;;
esac
