# The code agent without a language model: plain commands (lint, run, test,
# grep, show FILE[:LINES], diff) run the tools and print their real output;
# routing sends such commands to the code agent; an unknown command gets the
# offline help and how to configure a model; a malformed one says what is
# wrong.  ERRAND_LLM is unset (lib.sh), so the offline brain answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
export PATH="/usr/bin:$PATH"

ws=$(workspace ws buggy_c)
mkdir -p "$ws/src"
for i in $(seq 1 30); do
  case $i in
    12) echo "    /* TODO: handle the empty array */" ;;
    25) echo "    /* TODO: overflow */" ;;
    *) echo "    int line_$i = $i;" ;;
  esac
done > "$ws/src/main.c"
printf 'int f(void)\n{\n    return 1\n}\n' > "$ws/src/bad.c"
printf 'x = 1\nif x\n    pass\n' > "$ws/src/bad.py"

# A line of the readable answer, as an extended regular expression.
has_line() { printf '%s\n' "$1" | grep -Eq "$2"; }
code() { "$ERRAND" -w "$ws" "$@"; }
ask() { code ask --agent code "$@"; }

check "no model configured" test -z "${ERRAND_LLM:-}"
out=$(ask "grep TODO src"); rc=$?
expect_eq "grep: exit 0" "$rc" 0
expect_contains "grep: first match, file:line:text" "$out" "src/main.c:12:    /* TODO: handle the empty array */"
expect_contains "grep: second match" "$out" "src/main.c:25:    /* TODO: overflow */"
check "grep: count, readable" has_line "$out" '^count: +2$'
check "grep: no JSON" not contains "$out" '"count"'
out=$(ask "grep TODO src --json")
expect_contains "grep --json: the raw count" "$out" '"count": 2'
expect_contains "grep --json: the match" "$out" "src/main.c:12:    /* TODO: handle the empty array */"

out=$(ask "show src/main.c:10-13")
expect_contains "show :10-13: line 10" "$out" "$(printf '    10\t    int line_10 = 10;')"
expect_contains "show :10-13: line 12" "$out" "$(printf '    12\t    /* TODO: handle the empty array */')"
expect_contains "show :10-13: line 13" "$out" "$(printf '    13\t    int line_13 = 13;')"
check "show :10-13: not line 9" not contains "$out" "line_9 ="
check "show :10-13: not line 14" not contains "$out" "line_14 ="
check "show :10-13: total lines" has_line "$out" '^total lines: +30$'
out=$(ask "show src/main.c:29")
expect_contains "show :29: line 29" "$out" "line_29 = 29"
expect_contains "show :29: to the end" "$out" "line_30 = 30"
check "show :29: from 29" not contains "$out" "line_28 ="
out=$(ask "show stats.h")
expect_contains "show FILE: whole file" "$out" "int max_of(const int *a, size_t n);"
# A command whose tool fails fails the task: exit 1, the tool's reason on stderr.
out=$(ask "show src/main.c:40" 2>&1); rc=$?
expect_eq "show past the end: the task fails" "$rc" 1
expect_contains "show past the end: clear error" "$out" "task failed: src/main.c has only 30 lines; start 40 is past the end"

out=$(ask "lint src/bad.c src/bad.py --json")
expect_contains "lint: gcc error at bad.c:4" "$out" '"file": "src/bad.c"'
expect_contains "lint: gcc's message" "$out" "expected ';'"
expect_contains "lint: python error at bad.py:2" "$out" '"file": "src/bad.py"'
expect_contains "lint: severity" "$out" '"severity": "error"'
out=$(ask "lint stats.c --json")
expect_contains "lint clean file: no diagnostics" "$out" '"diagnostics": 0'

# run and test need approval: without a terminal they are denied, with --yes they run
out=$(ask "run echo hello from run" 2>"$T/err"); rc=$?
expect_eq "run without approval: the task fails" "$rc" 1
expect_contains "run without approval: refused" "$(cat "$T/err")" "task failed: the user denied this run call"
expect_contains "run without approval: says how" "$(cat "$T/err")" "needs approval and there is no terminal to ask"
out=$(code --yes ask --agent code "run echo hello from run; echo oops >&2; exit 3")
expect_contains "run: stdout" "$out" "hello from run"
expect_contains "run: stderr" "$out" "oops"
check "run: exit code" has_line "$out" '^exit code: +3$'
out=$(code -o policy.exec=allow ask --agent code "test")
check "test: detected make test" has_line "$out" '^command: +make test$'
check "test: 2 passed" has_line "$out" '^passed: +2$'
check "test: 1 failed" has_line "$out" '^failed: +1$'
expect_contains "test: the failure" "$out" "FAIL: max_of({1, 2, 9}) = 2, expected 9"
out=$(code -o policy.exec=allow ask --agent code "test ./test_stats")
check "test CMD: given command" has_line "$out" '^command: +\./test_stats$'
expect_contains "test CMD: its output" "$out" "2 passed, 1 failed"

out=$(ask "diff" 2>&1); rc=$?
expect_eq "diff outside git: the task fails" "$rc" 1
expect_contains "diff outside git: clear error" "$out" "is not a git repository"
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.com GIT_COMMITTER_NAME=e2e \
       GIT_COMMITTER_EMAIL=e2e@example.com
git -C "$ws" init -q && git -C "$ws" add -A && git -C "$ws" commit -qm fixture || fail "git init"
sed -i 's/i < n - 1/i < n/' "$ws/stats.c"
out=$(ask "diff")
expect_contains "diff: removed line" "$out" "-    for (size_t i = 1; i < n - 1; i++)"
expect_contains "diff: added line" "$out" "+    for (size_t i = 1; i < n; i++)"

# unknown and malformed commands
out=$(ask "please fix the bug in stats.c"); rc=$?
expect_eq "unknown: exit 0" "$rc" 0
expect_contains "unknown: says it is offline" "$out" "without a language model (offline)"
for form in "lint [PATH...]" "run CMD..." "test [CMD...]" "grep PATTERN [PATH]" \
            "show PATH[:START[-END]]" "diff [PATH]"; do
  expect_contains "unknown: help lists '$form'" "$out" "$form"
done
expect_contains "unknown: how to configure a model" "$out" "ERRAND_LLM=openai with OPENAI_API_KEY"
expect_contains "unknown: local servers too" "$out" "OPENAI_BASE_URL=http://127.0.0.1:11434/v1"
out=$(ask "show")
expect_contains "show without a file: says what is missing" "$out" "read_file: missing PATH; usage: show PATH[:START[-END]]"
out=$(ask "grep 'unclosed")
expect_contains "bad quoting named" "$out" "unterminated ' quote"

# routing: plain commands go to the code agent, whatever the words look like
for line in "grep TODO src" "show notes.txt:1-5" "lint" "run make" "test" "diff" "show data.csv"; do
  r=$(code route "$line")
  expect_contains "route '$line' → code" "$r" "1. code: $line"
  expect_contains "route '$line' by command" "$r" "(command)"
done
r=$(code route "summarise https://example.com/news")
check "route: other requests are classified" not contains "$r" "(command)"
json=$(code ask --json "show src/main.c:25-25")
expect_eq "ask without --agent: code agent" "$(jget "$json" agent)" "code"
expect_contains "ask without --agent: the line" "$(jget "$json" answer)" "TODO: overflow"
finish
