# The trend finder's watched sources ([watch.NAME] in the config file):
# `errand trends --watch` records the sources that are due through
# browser_record in a real Chromium, skips the others until their period has
# passed, --force records them all, --loop keeps recording each when due
# until SIGTERM; a source the SSRF guard refuses or a section without
# a selector fails with a message naming it, and the others still run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"

export TMPDIR="$T"
mkdir -p "$T/site" "$XDG_CONFIG_HOME/errand"
page() { # page ITEMS... — the watched list
  { echo '<!doctype html><html><head><title>Releases</title></head><body><ul>'
    for i in "$@"; do echo "<li class=item>$i</li>"; done
    echo '</ul></body></html>'; } > "$T/site/list.html"
}
page alpha beta gamma
# The site serves $T/site so the page can change between recordings.
SITE_REC="$T/site.log"
setpriv --pdeathsig TERM "$ERRAND_BUILD/tests/fake_site" --root "$T/site" --port 0 \
  --port-file "$T/site.port" --record "$SITE_REC" > "$T/site.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$T/site.port" ] && break; sleep 0.05; done
SITE="http://127.0.0.1:$(cat "$T/site.port")"
allow_site
cfg="$XDG_CONFIG_HOME/errand/config"

# No source configured: a clear error.
out=$("$ERRAND_BIN" trends --watch 2>&1); rc=$?
check "no watched source: fails" test "$rc" -ne 0
expect_contains "no watched source: says how to add one" "$out" "[watch.NAME]"

cat > "$cfg" <<CFG
[watch.releases]
url = $SITE/list.html
selector = li.item
every = 1h
CFG
out=$("$ERRAND_BIN" trends --watch 2>"$T/w1.err"); rc=$?
expect_eq "first --watch succeeds" "$rc" 0
expect_contains "it says what it recorded" "$(cat "$T/w1.err")" "releases: recorded 3 rows from $SITE/list.html"
expect_contains "the report lists the source" "$out" "releases"
expect_eq "the page was opened once" "$(site_hits /list.html)" 1

# Within the period: nothing is fetched.
"$ERRAND_BIN" trends --watch > /dev/null 2>"$T/w2.err"; rc=$?
expect_eq "second --watch succeeds" "$rc" 0
expect_contains "not due: it says when it is" "$(cat "$T/w2.err")" "next in"
expect_eq "not due: the page was not opened again" "$(site_hits /list.html)" 1

# The page changes; --force records now and the report shows the new item.
page alpha gamma delta
out=$("$ERRAND_BIN" trends --watch --force 2>"$T/w3.err"); rc=$?
expect_eq "--force succeeds" "$rc" 0
expect_eq "--force opened the page" "$(site_hits /list.html)" 2
expect_contains "the report shows the new item" "$out" "delta"
expect_contains "the report shows the item gone" "$out" "beta"
expect_eq "two snapshots stored" "$("$ERRAND_BIN" trends --json releases | grep -c '"source"')" 1
check "the JSON report names delta as new" sh -c "'$ERRAND_BIN' trends --json releases | grep -q delta"

# A source refused by the SSRF guard (the cloud metadata address: only
# 127.0.0.1 is allowed) and
# one without a selector: each named, the good one still recorded.
cat >> "$cfg" <<CFG
[watch.mirror]
url = http://169.254.169.254/latest/meta-data/
selector = li
[watch.broken]
url = $SITE/list.html
CFG
"$ERRAND_BIN" trends --watch --force > /dev/null 2>"$T/w4.err"; rc=$?
check "failing sources: --watch fails" test "$rc" -ne 0
expect_contains "the refused source is named" "$(cat "$T/w4.err")" "mirror:"
expect_contains "the section without selector is named" "$(cat "$T/w4.err")" "[watch.broken] needs url and selector"
expect_contains "the good one is still recorded" "$(cat "$T/w4.err")" "releases: recorded 3 rows"
expect_contains "the summary counts the failures" "$(cat "$T/w4.err")" "2 of 3 watched sources failed"
expect_contains "the guard's reason is given" "$(grep 'mirror:' "$T/w4.err")" "169.254.169.254"
out=$("$ERRAND_BIN" trends --watch nosuch 2>&1); rc=$?
check "an unknown source name fails" test "$rc" -ne 0
expect_contains "and says so" "$out" "no [watch.nosuch]"

# --loop: every 2 s, until SIGTERM.
cat > "$cfg" <<CFG
[watch.releases]
url = $SITE/list.html
selector = li.item
every = 2s
CFG
before=$(site_hits /list.html)
"$ERRAND_BIN" trends --loop > "$T/loop.out" 2>"$T/loop.err" &
loop=$!
for _ in $(seq 300); do
  [ "$(site_hits /list.html)" -ge $((before + 3)) ] && break
  sleep 0.1
done
check "--loop recorded the source again when due" test "$(site_hits /list.html)" -ge $((before + 3))
kill -TERM "$loop"
for _ in $(seq 100); do ours "$loop" && kill -0 "$loop" 2>/dev/null || break; sleep 0.1; done
wait "$loop"; rc=$?
expect_eq "--loop ends cleanly on SIGTERM" "$rc" 0
leftover=$(find "$T" -maxdepth 1 -name 'errand-chromium-*' | head -1)
expect_eq "every browser profile deleted" "$leftover" ""
finish
