#!/usr/bin/env bash
# run.sh — errand's benchmarks (figures, not pass/fail tests).
#   bench/run.sh [BUILD_DIR]     (make bench)
# Runs the local pipeline against the fake LLM answering instantly and prints
# cold start, step turnaround, CPU per step, time to first token and peak RSS;
# then the API benchmark (bench/api.sh: errand serve vs a FastAPI app, wrk).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
/usr/bin/python3 "$here/pipeline.py" --errand "$build/errand" --fake "$build/tests/fake_llm" "${@:2}"
echo
exec "$here/api.sh" "$build"
