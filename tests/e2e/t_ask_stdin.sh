# ask with piped input and attached files: text piped in is appended to the
# request (cat f | errand ask "summarise"), with no words it is the request
# (echo q | errand ask), '-' still reads the request itself, -f FILE attaches
# a file's text (repeatable); a missing or binary file is a clear error
# before anything is sent; a terminal on stdin is not read.  errand "a
# quoted question" is short for errand ask.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"summarise this\\n\\npiped line one\\npiped line two","text":"summary of the pipe"},
 {"match":"question from the pipe","text":"answered the pipe"},
 {"match":"dash request","text":"answered the dash"},
 {"match":"shorthand question here","text":"answered the shorthand"},
 {"match":"compare them\\n\\nFile a.txt:\\n```\\nfirst file\\n```\\n\\nFile b.txt:\\n```\\nsecond file\\n```","text":"compared the files"}
]}
JSON
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws"
cd "$T/ws" || exit 1   # the workspace (cwd): not $T, which holds errand's own data

out=$(printf 'piped line one\npiped line two\n' | "$ERRAND" ask "summarise this" 2>"$T/err"); rc=$?
expect_eq "piped text + words: exit 0" "$rc" 0
expect_eq "piped text + words: answered" "$out" "summary of the pipe"

out=$(echo "question from the pipe" | "$ERRAND" ask 2>"$T/err"); rc=$?
expect_eq "only piped text: exit 0 (it is the request)" "$rc" 0
expect_eq "only piped text: answered" "$out" "answered the pipe"

out=$(echo "dash request" | "$ERRAND" ask - 2>"$T/err"); rc=$?
expect_eq "'-': exit 0" "$rc" 0
expect_eq "'-': answered" "$out" "answered the dash"

echo "first file" > a.txt
echo "second file" > b.txt
out=$("$ERRAND" ask -f a.txt --file b.txt "compare them" </dev/null 2>"$T/err"); rc=$?
expect_eq "-f twice: exit 0" "$rc" 0
expect_eq "-f twice: both files sent" "$out" "compared the files"

n=$(nreq)
"$ERRAND" ask -f missing.txt "compare them" </dev/null 2>"$T/err"; rc=$?
expect_eq "missing -f file: not found status" "$rc" 1
expect_contains "missing -f file: says which" "$(cat "$T/err")" "cannot open 'missing.txt' (-f)"
printf 'a\0b' > bin.dat
"$ERRAND" ask -f bin.dat "compare them" </dev/null 2>"$T/err"; rc=$?
check "binary -f file: fails" test "$rc" -ne 0
expect_contains "binary -f file: says so" "$(cat "$T/err")" "'bin.dat' is binary"
expect_eq "nothing sent for the bad files" "$(nreq)" "$n"

out=$("$ERRAND" "shorthand question here" </dev/null 2>"$T/err"); rc=$?
expect_eq "errand \"a question\": short for ask" "$rc" 0
expect_eq "errand \"a question\": answered" "$out" "answered the shorthand"
"$ERRAND" tsk </dev/null 2>"$T/err"; rc=$?
expect_eq "a single unknown word is still a usage error" "$rc" 2
expect_contains "and suggests a command" "$(cat "$T/err")" "did you mean"

"$ERRAND" ask < /dev/null 2>"$T/err"; rc=$?
expect_eq "nothing at all: usage error" "$rc" 2
expect_contains "nothing at all: says how to give one" "$(cat "$T/err")" "pipe it in"
finish
