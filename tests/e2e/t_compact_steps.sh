# One long task outgrowing the model's context window (issue 15): the code
# agent makes 60 tool calls (write_todos, each with a long plan) in one run,
# one of them a `run` that waits for an approval (the task parks, and the
# answer sends it back to replay its recorded steps).  The run's older steps
# are folded into a summary written by the model, fenced as data, so every
# request the model receives stays under llm.context_window; the request and
# the recent steps stay verbatim, a tool call never parts from its result, and
# the replay after the approval applies the recorded compactions instead of
# asking the model again.  Then the same offline (no model summary): the
# older steps cut and marked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws"
N=60
APPROVE=30 # the step whose call needs an approval
WINDOW=9000

# The script: step i answers the result of call s(i-1) with call s(i); listed
# newest first, so the newest unused turn a request matches answers it.
$PY - "$N" "$APPROVE" > "$T/s.json" <<'EOF'
import json, sys
n, approve = int(sys.argv[1]), int(sys.argv[2])
after = lambda i: '"tool_call_id":"s%d"' % i
plan = lambda i: {"todos": [{"content": "step %d of the long task: %s" % (i, "check the next module carefully " * 12),
                             "status": "in_progress"}]}
def call(i):
    if i == approve:
        return {"id": "s%d" % i, "name": "run", "arguments": {"cmd": "echo approved-step >> steps.txt"}}
    return {"id": "s%d" % i, "name": "write_todos", "arguments": plan(i)}
turns = [{"match": '"name":"route"', "repeat": True, "tool_calls": [
             {"id": "r", "name": "route", "arguments": {"steps": [{"agent": "code", "request": ""}]}}]},
         {"match": "You compact the earlier steps", "repeat": True,
          "text": "STEP-NOTES: steps so far wrote long plans; the user wants LONGTASK finished."},
         {"match": after(n), "text": "finished all %d steps" % n}]
for i in range(n, 1, -1):
    turns.append({"match": after(i - 1), "tool_calls": [call(i)]})
turns.append({"match": "LONGTASK", "tool_calls": [call(1)]})
print(json.dumps({"turns": turns}))
EOF

on_tty() {
  local answers=$1
  shift
  local cmd="$ERRAND -w $ws"
  for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
  printf '%b' "$answers" | script -qec "$cmd" /dev/null
}

# The fake's record, checked: bodies under the window, calls with results.
cat > "$T/check.py" <<'EOF'
import json, sys
window, mode = int(sys.argv[2]), sys.argv[3]
reqs = [json.loads(l) for l in open(sys.argv[1])]
agent = [r for r in reqs if "messages" in (r.get("body") or {})
         and "You are the code agent" in json.dumps(r["body"])]
if mode == "max":      # the largest agent request, in tokens (four bytes each)
    print(max(len(json.dumps(r["body"], separators=(",", ":"))) // 4 for r in agent))
elif mode == "pairs":  # calls without their result, or results without their call
    bad = 0
    for r in agent:
        msgs = r["body"]["messages"]
        for i, m in enumerate(msgs):
            for c in m.get("tool_calls") or []:
                ids = [x.get("tool_call_id") for x in msgs[i + 1:]]
                bad += c["id"] not in ids
            if m.get("role") == "tool":
                calls = [c["id"] for x in msgs[:i] for c in (x.get("tool_calls") or [])]
                bad += m.get("tool_call_id") not in calls
    print(bad)
elif mode == "last":   # the last agent request's messages
    print(json.dumps(agent[-1]["body"]["messages"]))
elif mode == "summaries":  # the requests for a summary of the steps
    print(sum("You compact the earlier steps" in json.dumps(r.get("body")) for r in reqs))
EOF
report() { $PY "$T/check.py" "$FAKE_REC" "$WINDOW" "$1"; }

check "script(1) is installed" command -v script
start_fake "$T/s.json"
use_openai
export ERRAND_LLM_CONTEXT_WINDOW=$WINDOW
ERRAND_LOG=info on_tty 'y\n' -o policy.exec=ask -o agent.max_steps=100 -o agent.max_tokens=2000000 ask --agent code "LONGTASK: go through every step" > "$T/out.1"; rc=$?
expect_eq "the long task succeeds" "$rc" 0
check "…with its final answer" grep -q "finished all $N steps" "$T/out.1"
check "the approval was asked" grep -q "code wants to call run" "$T/out.1"
# The attempt after the answer logs what it replayed (networked: a worker).
logs=("$T/out.1")
[ -n "$NETWORKED" ] && logs+=("$T"/workers/*.log)
check "the answer resumed the parked task, replaying its recorded steps" grep -q "replayed llm:29" "${logs[@]}"
check "…and its recorded compactions, the model not asked again" grep -q "replayed compact:" "${logs[@]}"
check "…and the approved call ran once" test "$(grep -c approved-step "$ws/steps.txt")" -eq 1
max=$(report max)
check "every request to the model fits the window ($max of $WINDOW tokens)" test "$max" -le "$WINDOW"
# Every call's arguments travel twice (the call, the plan in its result).
steps=$($PY -c 'import json,sys; print(sum(2 * len(json.dumps(c["arguments"])) for t in json.load(open(sys.argv[1]))["turns"] for c in t.get("tool_calls", [])) // 4)' "$T/s.json")
check "without compaction it would not have ($steps tokens of steps)" test "$steps" -gt "$WINDOW"
expect_eq "no call parted from its result" "$(report pairs)" 0
nsum=$(report summaries)
check "the model summarised the older steps ($nsum times)" test "$nsum" -ge 2
report last > "$T/last.json"
has() { grep -qF -- "$1" "$T/last.json"; }
check "the last request carries the summary" has "STEP-NOTES"
check "…fenced as data" has 'untrusted-data kind=\"task-steps-summary\"'
check "…the request verbatim" has "LONGTASK: go through every step"
check "…and the latest step verbatim" has "step $N of the long task"
check "the oldest steps are not sent again" not has "step 1 of the long"
tid=$(jget "$("$ERRAND" task list --json --limit 1)" 0.id)
ev=$("$ERRAND" task show --json "$tid")
ncomp=$(grep -oE '"kind":[[:space:]]*"compaction"' <<<"$ev" | wc -l)
expect_eq "each compaction is an event of the task, none made twice on replay" "$ncomp" "$nsum"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# Offline summary: the model cannot summarise (its turn answers 500), so the
# older steps are cut and marked; the task still finishes within the window.
$PY - "$T/s.json" > "$T/s2.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for t in s["turns"]:
    if t["match"] == "You compact the earlier steps":
        t.pop("text"); t["status"] = 400; t["message"] = "no summaries here"
print(json.dumps(s))
EOF
rm -f "$ws/steps.txt"
start_fake "$T/s2.json"
use_openai
on_tty 'y\n' -o policy.exec=ask -o agent.max_steps=100 -o agent.max_tokens=2000000 ask --agent code "LONGTASK: go through every step" > "$T/out.2"; rc=$?
expect_eq "offline: the long task succeeds" "$rc" 0
check "offline: its final answer" grep -q "finished all $N steps" "$T/out.2"
max=$(report max)
check "offline: every request fits the window ($max of $WINDOW tokens)" test "$max" -le "$WINDOW"
report last > "$T/last.json"
check "offline: the older steps are cut and marked" has "compacted without a model"
finish
