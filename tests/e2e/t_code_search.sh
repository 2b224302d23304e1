# The search tools as a user and a model meet them (issue 20): in a project
# whose .gitignore names node_modules/ and build/, grep, glob and list_dir
# leave those out, and hidden files, unless asked; the offline command takes
# ripgrep's options; a model's grep call with PCRE2 syntax, a type filter,
# context lines and an output mode gets the lines it asked for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
export PATH="/usr/bin:$PATH"

ws=$(workspace ws buggy_c)
mkdir -p "$ws/src" "$ws/node_modules/left" "$ws/build" "$ws/.cache"
printf 'node_modules/\nbuild/\n' > "$ws/.gitignore"
printf 'const needle = 1;\n' > "$ws/node_modules/left/index.js"
printf 'int needle;\n' > "$ws/build/gen.c"
printf 'needle\n' > "$ws/.cache/x.txt"
printf 'int a;\nint needle_count = 42;\nint b;\n' > "$ws/src/main.c"
printf '// Needle here\n' > "$ws/src/app.js"

ask() { "$ERRAND" -w "$ws" ask --agent code "$@"; }

out=$(ask "grep needle"); rc=$?
expect_eq "grep: exit 0" "$rc" 0
expect_contains "grep: the source file" "$out" "src/main.c:2:int needle_count = 42;"
check "grep: not node_modules" not contains "$out" "node_modules"
check "grep: not build/" not contains "$out" "build/gen.c"
check "grep: not hidden" not contains "$out" ".cache"
out=$(ask "grep -i -l --hidden --no-ignore needle")
expect_contains "grep -l --no-ignore: node_modules" "$out" "node_modules/left/index.js"
expect_contains "grep -l --hidden: .cache" "$out" ".cache/x.txt"
expect_contains "grep -i: app.js" "$out" "src/app.js"
out=$(ask "grep -C 1 -t c 'needle_\w+'")
expect_contains "grep -C 1: before" "$out" "src/main.c-1-int a;"
expect_contains "grep -C 1: after" "$out" "src/main.c-3-int b;"
out=$(ask "grep -C x needle" 2>&1)
expect_contains "grep -C x: what is wrong" "$out" "context must be an integer"
out=$(ask "glob '**/*.js'")
expect_contains "glob: app.js" "$out" "src/app.js"
check "glob: not node_modules" not contains "$out" "node_modules"
out=$(ask "ls")
check "ls: not node_modules" not contains "$out" "node_modules"
printf '%s\n' "$out" | grep -Eq '^ignored: +2$' || fail "ls: counts what it left out: $out"
pass "ls: counts what it left out"

# A model's call: PCRE2 syntax, a type, context and an output mode.
calls '[c("g1", "grep", pattern=r"\bneedle_\w+\s*=\s*\d+", type="c", context=1),
        c("g2", "grep", pattern="needle", output_mode="count", ignore_case=True),
        c("g3", "grep", pattern="(?<=x", path="src")]'
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes ask --json --agent code "find the needle" 2>"$T/err"); rc=$?
expect_eq "model: exit 0" "$rc" 0
expect_contains "g1: the match" "$(sent g1 matches)" '"src/main.c:2:int needle_count = 42;"'
expect_contains "g1: context" "$(sent g1 matches)" '"src/main.c-3-int b;"'
expect_eq "g2: counts" "$(sent g2 counts)" '["src/app.js:1", "src/main.c:1"]'
expect_contains "g3: PCRE2's message" "$(sent g3)" "missing closing parenthesis"
expect_contains "g3: the offset" "$(sent g3)" "offset"
finish
