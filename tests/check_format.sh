#!/usr/bin/env bash
# check_format.sh SRC_DIR — every C file of the project is as clang-format
# (the checked-in .clang-format) writes it; `make format` rewrites them.
# The files are the ones git tracks, else those find sees (a tarball).
set -euo pipefail
src=${1:?usage: check_format.sh SRC_DIR}
cd "$src"
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "FAIL: clang-format is missing: apt-get install clang-format (scripts/deps.sh test does)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v -e '^web/' -e 'node_modules/')
else
  mapfile -t files < <(find src include tui server tests bench -name '*.[ch]' -not -path '*/node_modules/*')
fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "FAIL: ${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says; run \`make format\`:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "ok: ${#files[@]} files formatted"
