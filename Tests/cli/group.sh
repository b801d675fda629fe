#!/usr/bin/env bash
# End-to-end test of the e2ee group (sender-key) commands with authenticated
# membership (PROTOCOL.md §5b): four stores with pairwise sessions form a group
# from alice's invitations, exchange group messages (reordered, replayed,
# tampered), an admin adds a member and removes one (everyone else replaces its
# chain), a member leaves; every rejection exits 1 and leaves the store
# byte-for-byte unchanged.
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

# got FROM FILE TO LINE: TO decrypts FILE from FROM and prints exactly LINE.
got() {
    local from=$1 file=$2 to=$3 line=$4
    "$E2EE" decrypt --store "$to" --peer "$from" --in "$file" >"deliver.out" &&
        [[ "$(cat deliver.out)" == "$line" ]]
}

# deliver_all FROM DIR: every DIR/NAME.N.msg to NAME, in N order; prints nothing, fails on any refusal.
deliver_all() {
    local from=$1 dir=$2 f to
    for f in $(ls "$dir" | LC_ALL=C sort -t. -k1,1 -k2,2n); do
        to=${f%%.*}
        "$E2EE" decrypt --store "$to" --peer "$from" --in "$dir/$f" >/dev/null || return 1
    done
}

# files_are DIR NAME...: DIR holds exactly NAME.msg for each NAME.
files_are() {
    local dir=$1
    shift
    local want=""
    for n in "$@"; do want+="$n.msg"$'\n'; done
    [[ "$(ls "$dir" | LC_ALL=C sort)"$'\n' == "$(printf '%s' "$want" | LC_ALL=C sort)"$'\n' ]]
}

# distribute WHO: WHO sends its chain to the members that need it, delivered at once.
distribute() {
    rm -rf "dist.$1" &&
        "$E2EE" group distribute --store "$1" --group "$GID" --out-dir "dist.$1" &&
        deliver_all "$1" "dist.$1"
}

# info WHO: the group's JSON as WHO sees it, in info.WHO.json.
info() { "$E2EE" group info --store "$1" --group "$GID" >"info.$1.json"; }
# json_has WHO TEXT: info.WHO.json contains TEXT with all whitespace removed.
json_has() { tr -d ' \n' <"info.$1.json" | grep -qF -- "$2"; }

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
expect_status "a member without a session is rejected" 1 alice \
    "$E2EE" group create --store alice --members bob,erin --out-dir create.alice
check "reports noSession" stderr_has "noSession(erin.1)"
check "the missing --out-dir was created, and nothing written to it" files_are create.alice
GID=$("$E2EE" group create --store alice --members bob,carol --out-dir create.alice)
check "alice creates the group: id is 32 lowercase hex digits" bash -c "[[ '$GID' =~ ^[0-9a-f]{32}$ ]]"
check "each member gets an invitation and alice's chain" files_are create.alice bob.1 bob.2 carol.1 carol.2
check "they travel as pairwise ratchet messages" \
    bash -c "'$E2EE' inspect --in create.alice/bob.1.msg | grep -q '\"kind\": \"ratchet\"'"
check "alice is the admin, at revision 1" bash -c "$(declare -f info json_has); E2EE='$E2EE' GID='$GID'; info alice && json_has alice '\"admins\":[\"alice\"]' && json_has alice '\"revision\":1'"
for who in bob carol; do
    check "$who joins from alice's invitation" got alice "create.alice/$who.1.msg" "$who" "group update: $GID revision 1 from alice (joined)"
    check "$who stores alice's chain" got alice "create.alice/$who.2.msg" "$who" "group distribution: $GID from alice"
done
check "bob's copy of the roster names alice admin and three members" bash -c "$(declare -f info json_has); E2EE='$E2EE' GID='$GID'
    info bob && json_has bob '\"admins\":[\"alice\"]' && json_has bob '\"member\":true' &&
    [[ \$(grep -c '\"name\"' info.bob.json) -eq 3 ]] && json_has bob '\"pending_distribution\":[\"alice\",\"carol\"]'"
check "bob sends his chain to alice and carol" distribute bob
check "carol sends hers to alice and bob" distribute carol
check "nothing is pending any more" bash -c "$(declare -f info json_has); E2EE='$E2EE' GID='$GID'; info bob && json_has bob '\"pending_distribution\":[]'"
check "no inbox holds a roster update or a chain" \
    bash -c "! '$E2EE' inbox --store bob | grep -q -e '\"plaintext_hex\": \"0104' -e '\"plaintext_hex\": \"0106'"
expect_status "a replayed invitation is a duplicate" 1 bob \
    "$E2EE" decrypt --store bob --peer alice --in create.alice/bob.1.msg
check "reports duplicate" stderr_has "duplicate"

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
GID2=$("$E2EE" group create --store alice --members bob --out-dir create.second)
check "alice creates a second group with bob" test "$GID2" != "$GID"
check "bob joins it" got alice create.second/bob.1.msg bob "group update: $GID2 revision 1 from alice (joined)"
check "bob stores alice's chain in it" got alice create.second/bob.2.msg bob "group distribution: $GID2 from alice"
expect_status "a message decrypted under another group is rejected" 1 bob \
    "$E2EE" group decrypt --store bob --group "$GID2" --peer carol --in fresh.msg
