#!/usr/bin/env bash
# End-to-end test of the e2ee command-line tool: two stores converse through
# files for 50 turns (with reordered delivery), then every rejection path is
# checked to exit 1 and leave the store byte-for-byte unchanged.
#
# usage: Tests/cli/conversation.sh PATH_TO_E2EE_BINARY
set -Eeuo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# make_plaintext FILE: 0-299 random (binary) bytes.
make_plaintext() {
    head -c $((RANDOM % 300)) /dev/urandom >"$1"
}

# flip_byte FILE OFFSET: XOR one byte with 0x01, in place.
flip_byte() {
    local file=$1 offset=$2 byte
    byte=$(od -An -tu1 -j "$offset" -N 1 "$file" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# ---------------------------------------------------------------- setup
check "init alice" "$E2EE" init --store alice
check "init bob" "$E2EE" init --store bob
check "store is mode 0700, database and key 0600" \
    test "$(stat -c %a alice) $(stat -c %a alice/store.sqlite) $(stat -c %a alice/storage.key)" = "700 600 600"
expect_status "init refuses an existing account" 1 alice "$E2EE" init --store alice

check "bob publishes a bundle" "$E2EE" bundle --store bob --out bob1.bundle
check "inspect the bundle" to_file bob1.json "$E2EE" inspect --in bob1.bundle
check "inspect bundle: kind bundle with one-time prekey 1" \
    grep -q '"kind": "bundle"' bob1.json
check "inspect bundle: one_time_prekey_id 1" grep -q '"one_time_prekey_id": 1,' bob1.json
# PQXDH by default: a KEM prekey (one-time ids 2-101; 1 is the last-resort one).
check "inspect bundle: post-quantum" grep -q '"post_quantum": true,' bob1.json
check "inspect bundle: KEM prekey 2, 1568-byte key" \
    bash -c "grep -q '\"kem_prekey_id\": 2,' bob1.json && grep -q '\"kem_public_key_length\": 1568,' bob1.json"
check "inspect bundle: 1806 bytes" grep -q '"size": 1806' bob1.json

make_plaintext first.txt
check "alice encrypts to bob with --bundle" "$E2EE" encrypt --store alice --peer bob --bundle bob1.bundle --in first.txt --out first.msg
check "inspect the first message" to_file first.json "$E2EE" inspect --in first.msg
check "inspect first message: kind pq_prekey" grep -q '"kind": "pq_prekey"' first.json
check "inspect first message: names one-time prekey 1" grep -q '"one_time_prekey_id": 1,' first.json
check "inspect first message: KEM prekey 2 and a 1568-byte ciphertext" \
    bash -c "grep -q '\"kem_prekey_id\": 2,' first.json && grep -q '\"kem_ciphertext_length\": 1568,' first.json"
# A flipped KEM ciphertext byte: Bob decapsulates another secret (ML-KEM's
# implicit rejection) and the first message does not authenticate.
cp first.msg first_ct.msg
flip_byte first_ct.msg 700
expect_status "a first message with a flipped KEM ciphertext byte is rejected" 1 bob \
    "$E2EE" decrypt --store bob --peer alice --in first_ct.msg
check "reports firstMessageRejected(authenticationFailure)" stderr_has "firstMessageRejected(authenticationFailure)"
check "bob decrypts the first message" "$E2EE" decrypt --store bob --peer alice --in first.msg --out first.dec
check "first plaintext matches" cmp -s first.txt first.dec
check "bob publishes a second bundle" "$E2EE" bundle --store bob --out bob2.bundle
check "bob's next bundle offers one-time prekey 2" \
    bash -c "'$E2EE' inspect --in bob2.bundle | grep -q '\"one_time_prekey_id\": 2,'"

# ---------------------------------------------------------------- 50 turns
# Odd turns bob -> alice, even turns alice -> bob. Turn t sends 1-3 messages
# and delivers them in order, reversed, or rotated (second, third, first).
for turn in $(seq 1 50); do
    if ((turn % 2 == 1)); then from=bob to=alice; else from=alice to=bob; fi
    count=$(((turn % 5) % 3 + 1))
    order=()
    case $((turn % 3)) in
        0) for ((i = count; i >= 1; i--)); do order+=("$i"); done; how="reversed" ;;
        1) for ((i = 1; i <= count; i++)); do order+=("$i"); done; how="in order" ;;
        2) for ((i = 2; i <= count; i++)); do order+=("$i"); done; order+=(1); how="rotated" ;;
    esac
    why=""
    for ((i = 1; i <= count; i++)); do
        make_plaintext "t$turn.$i.txt"
        "$E2EE" encrypt --store "$from" --peer "$to" --in "t$turn.$i.txt" --out "t$turn.$i.msg" \
            || why="encrypt $i failed"
    done
    for i in "${order[@]}"; do
        [[ -n $why ]] && break
        if ! "$E2EE" decrypt --store "$to" --peer "$from" --in "t$turn.$i.msg" --out "t$turn.$i.dec"; then
            why="decrypt $i failed"
        elif ! cmp -s "t$turn.$i.txt" "t$turn.$i.dec"; then
            why="plaintext $i differs"
        fi
    done
    if [[ -z $why ]]; then
        pass "turn $turn: $from -> $to, $count message(s) ${how}: ${order[*]}"
    else
        fail "turn $turn: $from -> $to, $count message(s) ${how}" "$why"
    fi
