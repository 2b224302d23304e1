# Bad arguments to the code tools, as the model sends them: each comes back as
# a tool result "error: …" naming what was wrong, the task goes on, and
# nothing in the workspace changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws=$(workspace ws buggy_c)
printf 'same\nsame\n' > "$ws/twice.txt"
cp -r "$ws" "$T/before"

$PY - > "$T/s.json" <<'EOF'
import json
def c(i, name, args):
    return {"id": i, "name": name, "arguments": args}
calls = [
    c("e1", "read_file", {}),
    c("e2", "read_file", {"path": 5}),
    c("e3", "read_file", {"path": "stats.c", "start": 0}),
    c("e4", "read_file", {"path": "stats.c", "start": 9, "end": 3}),
    c("e5", "read_file", {"path": "nope.c"}),
    c("e6", "read_file", {"path": "stats.c", "colour": "red"}),
    c("e7", "edit_file", {"path": "stats.c", "old": "no such text", "new": "x"}),
    c("e8", "edit_file", {"path": "twice.txt", "old": "same", "new": "other"}),
    c("e9", "edit_file", {"path": "stats.c", "old": "    12\tfor (size_t i", "new": "x"}),
    c("e10", "write_file", {"path": "new.txt"}),
    c("e11", "run", {"cmd": ""}),
    c("e12", "run", {"cmd": "true", "timeout_s": 9999}),
    c("e13", "test", {"timeout_s": 0}),
    c("e14", "grep", {"pattern": "(unclosed"}),
    c("e15", "lint", {"path": "missing.c"}),
    c("e16", "list_dir", {"path": "stats.c"}),
    c("e17", "edit_file", {"path": "stats.c", "old": "best", "new": "best"}),
]
calls[0]["arguments"] = "{not json"   # sent as text, not an object
print(json.dumps({"turns": [
    {"match": '"tool_call_id":"e17"', "text": "noted"},
    {"match": "You are the code agent", "tool_calls": calls},
]}))
EOF
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes ask --json --agent code "try the tools" 2>"$T/err"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "the task went on" "$(jget "$json" answer)" "noted"
want() { # want ID TEXT — the result is an error containing TEXT
  local got
  got=$(sent "$1")
  expect_contains "$1: an error" "${got:0:7}" "error: "
  expect_contains "$1: $2" "$got" "$2"
}
want e1 "arguments are not valid JSON"
want e2 "read_file: argument 'path' must be a string"
want e3 "start must be a line number from 1"
want e4 "end (3) must not be before start (9)"
want e5 "cannot open nope.c"
want e6 "read_file: unknown argument 'colour'"
want e7 "no match for the text in stats.c"
want e8 "2 matches in twice.txt; give more context or set replace_all"
want e9 "leave out the line numbers read_file adds"
want e10 "write_file: missing required argument 'content'"
want e11 "run: cmd is empty"
want e12 "timeout_s must be between 1 and 600 seconds"
want e13 "timeout_s must be between 1 and 600 seconds"
want e14 "grep: bad regular expression '(unclosed'"
want e15 "lint: missing.c does not exist"
want e16 "cannot list stats.c: Not a directory"
want e17 "old and new are the same"
check "nothing in the workspace changed" diff -r "$T/before" "$ws"
finish
