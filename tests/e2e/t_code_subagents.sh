# The code agent's analyzer and writer, against the fake LLM: the analyzer
# has only reading tools (a write it tries is refused as not its tool, and the
# file stays as it was) and they work on its read-only view; the writer's
# edits and writes each come back with their diff; the agent's `diff` shows
# what changed in the git workspace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws=$(workspace ws buggy_c)
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.com GIT_COMMITTER_NAME=e2e \
       GIT_COMMITTER_EMAIL=e2e@example.com
git -C "$ws" init -q && git -C "$ws" add -A && git -C "$ws" commit -qm fixture || fail "git init"

$PY - > "$T/s.json" <<'EOF'
import json
def c(i, name, **args):
    return {"id": i, "name": name, "arguments": args}
def after(i):   # in a request once the result of call i is in it
    return '"tool_call_id":"%s"' % i
fix_old = "for (size_t i = 1; i < n - 1; i++)"
fix_new = "for (size_t i = 1; i < n; i++)"
header = open(__import__("os").environ["ERRAND_TESTS"] + "/fixtures/buggy_c/stats.h").read()
print(json.dumps({"turns": [
    {"match": after("g1"), "text": "All done."},
    {"match": after("t2"), "tool_calls": [c("g1", "diff")]},
    {"match": after("w5"), "text": "WRITER: fixed stats.c, documented stats.h, added NOTES.md"},
    {"match": "You are the writer subagent", "tool_calls": [
        c("w1", "edit_file", path="stats.c", old=fix_old, new=fix_new),
        c("w2", "write_file", path="NOTES.md", content="max_of scans every element.\n"),
        c("w3", "write_file", path="stats.h",
          content=header.replace("n must be at least 1.", "n must be at least 1; a may not be NULL.")),
        c("w4", "lint", path="stats.c stats.h"),
        c("w5", "run", cmd="touch writer-ran")]},
    {"match": after("t1"), "tool_calls": [c("t2", "task", subagent="writer",
        description="Fix the loop bound of max_of in stats.c and document stats.h")]},
    {"match": after("a7"), "text": "ANALYZER: max_of is at stats.c:8; its loop stops early."},
    {"match": "You are the analyzer subagent", "tool_calls": [
        c("a1", "write_file", path="stats.c", content="HACKED\n"),
        c("a2", "edit_file", path="stats.c", old="best", new="worst"),
        c("a3", "run", cmd="touch analyzer-ran"),
        c("a4", "grep", pattern="max_of", path="."),
        c("a5", "lint", path="stats.c"),
        c("a6", "diff"),
        c("a7", "read_file", path="stats.c", start=12, end=12)]},
    {"match": "You are the code agent", "tool_calls": [c("t1", "task", subagent="analyzer",
        description="Where is max_of defined, and what is wrong with it?")]},
]}))
EOF
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes ask --json --agent code "find and fix the bug in max_of" \
  2>"$T/err"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "done" "$(jget "$json" status)" "done"
expect_eq "answer" "$(jget "$json" answer)" "All done."
expect_eq "eight model calls" "$(nreq)" 8

# the analyzer: offered reading tools only, and refused anything else
atools=$(req 2 body.tools)
for t in read_file grep lint diff; do
  expect_contains "analyzer has $t" "$atools" "\"name\":\"$t\""
done
for t in write_file edit_file run test; do
  check "analyzer lacks $t" not contains "$atools" "\"name\":\"$t\""
done
for id in a1 a2 a3; do
  expect_contains "$id: refused, read-only" "$(sent $id)" \
    "is not one of the tools of code/analyzer (its workspace is read-only)"
done
check "a3: nothing ran for the analyzer" test ! -e "$ws/analyzer-ran"
expect_contains "a4: grep finds file:line" "$(sent a4 matches)" "stats.c:8:int max_of"
expect_eq "a5: lint checked the file" "$(sent a5 summary.files)" 1
expect_contains "a5: gcc ran" "$(sent a5 ran)" "gcc"
expect_eq "a6: diff: clean before the writer" "$(sent a6 clean)" "true"
expect_contains "a7: the buggy line" "$(sent a7 content)" "i < n - 1"
expect_contains "the analyzer's answer reached the agent" "$(sent t1)" "ANALYZER: max_of is at stats.c:8"

# the writer: edit and write tools, each change with its diff
wtools=$(req 5 body.tools)
for t in read_file write_file edit_file lint; do
  expect_contains "writer has $t" "$wtools" "\"name\":\"$t\""
done
check "writer lacks run" not contains "$wtools" "\"name\":\"run\""
expect_contains "w1: edit diff" "$(sent w1 diff)" "+    for (size_t i = 1; i < n; i++)"
expect_contains "w1: edit diff header" "$(sent w1 diff)" "+++ b/stats.c"
expect_eq "w2: created" "$(sent w2 created)" "true"
expect_eq "w2: new file" "$(sent w2 diff)" "new file"
doc="/* Largest element of a[0..n-1]; n must be at least 1"
expect_contains "w3: overwrite diff, old line" "$(sent w3 diff)" "-$doc. */"
expect_contains "w3: overwrite diff, new line" "$(sent w3 diff)" "+$doc; a may not be NULL. */"
expect_eq "w3: one line out, one in" "$(sent w3 changed_lines)" 2
expect_eq "w4: lint checked both files" "$(sent w4 summary.files)" 2
expect_contains "w5: run is not the writer's" "$(sent w5)" "is not one of the tools of code/writer; use:"
check "w5: nothing ran for the writer" test ! -e "$ws/writer-ran"

# the files, and the agent's diff of them
check "stats.c fixed" grep -q "for (size_t i = 1; i < n; i++)" "$ws/stats.c"
check "stats.c not hacked" not grep -q HACKED "$ws/stats.c"
check "stats.c still has best" grep -q "best = a\[i\]" "$ws/stats.c"
check "NOTES.md written" grep -q "max_of scans" "$ws/NOTES.md"
g=$(sent g1 diff)
expect_contains "diff: stats.c's change" "$g" "-    for (size_t i = 1; i < n - 1; i++)"
expect_contains "diff: stats.h's change" "$g" "a may not be NULL"
expect_contains "diff: untracked NOTES.md" "$(sent g1 untracked)" "NOTES.md"
expect_eq "diff: not clean" "$(sent g1 clean)" "false"
finish