done
check "after bob's reply alice sends ratchet messages" \
    bash -c "'$E2EE' inspect --in t2.1.msg | grep -q '\"kind\": \"ratchet\"'"

# ---------------------------------------------------------------- rejections
last=t50.1.msg   # alice -> bob, already decrypted by bob
expect_status "replayed message is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in "$last"
check "replay reports duplicate" stderr_has "duplicate"

make_plaintext fresh.txt
check "alice encrypts a fresh message" "$E2EE" encrypt --store alice --peer bob --in fresh.txt --out fresh.msg
size=$(stat -c %s fresh.msg)
cp fresh.msg flipped.msg
flip_byte flipped.msg $((size - 1))
expect_status "message with a flipped tag byte is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in flipped.msg
check "flipped byte reports authenticationFailure" stderr_has "authenticationFailure"
cp fresh.msg flipped_header.msg
flip_byte flipped_header.msg 40   # inside the header's counters
expect_status "message with a flipped header byte is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in flipped_header.msg
head -c $((size - 5)) fresh.msg >truncated.msg
expect_status "truncated message is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in truncated.msg
head -c 20 fresh.msg >short.msg
expect_status "message cut inside its header is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in short.msg
check "short message reports malformed" stderr_has "malformed"
head -c 200 /dev/urandom >garbage.bin
expect_status "garbage input is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in garbage.bin
expect_status "empty input is rejected" 1 bob "$E2EE" decrypt --store bob --peer alice --in /dev/null
expect_status "garbage on stdin is rejected" 1 bob bash -c "'$E2EE' decrypt --store bob --peer alice <garbage.bin"
check "the untampered message still decrypts" "$E2EE" decrypt --store bob --peer alice --in fresh.msg --out fresh.dec
check "its plaintext matches" cmp -s fresh.txt fresh.dec

# A PreKeyMessage naming a one-time prekey bob already used (alice took it).
check "init eve" "$E2EE" init --store eve
check "eve encrypts to bob with the used bundle" "$E2EE" encrypt --store eve --peer bob --bundle bob1.bundle --in fresh.txt --out eve.msg
expect_status "one-time prekey already used is rejected" 1 bob "$E2EE" decrypt --store bob --peer eve --in eve.msg
check "reports unknownOneTimePreKey" stderr_has "unknownOneTimePreKey"

# A bundle whose signed-prekey signature was tampered with.
cp bob2.bundle badsig.bundle
flip_byte badsig.bundle 100
expect_status "bundle with a bad signature is rejected" 1 eve "$E2EE" encrypt --store eve --peer bob2 --bundle badsig.bundle --in fresh.txt
check "reports invalidSignature" stderr_has "invalidSignature"

# A store opened with the wrong key is an error, never an empty store.
cp -r bob bob_wrongkey
head -c 32 /dev/urandom >bob_wrongkey/storage.key
expect_status "a wrong storage key is rejected" 1 bob_wrongkey "$E2EE" decrypt --store bob_wrongkey --peer alice --in fresh.msg
check "reports the sealed key check" stderr_has "sealedRecordRejected(kind: \"keycheck\")"

expect_status "inspect of garbage is rejected" 1 bob "$E2EE" inspect --in garbage.bin

# --bundle is ignored once a session exists (even an unreadable one).
check "--bundle is ignored for an existing session" \
    bash -c "'$E2EE' encrypt --store alice --peer bob --bundle garbage.bin --in fresh.txt --out ignored.msg 2>ignored.err && ! test -s ignored.err"

# ---------------------------------------------------------------- version
version=$("$E2EE" --version)
case "$version" in
    "e2ee "[0-9]*.[0-9]*.[0-9]*) pass "--version prints the version ($version)" ;;
    *) fail "--version printed '$version'" ;;
esac

