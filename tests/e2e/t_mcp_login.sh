#!/usr/bin/env bash
# t_mcp_login.sh — `errand mcp login` end to end against an MCP server that
# requires OAuth and its authorization server (tests/fakes/fake_mcp_oauth.py).
# The test plays the browser: it follows the consent URL to the fake, which
# approves at once and redirects to errand's loopback listener.  Checked:
# discovery from the 401's resource_metadata and, without it, from the
# well-known URL; dynamic client registration; PKCE S256, state and the
# resource parameter; the tokens stored only sealed; `mcp tools` with the
# token; a refresh ahead of expiry and one on a 401, each rotating the
# refresh token; a revoked refresh token telling the user to log in again;
# logout; discovery documents pointing at the metadata address refused by the
# SSRF guard, and a metadata document with another issuer refused.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
FAKE="$ERRAND_TESTS/fakes/fake_mcp_oauth.py"
REC="$T/oauth.jsonl"
rm -f "$T/oauth.port"
setpriv --pdeathsig TERM $PY "$FAKE" --port-file "$T/oauth.port" --log "$REC" > "$T/oauth.out" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$T/oauth.port" || { echo "fake_mcp_oauth did not start" >&2; exit 1; }
B="http://127.0.0.1:$(cat "$T/oauth.port")"
unset BROWSER ERRAND_SECRET_KEY
export ERRAND_LOG=debug
cat > "$T/conf" <<EOF
[web]
allow_hosts = 127.0.0.1

[mcp.secure]
url = $B/mcp
EOF
E() { "$ERRAND" --config "$T/conf" "$@"; }
stat() { jget "$(curl -s "$B/_fake/stats")" "$1"; }
mode() { curl -s -X POST "$B/_fake/mode?$1" > /dev/null; }
qparam() { $PY -c 'import sys, urllib.parse as u
q = u.parse_qs(u.urlsplit(sys.argv[1]).query); print(q.get(sys.argv[2], [""])[0])' "$1" "$2"; }

# start_login — runs errand mcp login secure in the background; sets LOGIN_PID
# and URL (the consent URL it printed, empty when it printed none).
start_login() {
  : > "$T/login.out"
  E mcp login secure --no-browser --timeout 30 > "$T/login.out" 2> "$T/login.err" &
  LOGIN_PID=$!
  PIDS+=("$LOGIN_PID")
  wait_for 10 grep -q '^http' "$T/login.out"
  URL=$(grep -m1 '^http' "$T/login.out")
}
# browse — the browser: the consent URL, then the redirect to errand.
browse() {
  local back
  back=$(curl -s -o /dev/null -w '%{redirect_url}' "$URL")
  curl -s "$back"
}

# ---- before logging in ----
out=$(E mcp tools secure 2>&1); rc=$?
check "without a login the server refuses" test "$rc" -ne 0
expect_contains "and errand says how to log in" "$out" "errand mcp login secure"
expect_contains "mcp list says it is not logged in" "$(E mcp list)" "not logged in"

# ---- login: discovery, registration, code with PKCE ----
start_login
check "a consent URL is printed" test -n "$URL"
expect_eq "it goes to the discovered authorization endpoint" "${URL%%\?*}" "$B/as/authorize"
expect_eq "PKCE method" "$(qparam "$URL" code_challenge_method)" S256
expect_eq "challenge is 43 base64url characters" "$(qparam "$URL" code_challenge | tr -d 'A-Za-z0-9_-' | wc -c)$(qparam "$URL" code_challenge | wc -c)" "144"
expect_eq "the resource parameter names the MCP server" "$(qparam "$URL" resource)" "$B/mcp"
expect_eq "the scope the 401 asked for" "$(qparam "$URL" scope)" "mcp:tools"
cid=$(qparam "$URL" client_id)
case "$cid" in client-*) pass "a registered client id ($cid)" ;; *) fail "client_id [$cid]" ;; esac
expect_eq "one registration" "$(stat registrations)" 1
check "the registration asked for a loopback redirect" grep -q '"path": "/as/register".*redirect_uris.*http://127.0.0.1:' "$REC"
redirect=$(qparam "$URL" redirect_uri)
forged=$(curl -s -o /dev/null -w '%{http_code}' "$redirect/?code=stolen&state=not-it")
expect_eq "a redirect with another state is refused" "$forged" 400
page=$(browse)
expect_contains "the browser is told it worked" "$page" "authorised"
wait "$LOGIN_PID"; rc=$?
expect_eq "errand mcp login exits 0" "$rc" 0
expect_contains "it says so" "$(cat "$T/login.out")" "logged in to MCP server 'secure'"
expect_eq "one code exchanged" "$(stat code_grants)" 1
check "the code exchange sent the verifier and the resource" \
  grep -q '"grant_type": "authorization_code".*"code_verifier".*"resource": "'"$B"'/mcp"' "$REC"
