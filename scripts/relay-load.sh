#!/usr/bin/env bash
# The relay's load table (issue #16; docs/RELAY.md, Load): relay-bench in a
# release build on loopback against SQLite (one node) and PostgreSQL (one and
# two nodes), then the relay's memory with many idle connected devices.
#
#   bash scripts/relay-load.sh [--devices N] [--rate MSGS_PER_S] [--seconds S] [--idle N]
#
# Defaults: 1,000 connected devices sending 200-byte messages at 5,000 msg/s for
# 10 s, and 10,000 idle devices. PostgreSQL is a throwaway cluster from
# scripts/postgres.sh (installed from Debian's packages if missing), with its
# default durability (fsync and synchronous_commit on). Not part of CI: it takes
# several minutes and wants a quiet machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

devices=1000 rate=5000 seconds=10 idle=10000
while [ $# -gt 0 ]; do
    case "$1" in
    --devices) devices=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    *) echo "usage: scripts/relay-load.sh [--devices N] [--rate MSGS_PER_S] [--seconds S] [--idle N]" >&2; exit 2 ;;
    esac
done

bash scripts/deps.sh
echo "== relay-load: release build"
swift build -c release --package-path relay --product e2ee-relay >/dev/null
swift build -c release --package-path relay --product relay-bench >/dev/null
bin="$(swift build -c release --package-path relay --show-bin-path)"

export E2EE_PG_STATE="$(mktemp -d)/postgres"
out=$(mktemp -d)
trap 'scripts/postgres.sh stop; rm -rf "$(dirname "$E2EE_PG_STATE")" "$out"' EXIT
pg_url=$(scripts/postgres.sh start)

status=0
run() {   # name, relay-bench arguments...
    local name=$1; shift
    echo "== relay-load: $name"
    "$bin/relay-bench" "$@" --json "$out/$name.json" || status=1
}
run sqlite1 --clients "$devices" --rate "$rate" --seconds "$seconds"
run postgres1 --clients "$devices" --rate "$rate" --seconds "$seconds" --postgres "$pg_url"
run postgres2 --clients "$devices" --rate "$rate" --seconds "$seconds" --postgres "$pg_url" --nodes 2
run idle --clients 2 --rate 100 --seconds 1 --devices "$idle"

python3 - "$out" "$devices" "$rate" "$idle" <<'EOF'
import json, os, sys
out, devices, rate, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [("sqlite1", "SQLite, 1 node"), ("postgres1", "PostgreSQL, 1 node"), ("postgres2", "PostgreSQL, 2 nodes")]
print(f"\n{devices:,} connected devices, 200-byte messages, target {rate:,} msg/s, send→ack latency")
print("| store | delivered msg/s | p50 ms | p99 ms | max ms | failures | relay RSS at the end |")
print("|---|---|---|---|---|---|---|")
for key, label in rows:
    path = os.path.join(out, key + ".json")
    if not os.path.exists(path):
        print(f"| {label} | (no result) | | | | | |"); continue
    r = json.load(open(path))
    rss = f"{r['rss_end_bytes'] / 1048576:.0f} MiB" if "rss_end_bytes" in r else "?"
    print(f"| {label} | {r['delivered_per_second']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
          f"{r['failures']} | {rss} |")
path = os.path.join(out, "idle.json")
if os.path.exists(path):
    r = json.load(open(path))
    if "rss_per_device_bytes" in r:
        print(f"\n{idle:,} idle connected devices (SQLite, 1 node): relay RSS {r['rss_before_bytes'] / 1048576:.0f} MiB before, "
              f"{r['rss_connected_bytes'] / 1048576:.0f} MiB connected, {r['rss_per_device_bytes'] / 1024:.1f} KiB per device "
              f"({r['idle_failed']} failed)")
EOF
exit $status
