# Authentication: API tokens (issued once, revocable), access tokens (HS256,
# algorithm pinned, expiry checked: expired, tampered, alg none, other
# algorithms and other keys are refused), rotating refresh tokens (a replayed
# one revokes its session), logout, and the OpenID Connect login with PKCE
# against the fake provider, including every way its ID token can be wrong.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
start_oidc
export OAUTH_ISSUER_URL="$OIDC_URL" OAUTH_CLIENT_ID=errand-test OAUTH_CLIENT_SECRET=oidc-secret-42
start_server
DAN=$(mkuser dan)
out=$("$ERRAND" user list); rc=$?
expect_eq "user list exit 0" "$rc" 0
expect_contains "user list shows dan" "$out" "dan-$RUN_ID"
check "the token is not listed" test "${out/$DAN/}" = "$out"
json=$("$ERRAND" user list --json)
expect_eq "user list --json" "$(printf "%s" "$json" | /usr/bin/python3 -c "import json,sys; print([u[\"role\"] for u in json.load(sys.stdin) if u[\"name\"]==\"dan-$RUN_ID\"][0])")" "user"
out=$("$ERRAND" user add "dan-$RUN_ID" 2>&1); rc=$?
expect_eq "adding a user twice fails" "$rc" 1
expect_contains "…saying so" "$out" "already exists"
out=$("$ERRAND" user add x --role root 2>&1); rc=$?
expect_eq "bad role is a usage error" "$rc" 2

# API token → token pair
call POST /api/v1/auth/token "{\"api_token\":\"$DAN\"}"
expect_status "token exchange" 200
ACCESS=$(jget "$BODY" access_token)
REFRESH=$(jget "$BODY" refresh_token)
expect_eq "token type" "$(jget "$BODY" token_type)" "Bearer"
expect_eq "expires in" "$(jget "$BODY" expires_in)" "900"
expect_eq "pair names the user" "$(jget "$BODY" user.name)" "dan-$RUN_ID"
DAN_ID=$(jget "$BODY" user.id)
SID=$(jget "$BODY" session_id)
check "the pair names its session" test -n "$SID"
call POST /api/v1/auth/token '{"api_token":"ert_nope"}'
expect_status "unknown API token" 401
call POST /api/v1/auth/token '{"token":"x"}'
expect_status "wrong field" 400
call GET /api/v1/auth/me "" "$ACCESS"
expect_status "access token works" 200

# forged access tokens
now=$(date +%s)
good="{\"iss\":\"errand\",\"sub\":\"$DAN_ID\",\"sid\":\"$SID\",\"name\":\"dan\",\"role\":\"user\",\"iat\":$now,\"exp\":$((now + 300))}"
call GET /api/v1/auth/me "" "$(forge_jwt "$good")"
expect_status "a token signed with the server's key works (the forger is right)" 200
call GET /api/v1/auth/me "" "$(forge_jwt "{\"iss\":\"errand\",\"sub\":\"$DAN_ID\",\"role\":\"user\",\"exp\":$((now + 300))}")"
expect_status "…but only with a session" 401
call GET /api/v1/auth/me "" "$(forge_jwt "{\"iss\":\"errand\",\"sub\":\"$DAN_ID\",\"role\":\"user\",\"iat\":$((now - 900)),\"exp\":$((now - 60))}")"
expect_status "expired token" 401
expect_contains "…says expired" "$(jget "$BODY" error.message)" "expired"
call GET /api/v1/auth/me "" "$(forge_jwt "{\"iss\":\"errand\",\"sub\":\"$DAN_ID\",\"role\":\"user\"}")"
expect_status "token without exp" 401
tampered=$(/usr/bin/python3 - "$ACCESS" <<'PY'
import base64, json, sys
h, p, s = sys.argv[1].split(".")
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
c["role"] = "admin"
p2 = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=").decode()
print(h + "." + p2 + "." + s)
PY
)
call GET /api/v1/auth/me "" "$tampered"
expect_status "tampered token (role raised)" 401
expect_contains "…signature" "$(jget "$BODY" error.message)" "signature"
call GET /api/v1/auth/me "" "$(forge_jwt "$good" none)"
expect_status "alg none" 401
expect_contains "…algorithm refused" "$(jget "$BODY" error.message)" "'none' is not accepted"
call GET /api/v1/auth/me "" "$(forge_jwt "$good" HS512)"
expect_status "alg HS512" 401
call GET /api/v1/auth/me "" "$(forge_jwt "$good" HS256 another-key-that-is-long-enough-000000)"
expect_status "another key" 401
call GET /api/v1/auth/me "" "$(forge_jwt "{\"iss\":\"elsewhere\",\"sub\":\"$DAN_ID\",\"role\":\"user\",\"exp\":$((now + 300))}")"
expect_status "another issuer" 401
call GET /api/v1/auth/me "" "$(forge_jwt "{\"iss\":\"errand\",\"sub\":\"$DAN_ID\",\"sid\":\"$SID\",\"role\":\"admin\",\"exp\":$((now + 300))}")"
expect_status "a role claim is not the role" 200
expect_eq "…the stored one is" "$(jget "$BODY" role)" "user"
call GET /api/v1/auth/me "" "${ACCESS%.*}"
expect_status "two-part token" 401
call GET /api/v1/auth/me "" "$ACCESS.x"
expect_status "four-part token" 401

# refresh rotation, replay, logout
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$REFRESH\"}"
expect_status "refresh" 200
R2=$(jget "$BODY" refresh_token)
check "refresh rotates" test -n "$R2" -a "$R2" != "$REFRESH"
call GET /api/v1/auth/me "" "$(jget "$BODY" access_token)"
expect_status "refreshed access token works" 200
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$REFRESH\"}"
expect_status "replayed refresh token" 401
expect_contains "…revokes the session" "$(jget "$BODY" error.message)" "already used"
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R2\"}"
expect_status "the session's newer token died too" 401
call POST /api/v1/auth/token "{\"api_token\":\"$DAN\"}"
R3=$(jget "$BODY" refresh_token)
call POST /api/v1/auth/logout "{\"refresh_token\":\"$R3\"}"
expect_status "logout" 204
call POST /api/v1/auth/refresh "{\"refresh_token\":\"$R3\"}"
expect_status "refresh after logout" 401
call POST /api/v1/auth/refresh '{"refresh_token":"erf_unknown"}'
expect_status "unknown refresh token" 401
expect_eq "…field named" "$(jget "$BODY" error.field)" "refresh_token"

# revoking an API token
tid=$("$ERRAND" user list --json | /usr/bin/python3 -c "import json,sys
print([t['id'] for u in json.load(sys.stdin) if u['name']=='dan-$RUN_ID' for t in u['tokens']][0])")
out=$("$ERRAND" user revoke "$tid"); rc=$?
expect_eq "revoke exit 0" "$rc" 0
call GET /api/v1/auth/me "" "$DAN"
expect_status "revoked API token" 401

# OpenID Connect: authorization code + PKCE, end to end
oidc_login() { # HINT → the callback's answer in STATUS/BODY
  local l1 l2
  l1=$(curl -s -o /dev/null -w '%{redirect_url}' "$API/api/v1/auth/oidc/login?login_hint=$1")
  l2=$(curl -s -o /dev/null -w '%{redirect_url}' "$l1")
  LAST_CALLBACK=$l2
  STATUS=$(curl -s -o "$T/resp" -w '%{http_code}' "$l2")
  BODY=$(cat "$T/resp")
}
call GET "/api/v1/auth/oidc/login?login_hint=erin$RUN_ID"
expect_status "login redirects" 302
loc=$(header Location)
expect_contains "…to the provider" "$loc" "$OIDC_URL/authorize?"
expect_contains "…with PKCE" "$loc" "code_challenge_method=S256"
expect_contains "…and a nonce" "$loc" "nonce="
expect_contains "…and our callback" "$loc" "redirect_uri=http%3A%2F%2F127.0.0.1"
oidc_login "erin$RUN_ID"
expect_status "OIDC login" 200
expect_eq "logged in as the provider's user" "$(jget "$BODY" user.name)" "erin$RUN_ID"
expect_eq "…with the user role" "$(jget "$BODY" user.role)" "user"
ERIN=$(jget "$BODY" access_token)
ERIN_ID=$(jget "$BODY" user.id)
call GET /api/v1/auth/me "" "$ERIN"
expect_status "OIDC access token works" 200
STATUS=$(curl -s -o "$T/resp" -w '%{http_code}' "$LAST_CALLBACK")
expect_status "a callback works once" 400
oidc_login "erin$RUN_ID"
expect_eq "second login: same user" "$(jget "$BODY" user.id)" "$ERIN_ID"
for mode in wrong_nonce wrong_aud wrong_iss expired bad_sig unknown_kid alg_none hs256; do
  oidc_login "mallory$RUN_ID%2B$mode"
  expect_status "OIDC ID token $mode refused" 401
done
oidc_login "mallory$RUN_ID%2Bdeny"
expect_status "provider denied" 401
check "no user was made of refused logins" test -z "$("$ERRAND" user list | grep "mallory$RUN_ID")"
call GET "/api/v1/auth/oidc/callback?code=abc&state=made-up"
expect_status "unknown state" 400
call GET "/api/v1/auth/oidc/callback?state=x"
expect_status "missing code" 400
expect_eq "…field named" "$(jget "$BODY" error.field)" "code"
requests=$(grep -c . "$T/oidc.log" 2>/dev/null || true)
check "the provider was used through HTTP" test -n "$requests"
stop_server
expect_eq "clean stop" "$SERVER_RC" 0

# without OIDC settings the login routes say so
unset OAUTH_ISSUER_URL OAUTH_CLIENT_ID OAUTH_CLIENT_SECRET
start_server
call GET /api/v1/auth/oidc/login
expect_status "login not configured" 404
expect_contains "…names the settings" "$(jget "$BODY" error.message)" "OAUTH_CLIENT_ID"
stop_server
expect_eq "clean stop without OIDC" "$SERVER_RC" 0
out=$(OAUTH_ISSUER_URL=http://127.0.0.1:1 "$ERRAND" serve --listen 127.0.0.1:0 2>&1); rc=$?
expect_eq "half an OIDC configuration is refused" "$rc" 2
expect_contains "…naming what is missing" "$out" "OAUTH_CLIENT_SECRET"
out=$(ERRAND_JWT_SECRET=short "$ERRAND" serve --listen 127.0.0.1:0 2>&1); rc=$?
expect_eq "a short jwt_secret is refused" "$rc" 2
finish
