#!/usr/bin/env bash
# build_matrix.sh — every CMake build type with gcc and with clang, -Werror,
# each in build-matrix/<cc>-<type> (`make matrix`): a warning that only one
# compiler or one optimisation level sees fails here.  Builds only (the suite
# runs in make test).  Prints one line per build; exit 1 if any failed.
#   scripts/build_matrix.sh [CC...]        (default: gcc clang)
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
compilers=("$@")
[ ${#compilers[@]} -eq 0 ] && compilers=(gcc clang)
failed=0
for cc in "${compilers[@]}"; do
  for type in Release RelWithDebInfo Debug MinSizeRel; do
    dir=build-matrix/$cc-$type
    log=$dir.log
    mkdir -p build-matrix
    start=$(date +%s)
    if CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DERRAND_WERROR=ON > "$log" 2>&1 &&
       nice -n 10 cmake --build "$dir" -j"$jobs" >> "$log" 2>&1; then
      result=ok
    else
      result=FAILED; failed=1
    fi
    printf '%-6s %-15s %-6s %3d s  %d warning(s)  (%s)\n' "$cc" "$type" "$result" \
      $(( $(date +%s) - start )) "$(grep -c 'warning:' "$log")" "$log"
  done
done
exit $failed
