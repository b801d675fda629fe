#!/usr/bin/env bash
# Builds and runs the benchmark in release mode. Extra arguments go to `bench`
# (--quick, --filter TEXT, --json FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh
swift run -c release bench "$@"
