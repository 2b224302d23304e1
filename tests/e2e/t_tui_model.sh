# The model and what it costs (issue 24, items 16 and 17): /model in the TUI
# shows the model and switches it for the session's requests (the provider
# gets the new name, /model default goes back); between requests the status
# line shows the conversation's tokens and, with the model's price in llm.prices, its cost; while
# `errand ask` waits on a terminal a spinner on stderr shows the agent and the
# time, and is gone once the answer comes; with stderr piped there is none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
not() { ! "$@"; }
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r","name":"route","arguments":{"steps":[{"agent":"research","request":""}]}}],"usage":{"input":100,"output":100}},
 {"match":"first question","text":"first answer","usage":{"input":1200,"output":300}},
 {"match":"second question","text":"second answer","usage":{"input":1000,"output":500}},
 {"match":"third question","text":"third answer"},
 {"match":"slow question","repeat":true,"delay_ms":1500,"text":"slow answer"}
]}
JSON
tui_begin "$T/s.json" -o llm.prices=fake-model=2/8,other-model=1/4
type_text "/model"
keys Enter
expect_screen "/model: the configured model and provider" "Model: fake-model (openai)"
type_text "first question"
keys Enter
expect_screen "the first answer" "first answer"
wait_idle research
last_model() { jget "$(grep -F "$1" "$FAKE_REC" | grep -vF '"name":"route"' | tail -1)" body.model; }
expect_eq "the configured model asked" "$(last_model "first question")" "fake-model"
# routing 100+100 and the answer 1200+300 tokens at $2/$8 per million: 0.0026 + 0.0032
expect_screen "status line: tokens and cost" "1.7k tokens · \$0.005800"

type_text "/model other-model"
keys Enter
expect_screen "/model NAME: says so" "Model for this session: other-model"
type_text "second question"
keys Enter
expect_screen "the second answer" "second answer"
wait_idle research
expect_eq "the agent asked the chosen model" "$(last_model "second question")" "other-model"
# then the routing request's 100 in and 100 out at fake-model's $2/$8 (the
# supervisor's model) and the answer's 1000 in and 500 out at other-model's
# $1/$4: 0.001 + 0.003, 0.0098 in all (each request at its own model's price)
expect_screen "status line: the tokens and costs add up" "3.4k tokens · \$0.009800"
type_text "/model"
keys Enter
expect_screen "/model: the chosen one" "Model: other-model (openai, chosen here)"
type_text "/model default"
keys Enter
expect_screen "/model default: back" "Model for this session: fake-model (the configured one)"
type_text "third question"
keys Enter
expect_screen "the third answer" "third answer"
wait_idle research
expect_eq "the configured model again" "$(last_model "third question")" "fake-model"
type_text "/model two words"
keys Enter
expect_screen "/model with two words: an error" "/model takes one name"
type_text "/new"
keys Enter
sleep 0.3
check "a new conversation: no tokens yet" not contains "$(screen)" "tokens ·"
keys C-d
expect_restored "Ctrl-D leaves" 0

# ask on a terminal: a spinner while it waits, gone when the answer comes
tm send-keys -l "clear; $ERRAND -w $T/ws ask 'slow question'; echo ASK=\$?"
keys Enter
spinning() { screen | grep -qE '^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (working|research) [0-9]+\.[0-9]s'; }
wait_for 10 spinning && pass "ask: a spinner with the agent and the time" || fail "ask: no spinner: $(screen)"
expect_screen "ask: the answer" "ASK=0"
check "ask: the spinner is gone" not spinning
expect_contains "ask: the answer on the screen" "$(screen)" "slow answer"
# stderr piped: no spinner
"$ERRAND" -w "$T/ws" ask "slow question" > "$T/out" 2> "$T/err"
expect_eq "ask piped: the answer" "$(cat "$T/out")" "slow answer"
check "ask piped: no spinner on stderr" not grep -qE '⠋|⠙|⠹|working' "$T/err"
finish
