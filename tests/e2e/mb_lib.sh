# mb_lib.sh — shared by the t_mb_*.sh tests: one misbehaviour of the model or
# of its server each (tests/fakes/fake_llm_misbehave.h and fake_llm.c play
# them), run in both wire formats, locally and networked (e2e-net.mb_*).
# Sourced after lib.sh.
PY=/usr/bin/python3
# Both wire formats locally.  Networked, what is tested is the same client
# code across processes, and each provider costs a pool of workers: one wire
# format per test there, half the tests each (chosen by the test's name).
if [ -z "${MB_PROVIDERS:-}" ] && [ -n "$NETWORKED" ]; then
  if [ $(( $(basename "$0" | cksum | cut -d' ' -f1) % 2 )) -eq 0 ]; then MB_PROVIDERS=openai
  else MB_PROVIDERS=anthropic; fi
fi
MB_PROVIDERS="${MB_PROVIDERS:-openai anthropic}"

stop_fake() { if ours "$FAKE_PID"; then kill "$FAKE_PID"; fi; wait "$FAKE_PID" 2>/dev/null; }

# each_provider FN — FN PROVIDER once per wire format, each time with a fresh
# fake playing $T/s.json (so "repeat"-less turns are fresh too).
each_provider() {
  local p
  for p in $MB_PROVIDERS; do
    start_fake "$T/s.json"
    "use_$p"
    "$1" "$p"
    stop_fake
  done
}

# event_data ID KIND — the data of the task's first event of that kind (JSON).
event_data() {
  "$ERRAND_BIN" task show --json "$1" | $PY -c 'import json,sys
ev=[e for e in json.load(sys.stdin)["events"] if e["kind"]==sys.argv[1]]
print(json.dumps(ev[0]["data"]) if ev else "")' "$2"
}

# count_events ID KIND — how many events of that kind the task has.
count_events() { events "$1" | grep -cx "$2"; }

