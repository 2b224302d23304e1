# Secrets stay out of `ps`, `errand doctor` and the logs (issue 22 #10, #11):
# -o refuses secret settings and names the environment variable to use; the
# password of a URL given with -o or --database is scrubbed from the command
# line; every URL setting (llm.openai_base_url included, which is not a
# secret) shows its password masked in doctor and in the debug log, of the
# server and of the worker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
cat > "$T/s.json" <<JSON
{"turns":[{"match":"You are the","repeat":true,"text":"Never reached."}]}
JSON
start_fake "$T/s.json"
use_openai
PW=pw-in-argv-4242

# -o with a secret: refused before anything starts, naming the variable to use
out=$("$ERRAND" -o server.jwt_secret=0123456789abcdef0123456789abcdef-long serve \
      --listen 127.0.0.1:0 2>&1); rc=$?
expect_eq "-o server.jwt_secret is refused" "$rc" 2
expect_contains "…naming the variable to use" "$out" "ERRAND_JWT_SECRET"
expect_contains "…saying why" "$out" "ps"
out=$("$ERRAND" -o llm.openai_api_key=sk-abcdefghijklmnopqrstu doctor 2>&1); rc=$?
expect_eq "-o llm.openai_api_key is refused" "$rc" 2
expect_contains "…naming OPENAI_API_KEY" "$out" "OPENAI_API_KEY"
check "…without echoing the key" test "${out/abcdefghijklmnop/}" = "$out"
out=$("$ERRAND" --set=oauth.client_secret=abcdefgh1234 doctor 2>&1); rc=$?
expect_eq "--set=oauth.client_secret is refused" "$rc" 2

# a URL with a password on the command line: taken, and scrubbed from argv
start_server -o "llm.openai_base_url=http://proxy:$PW@127.0.0.1:$FAKE_PORT/v1" -o log.level=debug
cmdline=$(tr '\0' ' ' < "/proc/$SERVER_PID/cmdline")
check "the password is not in the server's command line" test "${cmdline/$PW/}" = "$cmdline"
expect_contains "…which shows it masked" "$cmdline" "http://proxy:"
if [ -n "${WORKER_PID:-}" ]; then
  wcmd=$(tr '\0' ' ' < "/proc/$WORKER_PID/cmdline")
  check "nor in the worker's" test "${wcmd/$PW/}" = "$wcmd"
fi
ADA=$(mkuser ada)
call POST /api/v1/chat '{"message":"hello","agent":"code"}' "$ADA"
TASK=$(jget "$BODY" task_id)
# errand's plain-HTTP client never sends credentials in clear: the task fails,
# and its error, which the user reads, names the URL with the password masked.
wait_task "$TASK" "$ADA" > /dev/null
call GET "/api/v1/tasks/$TASK" "" "$ADA"
expect_contains "the task's error names the URL, masked" "$(jget "$BODY" error)" \
  "http://proxy:***@127.0.0.1:$FAKE_PORT/v1"
check "…never the password" test "${BODY/$PW/}" = "$BODY"
stop_server
logs=$(cat "$T/serve.log" "$T/worker.log" 2>/dev/null)
expect_contains "the debug log shows the LLM URL" "$logs" "http://proxy:***@127.0.0.1:$FAKE_PORT/v1"
check "…never its password" test "${logs/$PW/}" = "$logs"

# doctor: the password of every URL setting is masked
out=$(OPENAI_BASE_URL="http://proxy:$PW@127.0.0.1:$FAKE_PORT/v1" "$ERRAND_BIN" doctor 2>&1)
expect_contains "doctor shows the base URL" "$out" "http://proxy:***@127.0.0.1:$FAKE_PORT/v1"
check "…without its password" test "${out/$PW/}" = "$out"
out=$(OPENAI_BASE_URL="http://proxy:$PW@127.0.0.1:$FAKE_PORT/v1" OAUTH_ISSUER_URL="http://i:$PW@127.0.0.1:1" \
      "$ERRAND_BIN" doctor --json 2>&1)
check "doctor --json: no password either" test "${out/$PW/}" = "$out"
finish