expect_contains "mcp list says it is logged in" "$(E mcp list)" "logged in)"
expect_eq "mcp list --json" "$(jget "$(E mcp list --json)" 0.auth)" "logged in"

# ---- the token is used ----
out=$(E mcp tools secure 2>"$T/err"); rc=$?
expect_eq "mcp tools works with the login" "$rc" 0
expect_contains "the server's tools are listed" "$out" "mcp__secure__echo"
check "the server got requests with the token" test "$(stat mcp_ok)" -gt 0

# An agent's call of the server's tool carries the login's token too (local
# mode: networked, the workers are the pool's, with their own data directory).
if [ -z "${NETWORKED:-}" ]; then
  CALLS='[{"id": "m1", "name": "mcp__secure__add", "arguments": {"a": 40, "b": 2}}]' $PY - > "$T/s.json" <<'PYEOF'
import json, os
print(json.dumps({"turns": [
    {"match": '"tool_call_id":"m1"', "repeat": True, "echo": "m1"},
    {"match": "You are the code agent", "repeat": True,
     "tool_calls": json.loads(os.environ["CALLS"])},
]}))
PYEOF
  start_fake "$T/s.json"
  use_openai
  mkdir -p "$T/ws"
  ok=$(stat mcp_ok)
  out=$(E -w "$T/ws" --yes ask -a code --no-stream "add" 2>"$T/err"); rc=$?
  expect_eq "an agent's task with the logged-in server succeeds" "$rc" 0
  expect_contains "the tool's result comes back fenced" "$out" 'source="secure/add"'
  expect_contains "with the server's answer" "$out" "42"
  check "the server took the agent's requests with the token" test "$(stat mcp_ok)" -gt "$ok"
fi

# Sealed at rest: no token in the database, the output or the logs.
access=$(stat last_access_token) refresh=$(stat last_refresh_token)
leaks=0
if [ -n "${DATABASE_URL:-}" ]; then
  dump=$(psql "$DATABASE_URL" -qAt -c "SELECT encode(sealed, 'escape') FROM credentials")
  check "the credential row exists" test -n "$dump"
  contains "$dump" "$refresh" && leaks=1
  contains "$dump" "$access" && leaks=1
