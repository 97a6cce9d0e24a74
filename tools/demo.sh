#!/bin/sh
# The demo: starts the bundled fake API with a demo fleet (ten clusters of
# six engines, some healthy, some with stale, missing, stuck or shrinking
# backups) on a free loopback port, lists a few backups, then audits the
# whole folder with scripts/audit.lua and the example policy
# scripts/policies/production.lua, and explains the exit status.
#   tools/demo.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
mdblua="$build/mdblua"
fakeapi="$build/tests/fakeapi/fakeapi"
[ -x "$mdblua" ] && [ -x "$fakeapi" ] || {
  echo "demo: build first: cmake -S . -B $build && cmake --build $build" >&2
  exit 2
}

tmp=$(mktemp -d)
fifo="$tmp/fifo"
mkfifo "$fifo"
# The fleet's second step (POST /fake/v1/step) is the same fleet without a
# manual backup and without one cluster, for the history part at the end.
"$fakeapi" --demo --token demo-token --lifetime 120 --step --demo \
  --without 'c9qpaymentsprod00006:manual_*' --without c9qmetricsstaging008 >"$fifo" 2>/dev/null &
read -r url pid <"$fifo"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

export YC_MDB_ENDPOINT="$url" YC_IAM_TOKEN=demo-token YC_FOLDER_ID=b1gdemofolder0000001
run() {
  printf '\n$ mdblua %s\n' "$*"
  "$mdblua" "$@"
}
echo "Fake MDB API with a demo fleet at $url (folder $YC_FOLDER_ID)"
run scripts/list-backups.lua --engine postgresql --limit 5
run scripts/inventory.lua

policy=scripts/policies/production.lua
status=0
run scripts/audit.lua --policy "$policy" || status=$?
echo
case $status in
  0) echo "audit.lua exited with status 0: every check passed on every cluster." ;;
  1) echo "audit.lua exited with status 1: at least one cluster has a warning or critical finding" \
          "(the rows above); 0 would mean all ok, 2 an API, usage or policy error." ;;
  2) echo "audit.lua exited with status 2: an API, usage or policy error, or a cluster whose" \
          "backups could not be listed; 1 would mean warnings or critical findings, 0 all ok." ;;
  *) echo "audit.lua exited with status $status (unexpected)." ;;
esac
echo "Try: $mdblua scripts/audit.lua --policy $policy --format json   (or csv, junit, prometheus, nagios...)"

# The same audit as a page to look at: one self-contained HTML file (said
# at the end, after the fleet has changed for the history part).
report="$(cd "$build" && pwd)/demo-report.html"
run scripts/audit.lua --policy "$policy" --format html --output "$report" || true

# History: record a scan, let the fleet change (a manual backup deleted, a
# cluster gone), record another, and print what changed.
db="$tmp/history.db"
echo
run scripts/snapshot.lua --db "$db"
curl -s -X POST "$url/fake/v1/step" >/dev/null 2>&1 || echo "demo: curl is needed to step the fake fleet" >&2
run scripts/snapshot.lua --db "$db"
status=0
run scripts/changes.lua --db "$db" || status=$?
echo
echo "changes.lua exited with status $status (0 nothing unexpected, 1 unexpected changes, 2 errors)."
changes="$(cd "$build" && pwd)/demo-changes.html"
run scripts/changes.lua --db "$db" --format html --output "$changes" || true
echo "The same changes as a page: $changes"

echo "The HTML report of the demo fleet is in $report (open it in a browser; it loads nothing)."
