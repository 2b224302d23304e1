# code_lib.sh — helpers for the code agent's end-to-end tests (t_code_*.sh),
# sourced after lib.sh: workspaces made from fixtures, and the tool results
# the model received, read from `errand ask --json` steps and from the fake's
# recorded requests.

PY=/usr/bin/python3

# not COMMAND... — succeeds when the command fails (for `check`).
not() { ! "$@"; }

# workspace NAME FIXTURE — copies tests/fixtures/FIXTURE to $T/NAME; prints the path.
workspace() {
  rm -rf "${T:?}/$1"
  cp -r "$ERRAND_TESTS/fixtures/$2" "$T/$1"
  printf '%s\n' "$T/$1"
}

# results JSON TOOL — the content of every tool_result event of TOOL in the
# steps of an `ask --json` answer, one compact line each, in order.
results() {
  printf '%s' "$1" | $PY -c 'import json,sys
for s in json.load(sys.stdin)["steps"]:
    d = s.get("data") or {}
    if s["kind"] == "tool_result" and d.get("tool") == sys.argv[1]:
        print(d["content"].replace("\n", "\\n"))' "$2"
}

# result_of JSON CALL_ID [PATH] — the tool_result content of one call (a value
# out of it when PATH is given and the content is JSON).
result_of() {
  printf '%s' "$1" | $PY -c 'import json,sys
for s in json.load(sys.stdin)["steps"]:
    d = s.get("data") or {}
    if s["kind"] == "tool_result" and d.get("id") == sys.argv[1]:
        c = d["content"]
        if len(sys.argv) > 2:
            try:
                c = json.loads(c)
            except ValueError:
                c = None
            for k in sys.argv[2].split("."):
                c = c.get(k) if isinstance(c, dict) else None
            c = "" if c is None else (json.dumps(c) if isinstance(c, (dict, list)) else c)
            if isinstance(c, bool): c = str(c).lower()
        print(c)
        break' "$2" "${3:-}"
}

# sent CALL_ID [PATH] — the tool message for CALL_ID as the model received it:
# its content in the first recorded request that carries it (a value out of it
# with PATH, as result_of).
sent() {
  $PY - "$FAKE_REC" "$1" "${2:-}" <<'EOF'
import json, sys
rec, call, path = sys.argv[1], sys.argv[2], sys.argv[3]
for line in open(rec):
    body = json.loads(line).get("body") or {}
    for m in body.get("messages", []):
        if m.get("role") == "tool" and m.get("tool_call_id") == call:
            c = m.get("content")
            if path:
                try:
                    c = json.loads(c)
                except ValueError:
                    c = None
                for k in path.split("."):
                    c = c.get(k) if isinstance(c, dict) else None
                c = "" if c is None else (json.dumps(c) if isinstance(c, (dict, list)) else c)
                if isinstance(c, bool): c = str(c).lower()
            print(c)
            sys.exit(0)
sys.exit(1)
EOF
}

# steps_of JSON KIND — how many steps of that kind.
steps_of() {
  printf '%s' "$1" | $PY -c 'import json,sys
print(sum(1 for s in json.load(sys.stdin)["steps"] if s["kind"] == sys.argv[1]))' "$2"
}
