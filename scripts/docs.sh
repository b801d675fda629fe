#!/usr/bin/env bash
# Builds the DocC documentation of E2EE and E2EEStore with warnings treated as
# errors (a broken symbol link, an unknown article, a malformed catalog) and
# fails if a public symbol has no doc comment or a top-level one is in no topic
# group (scripts/doccoverage.py, over docc's own coverage output). The code in
# the articles is compiled and run by Tests/E2EETests/DocCArticleTests.swift.
# Archives: .build/plugins/Swift-DocC/outputs/{E2EE,E2EEStore}.doccarchive.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=.build/plugins/Swift-DocC/outputs
rm -f "$out/E2EE.doccarchive/documentation-coverage.json" "$out/E2EEStore.doccarchive/documentation-coverage.json"
# One plugin run for both targets (the package is loaded once). --disable-sandbox:
# docc writes under .build; the coverage flags add documentation-coverage.json
# to each archive.
swift package --disable-sandbox generate-documentation --target E2EE --target E2EEStore \
    --warnings-as-errors \
    --experimental-skip-synthesized-symbols \
    --experimental-documentation-coverage --coverage-summary-level brief
python3 scripts/doccoverage.py "$out/E2EE.doccarchive" "$out/E2EEStore.doccarchive"
