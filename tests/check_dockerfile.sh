# check_dockerfile.sh — the Dockerfile stays true to the build (there is no
# container engine here to build it): its running stage installs the Debian
# package of every library errand links or dlopen()s, its build stage every
# -dev package scripts/deps.sh names for a build, and the sources it copies
# are enough for CMake to configure errand without the tests.  And its
# layout keeps errand's own files (XDG data, config, state) out of every
# workspace (WORKDIR, ERRAND_WORKSPACE, ERRAND_WORKSPACES), by the paths and
# by errand itself, run with the image's environment under a scratch root.
#   bash tests/check_dockerfile.sh ERRAND_BINARY SOURCE_DIR
set -u
errand=$1 src=$2
df="$src/Dockerfile"
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# The packages of one stage's `apt-get install` (stages counted from 1).
stage_pkgs() {
  awk -v want="$1" '/^FROM /{n++} n==want' "$df" | tr ' \\' '\n\n' |
    sed -n '/^install$/,/^&&$/p' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -v '^install$'
}
# The stages by position: the one named "build", and the last (the image).
build_stage=$(grep '^FROM ' "$df" | grep -n ' AS build$' | cut -d: -f1)
last_stage=$(grep -c '^FROM ' "$df")
build=$(stage_pkgs "$build_stage")
image=$(stage_pkgs "$last_stage")
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

# The running stage's environment: ENV (continued lines joined), WORKDIR, and
# the home useradd gives the user.
stage2=$(awk -v last="$last_stage" '/^FROM /{n++} n==last' "$df" |
         sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
envval() {   # envval NAME — its value in the running stage's ENV lines, or empty
  grep -E '^ENV ' <<<"$stage2" | tr -s ' \t' '\n' | sed -n "s/^$1=//p" | tail -1
}
home=$(grep -oE -- '--home-dir [^ ]+' <<<"$stage2" | tail -1 | cut -d' ' -f2)
workdir=$(grep -E '^WORKDIR ' <<<"$stage2" | tail -1 | cut -d' ' -f2)
data=$(envval XDG_DATA_HOME); data=${data:-$home/.local/share}
conf=$(envval XDG_CONFIG_HOME); conf=${conf:-$home/.config}
state=$(envval XDG_STATE_HOME); state=${state:-$home/.local/state}
local_ws=$(envval ERRAND_WORKSPACE); local_ws=${local_ws:-$workdir}
users=$(envval ERRAND_WORKSPACES); users=${users:-$data/errand-workspaces}
within() { case "$1/" in "$2"/*) return 0 ;; *) return 1 ;; esac; }   # within PATH BASE
before=$FAILS
for w in "$local_ws" "$users"; do
  for own in "$data/errand" "$conf/errand" "$state/errand"; do
    if within "$own" "$w" || within "$w" "$own"; then
      fail "the workspace $w and errand's directory $own overlap: keep errand's files out of every workspace"
    fi
  done
done
[ "$FAILS" -eq "$before" ] &&
  echo "ok: workspaces $local_ws and $users keep clear of $data, $conf and $state"
# errand agrees: a worker with that environment (under a scratch root) passes
# its start-up check and stops only for want of a broker.
root="$tmp/root"
bin=$(readlink -f "$errand")
mkdir -p "$root$local_ws" "$root$home"
out=$(cd "$root$local_ws" && env -i PATH="$PATH" HOME="$root$home" XDG_DATA_HOME="$root$data" \
      XDG_CONFIG_HOME="$root$conf" XDG_STATE_HOME="$root$state" \
      ERRAND_WORKSPACES="$root$users" "$bin" worker code 2>&1)
if grep -q "needs a message broker" <<<"$out"; then
  echo "ok: errand starts with the image's layout"
else
  fail "errand refuses the image's layout: $out"
fi

if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
echo "all checks passed"
