#!/bin/bash
# tui_capture.sh — regenerates docs/tui.txt, the text screenshots of the
# full-screen interface, from a real session: the errand binary of a build
# against the fake LLM of the test suite, in a private tmux server, 100x30.
#
#   docs/tui_capture.sh BUILD_DIR > docs/tui.txt
#
# Needs tmux and python3.  Everything lives in a temporary directory (its own
# HOME, store and workspace), removed at the end; the fake LLM and the tmux
# server are stopped by PID / socket.
set -eu
BUILD=$(cd "${1:?usage: tui_capture.sh BUILD_DIR}" && pwd)
ERRAND="$BUILD/errand"
FAKE="$BUILD/tests/fake_llm"
T=$(mktemp -d "${TMPDIR:-/tmp}/errand-capture.XXXXXX")
SOCK="errand-capture-$$"
FAKE_PID=
tm() { tmux -L "$SOCK" "$@"; }
cleanup() {
  tm kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"   # kill-server can leave it behind
  [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
export HOME="$T/home" XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset DATABASE_URL RABBITMQ_URL REDIS_URL NO_COLOR TMUX
mkdir -p "$HOME" "$T/ws/src"
printf 'int parse_header(const char *buf, int len) { return 0; }\n' > "$T/ws/src/parser.c"

python3 - > "$T/s.json" <<'EOF'
import json
def call(i, name, **args):
    return {"id": i, "name": name, "arguments": args}
def after(i):
    return '"tool_call_id":"%s"' % i
answer = ("`parse_header` returns early when the buffer ends **exactly** at a line break, so the "
          "last header is dropped and `test_parser` sees one header too few. The fix:\n\n```c\n"
          "/* keep the last line even without a trailing CRLF */\nif (end == len) {\n"
          "    return add_header(h, line, len - start);  // was: return 0\n}\n```\n\n"
          "Run `make test` again: all 42 tests pass.")
print(json.dumps({"turns": [
    {"match": '"name":"route"', "repeat": True, "tool_calls": [
        call("r", "route", steps=[{"agent": "code", "request": ""}])]},
    {"match": "summarise the release notes", "text": "Three fixes and one new flag."},
    {"match": "which CSV columns have gaps", "text": "Only `email` (12 rows empty)."},
    {"match": "draft a reply to Ana",
     "text": "Hi Ana, thanks for the report; the fix ships on Monday."},
    {"match": after("g1"), "text": answer, "chunk_delay_ms": 20},
    {"match": "why does test_parser fail", "tool_calls": [
        call("g1", "grep", pattern="parse_header", path="src")]},
    {"match": "You are the debugger subagent", "stall_ms": 60000, "text": "late"},
    {"match": after("e1"), "tool_calls": [call("d1", "task", subagent="debugger",
        description="Run the parser tests and report failures")]},
    {"match": "apply the fix and run the tests", "tool_calls": [
        call("e1", "edit_file", path="src/parser.c", old="return 0;",
             new="return add_header(h, line, len - start);")]},
]}))
EOF
setpriv --pdeathsig TERM "$FAKE" --script "$T/s.json" --port 0 --port-file "$T/port" \
  > "$T/fake.log" 2>&1 &
FAKE_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
export ERRAND_LLM=openai OPENAI_BASE_URL="http://127.0.0.1:$(cat "$T/port")/v1"
export OPENAI_API_KEY=capture-key ERRAND_MODEL=gpt-4.1

screen() { tm capture-pane -p; }
wait_for() { # TEXT — until it is on screen (or 20 s)
  for _ in $(seq 400); do screen | grep -qF -- "$1" && return 0; sleep 0.05; done
  echo "tui_capture.sh: [$1] never showed:" >&2; screen >&2; exit 1
}
wait_gone() { for _ in $(seq 400); do screen | grep -qF -- "$1" || return 0; sleep 0.05; done; }
send() { tm send-keys -l "$1"; tm send-keys Enter; }
rule() { printf '%0100d\n' 0 | tr 0 =; }
shot() { # TITLE — the screen as it is, between rules
  printf '%s\n' "$1"; rule; screen; rule; echo
}

tm new-session -d -x 100 -y 30 "env TERM=screen '$ERRAND' -w '$T/ws' -o policy.write=ask"
wait_for "/help lists commands"
for req in "@research summarise the release notes" "@data which CSV columns have gaps?" \
           "@email draft a reply to Ana"; do
  send "$req"
  wait_gone "● "
  send "/new"
done
send "why does test_parser fail?"
wait_for "all 42 tests pass."
wait_gone "● "
sleep 0.3

cat <<'EOF'
errand — the full-screen interface (text captures, 100x30, tmux capture-pane)

Run `errand` on a terminal.  Tab / Shift-Tab (or F2-F5) cycle the four panels;
F1 or ? lists the keys.  These screens come from one session against the fake
LLM server of the test suite (tests/fakes/fake_llm.c); docs/tui_capture.sh
BUILD_DIR regenerates this file.

EOF
shot "1. Chat — the answer streamed in; a code block set off by a gutter and highlighted"

send "apply the fix and run the tests"
wait_for "Approval needed"
sleep 0.3
shot "2. An approval dialog: the tool and what the call would do (its diff); y / n / a"

tm send-keys y
wait_for "code → debugger"
tm send-keys F3
sleep 3
shot "3. Agent monitor while the code agent waits for its debugger subagent"

tm send-keys F4
sleep 0.3
tm send-keys Home
sleep 0.2
tm send-keys Enter
wait_for "delegate"
sleep 0.5
shot "4. Task tracker, Enter on a task: its steps as they happen"

tm send-keys Escape
sleep 0.5
shot "5. Task tracker"

tm send-keys C-c
wait_gone "● "
tm send-keys F5
sleep 0.3
tm send-keys /
sleep 0.2
send "fix"
wait_for "conversations match"
sleep 0.3
shot "6. Memory — / searched for \"fix\"; Enter continues a conversation in the chat"
tm send-keys F2
sleep 0.2
tm send-keys C-d
