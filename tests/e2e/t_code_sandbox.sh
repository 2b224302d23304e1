# The sandbox through the code agent: the model calls the tools and gets the
# refusals and limits back as tool results.  Writing outside the workspace,
# reading ../../etc/passwd and escaping through symlinks are refused; a
# connection to a server on 127.0.0.1 from `run` fails unless the policy grants
# the network (policy.exec_network; policy.network is the web tools'); an endless loop is killed at its timeout; 100 MB of output is
# capped; a command that does not exist gives a clear error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
mkdir -p "$ws"
ln -s /etc "$ws/etc"
ln -s /etc/passwd "$ws/pw"
printf 'hello\n' > "$ws/inside.txt"

# A server on 127.0.0.1 that notes every connection it accepts.
$PY - "$T/listen.port" "$T/accepted" <<'EOF' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
    c.close()
EOF
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/listen.port" ] && break; sleep 0.05; done
cp "$T/listen.port" "$ws/port"
: > "$T/accepted"
PROBE="bash -c 'echo hi > /dev/tcp/127.0.0.1/\$(cat port)' && echo connected"

calls '[
  c("w1", "write_file", path="../outside.txt", content="x"),
  c("w2", "write_file", path=T + "/outside-abs.txt", content="x"),
  c("w3", "write_file", path="etc/errand-e2e-escape", content="x"),
  c("w4", "edit_file", path="pw", old="root", new="toor"),
  c("r1", "read_file", path="../../etc/passwd"),
  c("r2", "read_file", path="etc/passwd"),
  c("r3", "read_file", path="pw"),
  c("r4", "read_file", path="/etc/passwd"),
  c("n1", "run", cmd=PROBE),
  c("x1", "run", cmd="echo started; while :; do :; done", timeout_s=1),
  c("x2", "run", cmd="yes aaaaaaaaa | head -c 100000000; echo done >&2"),
  c("x3", "run", cmd="no-such-command-errand-e2e --flag"),
  c("ok", "read_file", path="inside.txt"),
]' T="$T" PROBE="$PROBE"
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes -o policy.exec_network=deny ask --json --agent code "check the sandbox" \
  2>"$T/err"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "done" "$(jget "$json" status)" "done"
expect_eq "two model calls" "$(nreq)" 2
expect_contains "control: a file inside is read" "$(sent ok content)" "hello"

# writes outside the workspace: refused, nothing written
for id in w1 w2 w3 w4; do
  expect_contains "$id: refused as outside the workspace" "$(sent $id)" "error: path '"
  expect_contains "$id: says why" "$(sent $id)" "is outside the workspace $ws"
done
check "w1: nothing written beside the workspace" test ! -e "$T/outside.txt"
check "w2: nothing written at the absolute path" test ! -e "$T/outside-abs.txt"
check "w3: nothing written through the symlink" test ! -e /etc/errand-e2e-escape
check "w4: /etc/passwd untouched" grep -q '^root:' /etc/passwd
# reads outside: refused, and no passwd line reached the model
for id in r1 r2 r3 r4; do
  expect_contains "$id: refused as outside the workspace" "$(sent $id)" "is outside the workspace"
  check "$id: no passwd content sent" not grep -q 'root:x:0' <<< "$(sent $id)"
done
# network not granted: the connection fails and the server saw nothing (only
# bubblewrap can take the network away; without it commands run with limits only)
BWRAP=$(sent n1 sandbox)
if [ "$BWRAP" = bwrap ]; then
  expect_eq "n1: result says no network" "$(sent n1 network)" "false"
  check "n1: probe did not connect" not contains "$(sent n1 stdout)" "connected"
  check "n1: probe failed" test "$(sent n1 exit_code)" != 0
  expect_eq "n1: server accepted nothing" "$(wc -l < "$T/accepted" | tr -d ' ')" 0
else
  echo "skip: no working bwrap ($BWRAP), so no network isolation to test"
  expect_eq "n1: result does not claim isolation" "$(sent n1 network)" "true"
  expect_contains "n1: and says why" "$(sent n1 network_note)" "could not be kept off it"
