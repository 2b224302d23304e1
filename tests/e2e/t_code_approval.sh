# Approvals on the terminal.  With policy ask and a terminal, `errand ask`
# prompts y/n/a on it (driven here through `script`, which gives it a pty):
# y runs the call, n refuses it (the model is told), a runs this one and every
# later call of the class without asking again.  Without a terminal the call is
# denied with a clear message and nothing runs.  The REPL prompts the same way
# (driven inside tmux).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws"

# runs CMD... — a script where the code agent runs each CMD in turn (calls
# x1, x2, …), then answers "finished".
runs() {
  $PY - "$@" > "$T/s.json" <<'EOF'
import json, sys
cmds = sys.argv[1:]
after = lambda i: '"tool_call_id":"x%d"' % i
turns = [{"match": '"name":"route"', "repeat": True, "tool_calls": [
    {"id": "r", "name": "route", "arguments": {"steps": [{"agent": "code", "request": ""}]}}]}]
turns.append({"match": after(len(cmds)), "text": "finished"})
for i in range(len(cmds) - 1, 0, -1):
    turns.append({"match": after(i), "tool_calls": [
        {"id": "x%d" % (i + 1), "name": "run", "arguments": {"cmd": cmds[i]}}]})
turns.append({"match": "You are the code agent", "tool_calls": [
    {"id": "x1", "name": "run", "arguments": {"cmd": cmds[0]}}]})
print(json.dumps({"turns": turns}))
EOF
}

# on_tty ANSWERS ARGS... — errand ARGS on a pseudo-terminal, ANSWERS typed in.
on_tty() {
  local answers=$1
  shift
  local cmd="$ERRAND -w $ws"
  for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
  printf '%b' "$answers" | script -qec "$cmd" /dev/null
}

prompts() { grep -o 'Allow? \[y\]es / \[n\]o / \[a\]lways' <<< "$1" | wc -l | tr -d ' '; }

check "script(1) is installed" command -v script
# y: runs
runs "touch yes-ran"
start_fake "$T/s.json"
use_openai
out=$(on_tty 'y\n' ask --agent code "make a file"); rc=$?
expect_eq "y: exit 0" "$rc" 0
expect_contains "y: prompt names the call" "$out" "code wants to call run (exec)"
expect_contains "y: prompt shows the arguments" "$out" 'touch yes-ran'
expect_eq "y: one prompt" "$(prompts "$out")" 1
check "y: it ran" test -e "$ws/yes-ran"
expect_eq "y: model got the result" "$(sent x1 exit_code)" 0
expect_contains "y: answer" "$out" "finished"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# n: refused, and the model is told
runs "touch no-ran"
start_fake "$T/s.json"
use_openai
out=$(on_tty 'n\n' ask --agent code "make a file"); rc=$?
expect_eq "n: exit 0" "$rc" 0
expect_eq "n: one prompt" "$(prompts "$out")" 1
check "n: nothing ran" test ! -e "$ws/no-ran"
expect_eq "n: model told" "$(sent x1)" "error: the user denied this run call"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# a: this call and the next of its class, one prompt
runs "touch always-1" "touch always-2" "touch always-3"
start_fake "$T/s.json"
use_openai
out=$(on_tty 'a\n' ask --agent code "make files"); rc=$?
expect_eq "a: exit 0" "$rc" 0
expect_eq "a: one prompt for three calls" "$(prompts "$out")" 1
for i in 1 2 3; do check "a: call $i ran" test -e "$ws/always-$i"; done
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# An answer that is not y, n or a is asked again (not taken as a no); the
# prompt shows what the call does: the command, its directory and jail.
runs "touch reask-ran"
start_fake "$T/s.json"
use_openai
out=$(on_tty 'maybe\ny\n' ask --agent code "make a file"); rc=$?
expect_eq "re-ask: exit 0" "$rc" 0
expect_contains "re-ask: says what to answer" "$out" "Please answer y, n or a."
expect_eq "re-ask: asked twice" "$(prompts "$out")" 2
check "re-ask: the y after it counted" test -e "$ws/reask-ran"
expect_contains "preview: the command" "$out" "command:   touch reask-ran"
expect_contains "preview: the directory" "$out" "directory: $ws"
expect_contains "preview: the network" "$out" "network:   none"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# Text piped into ask, a person at the terminal: the pipe is the request's,
# the approval is still asked on the terminal.
runs "touch piped-ran"
start_fake "$T/s.json"
use_openai
out=$(printf 'y\n' | script -qec "echo piped context | $ERRAND -w $ws ask --agent code 'make a file'" /dev/null); rc=$?
expect_eq "piped stdin: exit 0" "$rc" 0
expect_eq "piped stdin: asked on the terminal" "$(prompts "$out")" 1
check "piped stdin: y ran it" test -e "$ws/piped-ran"
expect_contains "piped stdin: the piped text was sent" "$(grep -F 'make a file' "$FAKE_REC" | head -1)" "piped context"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# no terminal: denied with a clear message, nothing runs
runs "touch notty-ran"
start_fake "$T/s.json"
use_openai
out=$("$ERRAND" -w "$ws" ask --agent code "make a file" </dev/null 2>"$T/err"); rc=$?
expect_eq "no tty: exit 0" "$rc" 0
# Networked, the policy is the workers': a -o on the client would not reach them.
how="-o policy.exec=allow"
if [ -n "$NETWORKED" ]; then how="set policy.exec=allow for the workers"; fi
expect_contains "no tty: says why" "$(cat "$T/err")" \
  "errand: run needs approval and there is no terminal to ask; denied (use --yes, or $how)"
