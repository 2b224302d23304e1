# The command line: --help on every command, --version, usage errors exit 2,
# and every command and option documented in man/errand.1 (and the settings in
# man/errand.conf.5) — the help tables and the man pages must agree.
. "$(dirname "$0")/lib.sh"
out=$("$ERRAND" --version); rc=$?
expect_eq "--version exit 0" "$rc" 0
expect_contains "--version prints the version" "$out" "errand "
help=$("$ERRAND" --help); rc=$?
expect_eq "--help exit 0" "$rc" 0
cmds=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NF>1 {print $1}')
check "help lists commands" test -n "$cmds"
man1=$(sed 's/\\//g' "$ERRAND_SRC/man/errand.1")
man5=$(sed 's/\\//g' "$ERRAND_SRC/man/errand.conf.5")
for c in $cmds; do
  h=$("$ERRAND" "$c" --help); rc=$?
  expect_eq "$c --help exit 0" "$rc" 0
  expect_contains "$c --help has usage" "$h" "Usage: errand $c"
  expect_contains "man page documents command $c" "$man1" ".SS $c"
  for o in $(printf '%s\n' "$h" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    expect_contains "man page documents $c $o" "$man1" "$o"
  done
done
for o in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  expect_contains "man page documents global $o" "$man1" "$o"
done
# every setting in the config table is in errand.conf(5)
doctor=$("$ERRAND" doctor --json)
for k in $(printf '%s' "$doctor" | /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["settings"]))'); do
  expect_contains "errand.conf(5) documents $k" "$man5" "${k#*.}"
  sec=${k%%.*}
  expect_contains "errand.conf(5) has section [$sec]" "$man5" "[$sec]"
done
out=$("$ERRAND" frobnicate 2>&1); rc=$?
expect_eq "unknown command exit 2" "$rc" 2
expect_contains "unknown command message" "$out" "no command 'frobnicate'"
out=$("$ERRAND" ask --bogus x 2>&1); rc=$?
expect_eq "unknown option exit 2" "$rc" 2
expect_contains "unknown option named" "$out" "--bogus"
out=$("$ERRAND" ask 2>&1); rc=$?
expect_eq "ask without request exit 2" "$rc" 2
out=$("$ERRAND" task show 2>&1); rc=$?
expect_eq "task show without id exit 2" "$rc" 2
out=$("$ERRAND" task show zzzzzzzz 2>&1); rc=$?
expect_eq "unknown task exit 1" "$rc" 1
expect_contains "unknown task message" "$out" "no task 'zzzzzzzz'"
out=$("$ERRAND" -o policy.exec=sometimes doctor 2>&1); rc=$?
expect_eq "bad setting exit 2" "$rc" 2
expect_contains "bad setting message" "$out" "not one of ask, allow, deny"
# -o may be repeated: every setting applies; other options: the last one wins
d=$("$ERRAND" -o policy.write=allow -o policy.exec=deny -m first doctor --json -m second)
expect_eq "first -o applies" "$(jkey "$d" settings policy.write)" "allow"
expect_eq "second -o applies" "$(jkey "$d" settings policy.exec)" "deny"
expect_eq "last --model wins" "$(jkey "$d" settings llm.model)" "second"
out=$("$ERRAND" -w "$T/nowhere" doctor 2>&1); rc=$?
expect_eq "missing workspace exit 2" "$rc" 2
expect_contains "missing workspace named" "$out" "--workspace '$T/nowhere'"
mkdir -p "$T/ws/sub"
d=$(cd "$T/ws" && "$ERRAND" -w sub doctor --json)
expect_eq "workspace made absolute" "$(jkey "$d" settings agent.workspace)" "$(cd "$T/ws/sub" && pwd -P)"
# unset provider and model: the effective ones, not "(unset)"
d=$(OPENAI_API_KEY=sk-secret-value-1234567 OPENAI_BASE_URL=http://127.0.0.1:9/v1 "$ERRAND" doctor --json)
expect_eq "doctor: the provider a key selects" "$(jkey "$d" settings llm.provider)" "openai"
expect_eq "doctor: that provider's default model" "$(jkey "$d" settings llm.model)" "gpt-4o-mini"
# ... also when the provider cannot open (its key is missing)
d=$(ERRAND_LLM=anthropic "$ERRAND" doctor --json)
expect_eq "doctor: the default model of a provider without its key" \
  "$(jkey "$d" settings llm.model)" "claude-sonnet-4-5"
# config file < environment < flags
mkdir -p "$XDG_CONFIG_HOME/errand"
printf '[llm]\nmodel = from-file\n[agent]\nmax_steps = 7\n' > "$XDG_CONFIG_HOME/errand/config"
# doctor says how commands run: jailed, or with the limits only and why
d=$(ERRAND_SANDBOX=none "$ERRAND" doctor --json)
expect_contains "doctor: commands unconfined, and why" "$(jget "$d" checks.sandbox.detail)" \
  "rlimits-only (ERRAND_SANDBOX=none)"
if command -v bwrap >/dev/null; then
  d=$("$ERRAND" doctor --json)
  case "$(jget "$d" checks.sandbox.detail)" in
    "bwrap jail"*|rlimits-only*) pass "doctor: the sandbox named" ;;
    *) fail "doctor: the sandbox not named: $(jget "$d" checks.sandbox.detail)" ;;
  esac
fi
d=$("$ERRAND" doctor --json)
expect_eq "file sets the model" "$(jkey "$d" settings llm.model)" "from-file"
expect_eq "file sets max_steps" "$(jkey "$d" settings agent.max_steps)" "7"
d=$(ERRAND_MODEL=from-env "$ERRAND" doctor --json)
expect_eq "environment beats the file" "$(jkey "$d" settings llm.model)" "from-env"
d=$(ERRAND_MODEL=from-env "$ERRAND" --model from-flag doctor --json)
expect_eq "flag beats the environment" "$(jkey "$d" settings llm.model)" "from-flag"
d=$(OPENAI_API_KEY=sk-secret-value-1234567 ERRAND_LLM=offline "$ERRAND" doctor)
check "doctor masks secrets" test "${d/sk-secret-value-1234567/}" = "$d"
d=$(OPENAI_API_KEY=sk-secret-value-1234567 ERRAND_LLM=offline "$ERRAND" doctor)
expect_contains "doctor shows the store check" "$d" "store  OK"
expect_contains "doctor shows the llm check" "$d" "llm    OK"
# the "*" footnote of errand agents only when some tool is marked with it
out=$("$ERRAND" agents)
if printf '%s\n' "$out" | grep '^  tools:' | grep -q '\*'; then
  expect_contains "agents: footnote for a marked tool" "$out" "* not available"
else
  check "agents: no footnote without a marked tool" test "${out/not available in this build/}" = "$out"
fi
out=$("$ERRAND" migrate); rc=$?
expect_eq "migrate exit 0" "$rc" 0
expect_contains "migrate reports the version" "$out" "schema version"
finish
