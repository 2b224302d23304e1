# First run without a model: the TUI says plainly that no model is
# configured, what the offline rules do, and how to add one (the variables and
# the config file); with a model it names it instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui_lib.sh"
unset ERRAND_LLM OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL ERRAND_MODEL
mkdir -p "$T/ws"
tui_shell 100 30
tui_run -w "$T/ws"
expect_screen "the session starts" "/help lists commands"
expect_screen "it says no model is configured" "no model is configured"
expect_screen "it names the variables that add one" "OPENAI_API_KEY"
expect_screen "and the config file" "errand/config"
expect_screen "and the command that writes it" "errand setup"
if screen | grep -qF "ask anything"; then fail "promises 'ask anything' without a model"; else pass "no 'ask anything' without a model"; fi
keys C-d
expect_restored "offline" 0

echo '{"turns":[]}' > "$T/s.json"
start_fake "$T/s.json"
use_openai
# The pane's shell started without these: hand them to errand itself.
TUI_ENV="ERRAND_LLM=openai OPENAI_BASE_URL=$OPENAI_BASE_URL OPENAI_API_KEY=$OPENAI_API_KEY ERRAND_MODEL=fake-model"
tui_run -w "$T/ws"
expect_screen "with a model: it is named" "Model: openai / fake-model"
if screen | grep -qF "no model is configured"; then fail "says no model with one set"; else pass "no 'no model' note with a model"; fi
keys C-d
expect_restored "with a model" 0
finish
