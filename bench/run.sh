#!/usr/bin/env bash
# run.sh — errand's benchmarks (figures, not pass/fail tests).
#   bench/run.sh [BUILD_DIR]     (make bench)
# 1. pipeline.py: the local pipeline against the fake LLM answering instantly:
#    cold start, step turnaround, CPU per step, time to first token, peak RSS.
# 2. throughput.py: tasks per second and end-to-end latency, local and networked
#    (PostgreSQL + RabbitMQ + Redis started here on their own ports, with 1 and 2
#    code workers), and the CPU each part spends per task.
# 3. api.sh: errand serve against a FastAPI app doing the same work (wrk).
# 4. web.py: page extraction (F1 against gold text, MB/s) side by side with
#    Readability.js on jsdom (npm, installed into the build dir) and Debian's
#    python3-readability; a cached page's fetch time.
# 5. data.py: the data agent's load, describe and group-by of a 200 MB CSV
#    against pandas and sqlite3's .import (medians of three runs).
# 6. memory.py: shared memory's vector search at 100k items of 768 dimensions
#    (HNSW insert, exact and approximate search, recall@10, RSS) side by side
#    with FAISS IndexFlatIP and hnswlib on the same vectors.
# 7. errand_browserbench: Chromium over the DevTools Protocol — start to
#    ready, click/type/evaluate/screenshot round trips, the browser's memory.
# 8. search.py: the grep tool against ripgrep and GNU grep on Debian's
#    linux-source tree (unpacked once into /var/tmp/errand-bench).
# 9. web_stream.sh: the web interface while two long answers stream (fps,
#    longest frame, long tasks) in headless Chromium; needs `make web`.
# 10. mail.py: the email agent's IMAP listing of a 10,000-message Dovecot
#    mailbox against Python's imaplib doing the same fetch (needs root and
#    dovecot-imapd, opensmtpd: the mail fixture of tests/servers/dovecot.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
/usr/bin/python3 "$here/pipeline.py" --errand "$build/errand" --fake "$build/tests/fake_llm"
echo
/usr/bin/python3 "$here/throughput.py" --build "$build" "${@:2}"
echo
"$here/api.sh" "$build"
echo
/usr/bin/python3 "$here/web.py" --build "$build"
echo
/usr/bin/python3 "$here/data.py" --errand "$build/errand"
echo
/usr/bin/python3 "$here/memory.py" --build "$build"
echo
"$build/errand_browserbench" 200
echo
/usr/bin/python3 "$here/search.py" --build "$build"
echo
"$here/web_stream.sh" "$build"
echo
if [ "$(id -u)" -eq 0 ]; then
  exec /usr/bin/python3 "$here/mail.py" --build "$build"
fi
echo "mail.py skipped: the Dovecot fixture needs root"
