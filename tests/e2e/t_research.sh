# The research agent with the real binary: offline plain commands (search,
# fetch, cite) against a fake SearXNG and the fixture site on 127.0.0.1, the
# SSRF guard refusing that site until web.allow_hosts names it, and a whole
# research task against the scripted fake LLM: question → search → fetch of
# three pages → summary with citations → validator, where the one planted
# unsupported claim is flagged in the final answer by errand itself although
# the model's answer kept it silently.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/code_lib.sh"
. "$(dirname "$0")/web_lib.sh"

start_site
$PY - "$SITE" > "$T/search.json" <<'EOF'
import json, sys
site = sys.argv[1]
print(json.dumps({"riverton tram": [
    {"title": "City council approves the new tram line", "url": site + "/site/news.html",
     "snippet": "The council voted 9 to 2 for a tram line.", "published": "2026-03-14"},
    {"title": "Riverton Daily — City (feed)", "url": site + "/site/feed.rss",
     "snippet": "City news from Riverton", "published": None},
    {"title": "Tram line: questions and answers", "url": site + "/site/tram-faq.html",
     "snippet": "Eleven stops, trams every six minutes.", "published": None}]}))
EOF
start_search searxng "$T/search.json"

# ---- offline: the guard first ----
out=$("$ERRAND" ask "fetch $SITE/site/news.html" 2>&1); rc=$?
expect_eq "guard: exit 1" "$rc" 1
expect_contains "guard: says what was refused" "$out" "refused to fetch from '127.0.0.1' (127.0.0.1): a loopback address"
expect_contains "guard: names the setting" "$out" "web.allow_hosts"
check "guard: the page was never requested" not grep -q "news.html" "$SITE_REC"
out=$("$ERRAND" ask "fetch file:///etc/passwd" 2>&1); rc=$?
expect_eq "file://: exit 1" "$rc" 1
expect_contains "file://: refused" "$out" "the file scheme is not allowed"
check "file://: nothing read" not contains "$out" "root:x:0"

allow_site
expect_contains "route: search goes to research" "$("$ERRAND" route "search riverton tram" 2>&1)" "research"
out=$("$ERRAND" ask "search riverton tram" 2>"$T/err"); rc=$?
expect_eq "search: exit 0" "$rc" 0
expect_contains "search: first result" "$out" "[1] City council approves the new tram line"
expect_contains "search: its URL" "$out" "$SITE/site/news.html"
expect_contains "search: fenced as untrusted" "$out" '<<<untrusted-data kind="search results" source="searxng search: riverton tram"'
expect_contains "search: SearXNG asked for JSON" "$(cat "$SEARCH_REC")" "format=json"

out=$("$ERRAND" ask "fetch $SITE/site/news.html" 2>"$T/err"); rc=$?
expect_eq "fetch: exit 0" "$rc" 0
expect_contains "fetch: main text" "$out" "The Riverton city council voted 9 to 2 on Thursday"
expect_contains "fetch: fenced with its URL" "$out" "<<<untrusted-data kind=\"web page\" source=\"$SITE/site/news.html\""
expect_contains "fetch: title" "$out" "Title: City council approves the new tram line | Riverton Daily"
check "fetch: no navigation" not contains "$out" "Weather"
check "fetch: no comments" not contains "$out" "What a waste of money"
check "fetch: no cookie banner" not contains "$out" "Accept all"
expect_eq "fetch: robots.txt read once" "$(site_hits /robots.txt)" 1

out=$("$ERRAND" ask "fetch $SITE/site/private/secret.html" 2>&1); rc=$?
expect_eq "robots: exit 1" "$rc" 1
expect_contains "robots: says so" "$out" "robots.txt of $SITE does not allow errand"

out=$("$ERRAND" ask "cite $SITE/site/tram-faq.html \"every six minutes at peak hours\"" 2>"$T/err"); rc=$?
expect_eq "cite found: exit 0" "$rc" 0
printf '%s\n' "$out" | grep -Eq '^found: +yes$' && pass "cite found: found" || fail "cite found: $out"
expect_contains "cite found: the sentence" "$out" "Every six minutes at peak hours and every twelve minutes in the evening."
out=$("$ERRAND" ask "cite $SITE/site/tram-faq.html \"The first trams will run in 2027.\"" 2>"$T/err"); rc=$?
expect_eq "cite not found: exit 0" "$rc" 0
printf '%s\n' "$out" | grep -Eq '^found: +no$' && pass "cite not found: not found" || fail "cite not found: $out"
expect_contains "cite not found: flagged" "$out" "not found in source"

