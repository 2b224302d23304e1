# `errand mcp add|remove`: [mcp.NAME] sections written into the config file
# and taken out again — checked before they are written (a bad permission, an
# option that does not fit the kind of server, a name that is there already
# unless --force), the rest of the file kept as it was (comments, order,
# mode), arguments with spaces and ones that start with '-' after --, and a
# server added this way answering `errand mcp tools` (the fake over stdio).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
FAKE_MCP="$ERRAND_TESTS/fakes/fake_mcp.py"
cfg="$XDG_CONFIG_HOME/errand/config"
mkdir -p "$XDG_CONFIG_HOME/errand"
printf '# my settings\n[agent]\nmax_steps = 9\n\n[mcp.old]\nurl = https://old.example/mcp\n\n[web]\ndelay_ms = 5\n' > "$cfg"
chmod 640 "$cfg"

out=$("$ERRAND_BIN" mcp add fake -- "$PY" "$FAKE_MCP" --era modern --log "$T/mcp space.log" 2>&1); rc=$?
expect_eq "add a stdio server" "$rc" 0
expect_contains "it says where it wrote" "$out" "wrote [mcp.fake] to $cfg"
check "the file keeps its comment" grep -qx '# my settings' "$cfg"
check "the file keeps the other sections" grep -qx 'delay_ms = 5' "$cfg"
expect_eq "the file keeps its mode" "$(stat -c %a "$cfg")" 640
check "an argument with a space is quoted" grep -qF "\"$T/mcp space.log\"" "$cfg"
check "arguments starting with - kept after --" grep -q -- 'args = .*--era modern' "$cfg"
out=$("$ERRAND_BIN" mcp tools fake 2>&1); rc=$?
expect_eq "the added server answers" "$rc" 0
expect_contains "its tools are listed" "$out" "mcp__fake__"
check "its arguments reached it (the log with a space in its name)" test -s "$T/mcp space.log"

out=$("$ERRAND_BIN" mcp add fake https://other.example/mcp 2>&1); rc=$?
check "a name already there is refused" test "$rc" -ne 0
expect_contains "and --force is named" "$out" "--force replaces it"
out=$("$ERRAND_BIN" mcp add old --force http://127.0.0.1:9/mcp --header 'X-Team: a' \
  --token-env MCP_TOKEN --agents research --permission read 2>&1); rc=$?
expect_eq "--force replaces a section" "$rc" 0
expect_eq "the old url is gone" "$(grep -c 'old.example' "$cfg")" 0
expect_eq "one [mcp.old] section" "$(grep -c '^\[mcp.old\]' "$cfg")" 1
check "its header" grep -qx 'header = X-Team: a' "$cfg"
check "its token variable" grep -qx 'token_env = MCP_TOKEN' "$cfg"
out=$("$ERRAND_BIN" mcp list 2>&1)
expect_contains "list shows the replaced one" "$out" "http://127.0.0.1:9/mcp"
expect_contains "with its permission and agents" "$out" "permission read; agents research"

before=$(cat "$cfg")
for bad in "bad https://x --permission root" "bad https://x --env A=1" \
           "bad npx --header X:1" "bad https://x extra" "b@d https://x"; do
  # shellcheck disable=SC2086
  out=$("$ERRAND_BIN" mcp add $bad 2>&1); rc=$?
  check "refused: mcp add $bad" test "$rc" -ne 0
done
expect_eq "refused ones left the file alone" "$(cat "$cfg")" "$before"
out=$("$ERRAND_BIN" mcp add x --token SECRET https://x 2>&1); rc=$?
check "no --token on the command line (it would show in ps)" test "$rc" -ne 0

out=$("$ERRAND_BIN" mcp remove fake 2>&1); rc=$?
expect_eq "remove" "$rc" 0
expect_eq "its section is gone" "$(grep -c 'mcp.fake' "$cfg")" 0
check "the rest stays" grep -qx 'max_steps = 9' "$cfg"
out=$("$ERRAND_BIN" mcp remove fake 2>&1); rc=$?
check "removing it again fails" test "$rc" -ne 0
expect_contains "and says so" "$out" "there is no [mcp.fake]"

# No config file yet: one is created, 0600.
rm -f "$cfg"
"$ERRAND_BIN" mcp add web https://mcp.example.com/mcp > /dev/null 2>&1
expect_eq "a new config file is 0600" "$(stat -c %a "$cfg")" 600
finish
