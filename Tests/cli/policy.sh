#!/usr/bin/env bash
# The content policy (`--policy CMD`, seed 002) through the CLI: an outgoing
# plaintext the command refuses is not sent and changes nothing; an incoming
# one it refuses is held (received, kept in the inbox marked held, never shown
# as a message); a command that fails counts as a refusal; the command sees
# the direction, the peers and the group in its environment; groups too.
#
# usage: Tests/cli/policy.sh PATH_TO_E2EE_BINARY
set -Eeuo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The policy: refuses text containing "forbidden" (reason on stdout), logs
# what it saw (direction, peers, group, plaintext) to policy.log.
cat >policy <<'EOF'
#!/usr/bin/env bash
text=$(cat)
printf '%s|%s|%s|%s\n' "$E2EE_POLICY_DIRECTION" "$E2EE_POLICY_PEERS" "${E2EE_POLICY_GROUP:-}" "$text" >>"$POLICY_LOG"
if [[ $text == *forbidden* ]]; then
    echo "forbidden word ($E2EE_POLICY_DIRECTION)"
    exit 1
fi
exit 0
EOF
chmod +x policy
export POLICY_LOG="$WORK/policy.log"
POLICY="$WORK/policy"

check "init alice" "$E2EE" init --store alice
check "init bob" "$E2EE" init --store bob
check "bob publishes a bundle" "$E2EE" bundle --store bob --out bob.bundle
printf 'hello bob' >hello.txt
check "alice's first message passes her policy" \
    "$E2EE" encrypt --store alice --peer bob --bundle bob.bundle --in hello.txt --out hello.msg --policy "$POLICY"
check "bob reads it through his policy" "$E2EE" decrypt --store bob --peer alice --in hello.msg --out hello.dec --policy "$POLICY"
check "it is the plaintext" cmp -s hello.txt hello.dec
check "the policy saw alice's outgoing text, to bob" grep -qx "outgoing|bob||hello bob" policy.log
check "the policy saw bob's incoming text, from alice" grep -qx "incoming|alice||hello bob" policy.log

# Outgoing refused: exit 1 with the reason, nothing written, the store unchanged.
printf 'a forbidden thing' >bad.txt
expect_status "an outgoing plaintext the policy refuses is not sent" 1 alice \
    "$E2EE" encrypt --store alice --peer bob --in bad.txt --out bad.msg --policy "$POLICY"
check "reports rejectedByPolicy with the command's reason" stderr_has 'rejectedByPolicy(reason: "forbidden word (outgoing)")'
check "no message file" test ! -e bad.msg

# Without --policy nothing is reviewed; bob's policy holds it on arrival.
check "without --policy alice sends it" "$E2EE" encrypt --store alice --peer bob --in bad.txt --out bad.msg
check "bob's policy holds it: decrypt exits 0" \
    to_file held.out "$E2EE" decrypt --store bob --peer alice --in bad.msg --policy "$POLICY"
check "the output is a held line, not the plaintext" \
    bash -c "grep -qx 'held by policy: forbidden word (incoming) (from alice)' held.out && ! grep -q 'a forbidden thing' held.out"
expect_status "the held message was received: a second delivery is a duplicate" 1 bob \
    "$E2EE" decrypt --store bob --peer alice --in bad.msg --policy "$POLICY"
check "reports duplicate" stderr_has "duplicate"
check "bob's inbox keeps it, marked held with the reason" \
    bash -c "'$E2EE' inbox --store bob | grep -q 'forbidden word (incoming)'"

# A command that fails (status 3, or cannot run) refuses: fail closed.
expect_status "a failing policy command refuses the send" 1 alice \
    "$E2EE" encrypt --store alice --peer bob --in hello.txt --policy "exit 3"
check "reports the failure" stderr_has "policy command failed (status 3)"
expect_status "a policy that cannot run refuses the send" 1 alice \
    "$E2EE" encrypt --store alice --peer bob --in hello.txt --policy "/no/such/policy"
check "reports status 127 (the shell found no command)" stderr_has "policy command failed (status 127)"
check "a policy that ignores its stdin still allows" \
    "$E2EE" encrypt --store alice --peer bob --in hello.txt --out ok.msg --policy "true"

# receive (a queue): a held message counts as received, and the summary says so.
mkdir queue
printf 'fine 1' >q1.txt
printf 'forbidden 2' >q2.txt
check "alice queues two messages" bash -c "'$E2EE' encrypt --store alice --peer bob --in q1.txt --out queue/1.msg && '$E2EE' encrypt --store alice --peer bob --in q2.txt --out queue/2.msg"
check "bob receives the queue through his policy" \
    to_file receive.out "$E2EE" receive --store bob --peer alice --dir queue --policy "$POLICY"
check "summary: two received, one of them held" grep -qx "received 2, duplicates 0, rejected 0, held 1" receive.out

# Groups: the command sees the group id; group encrypt refused, group decrypt held.
check "init carol" "$E2EE" init --store carol
for peer in bob carol; do
    "$E2EE" bundle --store "$peer" --out "$peer.alice.bundle"
    "$E2EE" encrypt --store alice --peer "$peer" --bundle "$peer.alice.bundle" --in hello.txt --out "to.$peer.msg" 2>/dev/null ||
        "$E2EE" encrypt --store alice --peer "$peer" --in hello.txt --out "to.$peer.msg"
    "$E2EE" decrypt --store "$peer" --peer alice --in "to.$peer.msg" >/dev/null
    "$E2EE" encrypt --store "$peer" --peer alice --in hello.txt --out "from.$peer.msg"
    "$E2EE" decrypt --store alice --peer "$peer" --in "from.$peer.msg" >/dev/null
done
GID=$("$E2EE" group create --store alice --members bob,carol --out-dir create)
for f in $(ls create | LC_ALL=C sort -t. -k1,1 -k2,2n); do
    "$E2EE" decrypt --store "${f%%.*}" --peer alice --in "create/$f" >/dev/null
done
expect_status "a group message the policy refuses is not sent" 1 alice \
    "$E2EE" group encrypt --store alice --group "$GID" --in bad.txt --out gbad.msg --policy "$POLICY"
check "the policy saw the group and its members" grep -qx "outgoing|bob,carol|$GID|a forbidden thing" policy.log
check "alice sends it without a policy" "$E2EE" group encrypt --store alice --group "$GID" --in bad.txt --out gbad.msg
check "carol's policy holds it" \
    to_file gheld.out "$E2EE" group decrypt --store carol --group "$GID" --peer alice --in gbad.msg --policy "$POLICY"
check "carol's output is the held line" grep -qx "held by policy: forbidden word (incoming) (from alice)" gheld.out
check "carol's policy saw it from alice, in the group" grep -qx "incoming|alice|$GID|a forbidden thing" policy.log
check "bob, without a policy, reads it" \
    bash -c "'$E2EE' group decrypt --store bob --group '$GID' --peer alice --in gbad.msg | grep -qx 'a forbidden thing'"
check "no group update or distribution ever reached the policy" bash -c "! grep -qa \$'\\x01\\x04\\|\\x01\\x06' policy.log"

finish
