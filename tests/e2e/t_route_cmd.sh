# `errand route` prints the decision without running anything.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[{"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":"summarise example.com"},{"agent":"email","request":"email it to bob@example.com","depends_on":0}],"confidence":0.8}}]}]}
JSON
start_fake "$T/s.json"
use_openai
out=$("$ERRAND" route "summarise example.com and email it to bob@example.com"); rc=$?
expect_eq "route exits 0" "$rc" 0
expect_contains "step 1" "$out" "1. research: summarise example.com"
expect_contains "step 2 depends" "$out" "(uses the result of step 1)"
json=$("$ERRAND" route --json "x"); rc=$?
expect_eq "route --json exits 0" "$rc" 0
expect_eq "json second agent" "$(jget "$json" steps.1.agent)" "email"
expect_eq "json confidence" "$(jget "$json" confidence)" "0.8"
expect_eq "route stored no task" "$("$ERRAND" task list --json)" "[]"
# offline: the classifier decides
unset ERRAND_LLM OPENAI_API_KEY OPENAI_BASE_URL
json=$("$ERRAND" route --json "find the bug in parser.c and fix the failing test"); rc=$?
expect_eq "offline route exits 0" "$rc" 0
expect_eq "offline routes to code" "$(jget "$json" steps.0.agent)" "code"
check "offline confidence present" test -n "$(jget "$json" confidence)"
# a plain command routes without guessing; a sentence that fits a command's
# shape goes where the classifier sends it
json=$("$ERRAND" route --json "describe sales")
expect_eq "command: the data agent" "$(jget "$json" steps.0.agent)" "data"
expect_eq "command: the method" "$(jget "$json" method)" "command"
json=$("$ERRAND" route --json "describe the code")
expect_eq "prose: describe the code, to code" "$(jget "$json" steps.0.agent)" "code"
expect_eq "prose: classified" "$(jget "$json" method)" "naive-bayes"
json=$("$ERRAND" route --json "load the page")
expect_eq "prose: load the page, to browser" "$(jget "$json" steps.0.agent)" "browser"
json=$("$ERRAND" route --json "write an email to bob")
expect_eq "prose: write an email, to email" "$(jget "$json" steps.0.agent)" "email"
# offline compound: each part has its own confidence, and the text says which
# scores are the whole request's
req="summarise the latest news on fusion power and email it to bob@example.com"
json=$("$ERRAND" route --json "$req")
expect_eq "offline compound: two steps" "$(jget "$json" steps.1.agent)" "email"
check "offline compound: step 1 confidence" test -n "$(jget "$json" steps.0.confidence)"
check "offline compound: step 2 confidence" test -n "$(jget "$json" steps.1.confidence)"
out=$("$ERRAND" route "$req")
expect_contains "offline compound: per-step confidence shown" "$out" "[confidence "
expect_contains "offline compound: scores named as the whole request's" "$out" "scores of the whole request:"
finish
