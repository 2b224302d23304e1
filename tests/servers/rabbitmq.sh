#!/usr/bin/env bash
# rabbitmq.sh — a throwaway RabbitMQ for the bus conformance tests.
#
#   rabbitmq.sh start|stop|stop_app|start_app STATE_DIR
#
# Every listener is on loopback and on a private port, so it cannot collide with a
# system broker: AMQP 127.0.0.1:$ERRAND_TEST_AMQP_PORT (55672), Erlang distribution
# on the next port, rabbitmqctl's own node on ports +8..+18, its own epmd on
# $ERRAND_TEST_EPMD_PORT (54369), node name errand_test@<host>.  Each start wipes and
# recreates the mnesia dir under STATE_DIR (owned by the rabbitmq user).  stop
# shuts the node down and kills the epmd it left behind, by PID.  stop_app /
# start_app stop and restart the broker application inside the running node (all
# client connections drop; durable queues and persistent messages survive): the
# bus tests use them to simulate a broker restart.
# Recipe and pitfalls: /work/shared/SERVICES.md §1 (Debian 12, RabbitMQ 3.10).
set -euo pipefail

usage() { echo "usage: $0 start|stop|stop_app|start_app STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
rabbit=$state/rabbit

export RABBITMQ_NODENAME="errand_test@$(hostname -s)"
export RABBITMQ_MNESIA_BASE=$rabbit/mnesia RABBITMQ_LOG_BASE=$rabbit/log
export RABBITMQ_ENABLED_PLUGINS_FILE=$rabbit/enabled_plugins
port=${ERRAND_TEST_AMQP_PORT:-55672}
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 1))
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=${ERRAND_TEST_EPMD_PORT:-54369}
# +sbwt none: Erlang's schedulers otherwise spin while idle, burning CPU that
# the workers and the other servers on a small shared machine need.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
# rabbitmqctl starts a short-lived Erlang node of its own: keep it on loopback too.
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_DIST_PORT_MIN=$((port + 8)) RABBITMQ_CTL_DIST_PORT_MAX=$((port + 18))
pidfile=$RABBITMQ_MNESIA_BASE/$RABBITMQ_NODENAME.pid

# PID of the process listening on TCP port $1, or nothing.
listener_pid() {
    ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true
}

# PID of the broker this state dir started, if it still runs: never touch another's.
our_pid() {
    local pid
    pid=$(cat "$pidfile" 2>/dev/null) || return 0
    if [ -n "$pid" ] && grep -qszxF "RABBITMQ_MNESIA_BASE=$RABBITMQ_MNESIA_BASE" "/proc/$pid/environ"; then
        echo "$pid"
    fi
}

# Our epmd, once no node is registered with it any more.
stop_epmd() {
    local epmd
    epmd=$(listener_pid "$ERL_EPMD_PORT")
    [ -n "$epmd" ] || return 0
    if epmd -names 2>/dev/null | grep -q '^name '; then
        return 0   # a node still uses it
    fi
    kill "$epmd" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$epmd" 2>/dev/null || break; sleep 0.1; done
}

stop_node() {
    local pid
    pid=$(our_pid)
    if [ -n "$pid" ]; then
        rabbitmqctl -q shutdown --timeout 60 >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    [ -d "$rabbit" ] && stop_epmd
    return 0
}

case $cmd in
start)
    command -v rabbitmq-server >/dev/null || { echo "rabbitmq-server is not installed" >&2; exit 1; }
    stop_node   # a node this state dir left behind (an interrupted run)
    for port in "$RABBITMQ_NODE_PORT" "$RABBITMQ_DIST_PORT"; do
        if [ -n "$(listener_pid "$port")" ]; then
            echo "port $port is taken (another test broker running?); not starting" >&2
            exit 1
        fi
    done
    rm -rf "$rabbit"
    chmod 755 "$state"
    install -d -o rabbitmq -g rabbitmq "$rabbit" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    chown rabbitmq:rabbitmq "$RABBITMQ_ENABLED_PLUGINS_FILE"
    rabbitmq-server -detached
    if ! timeout 120 rabbitmqctl -q wait --timeout 110 "$pidfile" >/dev/null; then
        echo "RabbitMQ did not become ready; log: $RABBITMQ_LOG_BASE" >&2
        stop_node
        exit 1
    fi
    # Vhosts, all in one rabbitmqctl call (each call boots an Erlang node):
    # "quorum" for the suite's run on quorum queues (bus.queue_type=quorum: a
    # queue keeps the type it was declared with, so the two runs cannot share
    # one), and e2e1..e2eN, the slots in which the networked end-to-end tests
    # run side by side, each with queues and exchanges of its own
    # (tests/e2e/lib.sh, claim_slot).
    defs=$state/vhosts.json
    python3 - "${ERRAND_TEST_NET_SLOTS:-8}" > "$defs" <<'PY'
import json, sys
names = ["quorum"] + ["e2e%d" % i for i in range(1, int(sys.argv[1]) + 1)]
print(json.dumps({"vhosts": [{"name": n} for n in names],
                  "permissions": [{"user": "guest", "vhost": n, "configure": ".*",
                                   "write": ".*", "read": ".*"} for n in names]}))
PY
    chmod 644 "$defs"
    rabbitmqctl -q import_definitions "$defs" >/dev/null
    ;;
stop)
    stop_node
    ;;
stop_app)
    rabbitmqctl -q stop_app >/dev/null
    ;;
start_app)
    rabbitmqctl -q start_app >/dev/null
    timeout 60 rabbitmqctl -q await_startup --timeout 50 >/dev/null
    ;;
*)
    usage
    ;;
esac
