# Usage errors a new user makes: each is caught before anything runs or is
# stored, named in one line, with exit status 2 (errand(1), EXIT STATUS) —
# typos in settings, config files and agent names, stray arguments, blank
# requests; and help that reads cleanly.
. "$(dirname "$0")/lib.sh"
export ERRAND_LLM=offline
usage() { # usage "description" needle errand-args...
  local what=$1 needle=$2; shift 2
  local out rc
  out=$("$ERRAND" "$@" 2>&1); rc=$?
  expect_eq "$what: exit 2" "$rc" 2
  expect_contains "$what: message" "$out" "$needle"
}
usage "command typo" "no command 'tsak'; did you mean 'task'?" tsak list
usage "command typo in help" "did you mean 'doctor'?" help docter
# One unknown word is a mistyped command; a quoted sentence is a request
# (errand "fix the tests" is short for errand ask: t_ask_stdin.sh).
usage "option typo" "unknown option '--jsn'; did you mean '--json'?" ask --jsn hi
usage "global option typo" "did you mean '--continue'?" --contineu
usage "an unknown word" "errand ask \"frobnicate ...\"" frobnicate
usage "unknown setting" "unknown setting 'nokey'" -o nokey=1 doctor
usage "unknown provider" "'openia' is not one of openai, anthropic, offline" --llm openia ask hi
out=$(ERRAND_LLM=gpt "$ERRAND" doctor 2>&1); rc=$?
expect_eq "unknown provider in the environment: exit 2" "$rc" 2
expect_contains "unknown provider in the environment: named" "$out" "environment ERRAND_LLM"
usage "unknown log level" "'loud' is not one of" --log-level loud doctor
usage "missing config file" "cannot read config '$T/none'" --config "$T/none" doctor
mkdir -p "$T/cfgdir"
usage "config file that is a directory" "cannot read config '$T/cfgdir'" --config "$T/cfgdir" doctor
printf '[llm]\nmodle = x\n' > "$T/typo.conf"
usage "config key typo" "$T/typo.conf:2: unknown setting 'llm.modle'" --config "$T/typo.conf" doctor
printf '[llm] provider = openai\n' > "$T/sect.conf"
usage "text after a section header" "$T/sect.conf:1: expected [section]" --config "$T/sect.conf" doctor
out=$(ERRAND_WORKSPACE="$T/nowhere" "$ERRAND" ask ls 2>&1); rc=$?
expect_eq "ERRAND_WORKSPACE that does not exist: exit 2" "$rc" 2
expect_contains "ERRAND_WORKSPACE that does not exist: named" "$out" "agent.workspace '$T/nowhere'"
usage "workspace from -o that does not exist" "agent.workspace '$T/nowhere'" \
  -o agent.workspace="$T/nowhere" ask ls
