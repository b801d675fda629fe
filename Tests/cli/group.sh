#!/usr/bin/env bash
# End-to-end test of the e2ee group (sender-key) commands: four stores with
# pairwise sessions form a group through distribution messages, exchange group
# messages (reordered, replayed, tampered), add a member and remove one; every
# rejection exits 1 and leaves the store byte-for-byte unchanged.
#
# usage: Tests/cli/group.sh PATH_TO_E2EE_BINARY
set -Eeuo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# make_plaintext FILE: 1-300 random (binary) bytes.
make_plaintext() {
    head -c $((RANDOM % 300 + 1)) /dev/urandom >"$1"
}

# flip_byte FILE OFFSET: XOR one byte with 0x01, in place.
flip_byte() {
    local file=$1 offset=$2 byte
    byte=$(od -An -tu1 -j "$offset" -N 1 "$file" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# pair A B: B publishes a bundle, A writes first, B replies: both have sessions.
pair() {
    local a=$1 b=$2
    make_plaintext "pair.$a.$b.txt"
    "$E2EE" bundle --store "$b" --out "$b.for.$a.bundle" &&
        "$E2EE" encrypt --store "$a" --peer "$b" --bundle "$b.for.$a.bundle" --in "pair.$a.$b.txt" --out "pair.$a.$b.msg" &&
        "$E2EE" decrypt --store "$b" --peer "$a" --in "pair.$a.$b.msg" --out "pair.$a.$b.dec" &&
        cmp -s "pair.$a.$b.txt" "pair.$a.$b.dec" &&
        "$E2EE" encrypt --store "$b" --peer "$a" --in "pair.$a.$b.txt" --out "pair.$b.$a.msg" &&
        "$E2EE" decrypt --store "$a" --peer "$b" --in "pair.$b.$a.msg" --out "pair.$b.$a.dec" &&
        cmp -s "pair.$a.$b.txt" "pair.$b.$a.dec"
}

# deliver FROM DIR TO: TO decrypts FROM's distribution DIR/TO.msg and reports it.
deliver() {
    local from=$1 dir=$2 to=$3
    "$E2EE" decrypt --store "$to" --peer "$from" --in "$dir/$to.msg" >"deliver.out" &&
        [[ "$(cat deliver.out)" == "group distribution: $GID from $from" ]]
}

# files_are DIR NAME...: DIR holds exactly NAME.msg for each NAME.
files_are() {
    local dir=$1
    shift
    local want=""
    for n in "$@"; do want+="$n.msg"$'\n'; done
    [[ "$(ls "$dir" | LC_ALL=C sort)"$'\n' == "$(printf '%s' "$want" | LC_ALL=C sort)"$'\n' ]]
}

# send SENDER NAME: SENDER encrypts a fresh NAME.txt to the group as NAME.msg.
send() {
    make_plaintext "$2.txt"
    "$E2EE" group encrypt --store "$1" --group "$GID" --in "$2.txt" --out "$2.msg"
}

# reads RECEIVER SENDER NAME: RECEIVER decrypts NAME.msg from SENDER, plaintext matches.
reads() {
    "$E2EE" group decrypt --store "$1" --group "$GID" --peer "$2" --in "$3.msg" --out "$3.$1.dec" &&
        cmp -s "$3.txt" "$3.$1.dec"
}

# ---------------------------------------------------------------- pairwise sessions
for who in alice bob carol dave; do
    check "init $who" "$E2EE" init --store "$who"
done
for p in "alice bob" "alice carol" "alice dave" "bob carol" "bob dave" "carol dave"; do
    check "pairwise session: ${p/ / <-> }" pair $p
done

# ---------------------------------------------------------------- forming the group
mkdir create.alice
expect_status "a member without a session is rejected" 1 alice \
    "$E2EE" group create --store alice --members bob,erin --out-dir create.alice
check "reports noSession" stderr_has "noSession(erin.1)"
check "and writes no distribution" files_are create.alice
GID=$("$E2EE" group create --store alice --members bob,carol --out-dir create.alice)
check "alice creates the group: id is 32 lowercase hex digits" bash -c "[[ '$GID' =~ ^[0-9a-f]{32}$ ]]"
check "one distribution per member (bob, carol)" files_are create.alice bob carol
check "a distribution travels as a pairwise ratchet message" \
    bash -c "'$E2EE' inspect --in create.alice/bob.msg | grep -q '\"kind\": \"ratchet\"'"

check "bob decrypts alice's distribution" deliver alice create.alice bob
mkdir join.bob
check "bob joins: group add alice,carol" "$E2EE" group add --store bob --group "$GID" --members alice,carol --out-dir join.bob
check "bob's distribution goes to alice and carol" files_are join.bob alice carol
check "carol decrypts alice's distribution" deliver alice create.alice carol
check "carol decrypts bob's distribution" deliver bob join.bob carol
mkdir join.carol
check "carol joins: group add alice,bob" "$E2EE" group add --store carol --group "$GID" --members alice,bob --out-dir join.carol
check "carol's distribution goes to alice and bob" files_are join.carol alice bob
check "alice decrypts bob's distribution" deliver bob join.bob alice
check "alice decrypts carol's distribution" deliver carol join.carol alice
check "bob decrypts carol's distribution" deliver carol join.carol bob
check "the inbox also holds the distribution's plaintext" \
    bash -c "'$E2EE' inbox --store bob | grep -q '\"sender\": \"carol\"'"

# The inbox holds the distribution's plaintext: inspect it (never showing its chain key).
"$E2EE" inbox --store bob | grep '"sender": "carol"' | grep -o '"plaintext_hex": "0104[0-9a-f]*"' |
    cut -d'"' -f4 | head -n 1 >dist.hex
check "the inbox holds carol's distribution" test -s dist.hex
xxd -r -p dist.hex >dist.bin
check "inspect a distribution" bash -c "'$E2EE' inspect --in dist.bin >dist.json"
check "inspect: kind sender_key_distribution" grep -q '"kind": "sender_key_distribution"' dist.json
check "inspect: names the group" grep -q "\"group_id\": \"$GID\"" dist.json
check "inspect: shows the signing key" grep -q '"signing_key": "[0-9a-f]\{64\}"' dist.json
check "inspect: never the chain key" bash -c "! grep -q -e '$(cut -c53-116 dist.hex)' -e chain_key dist.json"

expect_status "adding a member without a session is rejected" 1 alice \
    "$E2EE" group add --store alice --group "$GID" --members bob,erin --out-dir join.bob
check "reports noSession" stderr_has "noSession(erin.1)"

# ---------------------------------------------------------------- messages
for from in alice bob carol; do
    check "$from sends to the group" send "$from" "hello.$from"
    for to in alice bob carol; do
        [[ $to == "$from" ]] && continue
        check "$to reads $from's message" reads "$to" "$from" "hello.$from"
    done
done
check "inspect a group message" bash -c "'$E2EE' inspect --in hello.bob.msg >hello.json"
check "inspect: kind sender_key" grep -q '"kind": "sender_key"' hello.json
check "inspect: names the group" grep -q "\"group_id\": \"$GID\"" hello.json
check "inspect: iteration 0" grep -q '"iteration": 0,' hello.json
check "inspect: ciphertext length is the message less header (26) and signature (64)" \
    grep -q "\"ciphertext_length\": $(($(stat -c %s hello.bob.msg) - 90))," hello.json

for i in 1 2 3; do check "bob sends ooo.$i" send bob "ooo.$i"; done
ooo_ok=1
for i in 3 1 2; do reads alice bob "ooo.$i" || ooo_ok=0; done
check "alice reads bob's 3 messages out of order (3 1 2)" test "$ooo_ok" -eq 1
ooo_ok=1
for i in 2 3 1; do reads carol bob "ooo.$i" || ooo_ok=0; done
check "carol reads bob's 3 messages out of order (2 3 1)" test "$ooo_ok" -eq 1

# ---------------------------------------------------------------- rejections
expect_status "a replayed group message is rejected" 1 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --peer bob --in ooo.1.msg --out replay.dec
check "replay reports duplicate" stderr_has "duplicate"
check "and writes no output" test ! -e replay.dec

check "carol sends a message" send carol fresh
cp fresh.msg tampered.msg
flip_byte tampered.msg 30   # inside the ciphertext
expect_status "a tampered group message is rejected" 1 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --peer carol --in tampered.msg
check "tampering reports invalidSignature" stderr_has "invalidSignature"
expect_status "a message from the wrong sender is rejected" 1 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --peer bob --in fresh.msg
check "reports noSenderKey" stderr_has "noSenderKey(bob.1"
head -c 40 fresh.msg >short.msg
expect_status "a truncated group message is rejected" 1 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --peer carol --in short.msg
check "reports malformed" stderr_has "malformed"
check "the untampered message still decrypts" reads alice carol fresh
OTHER=00000000000000000000000000000000
expect_status "a message for an unknown group is rejected" 1 alice \
    "$E2EE" group encrypt --store alice --group "$OTHER" --in fresh.txt
check "reports unknownGroup with the full id" stderr_has "unknownGroup($OTHER)"
mkdir create.second
GID2=$("$E2EE" group create --store alice --members bob --out-dir create.second)
check "alice creates a second group with bob" test "$GID2" != "$GID"
check "bob decrypts its distribution" bash -c "'$E2EE' decrypt --store bob --peer alice --in create.second/bob.msg | grep -qx 'group distribution: $GID2 from alice'"
expect_status "a message decrypted under another group is rejected" 1 bob \
    "$E2EE" group decrypt --store bob --group "$GID2" --peer carol --in fresh.msg
check "reports wrongGroup with the full id" stderr_has "wrongGroup($GID)"

# ---------------------------------------------------------------- adding dave
check "alice sends before dave joins" send alice before
expect_status "dave has no group yet" 1 dave \
    "$E2EE" group decrypt --store dave --group "$GID" --peer alice --in before.msg
check "reports unknownGroup" stderr_has "unknownGroup"
mkdir add.alice add.bob add.carol join.dave
check "alice adds dave" "$E2EE" group add --store alice --group "$GID" --members dave --out-dir add.alice
check "only dave gets alice's distribution" files_are add.alice dave
check "dave decrypts alice's distribution" deliver alice add.alice dave
expect_status "dave cannot read a message sent before he joined" 1 dave \
    "$E2EE" group decrypt --store dave --group "$GID" --peer alice --in before.msg
check "alice sends after dave joined" send alice after
check "dave reads it" reads dave alice after
check "bob reads both" bash -c "$(declare -f reads); E2EE='$E2EE' GID='$GID'; reads bob alice before && reads bob alice after"
check "bob adds dave" "$E2EE" group add --store bob --group "$GID" --members dave --out-dir add.bob
check "carol adds dave" "$E2EE" group add --store carol --group "$GID" --members dave --out-dir add.carol
check "dave decrypts bob's distribution" deliver bob add.bob dave
check "dave decrypts carol's distribution" deliver carol add.carol dave
check "dave joins: group add alice,bob,carol" \
    "$E2EE" group add --store dave --group "$GID" --members alice,bob,carol --out-dir join.dave
check "dave's distribution goes to all three" files_are join.dave alice bob carol
for to in alice bob carol; do
    check "$to decrypts dave's distribution" deliver dave join.dave "$to"
done
check "dave sends to the group" send dave hello.dave
for to in alice bob carol; do check "$to reads dave's message" reads "$to" dave hello.dave; done
check "carol sends to the group" send carol hello2.carol
for to in alice bob dave; do check "$to reads carol's message" reads "$to" carol hello2.carol; done

# ---------------------------------------------------------------- removing carol
mkdir rm.alice rm.bob rm.dave
expect_status "removing a non-member is rejected" 1 alice \
    "$E2EE" group remove --store alice --group "$GID" --member erin --out-dir rm.alice
check "reports notAMember" stderr_has "notAMember(erin.1)"
for who in alice bob dave; do
    check "$who removes carol" "$E2EE" group remove --store "$who" --group "$GID" --member carol --out-dir "rm.$who"
done
check "alice's new chain goes to bob and dave only" files_are rm.alice bob dave
check "bob's new chain goes to alice and dave only" files_are rm.bob alice dave
check "dave's new chain goes to alice and bob only" files_are rm.dave alice bob
for from in alice bob dave; do
    for to in alice bob dave; do
        [[ $to == "$from" ]] && continue
        check "$to decrypts $from's new distribution" deliver "$from" "rm.$from" "$to"
    done
done
for from in alice bob dave; do
    check "$from sends after the removal" send "$from" "post.$from"
    expect_status "carol cannot read $from's message" 1 carol \
        "$E2EE" group decrypt --store carol --group "$GID" --peer "$from" --in "post.$from.msg"
    check "reports noSenderKey" stderr_has "noSenderKey"
    for to in alice bob dave; do
        [[ $to == "$from" ]] && continue
        check "$to reads $from's message" reads "$to" "$from" "post.$from"
    done
done
check "carol still sends on her old chain" send carol post.carol
expect_status "nobody reads carol any more" 1 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --peer carol --in post.carol.msg
check "reports noSenderKey" stderr_has "noSenderKey(carol.1"

# ---------------------------------------------------------------- usage errors
expect_status "an upper-case group id is a usage error" 2 alice \
    "$E2EE" group encrypt --store alice --group "${GID^^}" --in fresh.txt
expect_status "a short group id is a usage error" 2 alice \
    "$E2EE" group encrypt --store alice --group "${GID:0:30}" --in fresh.txt
expect_status "a non-hex group id is a usage error" 2 alice \
    "$E2EE" group decrypt --store alice --group "${GID:0:31}g" --peer bob --in fresh.msg
expect_status "missing --group is a usage error" 2 alice \
    "$E2EE" group encrypt --store alice --in fresh.txt
expect_status "missing --members is a usage error" 2 alice \
    "$E2EE" group create --store alice --out-dir rm.alice
expect_status "an empty member name is a usage error" 2 alice \
    "$E2EE" group add --store alice --group "$GID" --members bob,,dave --out-dir rm.alice
expect_status "a bad member name is a usage error" 2 alice \
    "$E2EE" group add --store alice --group "$GID" --members ../bob --out-dir rm.alice
expect_status "missing --peer on group decrypt is a usage error" 2 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --in fresh.msg
expect_status "an unknown group command is a usage error" 2 alice \
    "$E2EE" group frobnicate --store alice
expect_status "a missing group command is a usage error" 2 alice "$E2EE" group
expect_status "a missing output directory is rejected" 1 alice \
    "$E2EE" group add --store alice --group "$GID" --members bob --out-dir no/such/dir

finish
