# The memory graph over the API: GET /api/v1/memory/graph (entities found by
# part of a name, with the relations touching them) and GET
# /api/v1/memory/entities/{id} (an entity, its names, the relations within
# depth steps).  A user sees their own graph, never another user's: another
# user's entity is 404 and never found by name.  The relations are written
# the way an agent's memory_relate writes them (here by `errand memory
# relate` as each user).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
start_server
ALICE=$(mkuser alice)
BOB=$(mkuser bob)
# (The command line acts as its user and makes them an admin, as it makes
# the local user: their role is put back at once.)
rel() {
  ERRAND_USER="$1-$RUN_ID" "$ERRAND_BIN" memory relate "${@:2}" > /dev/null || fail "relate ${*:2}"
  "$ERRAND_BIN" user role "$1-$RUN_ID" user > /dev/null || fail "role of $1"
}
A="Ada $RUN_ID" G="Grace $RUN_ID" N="Navy $RUN_ID"
rel alice "$A" knows "$G" --confidence 0.9 --source task-1
rel alice "$G" "served in" "$N"
rel bob "$A" "owes money to" "Bob's Bank $RUN_ID"
py() { printf '%s' "$1" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $2"; }

call GET "/api/v1/memory/graph?q=ada%20$RUN_ID" "" "$ALICE"
expect_status "graph: search by part of a name" 200
expect_eq "…finds alice's entity" "$(py "$BODY" 'print(",".join(e["name"] for e in d["entities"]))')" "$A"
expect_eq "…its relations, with both ends' ids" \
  "$(py "$BODY" 'r=d["relations"]; print(len(r), r[0]["subject"], r[0]["predicate"], r[0]["object"], r[0]["confidence"], r[0]["source"], bool(r[0]["subject_id"] and r[0]["object_id"]))')" \
  "1 $A knows $G 0.9 task-1 True"
ADA=$(jget "$BODY" entities.0.id)
check "…never bob's relation of the same name" sh -c "! printf '%s' \"\$1\" | grep -q 'Bank'" _ "$BODY"
call GET "/api/v1/memory/graph?q=$RUN_ID" "" "$ALICE"
expect_eq "graph: all of alice's, the most related first" \
  "$(py "$BODY" 'print(";".join(e["name"]+"="+str(e["relations"]) for e in d["entities"]))')" "$G=2;$A=1;$N=1"
expect_eq "…each relation once" "$(py "$BODY" 'print(len(d["relations"]))')" 2
call GET "/api/v1/memory/graph?q=grace%20%20$RUN_ID" "" "$BOB"
expect_eq "bob does not find alice's entities" "$(py "$BODY" 'print(len(d["entities"]), len(d["relations"]))')" "0 0"
call GET "/api/v1/memory/graph?q=%25" "" "$BOB"
check "a LIKE wildcard in q is a plain character" sh -c "! printf '%s' \"\$1\" | grep -q 'Bank'" _ "$BODY"

call GET "/api/v1/memory/entities/$ADA" "" "$ALICE"
expect_status "entity" 200
expect_eq "…its name and names" "$(py "$BODY" 'e=d["entity"]; print(e["name"], e["owner"], e["aliases"])')" \
  "$A user ['ada $RUN_ID']"
expect_eq "…its relations at depth 1" "$(py "$BODY" 'print([(r["predicate"], r["depth"]) for r in d["relations"]])')" \
  "[('knows', 1)]"
call GET "/api/v1/memory/entities/$ADA?depth=2" "" "$ALICE"
expect_eq "…and at depth 2" "$(py "$BODY" 'print([(r["predicate"], r["depth"]) for r in d["relations"]])')" \
  "[('knows', 1), ('served in', 2)]"
GRACE=$(py "$BODY" 'print(d["relations"][1]["subject_id"])')
call GET "/api/v1/memory/entities/$GRACE" "" "$ALICE"
expect_eq "a relation's ids lead to its entities" "$(jget "$BODY" entity.name)" "$G"
call GET "/api/v1/memory/entities/$ADA?depth=9" "" "$ALICE"
expect_status "depth out of range" 400
call GET "/api/v1/memory/entities/$ADA" "" "$BOB"
expect_status "another user's entity is not found" 404
call GET "/api/v1/memory/entities/nope" "" "$ALICE"
expect_status "no such entity" 404
call GET "/api/v1/memory/graph"
expect_status "login required" 401
call GET "/api/v1/memory/entities/$ADA"
expect_status "login required (entity)" 401
call GET /api/v1/openapi.json
expect_eq "both routes are in the OpenAPI document" \
  "$(py "$BODY" 'p=d["paths"]; print("/api/v1/memory/graph" in p, "/api/v1/memory/entities/{id}" in p, "MemoryGraph" in d["components"]["schemas"])')" \
  "True True True"
finish
