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

# One reader for both sources: `pick steps CALL_ID [PATH]` reads `ask --json`
# output on stdin, `pick sent CALL_ID [PATH]` the fake's record; either prints
# the content of that call's tool result, or a value out of it (dotted PATH)
# when it is JSON.  `pick results TOOL` prints every result of TOOL, one a line.
cat > "$T/pick.py" <<'EOF'
import json, sys

def value(content, path):
    if not path:
        return content
    try:
        v = json.loads(content)
    except ValueError:
        return ""
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return "" if v is None else v

def results():   # (call id, tool, content) as the events recorded them
    for s in json.load(sys.stdin)["steps"]:
        d = s.get("data") or {}
        if s["kind"] == "tool_result":
            yield d.get("id"), d.get("tool"), d.get("content")

def sent():      # the same, as the model received them
    for line in open(sys.argv[4]):
        for m in (json.loads(line).get("body") or {}).get("messages", []):
            if m.get("role") == "tool":
                yield m.get("tool_call_id"), m.get("name"), m.get("content")

mode, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "results":
    for _, tool, content in results():
        if tool == key:
            print(content.replace("\n", "\\n"))
    sys.exit(0)
for call, _, content in (results() if mode == "steps" else sent()):
    if call == key:
        print(value(content, path))
        sys.exit(0)
sys.exit(1)
EOF

# results JSON TOOL — every result of TOOL in an `ask --json` answer, in order.
results() { printf '%s' "$1" | $PY "$T/pick.py" results "$2" ""; }
# result_of JSON CALL_ID [PATH] — one call's result in an `ask --json` answer.
result_of() { printf '%s' "$1" | $PY "$T/pick.py" steps "$2" "${3:-}"; }
# sent CALL_ID [PATH] — one call's result as the model received it (the first
# recorded request that carries it).
sent() { $PY "$T/pick.py" sent "$1" "${2:-}" "$FAKE_REC" < /dev/null; }

# calls PYTHON-LIST [NAME=VALUE]... — writes the fake model's script $T/s.json:
# one turn with those tool calls (c(id, tool, **args); each NAME is defined
# as VALUE for the list), then an answer once the results are in.
calls() {
  local list=$1
  shift
  $PY - "$list" "$@" > "$T/s.json" <<'EOF'
import json, sys
names = dict(kv.split("=", 1) for kv in sys.argv[2:])
def c(i, name, **args):
    return {"id": i, "name": name, "arguments": args}
names["c"] = c
print(json.dumps({"turns": [
    {"match": '"role":"tool"', "text": "checked"},
    {"match": "You are the code agent", "tool_calls": eval(sys.argv[1], names)},
]}))
EOF
}
