# errand memory: add, update by content, search (full text, vectors through
# the provider's /v1/embeddings on the fake, offline hashing), list, show,
# forget, and the errors a user meets.
. "$(dirname "$0")/lib.sh"
export ERRAND_LLM=offline
id=$("$ERRAND" memory add --json "The staging database is PostgreSQL 15" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "add prints the new id" test -n "$id"
out=$("$ERRAND" memory add "The staging database is PostgreSQL 15")
expect_eq "the same text again updates it" "$out" "updated $id"
"$ERRAND" memory add --kind preference "Ann prefers tea over coffee" > /dev/null
"$ERRAND" memory add --scope global --untrusted --source https://example.com/ops \
  "Deploys happen on Tuesdays after the standup" > /dev/null
list=$("$ERRAND" memory list --json)
expect_eq "three items listed" "$(jget "$list" 2.kind)" "fact"
expect_eq "no fourth item" "$(jget "$list" 3.id)" ""
hits=$("$ERRAND" memory search --json --mode text "which database runs staging")
expect_eq "full text finds the database" "$(jget "$hits" 0.id)" "$id"
expect_eq "with its rank" "$(jget "$hits" 0.text_rank)" "1"
hits=$("$ERRAND" memory search --json "deploys tuesday")
expect_eq "untrusted stays marked" "$(jget "$hits" 0.untrusted)" "True"
expect_eq "source kept" "$(jget "$hits" 0.source)" "https://example.com/ops"
show=$("$ERRAND" memory show "$id")
expect_contains "show prints the text" "$show" "PostgreSQL 15"
out=$("$ERRAND" memory search --mode sideways x 2>&1); rc=$?
expect_eq "bad mode exit 2" "$rc" 2
out=$("$ERRAND" memory add --scope planet "text" 2>&1); rc=$?
expect_eq "bad scope exit 2 (bad input)" "$rc" 2
expect_contains "bad scope named" "$out" "planet"
out=$("$ERRAND" memory forget "$id"); rc=$?
expect_eq "forget exit 0" "$rc" 0
out=$("$ERRAND" memory show "$id" 2>&1); rc=$?
expect_eq "forgotten: show exit 1" "$rc" 1
expect_contains "forgotten: named" "$out" "no memory '$id'"

# The graph: relate by name (case and blanks ignored), an indented tree.
"$ERRAND" memory relate "Payments service" uses PostgreSQL > /dev/null
"$ERRAND" memory relate postgresql "runs on" db01 --confidence 0.5 > /dev/null
tree=$("$ERRAND" memory graph "payments  SERVICE")
expect_eq "graph: a tree, nearest first" "$tree" "Payments service -uses-> PostgreSQL
  PostgreSQL -runs on-> db01  (0.50)"
g=$("$ERRAND" memory graph --json --depth 1 postgresql)
expect_eq "graph --json: depth 1" "$(jget "$g" 1.depth)" "1"
out=$("$ERRAND" memory graph nobody 2>&1); rc=$?
expect_eq "graph: unknown entity exit 1" "$rc" 1
expect_contains "graph: unknown entity named" "$out" "no entity 'nobody'"
out=$("$ERRAND" memory relate a b 2>&1); rc=$?
expect_eq "relate: two words exit 2" "$rc" 2

# Embeddings from the provider: a paraphrase found by meaning, one request per batch.
start_fake "$ERRAND_TESTS/data/llm/embeddings.json"
export OPENAI_BASE_URL="$FAKE_URL/v1" ERRAND_MEMORY_EMBEDDING_MODEL=fake-embed
"$ERRAND" memory add "Maria drives an old automobile to work" > /dev/null
expect_eq "one embeddings request" "$(nreq)" "1"
expect_eq "to /v1/embeddings" "$(req 1 path)" "/v1/embeddings"
expect_eq "with the model" "$(req 1 body.model)" "fake-embed"
hits=$("$ERRAND" memory search --json --mode text "what car does she have")
expect_eq "full text alone misses the paraphrase" "$(jget "$hits" 0.text)" ""
hits=$("$ERRAND" memory search --json "what car does she have")
expect_eq "hybrid finds it" "$(jget "$hits" 0.text)" "Maria drives an old automobile to work"
"$ERRAND" memory add "Maria drives an old automobile to work" > /dev/null
expect_eq "a known text is not embedded again (add, search: 2)" "$(nreq)" "2"
finish
