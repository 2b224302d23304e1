# GET /api/v1/files?path=REL: an image from the requester's own workspace.
# Served: a PNG in alice's workspace, to alice, with its type and nosniff.
# Refused: no token; `..` into bob's workspace or out of the root; an
# absolute path; a symlink leading out; another user asking for the same
# path; names that are not images (SVG, text).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
start_server -o server.workspaces="$T/users"
ALICE=$(mkuser alice)
BOB=$(mkuser bob)
A=$(uid alice); B=$(uid bob)
# The workspaces are made on first use; make them as the server would.
mkdir -p "$T/users/$A/charts" "$T/users/$B"
chmod 700 "$T/users" "$T/users/$A" "$T/users/$B"
printf '\x89PNG\r\n\x1a\nalice-chart' > "$T/users/$A/charts/c.png"
printf '\x89PNG\r\n\x1a\nbob-secret-bytes' > "$T/users/$B/b.png"
printf '\x89PNG\r\n\x1a\nOUTSIDE-BYTES' > "$T/outside.png"
ln -s "$T/outside.png" "$T/users/$A/link.png"
printf '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' > "$T/users/$A/x.svg"
echo notes > "$T/users/$A/notes.txt"

code() { curl -s -o "$T/got" -D "$T/hdrs" -w '%{http_code}' "$@"; }
st=$(code -H "Authorization: Bearer $ALICE" "$API/api/v1/files?path=charts/c.png")
expect_eq "alice gets her chart" "$st" 200
check "…its bytes" cmp -s "$T/got" "$T/users/$A/charts/c.png"
expect_eq "…as image/png" "$(header Content-Type)" "image/png"
expect_eq "…never sniffed" "$(header X-Content-Type-Options)" "nosniff"
expect_eq "…not cached" "$(header Cache-Control)" "no-store"
expect_eq "no token: 401" "$(code "$API/api/v1/files?path=charts/c.png")" 401
for p in "../$B/b.png" "..%2F$B%2Fb.png" "charts/../../$B/b.png" "../../outside.png" \
         "$T/outside.png" "$T/users/$B/b.png" "link.png" "missing.png" "charts"; do
  st=$(code -H "Authorization: Bearer $ALICE" --get --data-urlencode "path=$p" "$API/api/v1/files")
  [ "$p" = charts ] && want=415 || want=404
  expect_eq "refused: $p" "$st" "$want"
  check "…and nothing of another's file or the outside one in the answer" \
    sh -c "! grep -q 'bob-secret-bytes\|OUTSIDE-BYTES' '$T/got'"
done
expect_eq "bob asking for alice's path gets nothing" \
  "$(code -H "Authorization: Bearer $BOB" "$API/api/v1/files?path=charts/c.png")" 404
expect_eq "SVG is not served" "$(code -H "Authorization: Bearer $ALICE" "$API/api/v1/files?path=x.svg")" 415
expect_eq "text is not served" "$(code -H "Authorization: Bearer $ALICE" "$API/api/v1/files?path=notes.txt")" 415
expect_eq "no path: 400" "$(code -H "Authorization: Bearer $ALICE" "$API/api/v1/files")" 400
finish
