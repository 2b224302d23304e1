# check_dockerfile.sh — the Dockerfile stays true to the build (there is no
# container engine here to build it): its running stage installs the Debian
# package of every library errand links or dlopen()s, its build stage every
# -dev package scripts/deps.sh names for a build, and the sources it copies
# are enough for CMake to configure errand without the tests.
#   bash tests/check_dockerfile.sh ERRAND_BINARY SOURCE_DIR
set -u
errand=$1 src=$2
df="$src/Dockerfile"
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# The packages of one stage's `apt-get install` (stage 1: build, 2: the image).
stage_pkgs() {
  awk -v want="$1" '/^FROM /{n++} n==want' "$df" | tr ' \\' '\n\n' |
    sed -n '/^install$/,/^&&$/p' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -v '^install$'
}
build=$(stage_pkgs 1)
image=$(stage_pkgs 2)
[ -n "$build" ] || fail "no apt-get install found in the build stage"
[ -n "$image" ] || fail "no apt-get install found in the running stage"

# Libraries: those the binary needs at load time, and those it dlopen()s.
sonames=$(readelf -d "$errand" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
sonames+=" "$(grep -rhoE 'names\[\] = \{ "lib[a-z0-9_-]+\.so\.[0-9.]+"' "$src/src" "$src/server" |
              grep -oE 'lib[^"]+')
for so in $sonames; do
  case "$so" in libasan.so*|libubsan.so*) continue ;; esac   # the sanitizer build's own
  path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|x86_64|aarch64/ {print $NF; exit}')
  [ -n "$path" ] || { fail "$so is not installed on this machine"; continue; }
  # Merged /usr: dpkg knows a library under one of its two names.
  pkg=$(dpkg -S "/usr${path#/usr}" "${path#/usr}" 2>/dev/null | head -1 | cut -d: -f1)
  case "$pkg" in
    "") fail "no Debian package owns $so ($path)" ;;
    libc6) ;;   # in every Debian image
    *) grep -qx "$pkg" <<<"$image" && echo "ok: $so ← $pkg" ||
         fail "the running image lacks $pkg (for $so)" ;;
  esac
done

# Build packages: what `make build` installs, less the test fakes' CivetWeb.
deps=$(sed -n '/^build_pkgs=(/,/)/p' "$src/scripts/deps.sh" | tr -d '()' | sed 's/build_pkgs=//' |
       tr ' ' '\n' | grep -v '^$')
for p in $deps; do
  case "$p" in libcivetweb-dev) continue ;; esac
  grep -qx "$p" <<<"$build" || fail "the build stage lacks $p (scripts/deps.sh build)"
done

# The sources the build stage copies configure errand on their own.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/errand-docker.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
for p in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$df"); do
  cp -r "$src/$p" "$tmp/src/" || fail "COPY $p: not in the source tree"
done
if cmake -S "$tmp/src" -B "$tmp/build" -DBUILD_TESTING=OFF >"$tmp/cmake.log" 2>&1; then
  echo "ok: the copied sources configure without the tests"
else
  cat "$tmp/cmake.log" >&2
  fail "the sources the Dockerfile copies do not configure"
fi

if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
echo "all checks passed"
