# The web interface (web/) in a real browser: Debian's Chromium driven by
# playwright-core (web/e2e/run.mjs) against `errand serve` with the scripted
# fake LLM, in local mode and (e2e-net.web) networked.  `make web` (part of
# `make test`) builds web/dist and installs web/node_modules from the
# committed lockfile; screenshots of each view go to ERRAND_BUILD/web-screens
# and the measured figures to ERRAND_BUILD/web-figures.json (web-screens-net
# and web-figures-net.json networked, so the two runs may share a build).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
WEB="$ERRAND_SRC/web"
for need in "$WEB/dist/index.html" "$WEB/node_modules/playwright-core/package.json" /usr/bin/chromium; do
  if [ ! -e "$need" ]; then
    fail "$need is missing: run \`make web\` (and scripts/deps.sh test for chromium)"
    finish
  fi
done
words=$(seq 1 40 | sed 's/^/w/' | tr '\n' ' ' | sed 's/ $//')
slow=$(seq 1 60 | sed 's/^/s/' | tr '\n' ' ' | sed 's/ $//')
fast=$(seq 1 3000 | sed 's/^/f/' | tr '\n' ' ' | sed 's/ $//')
cat > "$T/s.json" <<JSON
{"turns":[
 {"match":"stream me please","tool_calls":[{"id":"r1","name":"route","arguments":{"steps":[{"agent":"code","request":"stream me please"}]}}]},
 {"match":"stream me please","text":"$words","chunk_delay_ms":40},
 {"match":"show markup","text":"Here: <img src=x onerror=window.__pwned=1> and <script>window.__pwned=2</script> <b>bold</b>"},
 {"match":"please write","tool_calls":[{"id":"c1","name":"write_file","arguments":{"path":"out.txt","content":"hello from the browser"}}]},
 {"match":"please write","text":"Wrote it."},
 {"match":"slow job","text":"$slow","chunk_delay_ms":500},
 {"match":"slow tracker job","text":"$slow","chunk_delay_ms":500},
 {"match":"show the chart","tool_calls":[{"id":"i1","name":"list_dir","arguments":{"path":"."}}]},
 {"match":"show the chart","text":"That is the chart."},
 {"match":"other client task","text":"done for the other client"},
 {"match":"after restart","text":"back again"},
 {"match":"fast stream one","text":"$fast","chunk_delay_ms":1},
 {"match":"fast stream two","text":"$fast","chunk_delay_ms":1},
 {"match":"You are the","repeat":true,"text":"Generic answer."}
]}
JSON
start_fake "$T/s.json"
use_openai
start_oidc   # the single sign-on login (its user: alice)
export OAUTH_ISSUER_URL="$OIDC_URL" OAUTH_CLIENT_ID=errand-test OAUTH_CLIENT_SECRET=oidc-secret-42
export ERRAND_WEB_ROOT="$WEB/dist"
start_server -o server.workspaces="$T/users"
ALICE=$(mkuser alice)
# A chart in alice's workspace, for the chat to show (a 2x2 PNG).
mkdir -p "$T/users/$(uid alice)" && chmod 700 "$T/users" "$T/users/$(uid alice)"
/usr/bin/python3 - "$T/users/$(uid alice)/chart.png" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
rows = b''.join(b'\x00' + b'\xff\x00\x00' * 2 for _ in range(2))
png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 2, 2, 8, 2, 0, 0, 0))
       + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
open(sys.argv[1], 'wb').write(png)
PY
# Another user's memory, which alice's memory view must never show.
BOB=$(mkuser bob)
call POST /api/v1/memory '{"text":"zebra crossing near bob house"}' "$BOB"
expect_status "bob saves a memory" 201
# The memory graph: alice's entities and relations (as an agent's
# memory_relate writes them), and bob's, which alice's graph must never show.
# (The command line acts as its user and makes them an admin, as it makes
# the local user: their role is put back at once.)
rel() {
  ERRAND_USER="$1-$RUN_ID" "$ERRAND_BIN" memory relate "${@:2}" > /dev/null || fail "relate ${*:2}"
  "$ERRAND_BIN" user role "$1-$RUN_ID" user > /dev/null || fail "role of $1"
}
rel alice "Ada Lovelace $RUN_ID" "worked with" "Charles Babbage $RUN_ID" --source task-7
rel alice "Charles Babbage $RUN_ID" designed "Analytical Engine $RUN_ID" --confidence 0.8
rel bob "Ada Lovelace $RUN_ID" "owes money to" "bob bank $RUN_ID"
# The files over the wire: nothing outside web/dist can be named.
for p in '/assets/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/.gitignore' '/assets/%2fetc%2fpasswd'; do
  expect_eq "GET $p is not served" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$API$p")" 404
done
hdrs=$(curl -s -I -H 'Accept-Encoding: gzip' "$API/")
expect_contains "HEAD /: the CSP" "$hdrs" "Content-Security-Policy: default-src 'none'"
expect_contains "HEAD /: gzip" "$hdrs" "Content-Encoding: gzip"
expect_eq "/index.html is the page too" "$(curl -s "$API/index.html")" "$(cat "$WEB/dist/index.html")"
PORT=${API##*:}
# The restart the browser must survive: same port, same store and key.
cat > "$T/restart.sh" <<SH
#!/bin/bash
kill -TERM \$(cat "$T/server.pid"); while kill -0 \$(cat "$T/server.pid") 2>/dev/null; do sleep 0.05; done
sleep 1
"$ERRAND" serve --listen 127.0.0.1:$PORT -o server.workspaces="$T/users" > "$T/serve2.out" 2>> "$T/serve2.log" &
echo \$! > "$T/server.pid"
for _ in \$(seq 200); do grep -q 'serving on' "$T/serve2.log" && exit 0; sleep 0.05; done
echo "the server did not come back" >&2; exit 1
SH
echo "$SERVER_PID" > "$T/server.pid"
SCREENS="$ERRAND_BUILD/web-screens${NETWORKED:+-net}"
rm -rf "$SCREENS"
ERRAND_URL="$API" API_TOKEN="$ALICE" RUN_ID="$RUN_ID" RESTART_CMD="bash $T/restart.sh" SCREENS="$SCREENS" \
  RESULTS="$ERRAND_BUILD/web-figures${NETWORKED:+-net}.json" timeout 240 node "$WEB/e2e/run.mjs"; rc=$?
expect_eq "browser checks (web/e2e/run.mjs)" "$rc" 0
expect_eq "the approved write reached alice's workspace" \
  "$(cat "$T/users/$(uid alice)/out.txt" 2>/dev/null)" "hello from the browser"
for v in login chat approval tasks agents memory memories graph phone-chat; do
  check "screenshot of $v" test -s "$SCREENS/$v.png"
done
# The restarted server is not a child of this shell: stop it by its PID.
pid=$(cat "$T/server.pid")
if [ "$pid" != "$SERVER_PID" ]; then kill -TERM "$pid" 2>/dev/null; fi
finish
