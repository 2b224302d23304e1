# Shared memory over the API: GET/POST /api/v1/memory, GET/DELETE
# /api/v1/memory/{id}.  Each user sees their own memories and the shared ones,
# never another user's (404, as others' tasks); shared ones are saved and
# forgotten by admins only; search ranks the matching text first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
start_server
ADMIN=$(mkuser alice admin)
BOB=$(mkuser bob)
CAROL=$(mkuser carol)
texts() { printf '%s' "$1" | /usr/bin/python3 -c 'import json,sys
for m in json.load(sys.stdin)["memories"]: print(m["text"])'; }

call POST /api/v1/memory "{\"text\":\"Bob's cat is called Miso $RUN_ID\",\"kind\":\"preference\"}" "$BOB"
expect_status "a user saves a memory" 201
BOB_ID=$(jget "$BODY" id)
expect_eq "it is theirs" "$(jget "$BODY" owner)" "user"
expect_eq "its kind" "$(jget "$BODY" kind)" "preference"
expect_eq "it is new" "$(jget "$BODY" new)" "True"
call POST /api/v1/memory "{\"text\":\"Bob's cat is called Miso $RUN_ID\",\"kind\":\"preference\"}" "$BOB"
expect_status "the same text again updates it" 200
expect_eq "…the same item" "$(jget "$BODY" id)" "$BOB_ID"
call POST /api/v1/memory "{\"text\":\"Bob drinks green tea every morning $RUN_ID\"}" "$BOB"
expect_status "a second memory" 201
call POST /api/v1/memory "{\"text\":\"Carol's dog is named Rex $RUN_ID\"}" "$CAROL"
expect_status "another user's memory" 201
CAROL_ID=$(jget "$BODY" id)

call GET /api/v1/memory "" "$BOB"
expect_status "list" 200
list=$(texts "$BODY")
expect_contains "the list has the user's own" "$list" "Miso $RUN_ID"
check "…and not another user's" sh -c "! printf '%s' \"\$1\" | grep -q 'Rex $RUN_ID'" _ "$list"
call GET "/api/v1/memory?q=Miso" "" "$BOB"
expect_status "search" 200
expect_eq "the matching text ranks first" "$(jget "$BODY" memories.0.text)" "Bob's cat is called Miso $RUN_ID"
check "hits carry a score" test -n "$(jget "$BODY" memories.0.score)"
call GET "/api/v1/memory?q=Rex%20dog" "" "$BOB"
check "searching never finds another user's" sh -c "! printf '%s' \"\$1\" | grep -q 'Rex $RUN_ID'" _ "$BODY"
call GET "/api/v1/memory?kind=preference" "" "$BOB"
expect_eq "filtered by kind" "$(texts "$BODY" | grep -c "$RUN_ID")" 1

call GET "/api/v1/memory/$BOB_ID" "" "$BOB"
expect_status "get one's own" 200
call GET "/api/v1/memory/$BOB_ID" "" "$CAROL"
expect_status "another user's is not found" 404
call DELETE "/api/v1/memory/$BOB_ID" "" "$CAROL"
expect_status "nor can it be forgotten by them" 404
call GET "/api/v1/memory/$BOB_ID" "" "$BOB"
expect_status "…it is still there" 200

call POST /api/v1/memory "{\"text\":\"Everyone may see this $RUN_ID\",\"shared\":true}" "$BOB"
expect_status "a user cannot save a shared memory" 403
call POST /api/v1/memory "{\"text\":\"The office closes at six $RUN_ID\",\"shared\":true}" "$ADMIN"
expect_status "an admin saves a shared memory" 201
SHARED_ID=$(jget "$BODY" id)
expect_eq "it is shared" "$(jget "$BODY" owner)" "shared"
call GET /api/v1/memory "" "$CAROL"
expect_contains "every user sees a shared memory" "$(texts "$BODY")" "office closes at six $RUN_ID"
call DELETE "/api/v1/memory/$SHARED_ID" "" "$CAROL"
expect_status "a user cannot forget a shared memory" 403
call DELETE "/api/v1/memory/$SHARED_ID" "" "$ADMIN"
expect_status "an admin can" 200
call GET "/api/v1/memory/$SHARED_ID" "" "$CAROL"
expect_status "…then it is gone" 404

call DELETE "/api/v1/memory/$CAROL_ID" "" "$CAROL"
expect_status "a user forgets their own" 200
expect_eq "…said so" "$(jget "$BODY" forgotten)" "True"
call GET "/api/v1/memory/$CAROL_ID" "" "$CAROL"
expect_status "…then it is gone" 404
call DELETE "/api/v1/memory/$CAROL_ID" "" "$CAROL"
expect_status "forgetting it again: not found" 404

call POST /api/v1/memory '{"kind":"fact"}' "$BOB"
expect_status "a memory needs a text" 400
call POST /api/v1/memory '{"text":"x","scope":"galaxy"}' "$BOB"
expect_status "a bad scope" 400
call GET /api/v1/memory
expect_status "no token" 401
call GET "/api/v1/memory?limit=0" "" "$BOB"
expect_status "a limit out of range" 400
stop_server
finish
