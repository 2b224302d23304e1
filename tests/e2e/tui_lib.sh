# tui_lib.sh — driving the full-screen TUI in a private tmux server, for the
# t_tui_*.sh tests (sourced after lib.sh).  The TUI runs from a plain bash in
# the pane, so a test can check the shell is usable again after it quits.
command -v tmux > /dev/null || { echo "skipped: tmux is not installed"; exit 77; }
TMUX_SOCK="errand-test-$$"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset TMUX NO_COLOR
tm() { tmux -L "$TMUX_SOCK" "$@"; }
# kill-server can leave the socket file behind: remove it too.
trap 'tm kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCK"; cleanup' EXIT

# tui_shell COLS ROWS — a tmux server with one pane running bash.
tui_shell() {
  tm new-session -d -x "$1" -y "$2" "env PS1='shell\$ ' TERM=screen bash --norc --noprofile"
  wait_screen 'shell$' 10 || fail "the tmux shell did not start"
}

# tui_run [errand args] — starts errand in the pane (with $TUI_ENV, e.g.
# "NO_COLOR=1", in its environment); TUI_PID gets its pid.  The shell prints
# EXIT=<status> when errand ends.
tui_run() {
  cat > "$T/run_tui.sh" <<EOF
#!/bin/sh
echo \$\$ > "$T/tui.pid"
exec "$ERRAND" "\$@"
EOF
  chmod +x "$T/run_tui.sh"
  rm -f "$T/tui.pid"
  tm send-keys -l "clear; ${TUI_ENV:-} $T/run_tui.sh $*; echo EXIT=\$?"
  tm send-keys Enter
  for _ in $(seq 100); do [ -s "$T/tui.pid" ] && break; sleep 0.05; done
  TUI_PID=$(cat "$T/tui.pid" 2>/dev/null)
}

# tui_begin SCRIPT [errand args] — the fake LLM on SCRIPT, a 100x30 pane, and
# errand started in it with its workspace in $T/ws.
tui_begin() {
  local script=$1; shift
  start_fake "$script"
  use_openai
  mkdir -p "$T/ws"
  tui_shell 100 30
  tui_run -w "$T/ws" "$@"
  expect_screen "the session starts" "/help lists commands"
}

screen() { tm capture-pane -p; }
# type TEXT — literal keys (no key-name lookup), then nothing else.
type_text() { tm send-keys -l "$1"; }
keys() { tm send-keys "$@"; }

# wait_screen TEXT [SECONDS] — until TEXT is on screen (0) or the time is up (1).
wait_screen() {
  local i
  for i in $(seq $(( ${2:-15} * 20 ))); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.05
  done
  return 1
}
# wait_gone TEXT [SECONDS] — until TEXT is no longer on screen.
wait_gone() {
  local i
  for i in $(seq $(( ${2:-15} * 20 ))); do
    screen | grep -qF -- "$1" || return 0
    sleep 0.05
  done
  return 1
}
# wait_idle AGENT — the AGENT task of this session has ended.  An answer's last
# token can show before its end (networked: the end event follows over
# pub/sub), and a request typed in between would wait in the queue.
wait_idle() {
  wait_gone "● $1" 15 || fail "the $1 task did not end"
}
expect_screen() { # expect_screen "description" TEXT [SECONDS]
  if wait_screen "$2" "${3:-15}"; then pass "$1"; else fail "$1: [$2] not on screen:"; screen >&2; fi
}
alive() { kill -0 "$TUI_PID" 2>/dev/null; }
# errand_pid — the errand process itself: $TUI_PID, or networked its child
# (there $ERRAND is tests/e2e/net_errand.py, a wrapper that polls and passes on
# only SIGINT, SIGTERM and SIGHUP).
errand_pid() {
  local c bin
  bin=$(readlink -f "$ERRAND_BIN")
  [ "$(readlink -f "/proc/$TUI_PID/exe")" = "$bin" ] && { echo "$TUI_PID"; return; }
  for c in $(cat /proc/"$TUI_PID"/task/*/children); do
    [ "$(readlink -f "/proc/$c/exe")" = "$bin" ] && { echo "$c"; return; }
  done
}
# The terminal state after errand quit: canonical mode and echo are back.
expect_restored() {
  expect_screen "$1: the shell prints errand's exit status" "EXIT=$2"
  # errand still holding the pane would take every later keystroke as a
  # request: stop here instead of failing on and on until ctest's timeout.
  wait_screen "EXIT=$2" 1 || { kill -9 "$TUI_PID" 2>/dev/null; finish; }
  type_text "stty -a | tr ' ' '\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' '; echo END"
  keys Enter
  expect_screen "$1: canonical input and echo restored" "icanon echo END"
  # What only errand can undo (a shell restores termios after a crash by itself):
  # the alternate screen left, mouse reports and keypad mode off, the cursor shown.
  expect_eq "$1: normal screen, no mouse or keypad mode, cursor on" \
    "$(tm display -p 'alt=#{alternate_on} mouse=#{mouse_any_flag} keypad=#{keypad_flag} cursor=#{cursor_flag}')" \
    "alt=0 mouse=0 keypad=0 cursor=1"
  type_text 'echo typed-$((40 + 2))'
  keys Enter
  expect_screen "$1: the shell reads and runs lines again" "typed-42"
}
