#!/usr/bin/env python3
"""Generate (or check) the group (sender-key) test vectors Tests/Vectors/group_v1.json.

Usage:
    python3 scripts/gen_group_vectors.py           # (re)write the JSON file
    python3 scripts/gen_group_vectors.py --check   # regenerate in memory, compare
                                                   # with the file on disk; exit 1
                                                   # on any diff

This is an independent reference implementation of PROTOCOL.md suite v1
sections 3 (AEAD_v1), 4 (SenderKeyMessage, SenderKeyDistribution) and 5
(group messaging, KDF_GK), written only from PROTOCOL.md, not from the Swift or
C sources.  Every message is built by a sender and then parsed from its wire
bytes, signature-checked and decrypted by receivers that were built only from
parsed SenderKeyDistribution wire bytes.

Dependencies: the Python standard library (hashlib for SHA-256 and BLAKE2b)
plus `cryptography` (Ed25519, ChaCha20-Poly1305); the primitive wrappers shared
with the other generators (KDF_GK, AEAD_v1, Ed25519) are in scripts/vectorlib.py.

Conventions (as scripts/gen_vectors.py): one JSON object with a "description"
string; byte strings lowercase hex ("" when empty); numbers are JSON integers;
json.dumps(indent=2, sort_keys=True) plus a trailing newline, so regeneration is
byte-for-byte stable.

Definitions used (PROTOCOL.md; where the text is silent, the choice is marked
"reading" and listed in DESCRIPTION):
    KDF_GK(ck) = BLAKE2b(key = ck, in = 0x01, outlen = 64, personal = "E2EEv1 group")
                 -> ck' = out[0:32], mk = out[32:64]
    A chain at iteration i holds ck_i; the message with iteration i is sealed
    with mk_i where (ck_{i+1}, mk_i) = KDF_GK(ck_i)                   (reading)
    AEAD_v1(mk, pt, ad) = G || ChaCha20-Poly1305-IETF(mk, G || 0x00*8, pt, ad)
    SenderKeyMessage    = 0x01 || 0x03 || distribution_id (16) || u32 chain_id
                          || u32 iteration || AEAD_v1(mk_i, pt, ad = those 26 bytes)
                          || Ed25519-Sign(signing key, all preceding bytes) (64)
    SenderKeyDistribution = 0x01 || 0x04 || distribution_id (16) || u32 chain_id
                          || u32 iteration || ck_iteration (32) || signing_pub (32)
                          (90 bytes; the chain key is the one AT that iteration,
                          i.e. the key the next message's mk derives from) (reading)

Deterministic inputs (SHA-256 of ASCII labels; a 4-byte guard is the first 4
bytes of SHA-256 of its label):
    distribution_id     SHA-256("group distribution id")[0:16]
    chain "initial":    chain_id 0x0A0B0C0D, ck_0 = SHA-256("group chain key"),
                        Ed25519 seed SHA-256("group signing seed"),
                        guard of iteration N: "group guard N"
    chain "rotated":    chain_id 0x11223344, ck_0 = SHA-256("group chain key 2"),
                        Ed25519 seed SHA-256("group signing seed 2"),
                        guard of iteration N: "group guard rotated N"

Scenario "initial": the sender sends iterations 0..5 in order; the vectors hold
the messages in the order a receiver gets them: 0, 1, 2, 5, 4 (3 is lost and
never delivered, so it is not in the file).  Receiver R0 is built from
"distribution_0" (iteration 0); it decrypts them in that order, storing the
skipped keys mk_3 and mk_4 when 5 arrives, using mk_4 for the late message 4,
and ends holding exactly mk_3.  A replay of iteration 1 (and of 4) is rejected
as a duplicate with R0's state unchanged; a message with a flipped signature
bit or ciphertext bit is rejected with the state unchanged.  Receiver R3 is
built from "distribution_3" (what a member added after iterations 0..2 gets):
its earliest derivable key is mk_3, it cannot decrypt 0..2, and it decrypts 5
then 4.  Scenario "rotated" is a fresh chain (as after a member leaves): its
distribution at iteration 0 and one message at iteration 0; a receiver of it
rejects "initial" messages (unknown chain_id) and vice versa.

Output: Tests/Vectors/group_v1.json, layout described in its "description".
"""

import copy
import sys

sys.dont_write_bytecode = True  # importing vectorlib leaves no __pycache__

from vectorlib import (  # noqa: E402  (same directory)
    GUARD_LEN, TAG_LEN, Duplicate, ProtocolError, aead_v1_open, aead_v1_seal, check,
    ed25519_pub, ed25519_sign, ed25519_verify, expect_reject, fox, h, kdf_gk, main,
    read_u32, sha256, u32,
)