fi
# endless loop: killed at the timeout, output so far kept
expect_eq "x1: timed out" "$(sent x1 timed_out)" "true"
expect_eq "x1: killed by SIGKILL" "$(sent x1 signal_name)" "SIGKILL"
expect_eq "x1: output so far" "$(sent x1 stdout)" "started"
expect_contains "x1: note names the timeout" "$(sent x1 note)" "killed after the 1 s timeout"
# 100 MB of output: counted, capped, the middle elided
expect_eq "x2: all bytes counted" "$(sent x2 stdout_bytes)" 100000000
x2len=$(sent x2 stdout | wc -c)
check "x2: captured output capped ($x2len bytes)" test "$x2len" -lt 300000
expect_contains "x2: the middle elided" "$(sent x2 stdout)" "bytes elided of 100000000 ...]"
expect_eq "x2: exit 0" "$(sent x2 exit_code)" 0
expect_eq "x2: stderr kept apart" "$(sent x2 stderr)" "done"
reqlen=$(sed -n 2p "$FAKE_REC" | wc -c)
check "x2: the request to the model stays small ($reqlen bytes)" test "$reqlen" -lt 2000000
# a command that does not exist
expect_eq "x3: exit 127" "$(sent x3 exit_code)" 127
expect_contains "x3: note" "$(sent x3 note)" "command not found"
expect_contains "x3: stderr names it" "$(sent x3 stderr)" "no-such-command-errand-e2e"
expect_contains "x3: stderr says not found" "$(sent x3 stderr)" "not found"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# probe RUN-NAME ERRAND-OPTIONS... — the network probe alone under a policy.
probe() {
  local name=$1
  shift
  calls '[c("n1", "run", cmd=PROBE)]' PROBE="$PROBE"
  start_fake "$T/s.json"
  use_openai
  : > "$T/accepted"
  "$ERRAND" -w "$ws" "$@" ask --agent code "probe" >/dev/null 2>"$T/$name.err"
  expect_eq "$name: exit 0" "$?" 0
  # The fake records a request once it has answered it: the client may be
  # done a moment before the second line is written.
  wait_for 5 more_req 1
  expect_eq "$name: one run happened" "$(nreq)" 2
  kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
}
# by default commands get no network; web tools' policy.network=allow is not theirs
probe default -o policy.exec=allow -o policy.network=allow
if [ "$BWRAP" = bwrap ]; then
  expect_eq "default: result says no network" "$(sent n1 network)" "false"
  check "default: probe did not connect" not contains "$(sent n1 stdout)" "connected"
  expect_eq "default: server accepted nothing" "$(wc -l < "$T/accepted" | tr -d ' ')" 0
fi
# ask, and nobody approves it (no --yes): not granted
probe ask-unapproved -o policy.exec=allow -o policy.exec_network=ask
if [ "$BWRAP" = bwrap ]; then
  expect_eq "ask-unapproved: result says no network" "$(sent n1 network)" "false"
  check "ask-unapproved: probe did not connect" not contains "$(sent n1 stdout)" "connected"
  expect_eq "ask-unapproved: server accepted nothing" "$(wc -l < "$T/accepted" | tr -d ' ')" 0
fi
# granted: by policy, and by --yes answering ask
probe allowed -o policy.exec=allow -o policy.exec_network=allow
expect_eq "allowed: probe connected" "$(sent n1 stdout)" "connected"
expect_eq "allowed: result says network" "$(sent n1 network)" "true"
expect_eq "allowed: server accepted it" "$(wc -l < "$T/accepted" | tr -d ' ')" 1
probe yes --yes -o policy.exec_network=ask
expect_eq "--yes: probe connected" "$(sent n1 stdout)" "connected"
expect_eq "--yes: server accepted it" "$(wc -l < "$T/accepted" | tr -d ' ')" 1

# Where bubblewrap is missing: commands run with the limits only, the results
# say so, and errand says it once (not once per command), in plain words.
# (Networked, the workers run the commands, with their own PATH.)
[ -n "$NETWORKED" ] && finish
mkdir -p "$T/nobwrap"
for b in sh echo cat; do ln -sf "$(command -v $b)" "$T/nobwrap/$b"; done
calls '[c("f1", "run", cmd="echo one"), c("f2", "run", cmd="echo two")]'
start_fake "$T/s.json"
use_openai
PATH="$T/nobwrap" "$ERRAND" -w "$ws" --yes ask --agent code "twice" >/dev/null 2>"$T/nobwrap.err"
expect_eq "no bwrap: exit 0" "$?" 0
expect_eq "no bwrap: f1 ran" "$(sent f1 stdout)" "one"
expect_eq "no bwrap: f2 ran" "$(sent f2 stdout)" "two"
expect_eq "no bwrap: f1 says rlimits-only" "$(sent f1 sandbox)" "rlimits-only"
expect_eq "no bwrap: f2 says rlimits-only" "$(sent f2 sandbox)" "rlimits-only"
expect_eq "no bwrap: said once" "$(grep -c 'bubblewrap (bwrap) is not installed' "$T/nobwrap.err")" 1
expect_contains "no bwrap: plainly" "$(cat "$T/nobwrap.err")" \
  "commands run with rlimits only, without filesystem or network isolation"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
finish
