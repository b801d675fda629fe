#!/usr/bin/env bash
# The relay (relay/, its own package): a warning-free build, its tests (which
# run real e2ee-relay processes on loopback), the CLI walkthrough of the
# README, and a short relay-bench run. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== relay: build (warnings are errors; the dependencies' own are theirs)"
log=$(mktemp)
swift build --package-path relay --build-tests 2>&1 | tee "$log"
if grep -E "warning:" "$log" | grep -v "/relay/.build/checkouts/" | grep -v "^warning: 'swift-distributed-tracing': ";  then
    echo "relay-test.sh: the relay build has warnings" >&2
    exit 1
fi
rm -f "$log"
bin="$(swift build --package-path relay --show-bin-path)"

# The TLS tests make their CA and certificates with Debian's openssl.
command -v openssl >/dev/null || { echo "relay-test.sh: openssl is needed (apt-get install -y openssl)" >&2; exit 1; }

echo "== relay: PostgreSQL on 127.0.0.1 (scripts/postgres.sh; installed from Debian's packages if missing)"
pg_started=$(date +%s)
export E2EE_PG_STATE="$(mktemp -d)/postgres"
trap 'scripts/postgres.sh stop; rm -rf "$(dirname "$E2EE_PG_STATE")"' EXIT
pg_url=$(scripts/postgres.sh start)
echo "postgres ready in $(( $(date +%s) - pg_started )) s"

echo "== relay: swift test on SQLite and PostgreSQL (servers on 127.0.0.1)"
# REQUIRE: a run without the PostgreSQL variants fails rather than passing quietly.
E2EE_RELAY_BIN="$bin/e2ee-relay" E2EE_RELAY_TEST_POSTGRES="$pg_url" E2EE_RELAY_REQUIRE_POSTGRES=1 \
    swift test --package-path relay --skip-build

echo "== relay: two people talk through e2ee-relay with the README's commands"
swift build --product e2ee
bash relay/Tests/cli/relay_cli.sh "$bin"

echo "== relay: relay-bench smoke run (debug build; figures need -c release)"
"$bin/relay-bench" --clients 4 --seconds 1 --rate 200
echo "== relay: relay-bench with idle connected devices (the relay's RSS per connection)"
"$bin/relay-bench" --clients 4 --seconds 1 --rate 200 --devices 50
