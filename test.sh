#!/usr/bin/env bash
# Runs every TimeFusion test. Installs what the tests need first (Azurite from npm, psql from Debian),
# so a fresh clone needs nothing else. Prints "N passed, N failed" as its last line.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v psql >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql-client (psql) for the wire-protocol tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  else
    echo "psql is missing: install postgresql-client (the wire-protocol tests use it)" >&2
    exit 1
  fi
fi

# Azurite (the test fixture starts it on free loopback ports) and node-postgres (the node driver tests), pinned by
# package-lock.json.
if [ ! -x node_modules/.bin/azurite ] || [ ! -d node_modules/pg-copy-streams ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test TimeFusion.sln -c Release --blame-hang-timeout 10m "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
