# Transport, misbehaviour: a streamed answer cut mid-event (the connection
# closes halfway).  Nothing of it was used, so it is asked for again; what the
# user already saw is not shown twice.  Cut every time: the task fails clearly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"cut once","malformed":"truncate","text":"alpha beta gamma delta epsilon zeta eta theta"},
 {"match":"cut once","text":"alpha beta gamma delta epsilon zeta eta theta"},
 {"match":"cut always","repeat":true,"malformed":"truncate","text":"never whole"}
]}
JSON
case_fn() {
  local p=$1 out rc
  fresh_ws
  out=$(cd "$MB_WS" && "$ERRAND" ask --agent code "cut once" 2>"$T/err"); rc=$?
  expect_eq "$p: exit 0" "$rc" 0
  expect_eq "$p: the answer shown once, whole" "$out" "alpha beta gamma delta epsilon zeta eta theta"
  expect_eq "$p: asked twice" "$(grep -c 'cut once' "$FAKE_REC")" 2
  code_ask "cut always"
  expect_eq "$p: always cut: exit 1" "$MB_RC" 1
  expect_contains "$p: always cut: why" "$(jget "$MB_JSON" error)" "(asked 4 times: each answer broke off)"
}
each_provider case_fn
finish
