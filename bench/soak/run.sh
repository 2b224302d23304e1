#!/usr/bin/env bash
# run.sh — errand's soak tests (`make soak`; not part of `make test`).
#   bench/soak/run.sh [BUILD_DIR] [SCENARIO...]
# Each scenario is one script, bench/soak/s_<name>.py (or .sh, given the build
# directory as its argument), which starts what it
# needs (throwaway servers on the soak's own ports, the fake LLM, workers),
# runs, checks the store, prints one JSON object and writes it to
# bench/out/soak/<name>.json; its exit status says whether the targets held.
# A new scenario is a new s_<name>.py (soaklib.py and check_store.py hold the
# shared parts).  Without names, every scenario runs, one after the other.
# Knobs: SOAK_CYCLES, SOAK_TASKS, SOAK_RESTARTS, SOAK_*_PORT (soaklib.py).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
export SOAK_BUILD=$(cd "$build" && pwd)
shift || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/s_*.py "$here"/s_*.sh; do n=$(basename "$f"); n=${n%.*}; names+=("${n#s_}"); done
fi
failed=()
for n in "${names[@]}"; do
  echo "== soak: $n"
  if [ -f "$here/s_$n.sh" ]; then
    nice -n 10 bash "$here/s_$n.sh" "$SOAK_BUILD" || failed+=("$n")
  elif ! nice -n 10 /usr/bin/python3 "$here/s_$n.py"; then failed+=("$n"); fi
done
if [ ${#failed[@]} -ne 0 ]; then echo "soak: targets missed in: ${failed[*]}" >&2; exit 1; fi
echo "soak: every target held"
