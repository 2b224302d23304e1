#!/usr/bin/env bash
# redis.sh — a throwaway redis-server on 127.0.0.1:56379 for the backend tests.
#
#   redis.sh start STATE_DIR   start it (no persistence) and wait until it answers PING
#   redis.sh stop STATE_DIR    stop it by the PID in STATE_DIR/redis.pid
#
# The Redis backend test also calls stop + start with the same STATE_DIR to
# check that clients reconnect after a restart.
set -euo pipefail

PORT=${ERRAND_TEST_REDIS_PORT:-56379}
cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
fi
pidfile=$state/redis.pid

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
    command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
    mkdir -p "$state"
    if alive; then
        echo "redis already running (pid $(cat "$pidfile"))"
        return 0
    fi
    # --daemonize no + & gives us the real PID; redis writes no files (no RDB, no AOF).
    redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
        --daemonize no --dir "$state" --logfile "$state/redis.log" --protected-mode yes \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 100); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; then
            echo "redis up on 127.0.0.1:$PORT (pid $(cat "$pidfile"))"
            return 0
        fi
        if ! alive; then
            echo "redis-server exited; see $state/redis.log:" >&2
            tail -n 20 "$state/redis.log" >&2 || true
            rm -f "$pidfile"
            exit 1
        fi
        sleep 0.1
    done
    echo "redis on 127.0.0.1:$PORT did not answer PING within 10 s" >&2
    kill "$(cat "$pidfile")" 2>/dev/null || true
    exit 1
}

stop() {
    if ! alive; then
        rm -f "$pidfile"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
