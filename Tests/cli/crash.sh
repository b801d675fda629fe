#!/usr/bin/env bash
# Atomic receive under SIGKILL (issue: session management and storage).
# A receiver drains a queue of 3000 messages and is killed with SIGKILL at random
# instants, 50 times; then the whole queue is redelivered to a final run. Every
# message must be in the inbound table exactly once: a kill either lost a
# message entirely (received again on redelivery) or kept it entirely (its
# redelivery is a duplicate), never half of it.
# Usage: Tests/cli/crash.sh PATH_TO_E2EE_BINARY
set -euo pipefail

E2EE=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0 failed=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok   - $name"; passed=$((passed + 1)); else echo "FAIL - $name"; failed=$((failed + 1)); fi
}

"$E2EE" init --store alice
"$E2EE" init --store bob
"$E2EE" bundle --store bob --out bob.bundle
echo "hello" | "$E2EE" encrypt --store alice --peer bob --bundle bob.bundle --out first.msg
"$E2EE" decrypt --store bob --peer alice --in first.msg >/dev/null
echo "hi" | "$E2EE" encrypt --store bob --peer alice --out reply.msg
"$E2EE" decrypt --store alice --peer bob --in reply.msg >/dev/null

count=3000
mkdir plain queue
for i in $(seq -w 1 $count); do printf 'message %s' "$i" >"plain/m$i"; done
"$E2EE" encrypt --store alice --peer bob --in-dir plain --out-dir queue

# Each run starts over from the head of the queue (received messages are
# duplicates) and is killed 40-120 ms in: inside a decrypt, a commit, or a
# duplicate check. Half the runs fsync every commit (synchronous=FULL).
kills=0 midstream=0 last=1
RANDOM=2026
for k in $(seq 1 50); do
    if ((k % 2)); then sync=full; else sync=normal; fi
    "$E2EE" receive --store bob --peer alice --dir queue --sync "$sync" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' $((40 + RANDOM % 80)))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null || true
    # Progress so far (the receiver is dead, so the store is free to read).
    now=$("$E2EE" inbox --store bob | wc -l)
    if ((now > last && now < count + 1)); then midstream=$((midstream + 1)); fi
    last=$now
done
echo "killed $kills runs; $midstream of them after partial progress; $last of $((count + 1)) received before redelivery"
check "50 receivers were killed with SIGKILL" test "$kills" -eq 50
check "at least 10 kills landed after partial progress" test "$midstream" -ge 10

summary=$("$E2EE" receive --store bob --peer alice --dir queue)
echo "final run: $summary"
check "the final run rejects nothing" grep -q "rejected 0" <<<"$summary"

"$E2EE" inbox --store bob >inbox.jsonl
{
    printf 'hello\n' | od -An -tx1 | tr -d ' \n'; echo
    for f in plain/*; do od -An -tx1 <"$f" | tr -d ' \n'; echo; done
} | sort >expected.txt
sed -E 's/.*"plaintext_hex": "([0-9a-f]*)".*/\1/' inbox.jsonl | sort >got.txt
check "inbound table holds $((count + 1)) messages" test "$(wc -l <inbox.jsonl)" -eq $((count + 1))
check "every message exactly once, none lost" cmp -s expected.txt got.txt
check "sequence numbers are unique" test "$(sed -E 's/.*"sequence": ([0-9]+).*/\1/' inbox.jsonl | sort -u | wc -l)" -eq $((count + 1))

echo "$passed passed, $failed failed"
test "$failed" -eq 0