VERSION = 0x01
TYPE_SENDER_KEY_MESSAGE = 0x03
TYPE_SENDER_KEY_DISTRIBUTION = 0x04
SKM_HEADER_LEN = 26            # 0x01 0x03 distribution_id(16) chain_id(4) iteration(4)
SKDM_LEN = 90                  # 26 + chain_key(32) + signing_pub(32)
SIG_LEN = 64
MAX_SKIPPED = 2000             # PROTOCOL.md 5: skipped keys kept per sender chain
MAX_AHEAD = 25000              # PROTOCOL.md 5: iterations further ahead are rejected
MAX_PLAINTEXT = 256 * 1024     # PROTOCOL.md 4: default caller limit


# ---------------------------------------------------------------- primitives

def guard_for(label):
    return sha256(label)[:GUARD_LEN]


def chain_keys(ck0, n):
    """[(ck_i, mk_i) for i in 0..n-1] with (ck_{i+1}, mk_i) = KDF_GK(ck_i)."""
    out, ck = [], ck0
    for _ in range(n):
        nxt, mk = kdf_gk(ck)
        out.append((ck, mk))
        ck = nxt
    return out


# ---------------------------------------------------------------- wire

def skm_header(dist_id, chain_id, iteration):
    check(len(dist_id) == 16, "distribution_id length")
    return bytes([VERSION, TYPE_SENDER_KEY_MESSAGE]) + dist_id + u32(chain_id) + u32(iteration)


def encode_skdm(dist_id, chain_id, iteration, chain_key, signing_pub):
    check(len(dist_id) == 16 and len(chain_key) == 32 and len(signing_pub) == 32,
          "SKDM field lengths")
    return (bytes([VERSION, TYPE_SENDER_KEY_DISTRIBUTION]) + dist_id + u32(chain_id)
            + u32(iteration) + chain_key + signing_pub)


def parse_skdm(b):
    if len(b) < 2:
        raise ProtocolError("SKDM: short")
    if b[0] != VERSION:
        raise ProtocolError("SKDM: unknown version")
    if b[1] != TYPE_SENDER_KEY_DISTRIBUTION:
        raise ProtocolError("SKDM: wrong type")
    if len(b) < SKDM_LEN:
        raise ProtocolError("SKDM: short")
    if len(b) > SKDM_LEN:
        raise ProtocolError("SKDM: trailing bytes")
    signing_pub = b[58:90]
    if signing_pub == bytes(32):
        raise ProtocolError("SKDM: all-zero signing key")
    return {"distribution_id": b[2:18], "chain_id": read_u32(b[18:22]),
            "iteration": read_u32(b[22:26]), "chain_key": b[26:58],
            "signing_pub": signing_pub}


def parse_skm(b):
    if len(b) < 2:
        raise ProtocolError("SKM: short")
    if b[0] != VERSION:
        raise ProtocolError("SKM: unknown version")
    if b[1] != TYPE_SENDER_KEY_MESSAGE:
        raise ProtocolError("SKM: wrong type")
    if len(b) < SKM_HEADER_LEN + GUARD_LEN + TAG_LEN + SIG_LEN:
        raise ProtocolError("SKM: short")
    if len(b) - (SKM_HEADER_LEN + GUARD_LEN + TAG_LEN + SIG_LEN) > MAX_PLAINTEXT:
        raise ProtocolError("SKM: plaintext over limit")
    return {"header": b[:SKM_HEADER_LEN], "distribution_id": b[2:18],
            "chain_id": read_u32(b[18:22]), "iteration": read_u32(b[22:26]),
            "sealed": b[SKM_HEADER_LEN:-SIG_LEN], "signed": b[:-SIG_LEN],
            "signature": b[-SIG_LEN:]}


# ---------------------------------------------------------------- parties

class Sender:
    """A member's sending chain for one distribution_id."""

    def __init__(self, dist_id, chain_id, ck0, signing_seed, guard_label):
        self.dist_id, self.chain_id = dist_id, chain_id
        self.ck, self.iteration = ck0, 0
        self.seed, self.pub = signing_seed, ed25519_pub(signing_seed)
        self.guard_label = guard_label

    def distribution(self):
        return encode_skdm(self.dist_id, self.chain_id, self.iteration, self.ck, self.pub)

    def send(self, pt):
        i = self.iteration
        nxt, mk = kdf_gk(self.ck)
        guard = guard_for((self.guard_label % i).encode("ascii"))
        header = skm_header(self.dist_id, self.chain_id, i)
        body = header + aead_v1_seal(mk, guard, pt, header)
        sig = ed25519_sign(self.seed, body)
        check(ed25519_sign(self.seed, body) == sig, "Ed25519 deterministic")
        self.ck, self.iteration = nxt, i + 1
        return i, guard, mk, body + sig


