#!/usr/bin/env bash
# s_frozen_worker.sh — SOAK_ROUNDS rounds (10) of a worker frozen past the AMQP
# heartbeat: worker A (heartbeat 2 s) takes a task and waits for the model; it
# is stopped (SIGSTOP, as a VM pause or a partition would), the broker hands
# the task to worker B, which runs its call (a ledger line) and finishes; then A
# is resumed with its own answer from the model in hand.  Counts:
#   duplicated   the round's ledger line twice (A acted on its stale answer)
#   lost         no ledger line although the task is done and says nothing
#   stuck        the task not ended, or `errand ask` hung
#   interrupted  the result says a call was interrupted and not repeated
#   abandoned    A noticed it had lost the task and gave it up
# and how long the task took to reach B after A froze.
#
#   bench/soak/s_frozen_worker.sh [BUILD_DIR]      (make soak runs every scenario)
. "$(dirname "$0")/lib_ownership.sh"
ROUNDS=${SOAK_ROUNDS:-10}
STALL_MS=${SOAK_STALL_MS:-12000}

/usr/bin/python3 - "$W/s.json" "$ROUNDS" "$STALL_MS" <<'PY'
import json, sys
path, n, stall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
turns = []
for i in range(1, n + 1):
    call = lambda who: [{"id": "%s-%03d" % (who, i), "name": "run",
                         "arguments": {"cmd": "echo %03d >> ledger.txt" % i}}]
    turns += [
        {"match": '"b-%03d"' % i, "text": "round %d done by B" % i},
        {"match": '"a-%03d"' % i, "text": "round %d done by A" % i},
        {"match": "[frz-%03d]" % i, "stall_ms": stall, "tool_calls": call("a")},
        {"match": "[frz-%03d]" % i, "tool_calls": call("b")},
    ]
json.dump({"turns": turns}, open(path, "w"))
PY
start_fake "$W/s.json"
opts=(-o policy.exec=allow --log-level info)
start_worker supervisor "${opts[@]}" || exit 1
start_worker aggregator "${opts[@]}" || exit 1
wait_log() { # wait_log SECONDS FILE PATTERN
  local n=$(( $1 * 20 ))
  for _ in $(seq "$n"); do grep -q "$3" "$2" && return 0; sleep 0.05; done
  return 1
}
stop() { kill -CONT "$1" 2>/dev/null; kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

dup=0 lost=0 stuck=0 interrupted=0 abandoned=0
: > "$W/takeover.ms"
: > "$W/ask.ms"
echo "frozen_worker: $ROUNDS rounds" >&2
for i in $(seq "$ROUNDS"); do
  tag=$(printf '%03d' "$i")
  RABBITMQ_URL="$RABBITMQ_URL?heartbeat=2" start_worker code "${opts[@]}" || exit 1
  a=$WORKER_PID alog=$WORKER_LOG
  t0=$(date +%s%N)
  (cd "$W/ws" && timeout 120 "$ERRAND_BIN" ask --agent code "[frz-$tag] ledger it") \
    > "$W/logs/ask.$i.out" 2> "$W/logs/ask.$i.err" &
  ask=$!
  wait_log 60 "$alog" "running task .* (attempt 1[,)]" || { echo "round $i: A never took it" >&2; exit 1; }
  sleep 0.5
  kill -STOP "$a"
  frozen=$(date +%s%N)
  start_worker code "${opts[@]}" || exit 1
  b=$WORKER_PID blog=$WORKER_LOG
  wait "$ask"; rc=$?
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >> "$W/ask.ms"
  if wait_log 1 "$blog" "running task .* (attempt 2[,)]"; then
    took=$(grep -h "running task .* (attempt 2[,)]" "$blog" | head -1 |
           /usr/bin/python3 -c 'import datetime, json, sys
t = json.loads(sys.stdin.read())["ts"]
print(int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))')
    echo $(( took - frozen / 1000000 )) >> "$W/takeover.ms"
  fi
  kill -CONT "$a"
  wait_log 60 "$alog" "stopped: abandoned" && abandoned=$((abandoned + 1))
  sleep 1   # were A to go on, its call would have run by now
  lines=$(grep -cx "$tag" "$W/ws/ledger.txt" 2>/dev/null)
  result=$(psql "$DATABASE_URL" -qAt -c "SELECT status || ' ' || coalesce(result, '') FROM tasks
                                         WHERE request LIKE '[frz-$tag]%'")
  [ "${lines:-0}" -gt 1 ] && dup=$((dup + 1))
  case "$result" in
    3\ *"[errand: "*) interrupted=$((interrupted + 1)) ;;
    3\ *) [ "${lines:-0}" = 0 ] && lost=$((lost + 1)) ;;
    4\ *) ;;
    *) stuck=$((stuck + 1)) ;;
  esac
  [ "$rc" = 124 ] && stuck=$((stuck + 1))
  echo "  round $i: ask $rc, ledger lines $lines, A $(grep -q 'stopped: abandoned' "$alog" && echo 'gave up' || echo 'went on')" >&2
  stop "$a"; stop "$b"
done
echo "frozen_worker: $ROUNDS rounds of a worker frozen past the heartbeat"
echo "  duplicated $dup, lost $lost, stuck $stuck, interrupted $interrupted; the frozen worker gave up $abandoned"
echo "  task reached the other worker after the freeze: p50 $(pct "$W/takeover.ms" 50) ms, max $(pct "$W/takeover.ms" 100) ms; ask p50 $(pct "$W/ask.ms" 50) ms"
[ "$dup" = 0 ] && [ "$lost" = 0 ] && [ "$stuck" = 0 ]
