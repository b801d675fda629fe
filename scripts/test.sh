#!/usr/bin/env bash
# Every test of swift-e2ee: vectors re-derived by the independent Python script,
# a warning-free build, `swift test`, the DocC documentation (warnings are
# errors, every public symbol documented), the Swift tests again under AddressSanitizer,
# and the C core's own test under ASan + UBSan.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh --with-python

echo "== test vectors against the independent Python implementation"
python3 scripts/gen_vectors.py --check
python3 scripts/gen_protocol_vectors.py --check
python3 scripts/gen_safety_vectors.py --check
python3 scripts/gen_group_vectors.py --check
python3 scripts/gen_pqxdh_vectors.py --check

echo "== layers: no file uses a type from a higher floor (docs/DESIGN.md)"
python3 scripts/layercheck.py

echo "== build (warnings are errors)"
log=$(mktemp)
swift build --build-tests 2>&1 | tee "$log"
if grep -E "warning:" "$log"; then
    echo "test.sh: the build has warnings" >&2
    exit 1
fi
rm -f "$log"

echo "== swift test"
swift test

echo "== documentation"
bash scripts/docs.sh

echo "== e2ee CLI: two stores converse through files"
swift build --product e2ee
bash Tests/cli/conversation.sh "$(swift build --product e2ee --show-bin-path)/e2ee"
echo "== e2ee CLI: usage errors, help, --version, completions, relay forwarding"
bash Tests/cli/usage.sh "$(swift build --product e2ee --show-bin-path)/e2ee"
echo "== e2ee CLI: the content policy (--policy CMD)"
bash Tests/cli/policy.sh "$(swift build --product e2ee --show-bin-path)/e2ee"
echo "== e2ee CLI: sender-key groups"
bash Tests/cli/group.sh "$(swift build --product e2ee --show-bin-path)/e2ee"
echo "== atomic batched receive: SIGKILLs while receiving a queue"
bash Tests/cli/crash.sh "$(swift build --product e2ee --show-bin-path)/e2ee"
echo "== two processes sharing one store"
swift build --product store-hammer
bash Tests/cli/hammer.sh "$(swift build --product store-hammer --show-bin-path)/store-hammer"

bash scripts/relay-test.sh

echo "== secrets are wiped before their memory is freed"
bash scripts/secretscan.sh

echo "== swift test under AddressSanitizer"
LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0" \
    swift test --sanitize=address --scratch-path .build-asan

echo "== C core under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/ctest.sh

echo "== C core: no branch or address depends on a secret (valgrind)"
bash scripts/ctcheck.sh

echo "== concurrency tests under ThreadSanitizer"
bash scripts/tsan.sh
