# A worker dies in the middle of write_file (its file size limit kills it with
# SIGXFSZ half-way through the write).  write_file with the whole content is
# idempotent: the worker that takes the task over writes the file again, and
# the task is done with the file complete — not "done" with the write lost.
. "$(dirname "$0")/lib.sh"
net_only
# 300 KB of content; the first worker may write 100 KB.
/usr/bin/python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
content = "".join("line %06d of the whole file\n" % i for i in range(10000))
open(t + "/expected.txt", "w").write(content)
json.dump({"turns": [
    {"match": "\"w-1\"", "text": "written"},
    {"match": "write the big file", "tool_calls": [
        {"id": "w-1", "name": "write_file", "arguments": {"path": "big.txt", "content": content}}]},
]}, open(t + "/s.json", "w"))
PY
start_fake "$T/s.json"
use_openai
mkdir -p "$T/ws" && cd "$T/ws"
opts=(-o policy.write=allow --log-level info)
start_worker supervisor "${opts[@]}"
start_worker aggregator "${opts[@]}"
start_worker code "${opts[@]}"; a=$WORKER_PID
prlimit --pid "$a" --fsize=102400
"$ERRAND_BIN" ask --agent code "write the big file" > "$T/out" 2> "$T/err" &
ask=$!
not_whole() { ! cmp -s big.txt "$T/expected.txt"; }
wait "$a"; rc=$?
expect_eq "the first worker died of SIGXFSZ in the write" "$rc" $((128 + 25))
check "the file was not written whole" not_whole
start_worker code "${opts[@]}"; b=$WORKER_PID; blog=$WORKER_LOG
wait "$ask"; rc=$?
expect_eq "ask exits 0" "$rc" 0
expect_eq "the answer" "$(cat "$T/out")" "written"
check "the file has its whole content" cmp -s big.txt "$T/expected.txt"
expect_contains "the second worker wrote it again" "$(cat "$blog")" \
  "write_file call w-1 was interrupted by a restart; running it again (idempotent)"
id=$(jget "$("$ERRAND_BIN" task list --json)" 0.id)
show=$("$ERRAND_BIN" task show --json "$id")
expect_eq "done" "$(jget "$show" status)" "done"
expect_eq "the result is the model's answer, no interrupted calls" "$(jget "$show" result)" "written"
expect_eq "one tool call recorded" "$(events "$id" | grep -cx tool_call)" 1
expect_eq "one tool result recorded" "$(events "$id" | grep -cx tool_result)" 1
expect_eq "the model was asked once for the write" "$(grep -c '"turn":1,' "$FAKE_REC")" 1
check "the second worker is still running" ours "$b"
finish
