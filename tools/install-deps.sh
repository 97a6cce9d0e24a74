#!/bin/sh
# Installs what mdblua needs to build and test on Debian 12, as root.
# Skips apt entirely when everything is already there (fast, offline CI).
set -eu
PKGS="build-essential cmake pkg-config ca-certificates procps
liblua5.4-dev libcurl4-openssl-dev lua-cjson-dev libmicrohttpd-dev zlib1g-dev
libedit-dev lua5.4 luarocks man-db"
# Credentials: libcrypto signs service-account JWTs (and the fake IAM checks
# them); the openssl CLI makes the tests' keys and certificates; GnuTLS is
# what libmicrohttpd's HTTPS listener (the fake API over TLS) is built on.
PKGS="$PKGS libssl-dev openssl libgnutls28-dev"
# Robustness: clang with libFuzzer for tests/fuzz, valgrind for the soak run.
PKGS="$PKGS clang libclang-rt-14-dev valgrind"
# The Debian package (tools/package-test.sh): dpkg-dev for dpkg-shlibdeps
# and dpkg-buildflags, file for CPack's ELF detection, lintian to check it.
PKGS="$PKGS dpkg-dev file lintian"
# Output checked by the tools that read it: promtool (package prometheus)
# for the Prometheus textfiles; luacheck (package lua-check) for the Lua.
PKGS="$PKGS prometheus lua-check"
# The C style (tests: lint.clang_format).
PKGS="$PKGS clang-format"
# The HTML report's browser test (tests/browser) renders it in headless chromium
# and reads the page it prints to PDF back with pdftotext (poppler-utils).
PKGS="$PKGS chromium poppler-utils"
# History (mdb.history): libsqlite3 for the binding, the sqlite3 shell for
# the tests and for reading history files by hand; curl steps the fake
# API's fleet (POST /fake/v1/step) in the history tests.
PKGS="$PKGS libsqlite3-dev sqlite3 curl"
# The host's allocator (CMakeLists.txt: MDB_MIMALLOC).
PKGS="$PKGS libmimalloc-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
