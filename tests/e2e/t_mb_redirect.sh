# Transport, misbehaviour: the server redirects (307).  Not followed — the API
# key would go wherever it points — and not retried: the task fails naming the
# new address and the setting to change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mb_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"hello","repeat":true,"misbehave":"redirect","location":"https://llm.example.invalid/v1/chat/completions"}]}
JSON
case_fn() {
  local p=$1
  fresh_ws
  code_ask "hello"
  expect_eq "$p: exit 1" "$MB_RC" 1
  expect_contains "$p: names the address" "$(jget "$MB_JSON" error)" "redirects (HTTP 307) to 'https://llm.example.invalid/v1/chat/completions'; redirects are not followed"
  expect_eq "$p: one request, not followed" "$(nreq)" 1
}
each_provider case_fn
finish
