#!/usr/bin/env bash
# valgrind.sh — memcheck over every unit test (`make valgrind`): each
# tests/unit/test_*.c program (and the .curl variants ctest also runs) under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
# Target: 0 errors and 0 bytes definitely lost in each.  Child processes (the
# fake LLM, sandboxed commands) are not traced: they are not the unit under
# test.  Prints one line per program and a total; exit 1 if any missed.
#   scripts/valgrind.sh BUILD_DIR [NAME...]
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: valgrind.sh BUILD_DIR [NAME...]}" && pwd)
shift
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/deps.sh valgrind)" >&2; exit 1; }
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$src"/tests/unit/test_*.c; do names+=("$(basename "$f" .c)"); done
  for t in test_http test_llm_openai test_llm_anthropic; do names+=("$t.curl"); done
fi
out="$build/valgrind"
mkdir -p "$out"
failed=0 total_err=0 total_def=0
for n in "${names[@]}"; do
  prog=${n%.curl}
  envs=(ERRAND_TEST_DATA="$src/tests/data" ERRAND_TEST_BIN="$build")
  [ "$n" != "$prog" ] && envs+=(ERRAND_HTTP=curl)
  log="$out/$n.log"
  start=$(date +%s)
  (cd "$build/tests" && env "${envs[@]}" nice -n 10 valgrind --tool=memcheck --leak-check=full \
     --errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=99 \
     --suppressions="$src/scripts/valgrind.supp" --log-file="$log" "./$prog" > "$log.out" 2>&1)
  rc=$?
  errs=$(grep -o 'ERROR SUMMARY: [0-9,]*' "$log" | tail -1 | grep -o '[0-9,]*$' | tr -d ,)
  def=$(grep -o 'definitely lost: [0-9,]* bytes' "$log" | tail -1 | grep -o '[0-9,]* bytes' | tr -d ', bytes')
  errs=${errs:-?} def=${def:-0}
  verdict=ok
  if [ "$rc" -eq 77 ]; then verdict=skipped
  elif [ "$rc" -ne 0 ] || [ "$errs" != 0 ] || [ "$def" != 0 ]; then verdict=FAILED; failed=1; fi
  [ "$errs" != "?" ] && total_err=$((total_err + errs))
  total_def=$((total_def + def))
  printf '%-26s %-7s errors %-4s definitely lost %-6s bytes  exit %-3s %4d s\n' "$n" "$verdict" \
    "$errs" "$def" "$rc" $(( $(date +%s) - start ))
done
echo "total: $total_err errors, $total_def bytes definitely lost (logs in $out)"
exit $failed
