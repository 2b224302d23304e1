# GET /api/v1/openapi.json stays true: it lists exactly the routes of the
# server's table (`errand serve --routes`), and every operation answers with
# a documented status and a body matching its schema (openapi_check.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"You are the","repeat":true,"text":"An answer."}]}
JSON
start_fake "$T/s.json"
use_openai
"$ERRAND" serve --routes > "$T/routes"; rc=$?
expect_eq "serve --routes exit 0" "$rc" 0
expect_contains "route table lists chat" "$(cat "$T/routes")" "POST   /api/v1/chat"
start_server
ADMIN=$(mkuser olga admin)
call POST /api/v1/chat '{"message":"something to check","agent":"research"}' "$ADMIN"
TASK=$(jget "$BODY" task_id)
CONV=$(jget "$BODY" conversation_id)
expect_eq "a task to look at" "$(wait_task "$TASK" "$ADMIN")" "done"
call GET /api/v1/openapi.json
expect_status "openapi.json" 200
expect_eq "OpenAPI version" "$(jget "$BODY" openapi)" "3.0.3"
out=$(/usr/bin/python3 "$ERRAND_TESTS/e2e/openapi_check.py" "$API" "$T/routes" "$ADMIN" "$TASK" "$CONV" 2>&1); rc=$?
printf '%s\n' "$out"
expect_eq "the document matches the server" "$rc" 0
expect_contains "every operation was called" "$out" "operations checked, 0 problem(s)"
stop_server
expect_eq "clean stop (and no leaks under ASan)" "$SERVER_RC" 0
finish
