# Transport, misbehaviour: a TLS error (https:// to a server that does not
# speak TLS).  Not retried — it would fail the same way — and said as what it
# is, exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
echo '{"turns":[{"match":"hello","repeat":true,"text":"plain http only"}]}' > "$T/s.json"
case_fn() {
  local p=$1
  fresh_ws
  if [ "$p" = openai ]; then export OPENAI_BASE_URL="https://127.0.0.1:$FAKE_PORT/v1"
  else export ANTHROPIC_BASE_URL="https://127.0.0.1:$FAKE_PORT"; fi
  code_ask "hello"
  expect_eq "$p: exit 3" "$MB_RC" 3
  expect_contains "$p: says TLS" "$(jget "$MB_JSON" error)" "TLS with '127.0.0.1:$FAKE_PORT' failed"
  expect_contains "$p: says what to check" "$(jget "$MB_JSON" error)" "is it an https server (else use http://)"
  expect_eq "$p: no HTTP request got through" "$(nreq)" 0
}
each_provider case_fn
finish