else
  for f in "$XDG_DATA_HOME"/errand/*.db*; do
    grep -qF "$refresh" "$f" && leaks=1
    grep -qF "$access" "$f" && leaks=1
  done
fi
for f in "$T/login.out" "$T/login.err" "$T/err" "$XDG_STATE_HOME"/errand/*; do
  [ -f "$f" ] || continue
  grep -qF "$refresh" "$f" && leaks=1
  grep -qF "$access" "$f" && leaks=1
done
expect_eq "no token stored or printed in the clear" "$leaks" 0
expect_contains "errand auth list shows the login" "$(E auth list)" "mcp.secure"

# ---- refresh on a 401: the server stopped taking the access token ----
curl -s -X POST "$B/_fake/expire" > /dev/null
unauth=$(stat unauthorized)
out=$(E mcp tools secure 2>"$T/err"); rc=$?
expect_eq "after the server expired the token, mcp tools still works" "$rc" 0
expect_eq "one refresh" "$(stat refresh_grants)" 1
check "it followed a 401" test "$(stat unauthorized)" -gt "$unauth"
old_refresh=$refresh
refresh=$(stat last_refresh_token)
check "the refresh token was rotated" test "$refresh" != "$old_refresh"

# ---- refresh ahead of expiry: a 4 s token is refreshed at half its life ----
mode ttl=4
curl -s -X POST "$B/_fake/expire" > /dev/null
E mcp tools secure > /dev/null 2>&1 # a 401, then a refresh that brings a 4 s token
refreshes=$(stat refresh_grants) unauth=$(stat unauthorized)
out=$(E mcp tools secure 2>"$T/err"); rc=$?
expect_eq "a fresh short-lived token is used as it is" "$(stat refresh_grants)" "$refreshes"
sleep 3
out=$(E mcp tools secure 2>"$T/err"); rc=$?
expect_eq "with a token about to expire, mcp tools works" "$rc" 0
expect_eq "it was refreshed ahead of use" "$(stat refresh_grants)" "$((refreshes + 1))"
expect_eq "without a 401 first" "$(stat unauthorized)" "$unauth"
mode ttl=3600
E mcp tools secure > /dev/null 2>&1

# ---- a revoked refresh token: log in again ----
curl -s -X POST "$B/_fake/revoke" > /dev/null
out=$(E mcp tools secure 2>&1); rc=$?
check "with the grant revoked, mcp tools fails" test "$rc" -ne 0
expect_contains "it names invalid_grant" "$out" "invalid_grant"
expect_contains "and says to log in again" "$out" "run \`errand mcp login secure\` again"

# ---- logout ----
out=$(E mcp logout secure); rc=$?
expect_eq "logout exits 0" "$rc" 0
expect_contains "mcp list: not logged in after logout" "$(E mcp list)" "not logged in"
out=$(E mcp logout secure 2>&1); rc=$?
check "a second logout fails" test "$rc" -ne 0
expect_contains "saying there is no login" "$out" "not logged in"

# ---- discovery without resource_metadata: the well-known URL ----
mode hint=0
start_login
check "without a hint, the well-known URL was used" grep -q '"path": "/.well-known/oauth-protected-resource/mcp"' "$REC"
browse > /dev/null
wait "$LOGIN_PID"; rc=$?
expect_eq "login without a hint exits 0" "$rc" 0
out=$(E mcp tools secure 2>&1); rc=$?
expect_eq "and mcp tools works" "$rc" 0
mode hint=1

# ---- outside documents are checked ----
regs=$(stat registrations)
mode evil=1
out=$(E mcp login secure --no-browser --timeout 5 2>&1); rc=$?
check "an authorization server at 169.254.169.254 is refused" test "$rc" -ne 0
expect_contains "by the SSRF guard" "$out" "169.254.169.254"
expect_contains "naming the address's kind" "$out" "metadata"
mode evil=0
mode bad_issuer=1
out=$(E mcp login secure --no-browser --timeout 5 2>&1); rc=$?
check "metadata with another issuer is refused" test "$rc" -ne 0
expect_contains "saying why" "$out" "issuer"
mode bad_issuer=0
expect_eq "no client was registered after a refused document" "$(stat registrations)" "$regs"

# The whole flow is guarded: without web.allow_hosts the loopback fake is refused.
sed -i '/^\[web\]/,/^$/d' "$T/conf"
out=$(E mcp login secure --no-browser --timeout 5 2>&1); rc=$?
check "without web.allow_hosts the loopback server is refused" test "$rc" -ne 0
expect_contains "by the guard" "$out" "web.allow_hosts"

finish
