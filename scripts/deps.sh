#!/usr/bin/env bash
# deps.sh — install the Debian packages errand needs, only those missing.
#   scripts/deps.sh build   what building and running needs
#   scripts/deps.sh test    plus the servers and tools the test suite uses
#   scripts/deps.sh fuzz    plus clang and libFuzzer, for `make fuzz`
#   scripts/deps.sh valgrind plus valgrind, for `make valgrind`
#   scripts/deps.sh bench   plus pandas, sqlite3, FAISS, hnswlib, ripgrep and linux-source, for `make bench`
#   scripts/deps.sh browsers only the browsers the browser tests drive
# As root it runs apt-get (update once, then install); otherwise it prints the
# exact command to run and fails.
set -euo pipefail

build_pkgs=(cmake make gcc pkg-config libsqlite3-dev libcurl4-openssl-dev libcjson-dev
            libncurses-dev libreadline-dev libhiredis-dev librabbitmq-dev libpq-dev
            libcivetweb-dev libmicrohttpd-dev libssl-dev libzip-dev libxml2-dev libcairo2-dev
            libpcre2-dev libgmime-3.0-dev libsodium-dev)
test_pkgs=(redis-server rabbitmq-server postgresql bubblewrap tmux git python3 procps
           iproute2 cppcheck yamllint docker-compose nodejs clang poppler-utils zlib1g-dev
           chromium firefox-esr webkit2gtk-driver xvfb zsh fish dovecot-imapd opensmtpd
           clang-format)
# make bench: the data benchmark compares with pandas and sqlite3's .import, the
# memory benchmark with FAISS and hnswlib, the search one with ripgrep and grep.
bench_pkgs=(python3-pandas sqlite3 python3-faiss python3-hnswlib ripgrep grep linux-source)
fuzz_pkgs=(clang libclang-rt-14-dev)
valgrind_pkgs=(valgrind)
# The browser agent's tests drive a real Chromium, Firefox ESR and WebKitGTK
# (WebKitWebDriver, on an Xvfb display) (also in test_pkgs).
browser_pkgs=(chromium firefox-esr webkit2gtk-driver xvfb)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = browsers ]; then
  want=("${browser_pkgs[@]}")
elif [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
elif [ "${1:-build}" = bench ]; then
  want+=("${bench_pkgs[@]}")
elif [ "${1:-build}" = fuzz ]; then
  want+=("${fuzz_pkgs[@]}")
elif [ "${1:-build}" = valgrind ]; then
  want+=("${test_pkgs[@]}" "${valgrind_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "errand needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
