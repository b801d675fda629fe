#!/usr/bin/env bash
# Atomic batched receive under SIGKILL (issue: session management and storage;
# issue 14: batched commits). A receiver drains a queue of 3000 messages in
# chunks of 50, one transaction each (`receive --commit-every 50`), and is
# killed with SIGKILL at random instants, up to 50 times; each run starts over
# from the head of the queue, as a relay redelivers it. Then the whole queue
# is redelivered to a final run. Every message must be in the inbound table
# exactly once: a kill either lost a chunk entirely (received again on
# redelivery) or kept it entirely (its redelivery is a duplicate), never part
# of it — after every kill the inbox holds a whole number of chunks — and the
# final run counts as duplicates exactly the messages received before it.
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
now_ms() { echo $(($(date +%s%N) / 1000000)); }

"$E2EE" init --store alice
"$E2EE" init --store bob
"$E2EE" bundle --store bob --out bob.bundle
echo "hello" | "$E2EE" encrypt --store alice --peer bob --bundle bob.bundle --out first.msg
"$E2EE" decrypt --store bob --peer alice --in first.msg >/dev/null
echo "hi" | "$E2EE" encrypt --store bob --peer alice --out reply.msg
"$E2EE" decrypt --store alice --peer bob --in reply.msg >/dev/null

count=3000 chunk=50
mkdir plain queue empty
for i in $(seq -w 1 $count); do printf 'message %s' "$i" >"plain/m$i"; done
"$E2EE" encrypt --store alice --peer bob --in-dir plain --out-dir queue

# Calibration on a copy of bob's store: the start-up cost and a whole run, so
# that the kills land inside runs whatever the build and the machine's load.
cp -r bob calibration
t0=$(now_ms)
"$E2EE" receive --store calibration --peer alice --dir empty >/dev/null
t1=$(now_ms)
"$E2EE" receive --store calibration --peer alice --dir queue --commit-every $chunk >/dev/null
t2=$(now_ms)
rm -rf calibration
# What starting `sleep` costs here, paid on top of each delay.
t3=$(now_ms); sleep 0; t4=$(now_ms)
startup=$((t1 - t0)) whole=$((t2 - t0)) spawn=$((t4 - t3))
((whole > startup + 5)) || whole=$((startup + 5))
echo "calibration: start-up $startup ms, a whole run $whole ms, sleep's own start $spawn ms"

# Each run goes through the chunks received before (duplicates: their cost
# relative to new ones, dup_pct, is learnt from the runs' progress) and is
# killed at a random instant up to two chunks' time beyond them: inside a decrypt, a chunk's commit, or a duplicate check. Half
# the runs fsync every commit (synchronous=FULL).
per_message_us=$(((whole - startup) * 1000 / count)) dup_pct=70 bias_us=0
kills=0 midstream=0 last=1 misaligned=0 runs=0
RANDOM=2026
for k in $(seq 1 50); do
    if ((k % 2)); then sync=full; else sync=normal; fi
    delay=$((startup - spawn + ((last - 1) * per_message_us * dup_pct / 100 + bias_us
                                + RANDOM % (2 * chunk * per_message_us + 1)) / 1000))
    ((delay > 0)) || delay=0
    "$E2EE" receive --store bob --peer alice --dir queue --commit-every $chunk --sync "$sync" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null || true
    runs=$((runs + 1))
    # Progress so far (the receiver is dead, so the store is free to read).
    now=$("$E2EE" inbox --store bob | wc -l)
    if (((now - 1) % chunk != 0)); then misaligned=$((misaligned + 1)); echo "after run $k: $now messages, not whole chunks"; fi
    if ((now > last && now < count + 1)); then midstream=$((midstream + 1)); fi
    # No progress: the run costs more than assumed; a big leap: less.
    if ((now == last)); then
        bias_us=$((bias_us + chunk * per_message_us / 2))
        if ((now > 1 && dup_pct < 150)); then dup_pct=$((dup_pct + 5)); fi
    fi
    if ((now > last + 3 * chunk)); then
        bias_us=$((bias_us > chunk * per_message_us / 2 ? bias_us - chunk * per_message_us / 2 : 0))
        if ((dup_pct > 20)); then dup_pct=$((dup_pct - 5)); fi
    fi
    last=$now
    # Leave the final run some chunks to receive.
    if ((now > count + 1 - 4 * chunk)); then break; fi
done
before=$((last - 1))
echo "killed $kills of $runs runs; $midstream of them after partial progress; $before of $count received before redelivery"
check "most receivers were killed with SIGKILL mid-run" test $((2 * kills)) -ge "$runs"
check "at least 5 kills landed after partial progress" test "$midstream" -ge 5
check "every kill left whole chunks: none half-committed" test "$misaligned" -eq 0

summary=$("$E2EE" receive --store bob --peer alice --dir queue)
echo "final run: $summary"
check "the final run rejects nothing" grep -q "rejected 0" <<<"$summary"
check "the final run receives exactly the rest" grep -q "^received $((count - before)), " <<<"$summary"
check "the final run counts the $before received before as duplicates" grep -q "duplicates $before," <<<"$summary"

"$E2EE" inbox --store bob >inbox.jsonl
{
    printf 'hello\n' | od -An -tx1 | tr -d ' \n'; echo
    for f in plain/*; do od -An -tx1 <"$f" | tr -d ' \n'; echo; done
} | sort >expected.txt
sed -E 's/.*"plaintext_hex": "([0-9a-f]*)".*/\1/' inbox.jsonl | sort >got.txt
check "inbound table holds $((count + 1)) messages" test "$(wc -l <inbox.jsonl)" -eq $((count + 1))
check "every message exactly once, none lost" cmp -s expected.txt got.txt
check "sequence numbers are unique" test "$(sed -E 's/.*"sequence": ([0-9]+).*/\1/' inbox.jsonl | sort -u | wc -l)" -eq $((count + 1))
# Redelivered once more, the whole queue is duplicates.
again=$("$E2EE" receive --store bob --peer alice --dir queue)
check "a second redelivery is all duplicates" test "$again" = "received 0, duplicates $count, rejected 0"

echo "$passed passed, $failed failed"
test "$failed" -eq 0
