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
  local p=$1
  fresh_ws
  plain_ask "cut once"
  expect_shown_once "$p" "alpha beta gamma delta epsilon zeta eta theta" "cut once"
  code_ask "cut always"
  expect_failed "$p: always cut" 1 "(asked 4 times: each answer broke off)"
}
each_provider case_fn
finish
