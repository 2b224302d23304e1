# What an ordinary user of errand serve can reach (issue 22), in local mode
# and networked (api_lib.sh starts a worker): each user works in a workspace
# of their own under server.workspaces (made on first use, mode 0700), and
# neither the file tools nor `run` reach another user's files, the server's
# token-signing key, its database, ~/.ssh or /etc/shadow; with
# server.admin_approval a user's own answer to an approval request of those
# classes is refused and an admin's counts; the server refuses to start with
# a users' root that holds its own files; and where bubblewrap does not
# work, a server task's commands are refused unless sandbox.fallback = limits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
. "$(dirname "$0")/code_lib.sh"

# The server makes its own signing key in its data directory, outside /tmp
# as on a real host (the jail always replaced /tmp).
unset ERRAND_JWT_SECRET
JH=$(mktemp -d "$ERRAND_BUILD/api-security.XXXXXX")
trap 'rm -rf "$JH"; cleanup' EXIT
export HOME="$JH" XDG_DATA_HOME="$JH/.local/share" XDG_CONFIG_HOME="$JH/.config" \
       XDG_STATE_HOME="$JH/.local/state"
mkdir -p "$HOME/.ssh"
printf 'PRIVATE-KEY-0815\n' > "$HOME/.ssh/id_rsa"
USERS="$JH/users"
ws() { timeout 60 /usr/bin/python3 "$WS_CLIENT" "$WSAPI" "$@"; }
# restart [options] — the server (and in networked mode its worker) again.
restart() {
  stop_server
  if [ -n "${WORKER_PID:-}" ]; then kill -TERM "$WORKER_PID"; wait "$WORKER_PID"; WORKER_PID=; fi
  start_server "$@"
}
# chat TOKEN MESSAGE — submits to the code agent; prints the task id.
chat() {
  call POST /api/v1/chat "{\"message\":\"$2\",\"agent\":\"code\"}" "$1"
  jget "$BODY" task_id
}
# script — the fake model: each request's tool calls, then a final answer.
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"\"role\":\"tool\"","repeat":true,"text":"checked"},
 {"match":"bob writes","tool_calls":[{"id":"b1","name":"write_file","arguments":{"path":"bob.txt","content":"BOB-PRIVATE-NOTE"}}]},
 {"match":"alice looks","tool_calls":[
   {"id":"a1","name":"run","arguments":{"cmd":"cat $XDG_DATA_HOME/errand/jwt.secret"}},
   {"id":"a2","name":"run","arguments":{"cmd":"cat $HOME/.ssh/id_rsa"}},
   {"id":"a3","name":"run","arguments":{"cmd":"head -c 15 $XDG_DATA_HOME/errand/errand.db"}},
   {"id":"a4","name":"run","arguments":{"cmd":"cat /etc/shadow"}},
   {"id":"a5","name":"run","arguments":{"cmd":"cat $USERS/*/bob.txt; ls $USERS"}},
   {"id":"a6","name":"read_file","arguments":{"path":"../BOB_ID/bob.txt"}},
   {"id":"a7","name":"read_file","arguments":{"path":"$USERS/BOB_ID/bob.txt"}},
   {"id":"a8","name":"write_file","arguments":{"path":"mine.txt","content":"ALICE-NOTE"}},
   {"id":"a9","name":"run","arguments":{"cmd":"pwd; ls"}}]},
 {"match":"alice runs","tool_calls":[{"id":"r1","name":"run","arguments":{"cmd":"echo ran-for-alice"}}]},
 {"match":"admin runs","tool_calls":[{"id":"r2","name":"run","arguments":{"cmd":"echo ran-for-admin"}}]},
 {"match":"unconfined one","tool_calls":[{"id":"u1","name":"run","arguments":{"cmd":"echo ran-unconfined"}}]},
 {"match":"unconfined two","tool_calls":[{"id":"u2","name":"run","arguments":{"cmd":"echo ran-unconfined"}}]}
]}
JSON
ALICE=$(mkuser alice)
BOB=$(mkuser bob)
ADMIN=$(mkuser boss admin)
A_ID=$(uid alice)
B_ID=$(uid bob)
sed -i "s/BOB_ID/$B_ID/g" "$T/s.json"
start_fake "$T/s.json"
use_openai
start_server -o server.workspaces="$USERS" -o policy.exec=allow -o policy.write=allow

