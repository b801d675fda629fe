#!/usr/bin/env bash
# The tests that run work on several threads, under ThreadSanitizer: the
# session manager from a thousand tasks (MemoryStore) and from many tasks over
# one SQLite file, concurrent SQLite commits, batched AEAD split across threads,
# the group backlog's parallel signature checks, and empty plaintexts opened
# on many threads. Any report fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

filter='thousandAddressesInParallel|concurrentCommitsToDifferentAddresses|managerOverSQLiteFromManyTasks'
filter+='|sealBatchEqualsSingleSeal|openBatchEqualsSingleOpenWithCorruptItems|largeParallelBatchMatchesSerial'
filter+='|backlogAgreesWithOneByOneAndIsolatesBadMessages|emptyPlaintextsOpenOnManyThreads'

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests --sanitize=thread --scratch-path .build-tsan 2>&1 | tail -n 1
status=0
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "$filter" >"$log" 2>&1 || status=$?
grep -E "Test run with|Executed|passed after|failed after" "$log" | tail -n 4
if grep -q "ThreadSanitizer" "$log"; then
    grep -A 30 "WARNING: ThreadSanitizer" "$log" | head -n 60
    echo "tsan.sh: ThreadSanitizer reported a problem" >&2
    exit 1
fi
if [[ $status -ne 0 ]]; then
    tail -n 40 "$log"
    echo "tsan.sh: the tests failed under ThreadSanitizer" >&2
    exit "$status"
fi
# The filter must have matched: a run of nothing proves nothing.
n=$(grep -Eo "Test run with [0-9]+ test" "$log" | grep -Eo "[0-9]+" | head -n 1)
if [[ -z $n || $n -lt 8 ]]; then
    echo "tsan.sh: expected at least 8 tests to run, got '${n:-none}'" >&2
    exit 1
fi
echo "tsan.sh: $n tests, no report"