# ---------------------------------------------------------------- usage errors
expect_status "unknown command is a usage error" 2 alice "$E2EE" frobnicate --store alice
expect_status "missing --peer is a usage error" 2 alice "$E2EE" encrypt --store alice --in fresh.txt
expect_status "unknown flag is a usage error" 2 alice "$E2EE" decrypt --store alice --peer bob --verbose
expect_status "bad peer name is a usage error" 2 alice "$E2EE" encrypt --store alice --peer ../bob --in fresh.txt
expect_status "new peer without --bundle is a usage error" 2 alice "$E2EE" encrypt --store alice --peer carol --in fresh.txt
expect_status "missing command is a usage error" 2 alice "$E2EE"

# ---------------------------------------------------------------- exhausted prekeys
# carol has 100 one-time prekeys: the 101st bundle offers none.
check "init carol" "$E2EE" init --store carol
bundles_ok=1
for i in $(seq 1 101); do
    "$E2EE" bundle --store carol --out "carol$i.bundle" || bundles_ok=0
done
check "carol publishes 101 bundles" test "$bundles_ok" -eq 1
check "inspect bundle 100" to_file carol100.json "$E2EE" inspect --in carol100.bundle
check "inspect bundle 101" to_file carol101.json "$E2EE" inspect --in carol101.bundle
check "bundle 100 offers one-time prekey 100" grep -q '"one_time_prekey_id": 100,' carol100.json
check "bundle 101 has no one-time prekey" grep -q '"one_time_prekey_id": null' carol101.json
check "bundle 101 is still a bundle" grep -q '"kind": "bundle"' carol101.json
check "bundle 100 offers one-time KEM prekey 101" grep -q '"kem_prekey_id": 101,' carol100.json
check "bundle 101 offers the last-resort KEM prekey 1" grep -q '"kem_prekey_id": 1,' carol101.json

check "init dave" "$E2EE" init --store dave
make_plaintext noopk.txt
check "dave encrypts with the prekey-less bundle" "$E2EE" encrypt --store dave --peer carol --bundle carol101.bundle --in noopk.txt --out noopk.msg
check "inspect the prekey-less first message" to_file noopk.json "$E2EE" inspect --in noopk.msg
check "its first message is a PQ prekey message" grep -q '"kind": "pq_prekey"' noopk.json
check "naming no one-time prekey" grep -q '"one_time_prekey_id": null' noopk.json
check "and the last-resort KEM prekey 1" grep -q '"kem_prekey_id": 1,' noopk.json
account_before=$(store_sum carol)
check "carol decrypts it" "$E2EE" decrypt --store carol --peer dave --in noopk.msg --out noopk.dec
check "plaintext matches" cmp -s noopk.txt noopk.dec
# The server can strip the one-time prekey (the signature covers only the signed
# prekey) and replay a first message under another name: refused (PROTOCOL.md §2).
expect_status "the same first message from 'mallory' is refused" 1 carol \
    "$E2EE" decrypt --store carol --peer mallory --in noopk.msg --out mallory.dec
check "as a base key already accepted" stderr_has "baseKeyAlreadyAccepted"
check "nothing was delivered or pinned" bash -c "! '$E2EE' inbox --store carol | grep -q '\"sender\": \"mallory\"'"
expect_status "and from dave again it is a duplicate" 1 carol \
    "$E2EE" decrypt --store carol --peer dave --in noopk.msg --out again.dec
check "reports duplicate" stderr_has "duplicate"
check "carol's store changed (a session and an inbound message)" test "$(store_sum carol)" != "$account_before"
make_plaintext reply.txt
check "carol replies" "$E2EE" encrypt --store carol --peer dave --in reply.txt --out reply.msg
check "dave decrypts carol's reply" "$E2EE" decrypt --store dave --peer carol --in reply.msg --out reply.dec
check "reply plaintext matches" cmp -s reply.txt reply.dec
check "dave sends again" "$E2EE" encrypt --store dave --peer carol --in noopk.txt --out after.msg
check "dave now sends ratchet messages" bash -c "'$E2EE' inspect --in after.msg | grep -q '\"kind\": \"ratchet\"'"

# ---------------------------------------------------------------- classical setup only on request
# PROTOCOL.md §2b: a bundle without a KEM prekey, and a classical first
# message, are refused unless --allow-classical is given.
check "init frank" "$E2EE" init --store frank
check "frank publishes a classical bundle" "$E2EE" bundle --store frank --classical --out frank.bundle
check "inspect: not post-quantum, no KEM prekey" \
    bash -c "'$E2EE' inspect --in frank.bundle | grep -q '\"post_quantum\": false,' && '$E2EE' inspect --in frank.bundle | grep -q '\"kem_prekey_id\": null,'"
