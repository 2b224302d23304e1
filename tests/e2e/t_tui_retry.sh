# /retry sends the last request again; /edit puts it back in the input line
# to change it first (with its @agent), and Enter sends the edited one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}]},
 {"match":"the question again","text":"second try"},
 {"match":"the question edited","text":"edited answer"},
 {"match":"the question","text":"first try"}
]}
JSON
tui_begin "$T/s.json"
type_text "/retry"
keys Enter
expect_screen "/retry before any request says so" "Nothing to retry yet"
type_text "@research the question"
keys Enter
expect_screen "the first answer" "first try"
wait_idle research
n=$(nreq)
type_text "/retry"
keys Enter
wait_for 15 more_req "$n"
wait_idle research
check "/retry sent the request again" more_req "$n"
expect_contains "/retry: the same words, to the same agent" "$(req "$(nreq)" body.messages)" "the question"
type_text "/edit"
keys Enter
expect_screen "/edit puts the last request in the input" "› @research the question"
type_text " edited"
keys Enter
expect_screen "the edited request is sent" "edited answer"
wait_idle research
keys C-d
expect_restored "quit" 0
finish