check "no tty: nothing ran" test ! -e "$ws/notty-ran"
expect_eq "no tty: model told" "$(sent x1)" "error: the user denied this run call"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# The REPL on a terminal (tmux): same prompt; y to the first request's call,
# n to the second's.
if ! command -v tmux >/dev/null; then
  echo "skip: no tmux"
  finish
fi
$PY - > "$T/s.json" <<'EOF'
import json
after = lambda i: '"tool_call_id":"%s"' % i
run = lambda i, cmd: [{"id": i, "name": "run", "arguments": {"cmd": cmd}}]
print(json.dumps({"turns": [
    {"match": '"name":"route"', "repeat": True, "tool_calls": [
        {"id": "r", "name": "route", "arguments": {"steps": [{"agent": "code", "request": ""}]}}]},
    {"match": after("x2"), "text": "second done"},
    {"match": "make the second file", "tool_calls": run("x2", "touch repl-2")},
    {"match": after("x1"), "text": "first done"},
    {"match": "You are the code agent", "tool_calls": run("x1", "touch repl-1")},
]}))
EOF
start_fake "$T/s.json"
use_openai
cat > "$T/repl.sh" <<EOF
#!/bin/sh
export HOME='$HOME' XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME'
export XDG_CONFIG_HOME='$XDG_CONFIG_HOME' ERRAND_LLM=openai OPENAI_BASE_URL='$OPENAI_BASE_URL'
export OPENAI_API_KEY=test-key-123456 ERRAND_MODEL=fake-model NO_COLOR=1
'$ERRAND' -w '$ws' --plain
echo "REPL EXITED \$?"
sleep 120
EOF
chmod +x "$T/repl.sh"
TM=(tmux -S "$T/tmux.sock" -f /dev/null)
"${TM[@]}" new-session -d -s e2e -x 160 -y 50 "$T/repl.sh"
PIDS+=("$("${TM[@]}" display-message -p '#{pid}')")
screen() { "${TM[@]}" capture-pane -p -t e2e -S -500; }
wait_screen() { # wait_screen TEXT [COUNT] — until TEXT is on screen COUNT times (20 s at most)
  for _ in $(seq 200); do
    [ "$(screen | grep -cF -- "$1")" -ge "${2:-1}" ] && return 0
    sleep 0.1
  done
  return 1
}
check "repl: prompt" wait_screen "errand>"
"${TM[@]}" send-keys -t e2e "make the first file" Enter
check "repl: asks" wait_screen "Allow? [y]es / [n]o / [a]lways"
check "repl: not run before the answer" test ! -e "$ws/repl-1"
"${TM[@]}" send-keys -t e2e y Enter
check "repl: answer shown" wait_screen "first done"
check "repl: it ran" test -e "$ws/repl-1"
"${TM[@]}" send-keys -t e2e "make the second file" Enter
check "repl: asks again" wait_screen "Allow? [y]es / [n]o / [a]lways" 2
"${TM[@]}" send-keys -t e2e n Enter
check "repl: second answer shown" wait_screen "second done"
check "repl: the refused call did not run" test ! -e "$ws/repl-2"
expect_eq "repl: model told of the refusal" "$(sent x2)" "error: the user denied this run call"
"${TM[@]}" send-keys -t e2e "/quit" Enter
check "repl: quits" wait_screen "REPL EXITED 0"
"${TM[@]}" kill-server
finish
