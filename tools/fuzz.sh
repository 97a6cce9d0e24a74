#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz, clang with ASan+UBSan) and runs
# each for SECONDS (default 20) from its committed seed corpus.  Any crash,
# leak, UB or timeout fails the run; the input that caused it is left in
# build-fuzz/findings/.   Usage: sh tools/fuzz.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-20}
[ $# -gt 0 ] && shift
targets=${*:-"rfc3339 int64_text json_peek urls page_decode sa_key lua_parsers"}
CC=clang cmake -S . -B build-fuzz -DMDB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for t in $targets; do
  cmake --build build-fuzz -j"$(nproc)" --target "fuzz_$t" >/dev/null
done
mkdir -p build-fuzz/findings
failed=0
for t in $targets; do
  work="build-fuzz/corpus/$t"
  mkdir -p "$work"
  if build-fuzz/tests/fuzz/"fuzz_$t" -max_total_time="$secs" -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/findings/$t-" \
       "$work" "tests/fuzz/corpus/$t" >"build-fuzz/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$t.log" | grep -o '[0-9]*$')
    echo "fuzz $t: ok, $runs runs in ${secs}s"
  else
    echo "fuzz $t: FAILED (see build-fuzz/$t.log and build-fuzz/findings/)"
    tail -30 "build-fuzz/$t.log"
    failed=1
  fi
done
exit $failed
