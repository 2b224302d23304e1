# lib.sh — shared set-up for end-to-end tests: a private HOME and XDG dirs, the
# fake LLM server, and small assertions.  Sourced by tests/e2e/t_*.sh, which
# ctest runs with ERRAND (the binary), ERRAND_BUILD, ERRAND_TESTS and ERRAND_SRC set.
set -u
: "${ERRAND:?run through ctest (ERRAND is the errand binary)}"
FAKE_LLM="$ERRAND_BUILD/tests/fake_llm"
T=$(mktemp -d "${TMPDIR:-/tmp}/errand-e2e.XXXXXX")
export HOME="$T/home" XDG_DATA_HOME="$T/data" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
mkdir -p "$HOME"
unset DATABASE_URL RABBITMQ_URL REDIS_URL OPENAI_API_KEY ANTHROPIC_API_KEY OPENAI_BASE_URL \
      ANTHROPIC_BASE_URL ERRAND_LLM ERRAND_MODEL ERRAND_LOG
# Networked runs of the same tests set these (tests/e2e/networked.sh).
if [ -n "${ERRAND_E2E_DATABASE_URL:-}" ]; then export DATABASE_URL="$ERRAND_E2E_DATABASE_URL"; fi
if [ -n "${ERRAND_E2E_RABBITMQ_URL:-}" ]; then export RABBITMQ_URL="$ERRAND_E2E_RABBITMQ_URL"; fi
if [ -n "${ERRAND_E2E_REDIS_URL:-}" ]; then export REDIS_URL="$ERRAND_E2E_REDIS_URL"; fi
export ERRAND_HTTP_BACKOFF_MS=20
FAILS=0
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "state kept in $T" >&2; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
expect_contains() { # expect_contains "description" haystack needle
  if contains "$2" "$3"; then pass "$1"; else fail "$1: expected to find [$3] in [$2]"; fi
}
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got [$2], expected [$3]"; fi
}
finish() {
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"; exit 0
}

# start_fake SCRIPT [extra fake_llm args] — starts the fake LLM; sets FAKE_PORT, FAKE_URL, FAKE_REC.
start_fake() {
  local script=$1; shift
  FAKE_REC="$T/requests.jsonl"
  : > "$FAKE_REC"
  rm -f "$T/fake.port"
  "$FAKE_LLM" --script "$script" --port 0 --port-file "$T/fake.port" --record "$FAKE_REC" "$@" \
    > "$T/fake.log" 2>&1 &
  FAKE_PID=$!
  PIDS+=("$FAKE_PID")
  for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
  FAKE_PORT=$(cat "$T/fake.port")
  FAKE_URL="http://127.0.0.1:$FAKE_PORT"
}

# use_openai / use_anthropic — point errand at the fake.
use_openai() {
  export ERRAND_LLM=openai OPENAI_BASE_URL="$FAKE_URL/v1" OPENAI_API_KEY=test-key-123456 ERRAND_MODEL=fake-model
}
use_anthropic() {
  export ERRAND_LLM=anthropic ANTHROPIC_BASE_URL="$FAKE_URL" ANTHROPIC_API_KEY=test-key-123456 ERRAND_MODEL=fake-model
}

# jget JSON-TEXT PATH — a value out of JSON (jq is not assumed: python3's json).
jget() {
  printf '%s' "$1" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    try:
        d = d[int(k)] if isinstance(d, list) else d.get(k)
    except (IndexError, ValueError, AttributeError):
        d = None
    if d is None: break
print("" if d is None else (json.dumps(d, separators=(",", ":")) if isinstance(d,(dict,list)) else d))' "$2"
}
# jkey JSON-TEXT KEY... — like jget, but each key is one argument (keys may hold dots).
jkey() {
  local j=$1; shift
  printf '%s' "$j" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else d)' "$@"
}
# nreq — how many requests the fake recorded.
nreq() { wc -l < "$FAKE_REC" | tr -d ' '; }
# req N PATH — a value from the Nth recorded request (1-based).
req() { jget "$(sed -n "${1}p" "$FAKE_REC")" "$2"; }
