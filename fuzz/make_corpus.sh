#!/usr/bin/env bash
# Regenerates the seed corpora (fuzz/<target>/corpus/) and the decrypt harness's
# committed records (fuzz/decrypt/*.record) from fuzz/Targets/Corpus.swift.
# Deterministic: a second run changes nothing. Inputs merged into a corpus by
# `fuzz/run.sh --merge` are kept.
#
# Usage: bash fuzz/make_corpus.sh [--check]
#   --check  write nothing; exit 1 if a seed is missing or stale
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
log=$(swift build --scratch-path .build-corpus --product make_corpus 2>&1) || { echo "$log" >&2; exit 1; }
SWIFT_BACKTRACE=enable=no "$(swift build --scratch-path .build-corpus --show-bin-path)/make_corpus" "$(pwd)" "$@"
