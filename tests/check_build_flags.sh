#!/usr/bin/env bash
# check_build_flags.sh SRC_DIR — a plain `cmake` configure compiles without
# -Werror, whatever the build type (a packager's newer compiler may warn about code this
# one does not; that must not stop their build), and -DERRAND_WERROR=ON (what
# make test and CI use) adds it.  Configure only, in a temporary directory.
set -uo pipefail
src=${1:?usage: check_build_flags.sh SRC_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/errand-flags.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
flags() { # flags BUILD_DIR — the compile commands of errand's own sources
  /usr/bin/python3 -c 'import json,sys
for c in json.load(open(sys.argv[1])):
    if "/src/util/" in c["file"]: print(c["command"]); break' "$1/compile_commands.json"
}
# The option does not depend on the build type: the type packagers use, plain,
# and one of make test's, with it (make matrix builds all of them).
for combo in Release:default Debug:ON; do
  type=${combo%:*} werror=${combo#*:}
  {
    dir=$tmp/$type-$werror
    opt=(); [ "$werror" = ON ] && opt=(-DERRAND_WERROR=ON)
    if ! cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=$type -DBUILD_TESTING=OFF \
         -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${opt[@]}" > "$dir.log" 2>&1; then
      echo "FAIL: $type ($werror): cmake failed: $(tail -3 "$dir.log")"; fails=$((fails + 1)); continue
    fi
    cmd=$(flags "$dir")
    case "$werror:$cmd" in
      default:*-Werror*) echo "FAIL: $type: a plain build has -Werror: $cmd"; fails=$((fails + 1)) ;;
      ON:*-Werror*) echo "ok: $type: -DERRAND_WERROR=ON adds -Werror" ;;
      ON:*) echo "FAIL: $type: -DERRAND_WERROR=ON without -Werror: $cmd"; fails=$((fails + 1)) ;;
      *) echo "ok: $type: a plain build warns without failing" ;;
    esac
  }
done
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