check "reports wrongGroup with the full id" stderr_has "wrongGroup($GID)"
expect_status "a member who is not an admin cannot add" 1 bob \
    "$E2EE" group add --store bob --group "$GID" --members dave --out-dir nope
check "reports notAnAdmin" stderr_has "notAnAdmin(bob.1)"

# ---------------------------------------------------------------- adding dave
check "alice sends before dave joins" send alice before
expect_status "dave has no group yet" 1 dave \
    "$E2EE" group decrypt --store dave --group "$GID" --peer alice --in before.msg
check "reports unknownGroup" stderr_has "unknownGroup"
check "alice adds dave" "$E2EE" group add --store alice --group "$GID" --members dave --out-dir add.alice
check "the update goes to all, alice's chain to dave only" files_are add.alice bob.1 carol.1 dave.1 dave.2
check "bob learns revision 2" got alice add.alice/bob.1.msg bob "group update: $GID revision 2 from alice"
check "carol learns revision 2" got alice add.alice/carol.1.msg carol "group update: $GID revision 2 from alice"
check "dave joins at revision 2" got alice add.alice/dave.1.msg dave "group update: $GID revision 2 from alice (joined)"
check "dave stores alice's chain" got alice add.alice/dave.2.msg dave "group distribution: $GID from alice"
expect_status "dave cannot read a message sent before he joined" 1 dave \
    "$E2EE" group decrypt --store dave --group "$GID" --peer alice --in before.msg
for who in bob carol; do check "$who sends its chain to dave" distribute "$who"; done
check "dave sends his chain to all three" distribute dave
check "alice sends after dave joined" send alice after
check "dave reads it" reads dave alice after
check "bob reads both" bash -c "$(declare -f reads); E2EE='$E2EE' GID='$GID'; reads bob alice before && reads bob alice after"
check "dave sends to the group" send dave hello.dave
for to in alice bob carol; do check "$to reads dave's message" reads "$to" dave hello.dave; done

# ---------------------------------------------------------------- removing carol (one admin, everyone rotates)
expect_status "removing a non-member is rejected" 1 alice \
    "$E2EE" group remove --store alice --group "$GID" --members erin --out-dir rm.alice
check "reports notAMember" stderr_has "notAMember(erin.1)"
check "alice removes carol" "$E2EE" group remove --store alice --group "$GID" --members carol --out-dir rm.alice
check "the update goes to all (carol too), the new chain to bob and dave" files_are rm.alice bob.1 bob.2 carol.1 dave.1 dave.2
check "carol learns she was removed" got alice rm.alice/carol.1.msg carol "group update: $GID revision 3 from alice (removed)"
check "carol's copy says she is out" bash -c "$(declare -f info json_has); E2EE='$E2EE' GID='$GID'; info carol && json_has carol '\"member\":false'"
rm rm.alice/carol.1.msg
check "bob and dave get the update and alice's new chain" deliver_all alice rm.alice
for who in bob dave; do check "$who sends its new chain" distribute "$who"; done
check "bob's chain went to alice and dave only" files_are dist.bob alice.1 dave.1
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
expect_status "carol cannot send any more" 1 carol \
    "$E2EE" group encrypt --store carol --group "$GID" --in fresh.txt
check "reports notInGroup" stderr_has "notInGroup"
expect_status "carol's chains are gone at bob: her message from before is not read" 1 bob \
    "$E2EE" group decrypt --store bob --group "$GID" --peer carol --in fresh.msg
check "reports noSenderKey" stderr_has "noSenderKey(carol.1"

# ---------------------------------------------------------------- dave leaves
check "dave leaves" "$E2EE" group leave --store dave --group "$GID" --out-dir leave.dave
check "the update goes to alice and bob" files_are leave.dave alice.1 bob.1
check "alice accepts dave's leaving" got dave leave.dave/alice.1.msg alice "group update: $GID revision 4 from dave"
check "bob accepts it" got dave leave.dave/bob.1.msg bob "group update: $GID revision 4 from dave"
for who in alice bob; do check "$who sends its new chain" distribute "$who"; done
check "alice sends after dave left" send alice last
check "bob reads it" reads bob alice last
expect_status "dave cannot" 1 dave "$E2EE" group decrypt --store dave --group "$GID" --peer alice --in last.msg
check "alice's roster: alice (admin) and bob, revision 4" bash -c "$(declare -f info json_has); E2EE='$E2EE' GID='$GID'
    info alice && json_has alice '\"revision\":4' && json_has alice '\"admins\":[\"alice\"]' &&
    [[ \$(grep -o '\"name\": \"[a-z]*\"' info.alice.json | tr '\n' ' ') == '\"name\": \"alice\" \"name\": \"bob\" ' ]]"

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
expect_status "the old --member flag is a usage error" 2 alice \
    "$E2EE" group remove --store alice --group "$GID" --member bob --out-dir rm.alice
expect_status "missing --peer on group decrypt is a usage error" 2 alice \
    "$E2EE" group decrypt --store alice --group "$GID" --in fresh.msg
expect_status "missing --group on group info is a usage error" 2 alice "$E2EE" group info --store alice
expect_status "an unknown group command is a usage error" 2 alice \
    "$E2EE" group frobnicate --store alice
expect_status "a missing group command is a usage error" 2 alice "$E2EE" group
check "a nested missing --out-dir is created" \
    "$E2EE" group distribute --store alice --group "$GID" --out-dir no/such/dir
check "and is a directory" test -d no/such/dir

finish