# ---- the whole research task with the scripted model ----
U1="$SITE/site/news.html" U2="$SITE/site/feed.rss" U3="$SITE/site/tram-faq.html"
export U1 U2 U3
SUMMARY='The council approved the tram line by 9 votes to 2 [1]. Single bus tickets will cost 2.80 euros from April [2]. The first trams will run in 2027 [3].'
export SUMMARY
$PY > "$T/s.json" <<'EOF'
import json, os
E = os.environ
def c(i, name, **args):
    return {"id": i, "name": name, "arguments": args}
def after(i):
    return '"tool_call_id":"%s"' % i
quotes = [(E["U1"], "The Riverton city council voted 9 to 2 on Thursday to build a tram line"),
          (E["U2"], "Single tickets will cost 2.80 euros from April."),
          (E["U3"], "The first trams will run in 2027.")]   # planted: not on the page
sources = "\n".join('[%d] %s - "%s"' % (n + 1, u, q) for n, (u, q) in enumerate(quotes))
answer = E["SUMMARY"] + "\n\nSources:\n" + sources
print(json.dumps({"turns": [
    {"match": after("t3"), "text": answer},   # the model keeps the claim silently
    {"match": after("t2"), "tool_calls": [c("t3", "task", subagent="validator",
        description="Check every citation of this answer:\n" + answer)]},
    {"match": after("t1"), "tool_calls": [c("t2", "task", subagent="summarizer",
        description="Answer 'what did Riverton decide about its tram line?' from " +
                    " ".join(u for u, _ in quotes))]},
    {"match": after("v3"), "text": "VALIDATOR: checked [1] [2] [3]"},
    {"match": "You are the validator subagent", "tool_calls": [
        c("v%d" % (n + 1), "cite_check", url=u, quote=q, claim="claim %d" % (n + 1), ref=n + 1)
        for n, (u, q) in enumerate(quotes)]},
    {"match": after("f3"), "text": answer},
    {"match": "You are the summarizer subagent", "tool_calls": [
        c("f%d" % (n + 1), "fetch_url", url=u) for n, (u, _) in enumerate(quotes)]},
    {"match": after("s1"), "text": "SOURCES:\n" + "\n".join(u for u, _ in quotes)},
    {"match": "You are the searcher subagent", "tool_calls": [
        c("s1", "web_search", query="riverton tram", count=3)]},
    {"match": "You are the research agent", "tool_calls": [c("t1", "task", subagent="searcher",
        description="Find sources: what did Riverton decide about its tram line?")]},
]}))
EOF
start_fake "$T/s.json"
use_openai
json=$("$ERRAND" ask --json --agent research "what did Riverton decide about its tram line?" \
  2>"$T/err"); rc=$?
expect_eq "task: exit 0" "$rc" 0
expect_eq "task: done" "$(jget "$json" status)" "done"
expect_eq "task: ten model calls" "$(nreq)" 10
ans=$(jget "$json" answer)
expect_contains "task: the summary" "$ans" "approved the tram line by 9 votes to 2 [1]"
expect_contains "task: the planted claim is flagged" "$ans" "not found in source [3]"
expect_contains "task: with its quote" "$ans" '"The first trams will run in 2027." is not in'
check "task: [1] not flagged" not contains "$ans" "not found in source [1]"
check "task: [2] not flagged" not contains "$ans" "not found in source [2]"
expect_contains "searcher: got results" "$(sent s1 listing)" "[1] City council approves the new tram line"
expect_contains "summarizer: page 1 fenced" "$(sent f1 content)" "<<<untrusted-data kind=\"web page\" source=\"$U1\""
expect_contains "summarizer: page 1 text" "$(sent f1 content)" "voted 9 to 2 on Thursday"
expect_contains "summarizer: page 2 (RSS)" "$(sent f2 content)" "## Bus fares rise again"
expect_contains "summarizer: page 3" "$(sent f3 content)" "eleven stops on the way"
expect_eq "validator: [1] found" "$(sent v1 found)" "true"
expect_eq "validator: [2] found" "$(sent v2 found)" "true"
expect_eq "validator: [3] not found" "$(sent v3 found)" "false"
expect_contains "validator: [3] flagged" "$(sent v3 flag)" "not found in source [3]"
expect_eq "validator: page reused from the cache" "$(sent v1 cached)" "true"
expect_contains "validator: the supporting sentence" "$(sent v2 sentence)" "Single tickets will cost 2.80 euros from April."
# the FAQ: by each offline cite, then once by the task (the validator reused it);
# networked, the cache is Redis, shared by every process: read once in all
if [ -n "$NETWORKED" ]; then want=1; else want=3; fi
expect_eq "site: the FAQ page fetched $want time(s)" "$(site_hits /site/tram-faq.html)" "$want"
expect_contains "tools offered to the summarizer" "$(req 5 body.tools)" '"name":"fetch_url"'
check "no write tool offered to the research agent" not contains "$(req 1 body.tools)" '"name":"write_file"'
finish