class Receiver:
    """A member's copy of one sender chain, built from a SenderKeyDistribution."""

    def __init__(self, skdm_wire):
        d = parse_skdm(skdm_wire)
        self.dist_id, self.chain_id = d["distribution_id"], d["chain_id"]
        self.signing_pub = d["signing_pub"]
        self.ck, self.iteration = d["chain_key"], d["iteration"]   # next expected
        self.skipped = {}                                          # iteration -> mk, insertion order

    def state(self):
        return (self.dist_id, self.chain_id, self.signing_pub, self.ck, self.iteration,
                list(self.skipped.items()))

    def earliest_key(self):
        """(iteration, mk) of the earliest message this receiver can still decrypt."""
        if self.skipped:
            i = min(self.skipped)
            return i, self.skipped[i]
        return self.iteration, kdf_gk(self.ck)[1]

    def receive(self, wire):
        m = parse_skm(wire)
        if m["distribution_id"] != self.dist_id or m["chain_id"] != self.chain_id:
            raise ProtocolError("SKM: unknown distribution or chain")
        # PROTOCOL.md 5: the signature is verified before anything else.
        if not ed25519_verify(self.signing_pub, m["signature"], m["signed"]):
            raise ProtocolError("SKM: bad signature")
        # Work on a copy; commit only after the AEAD opens (failure leaves state as it was).
        trial = copy.deepcopy(self)
        pt, mk = trial._decrypt(m)
        self.__dict__.update(trial.__dict__)
        return pt, mk

    def _decrypt(self, m):
        i = m["iteration"]
        if i < self.iteration:
            if i not in self.skipped:
                raise Duplicate(i)  # used, skipped past the limit, or before the distribution
            mk = self.skipped.pop(i)
            return aead_v1_open(mk, m["sealed"], m["header"]), mk
        if i - self.iteration > MAX_AHEAD:
            raise ProtocolError("SKM: iteration too far ahead")
        while self.iteration < i:
            self.ck, skipped_mk = kdf_gk(self.ck)
            self.skipped[self.iteration] = skipped_mk
            self.iteration += 1
            while len(self.skipped) > MAX_SKIPPED:
                del self.skipped[next(iter(self.skipped))]   # oldest first
        self.ck, mk = kdf_gk(self.ck)
        self.iteration = i + 1
        return aead_v1_open(mk, m["sealed"], m["header"]), mk


def flip(wire, index):
    b = bytearray(wire)
    b[index] ^= 0x01
    return bytes(b)


# ---------------------------------------------------------------- scenario

DIST_ID = sha256(b"group distribution id")[:16]

CHAIN_KEYS_LISTED = 6          # "chain_keys": ck_1 .. ck_6


def chain_entry(name, distributions, messages, ck0, seed, chain_id):
    listed = chain_keys(ck0, CHAIN_KEYS_LISTED + 1)
    return {
        "name": name, "chain_id": chain_id, "signing_seed": h(seed),
        "signing_public": h(ed25519_pub(seed)), "chain_key_0": h(ck0),
        "distributions": distributions, "messages": messages,
        "chain_keys": {str(i): h(listed[i][0]) for i in range(1, CHAIN_KEYS_LISTED + 1)},
    }


