#!/bin/sh
# The benchmark, on demand (not part of CI): a release build in
# build-bench/, then bench/run.lua.  Needs python3 and lua5.4 for the
# baselines.   Usage: sh bench/run.sh [RUNS [SCENARIOS]] (default 5, all;
# SCENARIOS e.g. stream,stream10k,scripts)
#               sh bench/run.sh quota [RUNS] (default 1): the quota scenario only
#               sh bench/run.sh history [RUNS [PARTS]] (default 3, all): the history
#                 benchmark; PARTS e.g. 1m,fleet,100k
set -eu
cd "$(dirname "$0")/.."
for p in python3 lua5.4; do
  command -v "$p" >/dev/null || { echo "bench: $p is needed (apt-get install $p)" >&2; exit 2; }
done
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target mdblua fakeapi bench_measure bench_c_client >/dev/null
if [ "${1:-}" = history ]; then   # the history benchmark: sh bench/run.sh history [RUNS]
  build-bench/mdblua bench/history.lua build-bench "${2:-3}" "${3:-}"; exit
fi
if [ "${1:-}" = quota ]; then
  exec build-bench/mdblua bench/quota.lua build-bench "${2:-1}"
fi
build-bench/mdblua bench/run.lua build-bench "${1:-5}" "${2:-}"
