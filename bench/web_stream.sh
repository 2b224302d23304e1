#!/usr/bin/env bash
# web_stream.sh — the web interface while long answers stream (figures, not
# a test): frames per second the page draws, its longest frame, the main
# thread's long tasks and the token events per second rendered, in Debian's
# Chromium (headless, playwright-core) against `errand serve` with the fake
# LLM streaming 2 × 3,000 tokens at once as fast as it can (about 1,000
# events a second reach the page).  The issue's target is ≥ 30 fps.
#
#   bench/web_stream.sh [BUILD_DIR]          (make bench runs it)
#   BENCH_WEB_ROUNDS=N    rounds of the two streams (default 3; each is reported)
#   BENCH_WEB_TRACE=FILE  also writes a Chromium performance trace of round 1
#   BENCH_WEB_ROOT=DIR    another build of the page to measure (default web/dist)
#
# Needs web/dist and web/node_modules (`make web`) and /usr/bin/chromium.
# The machine's load average is printed with the figures: this machine is
# shared, and a loaded one draws fewer frames whatever the page does.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
for need in "$src/web/dist/index.html" "$src/web/node_modules/playwright-core/package.json" /usr/bin/chromium; do
  [ -e "$need" ] || { echo "web_stream: $need is missing: run \`make web\` (and scripts/deps.sh test for chromium)" >&2; exit 1; }
done
# The end-to-end tests' set-up: private HOME, the fake LLM, errand serve.
export ERRAND="$build/errand" ERRAND_BUILD="$build" ERRAND_TESTS="$src/tests" ERRAND_SRC="$src"
unset ERRAND_E2E_DATABASE_URL ERRAND_E2E_RABBITMQ_URL ERRAND_E2E_REDIS_URL
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/api_lib.sh"
fast=$(seq 1 3000 | sed 's/^/f/' | tr '\n' ' ' | sed 's/ $//')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"fast stream","repeat":true,"text":"$fast","chunk_delay_ms":1},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
export ERRAND_WEB_ROOT="${BENCH_WEB_ROOT:-$src/web/dist}"
start_server
TOKEN=$(mkuser bench)
ERRAND_URL="$API" API_TOKEN="$TOKEN" ROUNDS="${BENCH_WEB_ROUNDS:-3}" TRACE="${BENCH_WEB_TRACE:-}" \
  timeout 600 node "$src/web/e2e/stream_bench.mjs"
rc=$?
[ "$rc" -eq 0 ] || FAILS=1
exit "$rc"