def scenario_initial():
    chain_id, ck0, seed = 0x0A0B0C0D, sha256(b"group chain key"), sha256(b"group signing seed")
    keys = chain_keys(ck0, 8)
    sender = Sender(DIST_ID, chain_id, ck0, seed, "group guard %d")

    dist0 = sender.distribution()
    plaintexts = {
        0: b"hello group",
        1: b"",
        2: fox(b"iteration 2: ", 300),
        3: b"lost in transit",
        4: b"late: iteration 4 arrives after 5",
        5: b"iteration 5 (3 and 4 skipped)",
    }
    sent, dist3 = {}, None
    for i in range(6):
        if i == 3:
            dist3 = sender.distribution()
        it, guard, mk, wire = sender.send(plaintexts[i])
        check(it == i, "sender iteration")
        check(mk == keys[i][1], "sender mk_%d" % i)
        check(len(wire) == SKM_HEADER_LEN + GUARD_LEN + len(plaintexts[i]) + TAG_LEN + SIG_LEN,
              "wire length %d" % i)
        check(wire[SKM_HEADER_LEN:SKM_HEADER_LEN + GUARD_LEN] == guard, "guard on wire")
        sent[i] = (guard, mk, wire)
    check(len(plaintexts[1]) == 0 and len(plaintexts[2]) == 300, "plaintext lengths")

    check(len(dist0) == SKDM_LEN and len(dist3) == SKDM_LEN, "SKDM length")
    check(dist0[26:58] == ck0 and dist3[26:58] == keys[3][0], "SKDM chain keys")
    for bad, what in ((dist0 + b"\x00", "SKDM trailing"), (dist0[:-1], "SKDM short"),
                      (b"\x02" + dist0[1:], "SKDM version"), (b"\x01\x03" + dist0[2:], "SKDM type")):
        expect_reject(what, parse_skdm, bad)

    # Receiver R0, from distribution_0.
    order = [0, 1, 2, 5, 4]
    r0 = Receiver(dist0)
    check(r0.earliest_key() == (0, keys[0][1]), "R0 earliest key is mk_0")
    messages = []
    for i in order:
        guard, mk, wire = sent[i]
        # A broken signature or ciphertext must fail before any key is derived or stored.
        expect_reject("bad signature %d" % i, r0.receive, flip(wire, len(wire) - 1),
                      state=r0.state)
        expect_reject("bad signature over changed tag %d" % i, r0.receive,
                      flip(wire, len(wire) - SIG_LEN - 1), state=r0.state)
        # Correctly signed, but the AEAD tag is wrong: fails in AEAD_v1, nothing stored.
        resigned = flip(wire[:-SIG_LEN], len(wire) - SIG_LEN - 1)
        expect_reject("bad tag %d" % i, r0.receive, resigned + ed25519_sign(seed, resigned),
                      state=r0.state)
        hdr_changed = flip(wire[:-SIG_LEN], 25)          # iteration's low byte (ad)
        expect_reject("changed iteration %d" % i, r0.receive,
                      hdr_changed + ed25519_sign(seed, hdr_changed), state=r0.state)
        pt, rmk = r0.receive(wire)
        check(pt == plaintexts[i], "R0 plaintext %d" % i)
        check(rmk == mk, "R0 mk_%d" % i)
        if i == 5:
            check(sorted(r0.skipped) == [3, 4], "R0 holds skipped keys for 3 and 4")
            check(r0.skipped[3] == keys[3][1] and r0.skipped[4] == keys[4][1],
                  "R0 skipped keys are mk_3, mk_4")
        if i == 1:
            expect_reject("replay of iteration 1", r0.receive, wire, exc=Duplicate, state=r0.state)
        messages.append({"iteration": i, "plaintext": h(plaintexts[i]), "guard": h(guard),
                         "message_key": h(mk), "wire": h(wire)})
    expect_reject("late replay of iteration 1", r0.receive, sent[1][2], exc=Duplicate, state=r0.state)
    expect_reject("replay of iteration 4", r0.receive, sent[4][2], exc=Duplicate, state=r0.state)
    check(list(r0.skipped) == [3] and r0.iteration == 6 and r0.ck == keys[6][0],
          "R0 final state: mk_3 kept, next iteration 6")
    check(r0.earliest_key() == (3, keys[3][1]), "R0 earliest key is mk_3")

    # Receiver R3, from distribution_3: cannot reach mk_0..mk_2.
    r3 = Receiver(dist3)
    check(r3.iteration == 3 and r3.earliest_key() == (3, keys[3][1]), "R3 earliest key is mk_3")
    for i in (0, 1, 2):
        expect_reject("R3 decrypting iteration %d" % i, r3.receive, sent[i][2], exc=Duplicate,
                      state=r3.state)
    derivable, ck = set(), r3.ck
    for _ in range(8):
        ck, mk = kdf_gk(ck)
        derivable.add(mk)
    check(not derivable & {keys[i][1] for i in (0, 1, 2)}, "R3 derives none of mk_0..mk_2")
    for i in (5, 4):
        pt, rmk = r3.receive(sent[i][2])
        check(pt == plaintexts[i] and rmk == sent[i][1], "R3 message %d" % i)
    check(list(r3.skipped) == [3], "R3 final skipped keys")

    distributions = [
        {"name": "distribution_0", "iteration": 0, "chain_key": h(ck0), "wire": h(dist0)},
        {"name": "distribution_3", "iteration": 3, "chain_key": h(keys[3][0]), "wire": h(dist3)},
    ]
    return chain_entry("initial", distributions, messages, ck0, seed, chain_id), sent


