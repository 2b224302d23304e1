#!/usr/bin/env bash
# s_kill_cycles.sh — networked mode under kill -9: SOAK_CLIENTS clients (4) keep
# submitting tasks while, every 2-3 s, one of SOAK_WORKERS code workers (3) is
# killed and a new one started, SOAK_KILLS times (100).  Each task takes 3
# model steps and 2 tool calls: `run` appends the task's number to a ledger
# (not idempotent: at most once), then write_file writes the task's own file
# (idempotent: re-run after a crash).  At the end it counts, per task:
#   lost         done, but a side effect is missing and the result does not say so
#   duplicated   the ledger has the task's line more than once
#   stuck        not ended once the clients are done (or a client that hung)
#   interrupted  done, and the result says a call was interrupted and not repeated
# plus failed tasks with their reasons, model requests asked again, and how
# long a killed worker's task took to run again elsewhere.
#
#   bench/soak/s_kill_cycles.sh [BUILD_DIR]      (make soak runs every scenario)
. "$(dirname "$0")/lib_ownership.sh"
KILLS=${SOAK_KILLS:-100}
NWORKERS=${SOAK_WORKERS:-3}
CLIENTS=${SOAK_CLIENTS:-4}
MAXTASKS=${SOAK_MAX_TASKS:-1500}
DELAY_MS=${SOAK_LLM_DELAY_MS:-150}

/usr/bin/python3 - "$W/s.json" "$MAXTASKS" "$DELAY_MS" <<'PY'
import json, sys
path, n, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
turns = []
for i in range(1, n + 1):
    turns += [
        {"match": '"w-%05d"' % i, "repeat": True, "delay_ms": delay, "text": "task %d done" % i},
        {"match": '"r-%05d"' % i, "repeat": True, "delay_ms": delay, "tool_calls": [
            {"id": "w-%05d" % i, "name": "write_file",
             "arguments": {"path": "out/%05d.txt" % i, "content": "content of task %d\n" % i}}]},
        {"match": "[req-%05d]" % i, "repeat": True, "delay_ms": delay, "tool_calls": [
            {"id": "r-%05d" % i, "name": "run",
             "arguments": {"cmd": "echo %05d >> ledger.txt; sleep 0.3" % i}}]},
    ]
json.dump({"turns": turns}, open(path, "w"))
PY
start_fake "$W/s.json"
opts=(-o policy.exec=allow -o policy.write=allow --log-level info)
start_worker supervisor "${opts[@]}" || exit 1
start_worker aggregator "${opts[@]}" || exit 1
workers=()
for _ in $(seq "$NWORKERS"); do start_worker code "${opts[@]}" || exit 1; workers+=("$WORKER_PID:$WORKER_LOG"); done

# Clients: each takes the next task number until the kills are over.
echo 0 > "$W/counter"
: > "$W/clients.log"
next_id() { flock "$W/counter" sh -c 'n=$(($(cat "$1") + 1)); echo $n > "$1"; echo $n' _ "$W/counter"; }
client() {
  local n rc t0
  while [ ! -e "$W/stop" ]; do
    n=$(next_id)
    [ "$n" -le "$MAXTASKS" ] || break
    t0=$(date +%s%N)
    (cd "$W/ws" && timeout 300 "$ERRAND_BIN" ask --agent code "$(printf '[req-%05d] soak task' "$n")") \
      > "$W/logs/ask.$n.out" 2> "$W/logs/ask.$n.err"
    rc=$?
    echo "$n $rc $(( ($(date +%s%N) - t0) / 1000000 ))" >> "$W/clients.log"
  done
}
for _ in $(seq "$CLIENTS"); do client & PIDS+=("$!"); done
clients=("${PIDS[@]: -$CLIENTS}")

: > "$W/kills.log"
echo "kill_cycles: $KILLS kills of 1 of $NWORKERS code workers every 2-3 s, $CLIENTS clients" >&2
for k in $(seq "$KILLS"); do
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 2 + r / 32767 }')"
  i=$((RANDOM % NWORKERS))
  pid=${workers[$i]%%:*}
  kill -9 "$pid"; wait "$pid" 2>/dev/null
  echo "$(date +%s%3N) ${workers[$i]#*:}" >> "$W/kills.log"
  start_worker code "${opts[@]}" || exit 1
  workers[$i]="$WORKER_PID:$WORKER_LOG"
  [ $((k % 10)) = 0 ] && echo "  $k kills, $(wc -l < "$W/clients.log") tasks ended" >&2