usage "unknown agent" "no agent named 'nope'" ask --agent nope hi
usage "blank request" "the request is empty" ask "   "
usage "blank route request" "the request is empty" route " "
usage "argument to doctor" "doctor takes no arguments, got 'json'" doctor json
usage "argument to migrate" "migrate takes no arguments" migrate now
usage "two commands to help" "help takes one command" help ask task
usage "argument after task list" "unexpected argument 'x'" task list x
usage "argument after task show ID" "unexpected argument 'efgh'" task show abcd efgh
usage "--status with task show" "--status and --limit go with task list" task show abcd -s done
usage "argument to serve" "serve takes no arguments" serve 8080
usage "two names to user add" "unexpected argument 'lovelace'" user add ada lovelace
usage "argument after user list" "unexpected argument 'x'" user list x
usage "conv has no --status" "unknown option '--status'" conv list --status done
usage "an unknown option points at the command's help" "Try 'errand conv --help'" conv list --bogus
# nothing was stored by any of them
out=$("$ERRAND" task list --json)
expect_eq "no task stored by a usage error" "$out" "[]"
# a huge --limit means all of them, not the limit modulo 2^32 (4294967297 → 1)
"$ERRAND" ask "ls" > /dev/null
"$ERRAND" ask "ls" > /dev/null
n=$("$ERRAND" task list --json -n 4294967297 | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "task list -n 2^32+1 lists both tasks" "$n" 2
n=$("$ERRAND" conv list --json -n 4294967297 | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "conv list -n 2^32+1 lists both" "$n" 2
# a relative workspace from the environment is made absolute, as --workspace is
mkdir -p "$T/wsrel/sub"
d=$(cd "$T/wsrel" && ERRAND_WORKSPACE=sub "$ERRAND" doctor --json)
expect_eq "relative ERRAND_WORKSPACE made absolute" "$(jkey "$d" settings agent.workspace)" \
  "$(cd "$T/wsrel/sub" && pwd -P)"
# a short option's value may be attached (-n1, -opolicy.exec=deny), as with getopt
d=$("$ERRAND" -opolicy.exec=deny -mattached doctor --json)
expect_eq "-oKEY=VALUE attached" "$(jkey "$d" settings policy.exec)" "deny"
expect_eq "-mNAME attached" "$(jkey "$d" settings llm.model)" "attached"
n=$("$ERRAND" task list --json -n1 | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "task list -n1" "$n" 1
usage "a flag with letters after it" "unknown option '-yx'" -yx doctor
# a header may end in a comment
printf '[llm] # the model\nmodel = m1\n' > "$T/ok.conf"
d=$("$ERRAND" --config "$T/ok.conf" doctor --json)
expect_eq "header with a comment" "$(jkey "$d" settings llm.model)" "m1"
# help: no trailing blank after a command without arguments; long options line up
h=$("$ERRAND" migrate --help | head -1)
expect_eq "usage line of migrate" "$h" "Usage: errand migrate"
h=$("$ERRAND" ask --help)
expect_contains "long option without a short one lines up" "$h" "      --json "
expect_contains "long option with a short one" "$h" "  -a, --agent NAME"
# conv show: plain text when not on a terminal
id=$("$ERRAND" conv list --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
out=$("$ERRAND" conv show "$id")
check "conv show to a pipe has no escape codes" test "${out//$'\033'/}" = "$out"
expect_contains "conv show names the roles" "$out" "user: ls"
# every agent has plain commands of its own now: the email agent lists its own
out=$("$ERRAND" ask --agent email "what is new")
expect_contains "email offline lists inbox" "$out" "inbox [LIMIT]"
expect_contains "email offline lists draft" "$out" "draft TO SUBJECT BODY"
what="email offline does not list the code agent's commands"
if contains "$out" "show PATH[:START[-END]]"; then fail "$what"; else pass "$what"; fi
# the browser agent has plain commands of its own
out=$("$ERRAND" ask --agent browser "what is new")
expect_contains "browser offline lists open" "$out" "open URL"
expect_contains "browser offline lists extract" "$out" "extract URL SELECTOR"
# the research agent lists its own
out=$("$ERRAND" ask --agent research "what is new")
expect_contains "research offline lists search" "$out" "search QUERY..."
expect_contains "research offline lists cite" "$out" "cite URL QUOTE..."
# NO_COLOR drops the colour of the progress lines on a terminal, not the lines
if command -v script > /dev/null; then
  # (not in $T itself: it holds errand's data directory, and a worker refuses
  # a workspace that does)
  mkdir -p "$T/term"
  out=$(cd "$T/term" && NO_COLOR=1 script -qec "'$ERRAND' ask ls 2>&1 >/dev/null" /dev/null)
  expect_contains "NO_COLOR: routing still shown" "$out" "→ code"
  check "NO_COLOR: no escape codes" test "${out//$'\033'/}" = "$out"
  out=$(cd "$T/term" && script -qec "'$ERRAND' ask ls 2>&1 >/dev/null" /dev/null)
  expect_contains "colour: routing dimmed" "$out" $'\033[2m→ code'
fi
finish
