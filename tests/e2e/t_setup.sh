# errand setup: the config file it writes (asked, or with --non-interactive),
# never replaced without a yes or --force, and used by errand afterwards.
. "$(dirname "$0")/lib.sh"
cat > "$T/s.json" <<'JSON'
{"turns":[
 {"match":"\"name\":\"route\"","repeat":true,"tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"research","request":""}],"confidence":0.9}}]},
 {"match":"capital of France","text":"Paris, said the configured model."}
]}
JSON
start_fake "$T/s.json"
conf="$XDG_CONFIG_HOME/errand/config"

h=$("$ERRAND" setup --help); rc=$?
expect_eq "setup --help exits 0" "$rc" 0
expect_contains "help names --non-interactive" "$h" "--non-interactive"

printf 'key-from-file-42\n' > "$T/key"
out=$("$ERRAND" setup --non-interactive --llm openai --base-url "$FAKE_URL/v1" --model fake-model \
      --api-key-file "$T/key" 2>&1); rc=$?
expect_eq "non-interactive setup exits 0" "$rc" 0
expect_contains "says where it wrote" "$out" "Wrote $conf"
check "config file written" test -f "$conf"
expect_eq "config file is private" "$(stat -c %a "$conf")" 600
expect_contains "provider written" "$(cat "$conf")" 'provider = "openai"'
expect_contains "base URL written" "$(cat "$conf")" "openai_base_url = \"$FAKE_URL/v1\""
expect_contains "key written" "$(cat "$conf")" 'openai_api_key = "key-from-file-42"'

# errand now uses it: no environment points at the fake, only the file.
out=$("$ERRAND" ask "what is the capital of France?" 2>"$T/err"); rc=$?
expect_eq "ask with the written config exits 0" "$rc" 0
expect_eq "answer from the configured model" "$out" "Paris, said the configured model."
last=$(nreq)
expect_eq "configured model sent" "$(req "$last" body.model)" "fake-model"
expect_contains "key from the file sent" "$(req "$last" headers.authorization)" "Bearer key-from-file-42"

# Never replaced without asking.
before=$(cat "$conf")
out=$("$ERRAND" setup --non-interactive --llm offline 2>&1); rc=$?
expect_eq "existing file, no --force: exit 1" "$rc" 1
expect_contains "says it was left" "$out" "--force"
expect_eq "file unchanged" "$(cat "$conf")" "$before"
out=$(printf 'n\n' | "$ERRAND" setup 2>&1); rc=$?
expect_eq "answered no: exit 1" "$rc" 1
expect_eq "answered no: file unchanged" "$(cat "$conf")" "$before"

# Asked: a refused answer is asked again; Enter takes the default; the old file kept.
mkdir -p "$T/proj"
out=$(printf 'y\ngpt\nopenai\n%s\nother-model\n\n%s\n' "$FAKE_URL/v1" "$T/proj" | "$ERRAND" setup 2>&1); rc=$?
expect_eq "interactive setup exits 0" "$rc" 0
expect_contains "bad provider asked again" "$out" "try again"
expect_eq "old file kept as .bak" "$(cat "$conf.bak")" "$before"
c=$(cat "$conf")
expect_contains "model answered" "$c" 'model = "other-model"'
expect_contains "no key: left to the environment" "$c" "read from OPENAI_API_KEY"
check "no key written" sh -c "! grep -q '^openai_api_key' '$conf'"
expect_contains "workspace answered" "$c" "workspace = \"$T/proj\""
doctor=$(OPENAI_API_KEY=env-key "$ERRAND" doctor --json 2>/dev/null)
expect_eq "doctor reads the model" "$(jkey "$doctor" settings llm.model)" "other-model"
expect_eq "doctor reads the workspace" "$(jkey "$doctor" settings agent.workspace)" "$T/proj"

# End of input part-way: nothing written.
before=$(cat "$conf")
out=$(printf 'y\nopenai\n' | "$ERRAND" setup 2>&1); rc=$?
expect_eq "input ends early: exit 1" "$rc" 1
expect_contains "says nothing was written" "$out" "nothing written"
expect_eq "input ends early: file unchanged" "$(cat "$conf")" "$before"

# On a terminal (a pty): the key typed is not echoed, and is written.
out=$(/usr/bin/python3 - "$ERRAND" "$T/pty.conf" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--config", sys.argv[2], "setup"])
seen = b""
def drain(t):
    global seen
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                return
for answer in ["anthropic", "", "pty-model", "sk-typed-secret", ""]:
    drain(0.4)
    os.write(fd, (answer + "\r").encode())
drain(1.5)
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.stdout.write("\nSTATUS=%d\n" % os.waitstatus_to_exitcode(status))
PY
)
expect_contains "pty: setup exits 0" "$out" "STATUS=0"
expect_contains "pty: the key is asked" "$out" "API key (not shown"
check "pty: the key typed is not echoed" sh -c "! printf '%s' \"\$1\" | grep -q sk-typed-secret" _ "$out"
expect_contains "pty: the key is written" "$(cat "$T/pty.conf")" 'anthropic_api_key = "sk-typed-secret"'
expect_contains "pty: the model is written" "$(cat "$T/pty.conf")" 'model = "pty-model"'

# --config FILE and a bad value.
out=$("$ERRAND" --config "$T/other.conf" setup --non-interactive --llm offline 2>&1); rc=$?
expect_eq "--config FILE exits 0" "$rc" 0
expect_contains "offline provider written" "$(cat "$T/other.conf")" 'provider = "offline"'
out=$("$ERRAND" --config "$T/bad.conf" setup --non-interactive --llm gpt 2>&1); rc=$?
expect_eq "bad provider: exit 2" "$rc" 2
check "bad provider: nothing written" test ! -e "$T/bad.conf"
finish
