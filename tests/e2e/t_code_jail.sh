# The jail of run, test and lint through the code agent (issue 22): a command
# cannot read errand's token-signing key, its database, ~/.ssh or /etc/shadow
# (the jail showed the whole host read-only); lint's compiler cannot quote a
# file outside the workspace that a source #includes by absolute path; only
# allowed variables reach commands; the memory of a command's processes
# together is bounded; and real builds still work: make + gcc, python.
# In local mode a workspace that holds errand's data directory is allowed,
# its files refused by the file tools and covered in the jail; a worker
# refuses to start with such a workspace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"

ws="$T/ws"
# HOME and errand's data outside /tmp (which the jail always replaced), as
# on a real machine; removed at the end.
JH=$(mktemp -d "$ERRAND_BUILD/jail-home.XXXXXX")
trap 'rm -rf "$JH"; cleanup' EXIT
export HOME="$JH" XDG_DATA_HOME="$JH/.local/share"
mkdir -p "$ws" "$XDG_DATA_HOME/errand" "$HOME/.ssh"
printf 'SIGNING-KEY-4711\n' > "$XDG_DATA_HOME/errand/jwt.secret"
printf 'PRIVATE-KEY-0815\n' > "$HOME/.ssh/id_rsa"
printf 'AWS_SECRET = LEAKED-BY-INCLUDE;\n' > "$JH/.env"
printf '#include "%s"\nint x;\n' "$JH/.env" > "$ws/leak.c"
printf '#include <stdio.h>\nint main(void) { puts("built by make"); return 0; }\n' > "$ws/hello.c"
printf 'hello: hello.c\n\tcc -O2 -o $@ $<\n' > "$ws/Makefile"
export GITHUB_PAT=ghp_e2e_not_for_commands SENTRY_DSN=https://key@sentry.example/1 \
       MY_BUILD_FLAG=on LANG=C.UTF-8

MEM="for i in 1 2 3; do python3 -c \"b = b'x' * (160 << 20); import time; time.sleep(3); print('kept')\" & done; wait"
calls '[
  c("s1", "run", cmd="cat " + JH + "/.local/share/errand/jwt.secret"),
  c("s2", "run", cmd="cat " + JH + "/.ssh/id_rsa"),
  c("s3", "run", cmd="head -c 15 " + JH + "/.local/share/errand/errand.db; ls " + JH),
  c("s4", "run", cmd="cat /etc/shadow"),
  c("l1", "lint", path="leak.c"),
  c("b1", "run", cmd="make -s && ./hello"),
  c("p1", "run", cmd="python3 -c \"import json, sqlite3; print(json.dumps([sqlite3.sqlite_version_info[0]]))\""),
  c("e1", "run", cmd="echo pat=${GITHUB_PAT:-none} dsn=${SENTRY_DSN:-none} flag=${MY_BUILD_FLAG:-none} lang=$LANG"),
  c("m1", "run", cmd=MEM),
]' JH="$JH" MEM="$MEM"
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" -w "$ws" --yes -o sandbox.env=MY_BUILD_* -o sandbox.memory_mb=256 \
  ask --json --agent code "check the jail" 2>"$T/err"); rc=$?
expect_eq "exit 0" "$rc" 0
expect_eq "done" "$(jget "$json" status)" "done"
all=$(cat "$FAKE_REC")
BWRAP=$(sent b1 sandbox)
if [ "$BWRAP" = bwrap ]; then
  for s in SIGNING-KEY-4711 PRIVATE-KEY-0815 "SQLite format" "root:"; do
    check "no [$s] reached the model" not contains "$all" "$s"
  done
  for id in s1 s2 s4; do
    expect_contains "$id: not in the jail" "$(sent $id stderr)" "No such file or directory"
  done
  expect_contains "s3: errand's data directory is not there" "$(sent s3 stderr)" "No such file"
  check "l1: the included file's text was not quoted back" not contains "$(sent l1)" "LEAKED"
  expect_contains "l1: the compiler could not open it" "$(sent l1)" "No such file or directory"
else
  echo "skip: no working bwrap ($BWRAP), so no jail to test"
fi
expect_eq "b1: make + gcc build and run" "$(sent b1 stdout)" "built by make"
expect_eq "p1: python with its standard library" "$(sent p1 stdout)" "[3]"
expect_eq "e1: only allowed variables (and sandbox.env's)" "$(sent e1 stdout)" \
  "pat=none dsn=none flag=on lang=C.UTF-8"
if [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
  expect_eq "m1: the memory limit of all processes together hit" "$(sent m1 out_of_memory)" "true"
  check "m1: not all three 160 MiB processes kept" test "$(sent m1 stdout | grep -c kept)" -lt 3
  expect_contains "m1: the note names the setting" "$(sent m1 note)" "256 MiB of memory (sandbox.memory_mb)"
else
  echo "skip: no writable memory cgroup here"
fi
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# A workspace that holds errand's data directory: a worker refuses it at
# start; locally the file tools refuse errand's files and the jail covers them.
if [ -n "$NETWORKED" ]; then
  out=$("$ERRAND_BIN" -w "$JH" worker code 2>&1); rc=$?
  expect_eq "worker with such a workspace: exit 2" "$rc" 2
  expect_contains "worker: says why" "$out" \
    "the workspace $JH contains errand's data directory $XDG_DATA_HOME/errand"
  finish
fi
calls '[
  c("r1", "read_file", path=".local/share/errand/jwt.secret"),
  c("g1", "grep", pattern="SIGNING-KE[Y]-4711"),
  c("x1", "run", cmd="cat .local/share/errand/jwt.secret; ls -A .local/share/errand | wc -l"),
  c("ok", "read_file", path=".ssh/id_rsa"),
]' JH="$JH"
start_fake "$T/s.json"
use_openai
"$ERRAND" -w "$JH" --yes ask --agent code "look around" >/dev/null 2>"$T/err2"
expect_eq "home-like workspace: exit 0" "$?" 0
expect_contains "r1: refused" "$(sent r1)" "is inside errand's data directory $XDG_DATA_HOME/errand"
expect_eq "g1: nothing found in errand's files" "$(sent g1 count)" 0
check "no signing key reached the model" not contains "$(cat "$FAKE_REC")" "SIGNING-KEY-4711"
if [ "$BWRAP" = bwrap ]; then
  expect_eq "x1: covered, empty" "$(sent x1 stdout)" "0"
fi
expect_contains "control: the rest of the workspace is read" "$(sent ok content)" "PRIVATE-KEY-0815"
expect_eq "the key is untouched" "$(cat "$XDG_DATA_HOME/errand/jwt.secret")" "SIGNING-KEY-4711"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
finish