# secs_since T0 — whole seconds since $T0 (from `date +%s.%N`), as a decimal.
secs_since() { $PY -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$1"; }

# at_least A B — A >= B (decimals).
at_least() { $PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }

# ---- routing: the model's decision is unusable; the classifier decides ----

MB_ROUTE_REQ="find the bug in parser.c and fix the failing test"

# route_script TURN-FIELDS — a script whose route call is answered with the
# given turn fields, and whose agents each answer "handled by AGENT".
route_script() {
  {
    echo '{"turns":['
    echo "{\"match\":\"\\\"name\\\":\\\"route\\\"\",\"repeat\":true,$1},"
    for a in code research data email browser; do
      echo "{\"match\":\"You are the $a agent\",\"repeat\":true,\"text\":\"handled by $a\"},"
    done
    echo '{"match":"never sent","text":"unused"}]}'
  } > "$T/s.json"
}

# route_check PROVIDER — `errand route` and `errand ask` go on with the offline
# classifier, saying why ($MB_REASON), and the routed event records it.
route_check() {
  local p=$1 json out rc id
  json=$("$ERRAND" route --json "$MB_ROUTE_REQ"); rc=$?
  expect_eq "$p: route exits 0" "$rc" 0
  expect_eq "$p: route method" "$(jget "$json" method)" fallback
  expect_contains "$p: route reason" "$(jget "$json" reason)" "$MB_REASON"
  expect_eq "$p: route classifier" "$(jget "$json" classifier)" naive-bayes
  expect_eq "$p: route agent" "$(jget "$json" steps.0.agent)" code
  out=$("$ERRAND" route "$MB_ROUTE_REQ")
  expect_contains "$p: route says it fell back" "$out" "fallback: the model's decision was unusable ($MB_REASON"
  json=$("$ERRAND" ask --json "$MB_ROUTE_REQ"); rc=$?
  expect_eq "$p: ask exits 0" "$rc" 0
  expect_eq "$p: the task went on" "$(jget "$json" answer)" "handled by code"
  expect_eq "$p: ask route method" "$(jget "$json" route.method)" fallback
  id=$(jget "$json" task_id)
  out=$(event_data "$id" routed)
  expect_eq "$p: routed event method" "$(jget "$out" method)" fallback
  expect_contains "$p: routed event reason" "$(jget "$out" reason)" "$MB_REASON"
}

# route_case TURN-FIELDS REASON — the whole routing test of one misbehaviour.
route_case() {
  route_script "$1"
  MB_REASON=$2
  each_provider route_check
}

# ---- agent steps ----

# mb_env ARGS… — the leading VAR=VALUE words of ARGS in MB_VARS, the rest in MB_ARGS.
mb_env() {
  MB_VARS=(); MB_ARGS=()
  while [ $# -gt 0 ] && [[ $1 =~ ^[A-Z_]+= ]]; do MB_VARS+=("$1"); shift; done
  MB_ARGS=("$@")
}

# code_ask [VAR=VALUE…] ARGS… — `errand ask --json --agent code` in $MB_WS with
# writes allowed (and those variables set); sets MB_JSON, MB_RC, MB_ID, MB_TOOK.
code_ask() {
  mb_env "$@"
  local t0; t0=$(date +%s.%N)
  MB_JSON=$(cd "$MB_WS" && env "${MB_VARS[@]}" "$ERRAND" -o policy.write=allow \
            -o policy.exec=allow ask --json --agent code "${MB_ARGS[@]}" 2>"$T/ask.err"); MB_RC=$?
  MB_TOOK=$(secs_since "$t0")
  MB_ID=$(jget "$MB_JSON" task_id)
}

# plain_ask [VAR=VALUE…] REQUEST — `errand ask --agent code` as a user sees it
# (streamed); sets MB_OUT, MB_RC, MB_TOOK.
plain_ask() {
  mb_env "$@"
  local t0; t0=$(date +%s.%N)
  MB_OUT=$(cd "$MB_WS" && env "${MB_VARS[@]}" "$ERRAND" ask --agent code "${MB_ARGS[@]}" \
           2>"$T/ask.err"); MB_RC=$?
  MB_TOOK=$(secs_since "$t0")
}

# expect_done LABEL [ANSWER] — the last code_ask ended done (exit 0), with ANSWER.
expect_done() {
  expect_eq "$1: exit 0" "$MB_RC" 0
  if [ $# -gt 1 ]; then expect_eq "$1: answer" "$(jget "$MB_JSON" answer)" "$2"; fi
}

# expect_failed LABEL STATUS WHY — it failed with exit STATUS, its error holding WHY.
expect_failed() {
  expect_eq "$1: exit $2" "$MB_RC" "$2"
  expect_contains "$1: why" "$(jget "$MB_JSON" error)" "$3"
}

# expect_shown_once LABEL TEXT REQUEST — the last plain_ask showed TEXT exactly
# (a retried answer not shown twice) and REQUEST reached the model twice.
expect_shown_once() {
  expect_eq "$1: exit 0" "$MB_RC" 0
  expect_eq "$1: the answer shown once" "$MB_OUT" "$2"
  expect_eq "$1: asked twice" "$(grep -c "$3" "$FAKE_REC")" 2
}

# Malformed every time: the task fails after ER_REPAIR_TURNS repair turns.
MB_GAVE_UP="malformed 3 times in a row (after 2 repair turns); the last time:"

# fresh_ws — an empty workspace $MB_WS with notes.txt holding "n=1".
fresh_ws() {
  MB_WS="$T/ws.$RANDOM$RANDOM"
  mkdir -p "$MB_WS"
  printf 'n=1\n' > "$MB_WS/notes.txt"
}

# sent_result CALL-ID — the content of the tool result the model was sent for
# that call (the last request that carries it), whatever the wire format.
sent_result() {
  $PY - "$FAKE_REC" "$1" <<'EOF'
import json, sys
rec, cid = sys.argv[1], sys.argv[2]
found = ""
for line in open(rec):
    body = json.loads(line).get("body") or {}
    for m in body.get("messages", []) if isinstance(body, dict) else []:
        if m.get("role") == "tool" and m.get("tool_call_id") == cid:
            found = m.get("content", "")
        if isinstance(m.get("content"), list):
            for b in m["content"]:
                if b.get("type") == "tool_result" and b.get("tool_use_id") == cid:
                    c = b.get("content")
                    found = c if isinstance(c, str) else json.dumps(c)
print(found)
EOF
}