# bob writes in his workspace; alice tries to reach his files and the server's
TB=$(chat "$BOB" "bob writes a note")
expect_eq "bob's task done" "$(wait_task "$TB" "$BOB")" "done"
expect_eq "bob's file is in his own workspace" "$(cat "$USERS/$B_ID/bob.txt")" "BOB-PRIVATE-NOTE"
expect_eq "his workspace is private (0700)" "$(stat -c %a "$USERS/$B_ID")" "700"
TA=$(chat "$ALICE" "alice looks around")
expect_eq "alice's task done" "$(wait_task "$TA" "$ALICE")" "done"
expect_eq "her workspace was made on first use, 0700" "$(stat -c %a "$USERS/$A_ID")" "700"
expect_eq "a8: her file in her own workspace" "$(cat "$USERS/$A_ID/mine.txt")" "ALICE-NOTE"
check "a8: not in bob's" test ! -e "$USERS/$B_ID/mine.txt"
expect_eq "a9: her commands run in her workspace" "$(sent a9 stdout)" "$USERS/$A_ID
mine.txt"
for id in a6 a7; do
  expect_contains "$id: bob's file refused" "$(sent $id)" "is outside the workspace $USERS/$A_ID"
done
KEY=$(cat "$XDG_DATA_HOME/errand/jwt.secret")
check "the server made its signing key" test -n "$KEY"
all=$(grep "alice looks" "$FAKE_REC")
for s in "$KEY" PRIVATE-KEY-0815 "SQLite format" "root:" BOB-PRIVATE-NOTE; do
  check "no [${s:0:12}…] reached alice's model" not contains "$all" "$s"
done
if [ "$(sent a1 sandbox)" = bwrap ]; then
  for id in a1 a2 a4 a5; do
    expect_contains "$id: not in her jail" "$(sent $id stderr)" "No such file or directory"
  done
fi

# server.admin_approval=exec: alice's own answer is refused, an admin's runs it
restart -o server.workspaces="$USERS" -o policy.exec=ask -o server.admin_approval=exec
TR=$(chat "$ALICE" "alice runs a command")
ws --token "$ALICE" --send "{\"type\":\"subscribe\",\"task_id\":\"$TR\"}" --answer-approvals allow \
   --until-type error > "$T/alice.jsonl"
req=$(grep approval_request "$T/alice.jsonl" | tail -1)
expect_eq "the request says an admin must answer" "$(jget "$req" event.data.approver)" "admin"
err=$(tail -1 "$T/alice.jsonl")
expect_eq "alice's own answer refused" "$(jget "$err" field)" "call_id"
expect_contains "…saying why" "$(jget "$err" error)" "needs an administrator's approval"
call GET "/api/v1/tasks/$TR" "" "$ALICE"
expect_eq "the task still waits" "$(jget "$BODY" status)" "running"
out=$(ws --token "$ADMIN" --send "{\"type\":\"approval\",\"task_id\":\"$TR\",\"call_id\":\"r1\",\"decision\":\"allow\"}" \
   --until-type approval_sent | tail -1)
expect_eq "the admin's answer passed on" "$(jget "$out" decision)" "allow"
expect_eq "then it ran" "$(wait_task "$TR" "$ALICE")" "done"
expect_eq "r1: ran in alice's workspace" "$(sent r1 stdout)" "ran-for-alice"
# an admin's own task: the admin answers it
TD=$(chat "$ADMIN" "admin runs a command")
ws --token "$ADMIN" --send "{\"type\":\"subscribe\",\"task_id\":\"$TD\"}" --answer-approvals allow \
   --until-end > "$T/admin.jsonl"
req=$(grep approval_request "$T/admin.jsonl" | tail -1)
expect_eq "an admin's request: the requester answers" "$(jget "$req" event.data.approver)" "requester"
expect_eq "r2: ran" "$(sent r2 stdout)" "ran-for-admin"
check "the admin's workspace is their own" test -d "$USERS/$(uid boss)"

# errand's files in the users' root: serve refuses to start
for root in "$XDG_DATA_HOME" "$XDG_DATA_HOME/errand/users"; do
  out=$("$ERRAND_BIN" -o server.workspaces="$root" serve --listen 127.0.0.1:0 2>&1); rc=$?
  expect_eq "serve with server.workspaces=$root: exit 2" "$rc" 2
  expect_contains "…naming errand's data directory" "$out" "errand's data directory $XDG_DATA_HOME/errand"
done

# no working bubblewrap: a server task's commands are refused, unless the
# configuration accepts the risk
export ERRAND_SANDBOX=none
restart -o server.workspaces="$USERS" -o policy.exec=allow
TU=$(chat "$ALICE" "unconfined one")
expect_eq "no bwrap: the task ends" "$(wait_task "$TU" "$ALICE")" "done"
expect_contains "u1: refused" "$(sent u1)" "cannot be confined here (ERRAND_SANDBOX=none)"
check "u1: did not run" not contains "$(sent u1)" "ran-unconfined"
restart -o server.workspaces="$USERS" -o policy.exec=allow -o sandbox.fallback=limits
TU=$(chat "$ALICE" "unconfined two")
expect_eq "sandbox.fallback=limits: the task ends" "$(wait_task "$TU" "$ALICE")" "done"
expect_eq "u2: ran" "$(sent u2 stdout)" "ran-unconfined"
expect_eq "u2: with the limits only" "$(sent u2 sandbox)" "rlimits-only"
unset ERRAND_SANDBOX
stop_server
expect_eq "clean stop" "$SERVER_RC" 0
finish
