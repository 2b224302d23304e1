# What an operator of the networked mode reads: `errand doctor` names each
# backend by its (masked) URL, and --json gives every queue's depth and
# consumers as numbers; a worker started without a broker says so at once.
. "$(dirname "$0")/lib.sh"
net_only
export ERRAND_LLM=offline
start_worker code
out=$("$ERRAND_BIN" doctor); rc=$?
expect_eq "doctor exits 0" "$rc" 0
expect_contains "the bus line names the broker" "$out" "bus    OK    amqp://guest:***@"
expect_contains "the cache line names Redis" "$out" "cache  OK    redis://127.0.0.1:"
d=$("$ERRAND_BIN" doctor --json)
q() { printf '%s' "$d" | /usr/bin/python3 -c 'import json,sys
print(json.load(sys.stdin)["checks"]["bus"]["queues"][sys.argv[1]][sys.argv[2]])' "$@"; }
expect_eq "--json: agent.code's consumers" "$(q agent.code consumers)" 1
expect_eq "--json: supervisor.tasks' depth" "$(q supervisor.tasks waiting)" 0
expect_eq "--json: the dead letters' depth" "$(q errand.dead waiting)" 0
expect_eq "--json: the detail is one line" "$(jget "$d" checks.bus.detail | wc -l | tr -d ' ')" 1
out=$(env -u RABBITMQ_URL timeout 20 "$ERRAND_BIN" worker code 2>&1); rc=$?
expect_eq "a worker without a broker: exit 2" "$rc" 2
expect_contains "and says why" "$out" "set RABBITMQ_URL"
finish