done
touch "$W/stop"
for p in "${clients[@]}"; do wait "$p"; done
sleep 2   # results in flight reach the aggregator

psql "$DATABASE_URL" -qAt -F $'\037' -R $'\036' -o "$W/tasks.txt" \
  -c "SELECT id, status, attempt, substring(request from 6 for 5), coalesce(result, ''),
      coalesce(error, '') FROM tasks WHERE parent_id IS NULL"
/usr/bin/python3 - "$W" "$KILLS" "$NWORKERS" "$CLIENTS" <<'PY'
import datetime, glob, json, os, re, sys
W, kills, nworkers, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [r.split("\037") for r in open(W + "/tasks.txt").read().split("\036") if r.strip()]
ledger = {}
if os.path.exists(W + "/ws/ledger.txt"):
    for line in open(W + "/ws/ledger.txt"):
        ledger[line.strip()] = ledger.get(line.strip(), 0) + 1
counts = dict(tasks=len(rows), done=0, failed=0, lost=0, duplicated=0, stuck=0, interrupted=0)
reasons = {}
for tid, status, attempt, n, result, error in rows:
    if ledger.get(n, 0) > 1:
        counts["duplicated"] += 1
    if status in ("0", "1", "2"):
        counts["stuck"] += 1
        continue
    if status == "4":
        counts["failed"] += 1
        key = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "ID", error)[:100]
        reasons[key] = reasons.get(key, 0) + 1
        continue
    if status != "3":
        continue
    counts["done"] += 1
    said = result.startswith("task ") and "[errand: " in result
    if said:
        counts["interrupted"] += 1
    f = "%s/ws/out/%s.txt" % (W, n)
    wrote = os.path.exists(f) and open(f).read() == "content of task %d\n" % int(n)
    if not wrote or (ledger.get(n, 0) == 0 and not (said and "run {" in result)):
        counts["lost"] += 1
hung = errors = 0
for line in open(W + "/clients.log"):
    n, rc, ms = line.split()
    hung += rc == "124"
    errors += rc not in ("0", "1", "124")
counts["stuck"] += hung
# Each turn of the script is one (task, step): a turn answered twice was asked again.
turns = [json.loads(line)["turn"] for line in open(W + "/requests.jsonl")]
requests = len(turns)
reasked = requests - len(set(turns))
# How long a killed worker's task waited: its next attempt's start minus the kill.
starts = {}
for log in glob.glob(W + "/logs/code.*.log"):
    for line in open(log):
        if '"running task ' not in line:
            continue
        j = json.loads(line)
        m = re.match(r"running task (\S+) on \S+ \(attempt (\d+)", j["msg"])
        t = datetime.datetime.strptime(j["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000
        starts[(m.group(1), int(m.group(2)))] = (t, log)
killed = {}
for line in open(W + "/kills.log"):
    ms, log = line.split()
    killed[log] = float(ms)
waits = []
for (tid, a), (t, log) in starts.items():
    nxt = starts.get((tid, a + 1))
    if log in killed and nxt and nxt[0] >= killed[log]:
        waits.append(nxt[0] - killed[log])
waits.sort()
p50 = waits[len(waits) // 2] if waits else float("nan")
p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))] if waits else float("nan")
print("kill_cycles: %d kills of 1 of %s code workers, %s clients" % (kills, nworkers, clients))
print("  tasks %(tasks)d: done %(done)d, failed %(failed)d" % counts)
print("  lost %(lost)d, duplicated %(duplicated)d, stuck %(stuck)d, interrupted %(interrupted)d" % counts)
print("  model requests %d, asked again %d (%.2f %%); client errors %d, hung %d"
      % (requests, reasked, 100.0 * reasked / max(requests, 1), errors, hung))
print("  taken over after a kill: %d tasks, p50 %.0f ms, p99 %.0f ms" % (len(waits), p50, p99))
for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
    print("  failed %d: %s" % (v, k))
sys.exit(1 if counts["lost"] or counts["duplicated"] or counts["stuck"] or errors else 0)
PY
