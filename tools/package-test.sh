#!/bin/sh
# The Debian package, end to end: builds mdblua_<version>_<arch>.deb with
# cpack in build-deb/ (prefix /usr, Debian's hardening flags from
# dpkg-buildflags), checks it with lintian (no errors), installs it with
# dpkg -i, runs the installed mdblua --version, a bundled script by name
# against the fake API and Debian's lua5.4 requiring mdb, then purges it.
#
# Safe on a development machine: the purge runs however the script ends
# (trap), and it refuses to replace an mdblua package that was installed
# before it ran.  Installing needs root: as another user it builds and
# lints, and says that it skipped the rest.
# Environment: MDB_FAKEAPI, the fake API binary (default: the one in
# build/, built if missing).  Exit status 0 only if every check passed.
set -eu
cd "$(dirname "$0")/.."
src=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
build=$src/build-deb
say() { printf 'package-test: %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

# Build with the flags a Debian package build uses, all hardening on
# (given as cache values, so a build-deb/ configured before takes them).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DMDB_BUILD_TESTS=OFF \
  -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null
version=$("$build/mdblua" -v | sed -n 's/^mdblua \([0-9.]*\) .*/\1/p')
arch=$(dpkg --print-architecture)
deb=$build/mdblua_${version}_${arch}.deb
rm -f "$deb"
(cd "$build" && cpack -G DEB >/dev/null)
[ -f "$deb" ] || fail "cpack made no $deb"
say "built ${deb#"$src"/}"

# lintian: no errors (warnings and notes are printed, not fatal).
lintian --fail-on error "$deb" || fail "lintian found errors"
say "lintian: no errors"

# Depends from dpkg-shlibdeps: what the host and the module link.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 libedit2 lua-cjson; do
  case $depends in
    *"$lib "*) ;;
    *) fail "Depends lacks $lib: $depends" ;;
  esac
done
say "Depends: $depends"

if [ "$(id -u)" != 0 ]; then
  say "SKIPPED the install checks: dpkg -i needs root"
  exit 0
fi
if dpkg-query -W -f='${Status}' mdblua 2>/dev/null | grep -q 'installed'; then
  fail "an mdblua package is already installed; not replacing it"
fi

fake_pid=""
installed=""
cleanup() {
  status=$?
  set +e   # every step below runs, whatever the one before did
  [ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null
  if [ -n "$installed" ]; then
    dpkg --purge mdblua >/dev/null || status=1
    [ ! -e /usr/bin/mdblua ] || { say "FAILED: /usr/bin/mdblua left after the purge" >&2; status=1; }
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

installed=yes
dpkg -i "$deb" >/dev/null || fail "dpkg -i"
say "installed"

# The host, from PATH, as a user would run it.
out=$(cd / && mdblua --version)
case $out in
  "mdblua $version (Lua 5.4."*) ;;
  *) fail "mdblua --version: $out" ;;
esac
[ "$(command -v mdblua)" = /usr/bin/mdblua ] || fail "mdblua is not /usr/bin/mdblua"

# A bundled script by name against the fake API.
fakeapi=${MDB_FAKEAPI:-$src/build/tests/fakeapi/fakeapi}
if [ ! -x "$fakeapi" ]; then
  cmake -S . -B build >/dev/null
  cmake --build build -j"$jobs" --target fakeapi >/dev/null
fi
fifo=$(mktemp -u "${TMPDIR:-/tmp}/mdblua-package-test.XXXXXX")
mkfifo "$fifo"
"$fakeapi" --port 0 --token package-test-token --lifetime 120 \
  --generate engine=postgresql,clusters=2,backups=3 >"$fifo" 2>/dev/null &
fake_pid=$!
read -r url _ <"$fifo" || url=""
rm -f "$fifo"
[ -n "$url" ] || fail "the fake API ($fakeapi) did not start"
out=$(cd / && YC_IAM_TOKEN=package-test-token YC_MDB_ENDPOINT=$url \
  YC_FOLDER_ID=b1gfakefolder0000001 mdblua inventory --engine postgresql --format csv) \
  || fail "mdblua inventory: status $?"
for id in cpostgresql-0000 cpostgresql-0001; do
  case $out in *"$id"*) ;; *) fail "inventory lacks $id: $out" ;; esac
done
out=$(cd / && YC_IAM_TOKEN=package-test-token YC_MDB_ENDPOINT=$url \
  mdblua /usr/share/mdblua/scripts/list-backups.lua --engine postgresql \
  --cluster cpostgresql-0000 --json) || fail "list-backups.lua: status $?"
case $out in *cpostgresql-0000:000002*) ;; *) fail "list-backups.lua: $out" ;; esac
say "mdblua inventory and list-backups.lua listed the fake API"

# Debian's lua5.4 finds the module and the libraries with no LUA_*PATH.
out=$(cd / && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 \
  lua5.4 -e 'local mdb = require "mdb"; require "mdb.fmt"
    print(mdb.version, package.searchpath("mdb", package.cpath))') \
  || fail "lua5.4 -e 'require \"mdb\"'"
case $out in
  "$version	/usr/lib/"*"/lua/5.4/mdb.so") ;;
  *) fail "lua5.4 require: $out" ;;
esac
say "lua5.4 requires mdb: $out"

# The documents where Debian keeps them.
[ "$(man -w mdblua)" = /usr/share/man/man1/mdblua.1.gz ] || fail "man -w mdblua"
for f in /usr/share/bash-completion/completions/mdblua \
         /usr/share/doc/mdblua/copyright /usr/share/doc/mdblua/changelog.gz \
         /usr/share/doc/mdblua/examples/systemd/mdblua-audit.service \
         /usr/share/doc/mdblua/examples/cron/mdblua-audit; do
  [ -f "$f" ] || fail "missing $f"
done
say "all checks passed; purging"
