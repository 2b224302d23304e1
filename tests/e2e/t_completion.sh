# Shell completion scripts (errand completion bash|zsh|fish), checked against
# the command table as `errand --help` prints it: every command, every option
# of a command, agent names after --agent, subcommand words; skipping an
# option's value; an unknown shell is a usage error.
. "$(dirname "$0")/lib.sh"
"$ERRAND" completion tcsh > /dev/null 2>"$T/err"; rc=$?
expect_eq "unknown shell: usage error" "$rc" 2
expect_contains "unknown shell: says which exist" "$(cat "$T/err")" "bash, zsh or fish"

"$ERRAND" completion bash > "$T/errand.bash" || fail "bash script"
commands=$("$ERRAND" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}')
check "the help lists commands" test -n "$commands"
# comp WORDS... — what bash completes for the last word (may be empty).
comp() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _errand; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$T/errand.bash" "$@"
}
top=$(comp errand '')
for c in $commands; do
  check "bash: command $c offered" grep -qx -- "$c" <<< "$top"
done
check "bash: global options offered" grep -qx -- "--continue" <<< "$top"
for c in $commands; do
  opts=$("$ERRAND" "$c" --help 2>/dev/null | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
  got=$(comp errand "$c" '--')
  for o in $opts; do
    check "bash: $c $o offered" grep -qx -- "$o" <<< "$got"
  done
done
expect_eq "bash: prefix completes a command" "$(comp errand as)" "ask"
expect_eq "bash: agent names after --agent" "$(comp errand ask --agent re)" "research"
expect_eq "bash: subcommands of task" "$(comp errand task s)" "show"
expect_eq "bash: an option's value is skipped" "$(comp errand -w /tmp a | sort)" "$(printf 'agents\nask\naudit\nauth')"
expect_eq "bash: completion's shells" "$(comp errand completion f)" "fish"

"$ERRAND" completion zsh > "$T/_errand" || fail "zsh script"
"$ERRAND" completion fish > "$T/errand.fish" || fail "fish script"
for c in $commands; do
  check "zsh: command $c in the script" grep -q -- " $c" "$T/_errand"
  check "fish: command $c in the script" grep -q -- "-a $c -d" "$T/errand.fish"
done
if command -v zsh > /dev/null; then
  check "zsh: the script parses" zsh -n "$T/_errand"
else
  echo "note: zsh not installed; its script checked as text only"
fi
if command -v fish > /dev/null; then
  check "fish: the script parses" fish -n "$T/errand.fish"
else
  echo "note: fish not installed; its script checked as text only"
fi
finish