def scenario_rotated(initial_sent):
    chain_id = 0x11223344
    ck0, seed = sha256(b"group chain key 2"), sha256(b"group signing seed 2")
    sender = Sender(DIST_ID, chain_id, ck0, seed, "group guard rotated %d")
    dist0 = sender.distribution()
    pt = b"new chain after a member left"
    i, guard, mk, wire = sender.send(pt)
    check(i == 0 and mk == kdf_gk(ck0)[1], "rotated mk_0")

    r = Receiver(dist0)
    got, rmk = r.receive(wire)
    check(got == pt and rmk == mk, "rotated round trip")
    expect_reject("rotated replay", r.receive, wire, exc=Duplicate, state=r.state)
    for j, (_, _, w) in initial_sent.items():
        expect_reject("old-chain message %d on new chain" % j, r.receive, w, state=r.state)
    # An old-chain receiver rejects the new chain's message.
    old = Receiver(encode_skdm(DIST_ID, 0x0A0B0C0D, 0, sha256(b"group chain key"),
                               ed25519_pub(sha256(b"group signing seed"))))
    expect_reject("new-chain message on old chain", old.receive, wire, state=old.state)
    # A message re-signed by the wrong key must not verify.
    forged = wire[:-SIG_LEN] + ed25519_sign(sha256(b"group signing seed"), wire[:-SIG_LEN])
    expect_reject("message signed by the old key", r.receive, forged, state=r.state)

    distributions = [{"name": "distribution_0", "iteration": 0, "chain_key": h(ck0),
                      "wire": h(dist0)}]
    messages = [{"iteration": 0, "plaintext": h(pt), "guard": h(guard),
                 "message_key": h(mk), "wire": h(wire)}]
    return chain_entry("rotated", distributions, messages, ck0, seed, chain_id)


DESCRIPTION = (
    "PROTOCOL.md suite v1 group messaging (sections 3-5): SenderKeyDistribution and "
    "SenderKeyMessage bytes, generated by scripts/gen_group_vectors.py (an independent "
    "Python implementation). KDF_GK(ck) = BLAKE2b(key = ck, in = 0x01, outlen = 64, "
    "personal = \"E2EEv1 group\") -> (ck' = out[0:32], mk = out[32:64]); a chain at "
    "iteration i holds chain key ck_i and the message with iteration i is sealed with "
    "mk_i where (ck_{i+1}, mk_i) = KDF_GK(ck_i). AEAD_v1(mk, pt, ad) = G || "
    "ChaCha20-Poly1305-IETF(mk, nonce = G || 0x00*8, pt, ad). SenderKeyMessage = 01 03 || "
    "distribution_id(16) || u32be chain_id || u32be iteration || AEAD_v1(mk_i, pt, ad = "
    "those 26 bytes) || Ed25519 signature(64, by the chain's signing key) over all preceding "
    "bytes. SenderKeyDistribution = 01 04 || distribution_id || u32be chain_id || u32be "
    "iteration || chain key at that iteration (32) || signing public key (32, raw Ed25519). "
    "Inputs: distribution_id = SHA-256(\"group distribution id\")[0:16]; chain \"initial\": "
    "chain_id 0x0a0b0c0d, chain_key_0 = SHA-256(\"group chain key\"), signing_seed = "
    "SHA-256(\"group signing seed\") (RFC 8032 secret key), guard of iteration N = "
    "SHA-256(\"group guard N\")[0:4]; chain \"rotated\": chain_id 0x11223344, chain_key_0 = "
    "SHA-256(\"group chain key 2\"), signing_seed = SHA-256(\"group signing seed 2\"), guard = "
    "SHA-256(\"group guard rotated N\")[0:4]. \"messages\" are in delivery order: the "
    "initial chain's sender sent iterations 0..5; 3 was lost (not listed) and 4 arrives "
    "after 5. A receiver built from distribution_0 decrypts them in order, storing mk_3 "
    "and mk_4 when 5 arrives and ending with only mk_3 stored; a replay of iteration 1 "
    "(or 4) is a duplicate. distribution_3 is what a member added after iterations 0..2 "
    "receives: its earliest derivable key is mk_3, so it cannot decrypt iterations 0..2 "
    "and decrypts 5 and 4. \"chain_keys\" maps i (1..6) to ck_i. Integers: chain_id, "
    "iteration; byte strings lowercase hex (\"\" when empty).")


def build():
    initial, sent = scenario_initial()
    rotated = scenario_rotated(sent)
    return {"description": DESCRIPTION, "distribution_id": h(DIST_ID),
            "chains": [initial, rotated]}


if __name__ == "__main__":
    sys.exit(main(sys.argv, [("group_v1.json", build)]))
