# Record/replay of the tools' HTTP: --record FILE keeps a research task's page
# fetch (and its robots.txt) beside the LLM exchanges; with the site stopped,
# --replay FILE answers the same request with the same answer, opening no
# socket; a cassette without the fetch fails, naming the request it lacks; no
# credential of the request reaches the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"

absent() { ! grep -qi -- "$1" "$2"; }

start_site
site_pid=${PIDS[-1]}
allow_site
# A search provider key, sent in a header, must stay out of the cassette.
$PY - "$SITE" > "$T/search.json" <<'PYEOF'
import json, sys
print(json.dumps({"riverton tram": [{"title": "City council approves the new tram line",
    "url": sys.argv[1] + "/site/news.html", "snippet": "The council voted 9 to 2.",
    "published": "2026-03-14"}]}))
PYEOF
key="brave-key-$RANDOM$RANDOM"
start_search brave "$T/search.json" "$key"
search_pid=${PIDS[-1]}

tape="$T/run.cassette"
out=$("$ERRAND" --record "$tape" ask "fetch $SITE/site/news.html" 2>"$T/err"); rc=$?
expect_eq "recording: the fetch succeeds" "$rc" 0
expect_contains "  with the page's text" "$out" "The Riverton city council voted 9 to 2"
check "  the site was asked" test "$(site_hits /site/news.html)" -ge 1
expect_contains "  the fetch is in the cassette" "$(grep '"kind":"http"' "$tape")" \
  "\"url\":\"$SITE/site/news.html\""
expect_contains "  beside the LLM's exchanges" "$(grep -c '"kind":"llm"' "$tape")" "3"
searched=$("$ERRAND" --record "$T/search.cassette" ask "search riverton tram" 2>"$T/err"); rc=$?
expect_eq "recording a keyed search: succeeds" "$rc" 0
expect_contains "  the provider saw the key" "$(cat "$SEARCH_REC")" "$key"
check "  the key is not in the cassette" absent "$key" "$T/search.cassette"
check "  nor any request header" absent "subscription-token" "$T/search.cassette"

kill "$site_pid" "$search_pid" 2>/dev/null
wait "$site_pid" "$search_pid" 2>/dev/null
hits=$(site_hits /site/news.html)
unset OPENAI_API_KEY # (the search tool still wants its key set, though it sends nothing)
again=$("$ERRAND" --replay "$tape" ask "fetch $SITE/site/news.html" 2>"$T/err"); rc=$?
expect_eq "replay with the site stopped: succeeds" "$rc" 0
expect_eq "  the same answer" "$again" "$out"
expect_eq "  nothing reached the site" "$(site_hits /site/news.html)" "$hits"
again=$("$ERRAND" --replay "$T/search.cassette" ask "search riverton tram" 2>"$T/err"); rc=$?
expect_eq "replayed search: the same answer, no key" "$again" "$searched"

grep -v '"kind":"http"' "$tape" > "$T/nofetch.cassette"
json=$("$ERRAND" --replay "$T/nofetch.cassette" ask --json "fetch $SITE/site/news.html" 2>"$T/err"); rc=$?
expect_eq "a cassette without the fetch: exit 1" "$rc" 1
expect_contains "  names the request it lacks" "$(jget "$json" error)" \
  "has no answer for GET $SITE/site/news.html"
expect_contains "  and what to do" "$(jget "$json" error)" "record it again with --record"

# LLM lines without a kind (cassettes from before the tools were taped) are read as before.
sed 's/"kind":"llm",//' "$tape" > "$T/old.cassette"
check "  (the kind is gone from them)" absent '"kind":"llm"' "$T/old.cassette"
again=$("$ERRAND" --replay "$T/old.cassette" ask "fetch $SITE/site/news.html" 2>"$T/err"); rc=$?
expect_eq "lines without a kind: replayed as the LLM's" "$again" "$out"
finish
