#!/bin/sh
# Builds mdblua twice (plain, and with AddressSanitizer + UBSan) and runs
# the whole test suite in both builds (the soak run included), checks the
# Debian package (tools/package-test.sh), then a short soak under valgrind
# and every fuzz target briefly.  Exit status 0 only if all passed.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

# The Debian package: build, lintian, dpkg -i, run, purge (as root).
MDB_FAKEAPI="$PWD/build/tests/fakeapi/fakeapi" sh tools/package-test.sh

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMDB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# valgrind: zero errors and no definite or indirect leaks in a short soak.
# valgrind preloads its own malloc ahead of the host's mimalloc, so it
# tracks every block as it would with glibc's.
MDBLUA="$PWD/build/mdblua" MDB_FAKEAPI="$PWD/build/tests/fakeapi/fakeapi" \
MDB_SOURCE_DIR="$PWD" MDB_TEST_TMP="$PWD/build/test-tmp" \
YC_METADATA_ADDR=127.0.0.1:9 SOAK_ROUNDS=3 SOAK_CLUSTERS=30 \
  valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect \
    build/mdblua tests/lua/soak_scan.lua

sh tools/fuzz.sh "${MDB_FUZZ_SECONDS:-15}"
