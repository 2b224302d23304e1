# The TUI during a stalled model call: the agent monitor shows the agent
# running (networked: and counts the workers as they come and go), Ctrl-C
# cancels the task (stored as cancelled), so does c in the task tracker, an idle session uses no CPU, Ctrl-C
# twice at an idle prompt quits, and SIGTERM restores the terminal too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"slow job","stall_ms":30000,"text":"too late"},
 {"match":"quick job","text":"quick answer"},
 {"match":"slow two","stall_ms":30000,"text":"too late"},
 {"match":"other client","stall_ms":30000,"text":"too late"}
]}
JSON
tui_begin "$T/s.json"
type_text "@code slow job"
keys Enter
expect_screen "status bar shows what runs" "● code"
keys F3
expect_screen "monitor opens" "WORKERS"
check "monitor: code is running" sh -c \
  "for i in \$(seq 100); do tmux -L $TMUX_SOCK capture-pane -p | grep -qE '^ code +running +1 +thinking' && exit 0; sleep 0.05; done; exit 1"
first=$(screen | grep -E '^ code +running' | awk '{print $5}')
sleep 1.2
second=$(screen | grep -E '^ code +running' | awk '{print $5}')
check "monitor: elapsed time moves on while it runs ($first, $second)" test "$first" != "$second"
keys C-c
keys F4
expect_screen "tracker: the task is cancelled" "cancelled"
keys F2
expect_screen "chat says so" "Task cancelled"
list=$("$ERRAND" task list --json)
expect_eq "stored as cancelled" "$(jget "$list" 0.status)" "cancelled"
wait_idle code
if [ -n "$NETWORKED" ]; then
  # Idle, nothing announces a worker: the monitor counts them again while it is shown.
  keys F3
  expect_screen "monitor: code is idle again" " code             idle"
  workers() { screen | grep -E '^ code ' | awk '{print $(NF-1)}'; }
  until_workers() { for _ in $(seq 100); do [ "$(workers)" = "$1" ] && return 0; sleep 0.05; done; return 1; }
  w0=$(workers)
  start_worker code
  check "monitor: a new code worker is counted ($w0 -> $((w0 + 1)))" until_workers $((w0 + 1))
  stop_worker "$WORKER_PID"
  check "monitor: and no longer once it stopped" until_workers "$w0"

  # Another client's request, run by the workers: this session follows it too.
  "$ERRAND" -w "$T/ws" ask --agent code "other client" > "$T/other.out" 2>&1 &
  other=$!
  check "monitor: another client's task runs" sh -c \
    "for i in \$(seq 200); do tmux -L $TMUX_SOCK capture-pane -p | grep -qE '^ code +running' && exit 0; sleep 0.05; done; exit 1"
  keys F4
  expect_screen "tracker: another client's task, running" "running    code"
  expect_screen "with its request" "other client"
  keys Home
  keys Enter
  expect_screen "its steps" "code started"
  keys c
  expect_screen "c cancels it" "cancelled: cancelled by the user"
  wait "$other"
  expect_eq "the other client hears of the cancel (exit status 1)" "$?" 1
  expect_contains "and why" "$(cat "$T/other.out")" "cancelled by the user"
  keys Escape
  sleep 0.2
  keys F2
fi

# Idle: no timer, no polling (utime + stime of every thread, in clock ticks),
# and no thread wakes at all: their context switches do not move (errand's,
# not those of the wrapper networked runs have: tui_lib.sh's errand_pid).
EPID=$(errand_pid)
check "found the errand process ($EPID)" test -n "$EPID"
cpu() { awk '{print $14 + $15}' "/proc/$EPID/stat"; }
wakeups() { cat /proc/"$EPID"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }
sleep 0.5
c1=$(cpu); w1=$(wakeups); sleep 2; c2=$(cpu); w2=$(wakeups)
check "idle session uses no CPU (ticks: $c1 -> $c2)" test $((c2 - c1)) -le 2
expect_eq "idle session: no thread woke up in 2 s (context switches)" "$w2" "$w1"

# The session still works after a cancel.
type_text "@code quick job"
keys Enter
expect_screen "a request after the cancel" "quick answer"
wait_idle code   # a Ctrl-C before its end would (rightly) cancel it instead

# The tracker: Enter shows a running task's steps as they happen, c cancels it.
type_text "@code slow two"
keys Enter
expect_screen "another stalled request" "● code"
keys F4
expect_screen "tracker lists it running" "running    code"
keys Home
keys Enter
expect_screen "Enter: its steps so far" "code started"
keys Escape
sleep 0.2
keys c
expect_screen "c: the tracker says it cancels" "Cancelling task"
expect_screen "the row turns cancelled" "cancelled  code        "
keys Enter
expect_screen "its steps end with the cancel" "cancelled: cancelled by the user"
keys Escape
sleep 0.2
keys F2
wait_idle code
list=$("$ERRAND" task list --json)
expect_eq "stored as cancelled" "$(jget "$list" 0.status)" "cancelled"

keys C-c
expect_screen "Ctrl-C at an idle prompt asks first" "Ctrl-C again to quit"
check "still running after one Ctrl-C" alive
keys C-c
expect_restored "Ctrl-C twice quits" 0

TUI_ENV="NO_COLOR=1" tui_run -w "$T/ws"
expect_screen "started again" "/help lists commands"
colours=$(tm capture-pane -p -e | grep -cE $'\e\\[[0-9;]*3[0-7]m')
expect_eq "NO_COLOR: no colours, attributes only" "$colours" 0
kill -TERM "$TUI_PID"
expect_restored "SIGTERM" 130

# A crash restores the terminal too (no core file wanted).
type_text "ulimit -c 0"
keys Enter
tui_run -w "$T/ws"
expect_screen "started once more" "/help lists commands"
colours=$(tm capture-pane -p -e | grep -cE $'\e\\[[0-9;]*3[0-7]m')
check "colours by default ($colours lines)" test "$colours" -gt 0
EPID=$(errand_pid)
check "found the errand process to crash ($EPID)" test -n "$EPID"
kill -SEGV "$EPID"
expect_restored "SIGSEGV" 139
finish
