# Conversations out and gone (issue 24, item 16), and "did you mean" for
# settings (item 17): conv export writes Markdown or JSON (to stdout or a
# file), conv delete removes a conversation with its messages and leaves its
# tasks; a mistyped setting names the one meant, with -o and in the file.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/ws"
printf 'hello\n' > "$T/ws/notes.txt"
e() { "$ERRAND" -w "$T/ws" "$@"; }
e ask "ls" > /dev/null || fail "ask ls"
e -c ask "show notes.txt" > /dev/null || fail "ask show"
id=$(e conv list --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "a conversation to export" test -n "$id"

md=$(e conv export "${id:0:8}")
expect_contains "markdown: the title as a heading" "$md" "# ls"
expect_contains "markdown: the id" "$md" "_Conversation $id,"
expect_contains "markdown: the user's turn" "$md" "## You

ls"
expect_contains "markdown: the answer" "$md" "## Assistant"
expect_contains "markdown: the second request" "$md" "show notes.txt"
expect_contains "markdown: the answer's text" "$md" "hello"
json=$(e conv export "$id" --format json)
expect_eq "json: the id" "$(jget "$json" id)" "$id"
expect_eq "json: four messages" "$(jget "$json" messages | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 4
expect_eq "json: the first is the user's" "$(jget "$json" messages.0.role)" "user"
expect_eq "json: its text" "$(jget "$json" messages.0.content)" "ls"
check "json: each message's task" test -n "$(jget "$json" messages.1.task_id)"
expect_eq "--json is --format json" "$(e conv export "$id" --json)" "$json"
e conv export "$id" --output "$T/conv.md" 2> "$T/err"; rc=$?
expect_eq "--output: exit 0" "$rc" 0
expect_eq "--output: the same text" "$(cat "$T/conv.md")" "$md"
expect_contains "--output: says where" "$(cat "$T/err")" "wrote 4 messages to $T/conv.md"
out=$(e conv export "$id" --format yaml 2>&1); rc=$?
expect_eq "a bad format: usage error" "$rc" 2
expect_contains "a bad format: named" "$out" "--format 'yaml': say markdown or json"
out=$(e conv show "$id" --output x 2>&1); rc=$?
expect_eq "--output with show: usage error" "$rc" 2

tasks_before=$(e task list --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
out=$(e conv delete "$id" < /dev/null); rc=$?
expect_eq "delete: exit 0" "$rc" 0
expect_eq "delete: says what went" "$out" "deleted $id (4 messages)"
expect_eq "delete: gone from the list" "$(e conv list --json)" "[]"
out=$(e conv show "$id" 2>&1); rc=$?
expect_eq "delete: show fails" "$rc" 1
expect_contains "delete: no such conversation" "$out" "no conversation"
expect_eq "delete: the tasks stay" \
  "$(e task list --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$tasks_before"
out=$(e conv delete 2>&1); rc=$?
expect_eq "delete without an id: usage error" "$rc" 2

# settings: did you mean
out=$(e -o llm.modle=x doctor 2>&1); rc=$?
expect_eq "-o with a typo: exit 2" "$rc" 2
expect_contains "-o with a typo: the setting meant" "$out" "unknown setting 'llm.modle'; did you mean 'llm.model'?"
printf '[agent]\nmax_step = 3\n' > "$T/typo.conf"
out=$(e --config "$T/typo.conf" doctor 2>&1)
expect_contains "config file typo: file:line and the setting meant" "$out" \
  "typo.conf:2: unknown setting 'agent.max_step'; did you mean 'agent.max_steps'?"
out=$(e -o nothing.like.it=1 doctor 2>&1)
expect_contains "far from every setting: the manual" "$out" "unknown setting 'nothing.like.it' (see \`man errand.conf\`)"
finish