make_plaintext classical.txt
expect_status "encrypting to a classical bundle is refused" 1 dave \
    "$E2EE" encrypt --store dave --peer frank --bundle frank.bundle --in classical.txt --out classical.msg
check "as postQuantumRequired" stderr_has "postQuantumRequired"
check "dave opts in with --allow-classical" \
    "$E2EE" encrypt --store dave --peer frank --bundle frank.bundle --in classical.txt --out classical.msg --allow-classical
check "the first message is a classical prekey message" \
    bash -c "'$E2EE' inspect --in classical.msg | grep -q '\"kind\": \"prekey\"'"
expect_status "frank refuses a classical first message by default" 1 frank \
    "$E2EE" decrypt --store frank --peer dave --in classical.msg --out classical.dec
check "as postQuantumRequired" stderr_has "postQuantumRequired"
check "frank accepts it with --allow-classical" \
    "$E2EE" decrypt --store frank --peer dave --in classical.msg --out classical.dec --allow-classical
check "classical plaintext matches" cmp -s classical.txt classical.dec
check "and the session goes on without the flag" \
    bash -c "'$E2EE' encrypt --store frank --peer dave --in classical.txt | '$E2EE' decrypt --store dave --peer frank | cmp -s - classical.txt"
expect_status "--allow-classical takes no value" 2 dave "$E2EE" decrypt --store dave --peer frank --allow-classical=yes --in classical.msg

# ---------------------------------------------------------------- stdin/stdout
check "stdin to stdout round trip" \
    bash -c "'$E2EE' encrypt --store dave --peer carol <reply.txt | '$E2EE' decrypt --store carol --peer dave | cmp -s - reply.txt"

# ---------------------------------------------------------------- output that cannot be written
printf 'unwritten-marker-1' >lost.txt
check "dave writes once more" "$E2EE" encrypt --store dave --peer carol --in lost.txt --out lost.msg
# lost.txt is a file, so no directory lost.txt/ can be made for the --out.
expect_status "an --out that cannot be created is refused before anything is committed" 1 carol \
    "$E2EE" decrypt --store carol --peer dave --in lost.msg --out lost.txt/lost.dec
check "and the message still decrypts, into directories made for --out" \
    "$E2EE" decrypt --store carol --peer dave --in lost.msg --out made/for/it/lost.dec
check "to its plaintext" cmp -s lost.txt made/for/it/lost.dec
check "the directories made are private (0700)" test "$(stat -c %a made/for/it)" = 700
printf 'unwritten-marker-2' >closed.txt
check "dave writes again" "$E2EE" encrypt --store dave --peer carol --in closed.txt --out closed.msg
rc=0
"$E2EE" decrypt --store carol --peer dave --in closed.msg >&- 2>closed.err || rc=$?
check "with stdout closed, decrypt fails after its commit (exit 1)" test "$rc" -eq 1
check "and the message is in the inbox" \
    bash -c "'$E2EE' inbox --store carol | grep -q '\"plaintext_hex\": \"$(xxd -p closed.txt | tr -d '\n')\"'"

# ---------------------------------------------------------------- passphrase-protected stores
printf 'correct horse battery staple\n' >pass.txt
printf 'wrong horse\n' >wrong.txt
check "init erin with a passphrase" "$E2EE" init --store erin --passphrase-file pass.txt
check "no key file, a salt instead" test ! -e erin/storage.key -a -s erin/storage.salt
check "erin publishes a bundle" "$E2EE" bundle --store erin --passphrase-file pass.txt --out erin.bundle
printf 'erin-secret-marker-4711' >erin.txt
check "dave writes to erin" "$E2EE" encrypt --store dave --peer erin --bundle erin.bundle --in erin.txt --out erin.msg
expect_status "a wrong passphrase is rejected" 1 erin "$E2EE" decrypt --store erin --passphrase-file wrong.txt --peer dave --in erin.msg
check "reports the sealed key check" stderr_has "sealedRecordRejected(kind: \"keycheck\")"
expect_status "a missing passphrase is a usage error" 2 erin "$E2EE" decrypt --store erin --peer dave --in erin.msg
check "erin decrypts with her passphrase" "$E2EE" decrypt --store erin --passphrase-file pass.txt --peer dave --in erin.msg --out erin.dec
check "erin's plaintext matches" cmp -s erin.txt erin.dec
check "the inbox lists it" bash -c "'$E2EE' inbox --store erin --passphrase-file pass.txt | grep -q '\"sender\": \"dave\"'"
check "neither plaintext nor passphrase in the database files" \
    bash -c "! grep -qa -e 'erin-secret-marker' -e 'correct horse' erin/store.sqlite*"

finish
