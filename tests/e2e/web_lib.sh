# web_lib.sh — the fixture web site and a fake search provider for the
# research agent's end-to-end tests (t_research*.sh), sourced after lib.sh.
# Settings go through the environment so that networked workers get them too.

PY=/usr/bin/python3

# start_site — tests/fakes/fake_site serving tests/fixtures/web; sets SITE_PORT,
# SITE (its base URL) and SITE_REC (the paths it was asked for).
start_site() {
  SITE_REC="$T/site.log"
  rm -f "$T/site.port"
  setpriv --pdeathsig TERM "$ERRAND_BUILD/tests/fake_site" --root "$ERRAND_TESTS/fixtures/web" \
    --port 0 --port-file "$T/site.port" --record "$SITE_REC" > "$T/site.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -s "$T/site.port" ] && break; sleep 0.05; done
  SITE_PORT=$(cat "$T/site.port")
  SITE="http://127.0.0.1:$SITE_PORT"
}

# start_search PROVIDER DATA.json [KEY] — tests/fakes/fake_search; sets SEARCH_URL
# and SEARCH_REC, and points errand at it (search.provider, search.url, the key).
start_search() {
  local provider=$1 data=$2 key=${3:-}
  SEARCH_REC="$T/search.jsonl"
  rm -f "$T/search.port"
  setpriv --pdeathsig TERM "$ERRAND_BUILD/tests/fake_search" --provider "$provider" \
    --data "$data" --api-key "${key:-none}" --port 0 --port-file "$T/search.port" \
    --record "$SEARCH_REC" > "$T/search.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -s "$T/search.port" ] && break; sleep 0.05; done
  SEARCH_URL="http://127.0.0.1:$(cat "$T/search.port")"
  export ERRAND_SEARCH_PROVIDER="$provider" ERRAND_SEARCH_URL="$SEARCH_URL"
  case "$provider" in
  brave) export BRAVE_API_KEY="$key" ;;
  tavily) export TAVILY_API_KEY="$key" ;;
  esac
}

# The fixture servers live on 127.0.0.1: only web.allow_hosts lets the tools
# reach them; no politeness wait between the tests' fetches.
allow_site() { export ERRAND_WEB_ALLOW_HOSTS=127.0.0.1 ERRAND_WEB_DELAY_MS=0; }

# site_hits PATH — how many times the site was asked for PATH.
site_hits() { grep -cx "$1" "$SITE_REC" 2>/dev/null || true; }
