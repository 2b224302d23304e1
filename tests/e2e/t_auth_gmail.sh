#!/usr/bin/env bash
# t_auth_gmail.sh — `errand auth gmail` end to end against the fake Google
# (tests/fakes/fake_gmail.c): the test plays the browser, following the
# consent URL to the fake, which redirects to errand's loopback listener.
# Checked: PKCE and state reach the fake, a forged redirect is refused while
# the real one goes through, the tokens are stored only sealed (no token in
# the database, the logs or the output), the key file is 0600 and a looser
# one is refused, a refusal at the consent screen, list and revoke.
. "$(dirname "$0")/lib.sh"

FAKE_GMAIL="$ERRAND_BUILD/tests/fake_gmail"
REC="$T/gmail.jsonl"
rm -f "$T/gmail.port"
setpriv --pdeathsig TERM "$FAKE_GMAIL" --client-id cid-123 --client-secret csecret-456 \
  --port 0 --port-file "$T/gmail.port" --record "$REC" --rotate > "$T/gmail.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -s "$T/gmail.port" || { echo "fake_gmail did not start" >&2; exit 1; }
G="http://127.0.0.1:$(cat "$T/gmail.port")"
export ERRAND_GMAIL_CLIENT_ID=cid-123 ERRAND_GMAIL_CLIENT_SECRET=csecret-456 \
  ERRAND_GMAIL_AUTH_URL="$G/o/oauth2/v2/auth" ERRAND_GMAIL_TOKEN_URL="$G/token" \
  ERRAND_GMAIL_REVOKE_URL="$G/revoke" ERRAND_GMAIL_API_URL="$G" ERRAND_LOG=debug
unset ERRAND_SECRET_KEY BROWSER

# start_auth NAME [args] — runs errand auth gmail in the background; sets AUTH_PID
# and URL (the consent URL it printed).
start_auth() {
  local name=$1; shift
  : > "$T/auth.out"
  "$ERRAND_BIN" auth gmail "$name" --no-browser --timeout 30 "$@" > "$T/auth.out" 2> "$T/auth.err" &
  AUTH_PID=$!
  PIDS+=("$AUTH_PID")
  wait_for 10 grep -q '^http' "$T/auth.out" || fail "no consent URL printed"
  URL=$(grep -m1 '^http' "$T/auth.out")
}
# The browser: the fake's consent page answers with a redirect to errand.
consent() { curl -s -o /dev/null -w '%{redirect_url}' "$1"; }
qparam() { /usr/bin/python3 -c 'import sys, urllib.parse as u
q = u.parse_qs(u.urlsplit(sys.argv[1]).query); print(q.get(sys.argv[2], [""])[0])' "$1" "$2"; }

# ---- the whole flow ----
start_auth gmail
expect_eq "consent URL goes to the auth endpoint" "${URL%%\?*}" "$G/o/oauth2/v2/auth"
expect_eq "PKCE method" "$(qparam "$URL" code_challenge_method)" S256
expect_eq "challenge is 43 base64url characters" "$(qparam "$URL" code_challenge | tr -d 'A-Za-z0-9_-' | wc -c)$(qparam "$URL" code_challenge | wc -c)" "144"
redirect=$(qparam "$URL" redirect_uri)
case "$redirect" in http://127.0.0.1:[0-9]*) pass "loopback redirect $redirect" ;; *) fail "redirect_uri $redirect" ;; esac
expect_contains "offline access asked for" "$URL" "access_type=offline"
expect_contains "scopes" "$(qparam "$URL" scope)" "https://www.googleapis.com/auth/gmail.readonly"
state=$(qparam "$URL" state)
check "state is random and long" test "${#state}" -ge 32

back=$(consent "$URL")
expect_contains "the fake redirects to the loopback" "$back" "$redirect/?code="
# A forged redirect (another state) is answered 400 and does not end the wait.
forged=$(curl -s -o /dev/null -w '%{http_code}' "$redirect/?code=stolen&state=not-$state")
expect_eq "a redirect with another state is refused" "$forged" 400
page=$(curl -s "$back")
expect_contains "the browser is told it worked" "$page" "authorised"
wait "$AUTH_PID"; rc=$?
expect_eq "errand auth gmail exits 0" "$rc" 0
expect_contains "it names the mailbox" "$(cat "$T/auth.out")" "authorised 'gmail' for me@example.test"
expect_eq "one code exchanged" "$(grep -c '"grant_type":"authorization_code"' "$REC")" 1

list=$("$ERRAND_BIN" auth list)
expect_contains "auth list shows it" "$list" "me@example.test"
json=$("$ERRAND_BIN" auth list --json)
expect_eq "auth list --json" "$(jget "$json" 0.kind) $(jget "$json" 0.account)" "gmail me@example.test"

# Sealed at rest: neither token anywhere in the database, the output or the logs.
stats=$(curl -s "$G/_fake/stats")
access=$(jget "$stats" last_access_token) refresh=$(jget "$stats" last_refresh_token)
check "the fake issued tokens" test -n "$access" -a -n "$refresh"
key="$XDG_DATA_HOME/errand/secret.key"
expect_eq "key file mode" "$(stat -c %a "$key")" 600
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
for f in "$T/auth.out" "$T/auth.err" "$XDG_STATE_HOME"/errand/*; do
  [ -f "$f" ] || continue
  grep -qF "$refresh" "$f" && leaks=1
  grep -qF "$access" "$f" && leaks=1
  grep -qF csecret-456 "$f" && leaks=1
done
expect_eq "no token or client secret stored or printed in the clear" "$leaks" 0

# ---- a key file others may read is refused, clearly ----
chmod 644 "$key"
out=$("$ERRAND_BIN" auth revoke gmail 2>&1); rc=$?
check "revoke fails with a readable key file" test "$rc" -ne 0
expect_contains "it says why and how to fix it" "$out" "chmod 600"
chmod 600 "$key"

# ---- the user refuses at the consent screen ----
start_auth other
back=$(consent "$URL&login_hint=deny")
expect_contains "the fake redirects with an error" "$back" "error=access_denied"
curl -s "$back" > /dev/null
wait "$AUTH_PID"; rc=$?
check "a refusal exits non-zero" test "$rc" -ne 0
expect_contains "and says so" "$(cat "$T/auth.err")" "did not grant access"
list=$("$ERRAND_BIN" auth list)
check "nothing stored for a refusal" test "$(printf '%s\n' "$list" | grep -c '^other ')" -eq 0

# ---- no client id: a clear error before any listening ----
out=$(ERRAND_GMAIL_CLIENT_ID= "$ERRAND_BIN" auth gmail x --no-browser 2>&1); rc=$?
check "no client id fails" test "$rc" -ne 0
expect_contains "naming the setting" "$out" "gmail.client_id"
out=$("$ERRAND_BIN" auth gmail x --scopes everything 2>&1); rc=$?
expect_eq "an unknown scope is a usage error" "$rc" 2

# ---- revoke: Google is told, the row is gone ----
out=$("$ERRAND_BIN" auth revoke gmail 2>&1); rc=$?
expect_eq "revoke exits 0" "$rc" 0
expect_eq "the fake saw the revocation" "$(jget "$(curl -s "$G/_fake/stats")" revoked)" 1
check "auth list is empty" test -z "$("$ERRAND_BIN" auth list 2>/dev/null)"
out=$("$ERRAND_BIN" auth revoke gmail 2>&1); rc=$?
check "revoking again fails" test "$rc" -ne 0
expect_contains "naming what is missing" "$out" "no authorisation named 'gmail'"

finish
