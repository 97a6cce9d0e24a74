#!/bin/sh
# The demo: starts the bundled fake API with a demo fleet on a free
# loopback port and runs scripts/list-backups.lua against it.
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

fifo=$(mktemp -u)
mkfifo "$fifo"
"$fakeapi" --demo --token demo-token --lifetime 120 >"$fifo" 2>/dev/null &
read -r url pid <"$fifo"
rm -f "$fifo"
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM

export YC_MDB_ENDPOINT="$url" YC_IAM_TOKEN=demo-token YC_FOLDER_ID=b1gdemofolder0000001
run() {
  printf '\n$ mdblua %s\n' "$*"
  "$mdblua" "$@"
}
echo "Fake MDB API with a demo fleet at $url (folder $YC_FOLDER_ID)"
run scripts/list-backups.lua --engine postgresql
run scripts/list-backups.lua --engine mongodb --limit 5
cluster=$("$mdblua" -e '
  local c = require("mdb").client()
  for cl in c:clusters { engine = "mysql" } do print(cl.id) break end')
run scripts/list-backups.lua --engine mysql --cluster "$cluster" --limit 3 --json
