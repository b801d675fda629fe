#!/usr/bin/env python3
"""Generate (or check) the protocol test vectors Tests/Vectors/protocol_v1.json.

Usage:
    python3 scripts/gen_protocol_vectors.py           # (re)write the JSON file
    python3 scripts/gen_protocol_vectors.py --check   # regenerate in memory, compare
                                                      # with the file on disk; exit 1
                                                      # on any diff

This is an independent reference implementation of PROTOCOL.md suite v1,
sections 1-4 (keys and bundle, X3DH, Double Ratchet with AEAD_v1, wire
format), written only from PROTOCOL.md and the Signal Double Ratchet
specification, not from the Swift or C sources.  Every message is encrypted by
one party and then parsed from its wire bytes and decrypted by the other, and
both sides of X3DH are computed from their own private keys.

Dependencies: the Python standard library (hashlib for SHA-256/SHA-512 and
BLAKE2b, hmac for HKDF-SHA-512) plus `cryptography` (X25519, Ed25519,
ChaCha20-Poly1305), through the wrappers in scripts/vectorlib.py that every
generator shares (as are the scenario entries and the --check driver).  The
Ed25519 -> X25519 birational map (libsodium crypto_sign_ed25519_pk_to_curve25519
/ _sk_to_curve25519) is written out here:
    public:  y = little-endian Ed25519 point encoding with the top (sign) bit
             cleared; u = (1 + y) / (1 - y) mod 2^255 - 19, 32 bytes LE;
    secret:  h = SHA-512(seed)[0:32]; h[0] &= 248; h[31] &= 127; h[31] |= 64.
It is checked by X25519(sk_map(a), 9) == pk_map(A) and by
X25519(sk_map(a), pk_map(B)) == X25519(sk_map(b), pk_map(A)).

Conventions (as scripts/gen_vectors.py): one JSON object with a "description"
string; byte strings lowercase hex ("" when empty); numbers are JSON integers;
absent values are null; json.dumps(indent=2, sort_keys=True) plus a trailing
newline, so regeneration is byte-for-byte stable.

Deterministic inputs.  Every 32-byte private value is SHA-256 of an ASCII
label; a 4-byte reuse guard is the first 4 bytes of SHA-256 of its label.
X25519 private keys are stored exactly as drawn (unclamped); X25519 clamps them
when used.  Long-term keys (fixed inputs, not drawn during a session):
    Alice identity (Ed25519 seed)   "alice identity seed"
    Bob identity (Ed25519 seed)     "bob identity seed"
    Bob SPK, id 7 (X25519)          "bob spk"
    Bob OPK, id 42 (X25519)         "bob opk"     (scenario x3dh_opk only)
If a test generates them through its key source instead, the order is
Bob identity, Bob SPK, Bob OPK (bundle creation), Alice identity.

Draw order during a session -- the exact sequence each party takes from its
(deterministic) random source; the script enforces it:

  scenario "x3dh_opk"
    Alice:  1. X3DH ephemeral EK_A       "alice ephemeral"      (session start)
            2. ratchet key               "alice ratchet 0"      (Double Ratchet init,
                                                                 after X3DH)
            3-5. guards                  "guard A1", "guard A2", "guard A3"
                                         (one per encryption, when encrypting)
            6. ratchet key               "alice ratchet 1"      (DH ratchet on receiving B1)
            7-9. guards                  "guard A4", "guard A5", "guard A6"
            10. ratchet key              "alice ratchet 2"      (DH ratchet on receiving B4)
    Bob:    1. ratchet key               "bob ratchet 0"        (DH ratchet on receiving A1)
            2-4. guards                  "guard B1", "guard B2", "guard B3"
            5. ratchet key               "bob ratchet 1"        (DH ratchet on receiving A4)
            6. guard                     "guard B4"
  scenario "no_opk"
    Alice:  "alice ephemeral 2", "alice ratchet nopk 0", "guard nopk A1"
    Bob:    "bob ratchet nopk 0"         (DH ratchet on receiving A1)

The DH ratchet is the Signal specification's DHRatchet, done at once when a
header carries a new ratchet key: PN = Ns; Ns = Nr = 0; DHr = header.dh;
(RK, CKr) = KDF_RK(RK, DH(DHs, DHr)); DHs = next ratchet key from the source;
(RK, CKs) = KDF_RK(RK, DH(DHs, DHr)).  So Bob's sending chain exists as soon
as he has received A1 (he draws his new ratchet key while receiving, not
lazily at his first send).

scenario "skips_and_eviction" (delivery_scenarios): the labels are in
scenario_skips(); Alice draws her ephemeral key and first ratchet key, a guard
per message and a ratchet key on each DH ratchet; Bob a ratchet key on each DH
ratchet and a guard per message. At most MAX_STORED = 2000 skipped keys are
kept per session, the oldest evicted first; a message whose key was used or
evicted, on the current chain or on a chain now gone, is a duplicate.

Output: Tests/Vectors/protocol_v1.json, layout described in its "description"
and "delivery_description".
"""

import copy
import hashlib
import sys

sys.dont_write_bytecode = True  # importing vectorlib leaves no __pycache__

from vectorlib import (  # noqa: E402  (same directory)
    KEM_PUB_LEN, Duplicate, ProtocolError, aead_v1_open, aead_v1_seal, check, dh_entry,
    ed25519_pub, ed25519_sign, ed25519_verify, encode_ed25519, encode_x25519, exchange,
    expect_reject, fox, h, hkdf_sha512, kdf_ck, kdf_rk, main, party_entry, read_u32,
    sha256, u32, x25519, x25519_pub,
)


# ---------------------------------------------------------------- primitives

P25519 = 2 ** 255 - 19


def ed_pk_to_x25519(pk):
    """libsodium crypto_sign_ed25519_pk_to_curve25519: u = (1 + y) / (1 - y)."""
    if len(pk) != 32:
        raise ProtocolError("Ed25519 public key length")
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    if y >= P25519 or y == 1:
        raise ProtocolError("Ed25519 public key not usable for X25519")
    u = (1 + y) * pow((1 - y) % P25519, P25519 - 2, P25519) % P25519
    return u.to_bytes(32, "little")


def ed_sk_to_x25519(seed):
    """libsodium crypto_sign_ed25519_sk_to_curve25519: clamped SHA-512(seed)[0:32]."""
    d = bytearray(hashlib.sha512(seed).digest()[:32])
    d[0] &= 248
    d[31] &= 127
    d[31] |= 64
    return bytes(d)


# ---------------------------------------------------------------- deterministic source

class Source:
    """A party's random source: hands out the planned draws in order.

    `plan` is a list of (kind, label); kind is "ephemeral", "ratchet" or
    "guard".  Drawing a different kind than planned, or more than planned, is a
    self-check failure, so the documented draw order is enforced.
    """

    def __init__(self, party, plan):
        self.party = party
        self.plan = list(plan)
        self.pos = 0

    def draw(self, kind):
        check(self.pos < len(self.plan), "%s drew an unplanned %s" % (self.party, kind))
        want_kind, label = self.plan[self.pos]
        check(want_kind == kind, "%s drew %s, plan says %s (%s)" % (self.party, kind, want_kind, label))
        self.pos += 1
        v = sha256(label.encode("ascii"))
        return v[:4] if kind == "guard" else v

    def done(self):
        check(self.pos == len(self.plan), "%s did not use its whole plan" % self.party)

    def privates(self, kind):
        return [sha256(label.encode("ascii")) for k, label in self.plan if k == kind]


# ---------------------------------------------------------------- bundle (1)

def encode_bundle(ik_pub, spk_id, spk_pub, spk_sig, opk, kem=None):
    """opk = (id, pub) or None; kem = (id, pub, sig) or None (the PQXDH part, 2b)."""
    flags = (0x01 if opk is not None else 0) | (0x02 if kem is not None else 0)
    out = b"\x01" + bytes([flags]) + ik_pub + u32(spk_id) + spk_pub + spk_sig
    if opk is not None:
        out += u32(opk[0]) + opk[1]
    if kem is not None:
        out += u32(kem[0]) + kem[1] + kem[2]
    return out


def parse_bundle(b):
    if len(b) < 2 or b[0] != 0x01:
        raise ProtocolError("bundle: version")
    flags = b[1]
    if flags & ~0x03:
        raise ProtocolError("bundle: unknown flags")
    need = (2 + 32 + 4 + 32 + 64 + (36 if flags & 1 else 0)
            + (4 + KEM_PUB_LEN + 64 if flags & 2 else 0))
    if len(b) != need:
        raise ProtocolError("bundle: length")
    p = 2
    ik = b[p:p + 32]; p += 32
    spk_id = read_u32(b[p:p + 4]); p += 4
    spk = b[p:p + 32]; p += 32
    sig = b[p:p + 64]; p += 64
    opk = kem = None
    if flags & 1:
        opk = (read_u32(b[p:p + 4]), b[p + 4:p + 36])
        p += 36
    if flags & 2:
        kem = (read_u32(b[p:p + 4]), b[p + 4:p + 4 + KEM_PUB_LEN],
               b[p + 4 + KEM_PUB_LEN:p + 4 + KEM_PUB_LEN + 64])
        p += 4 + KEM_PUB_LEN + 64
    check(p == len(b), "bundle parse consumed everything")
    return {"ik": ik, "spk_id": spk_id, "spk": spk, "spk_sig": sig, "opk": opk, "kem": kem}


# ---------------------------------------------------------------- X3DH (2)

X3DH_INFO = b"E2EE-v1 X3DH"
NO_OPK = 0xFFFFFFFF


def x3dh_sk(dhs):
    return hkdf_sha512(b"\xff" * 32 + b"".join(dhs), bytes(64), X3DH_INFO, 32)


def x3dh_alice(ik_a_seed, ek_priv, bundle):
    if not ed25519_verify(bundle["ik"], bundle["spk_sig"], encode_x25519(bundle["spk"])):
        raise ProtocolError("X3DH: bad SPK signature")
    d = [x25519(ed_sk_to_x25519(ik_a_seed), bundle["spk"]),
         x25519(ek_priv, ed_pk_to_x25519(bundle["ik"])),
         x25519(ek_priv, bundle["spk"])]
    if bundle["opk"] is not None:
        d.append(x25519(ek_priv, bundle["opk"][1]))
    ad = encode_ed25519(ed25519_pub(ik_a_seed)) + encode_ed25519(bundle["ik"])
    return d, x3dh_sk(d), ad


def x3dh_bob(ik_b_seed, spk_priv, opk_priv, ik_a_pub, ek_a_pub):
    d = [x25519(spk_priv, ed_pk_to_x25519(ik_a_pub)),
         x25519(ed_sk_to_x25519(ik_b_seed), ek_a_pub),
         x25519(spk_priv, ek_a_pub)]
    if opk_priv is not None:
        d.append(x25519(opk_priv, ek_a_pub))
    ad = encode_ed25519(ik_a_pub) + encode_ed25519(ed25519_pub(ik_b_seed))
    return d, x3dh_sk(d), ad


# ---------------------------------------------------------------- Double Ratchet (3)

MAX_SKIP = 1000
MAX_STORED = 2000


def encode_header(dh_pub, pn, n):
    return dh_pub + u32(pn) + u32(n)


class Ratchet:
    def __init__(self, source, ad):
        self.source = source
        self.ad = ad
        self.dhs = None  # (priv, pub)
        self.dhr = None
        self.rk = None
        self.cks = None
        self.ckr = None
        self.ns = self.nr = self.pn = 0
        self.skipped = {}
        self.previous = []  # remote ratchet keys whose chains are gone

    @classmethod
    def init_alice(cls, source, ad, sk, spk_b):
        r = cls(source, ad)
        priv = source.draw("ratchet")
        r.dhs = (priv, x25519_pub(priv))
        r.dhr = spk_b
        r.rk, r.cks = kdf_rk(sk, x25519(priv, spk_b))
        return r

    @classmethod
    def init_bob(cls, source, ad, sk, spk_priv):
        r = cls(source, ad)
        r.dhs = (spk_priv, x25519_pub(spk_priv))
        r.rk = sk
        return r

    def snapshot(self):
        return {"root_key": h(self.rk), "sending_chain_key": h(self.cks),
                "receiving_chain_key": h(self.ckr)}

    def encrypt(self, pt):
        if self.cks is None:
            raise ProtocolError("no sending chain")
        self.cks, mk = kdf_ck(self.cks)
        header = (self.dhs[1], self.pn, self.ns)
        self.ns += 1
        guard = self.source.draw("guard")
        body = aead_v1_seal(mk, guard, pt, self.ad + encode_header(*header))
        return header, mk, guard, body

    def decrypt(self, header, body):
        """Returns (plaintext, message key); on any error the state is unchanged."""
        saved = dict(self.__dict__)
        saved["skipped"] = dict(self.skipped)
        saved["previous"] = list(self.previous)
        try:
            return self._decrypt(header, body)
        except ProtocolError:
            self.__dict__.update(saved)
            raise

    def _decrypt(self, header, body):
        dh_pub, pn, n = header
        ad = self.ad + encode_header(*header)
        if (dh_pub, n) in self.skipped:
            mk = self.skipped.pop((dh_pub, n))
            return aead_v1_open(mk, body, ad), mk
        # Used or evicted keys (§3): behind the current chain, or of a chain now gone.
        if (dh_pub == self.dhr and self.ckr is not None and n < self.nr) or dh_pub in self.previous:
            raise Duplicate(n)
        if dh_pub != self.dhr:
            self._skip(pn)
            self._dh_ratchet(dh_pub)
        self._skip(n)
        self.ckr, mk = kdf_ck(self.ckr)
        self.nr += 1
        return aead_v1_open(mk, body, ad), mk

    def _skip(self, until):
        if self.ckr is None:
            return
        if until < self.nr:
            raise ProtocolError("duplicate or old message")
        if self.nr + MAX_SKIP < until:
            raise ProtocolError("too many skipped messages")
        while self.nr < until:
            self.ckr, mk = kdf_ck(self.ckr)
            self.skipped[(self.dhr, self.nr)] = mk
            self.nr += 1
            # At most MAX_STORED skipped keys, the oldest evicted first (§3).
            while len(self.skipped) > MAX_STORED:
                del self.skipped[next(iter(self.skipped))]

    def _dh_ratchet(self, dh_pub):
        if self.dhr is not None and self.ckr is not None:
            self.previous.append(self.dhr)   # its chain now lives only in its skipped keys
        self.pn = self.ns
        self.ns = self.nr = 0
        self.dhr = dh_pub
        self.rk, self.ckr = kdf_rk(self.rk, x25519(self.dhs[0], self.dhr))
        priv = self.source.draw("ratchet")
        self.dhs = (priv, x25519_pub(priv))
        self.rk, self.cks = kdf_rk(self.rk, x25519(self.dhs[0], self.dhr))


# ---------------------------------------------------------------- wire (4)

def encode_ratchet_message(header, body):
    return b"\x01\x01" + encode_header(*header) + body


def encode_prekey_message(ik_a, ek_a, spk_id, opk_id, header, body):
    return b"\x01\x02" + ik_a + ek_a + u32(spk_id) + u32(opk_id) + encode_header(*header) + body


def parse_header(b):
    dh_pub = b[:32]
    if dh_pub == bytes(32):
        raise ProtocolError("header: all-zero key")
    return (dh_pub, read_u32(b[32:36]), read_u32(b[36:40]))


def parse_message(b):
    if len(b) < 2:
        raise ProtocolError("message: short")
    if b[0] != 0x01:
        raise ProtocolError("message: version")
    if b[1] == 0x01:
        if len(b) < 2 + 40 + 20:
            raise ProtocolError("message: short")
        return {"type": "ratchet", "header": parse_header(b[2:42]), "body": b[42:]}
    if b[1] == 0x02:
        if len(b) < 2 + 32 + 32 + 4 + 4 + 40 + 20:
            raise ProtocolError("message: short")
        ik_a, ek_a = b[2:34], b[34:66]
        if ik_a == bytes(32) or ek_a == bytes(32):
            raise ProtocolError("message: all-zero key")
        return {"type": "prekey", "ik_a": ik_a, "ek_a": ek_a,
                "spk_id": read_u32(b[66:70]), "opk_id": read_u32(b[70:74]),
                "header": parse_header(b[74:114]), "body": b[114:]}
    raise ProtocolError("message: type")


# ---------------------------------------------------------------- parties

class Alice:
    def __init__(self, identity_seed, source):
        self.seed = identity_seed
        self.ik_pub = ed25519_pub(identity_seed)
        self.source = source
        self.received_any = False

    def start(self, bundle_bytes):
        bundle = parse_bundle(bundle_bytes)
        if bundle["kem"] is not None:
            raise ProtocolError("bundle: KEM part not handled by this generator")
        ek_priv = self.source.draw("ephemeral")
        self.ek_pub = x25519_pub(ek_priv)
        dhs, sk, ad = x3dh_alice(self.seed, ek_priv, bundle)
        self.spk_id = bundle["spk_id"]
        self.opk_id = bundle["opk"][0] if bundle["opk"] is not None else NO_OPK
        self.ratchet = Ratchet.init_alice(self.source, ad, sk, bundle["spk"])
        return {"ek_priv": ek_priv, "dhs": dhs, "sk": sk, "ad": ad}

    def send(self, pt):
        header, mk, guard, body = self.ratchet.encrypt(pt)
        if self.received_any:
            wire, kind = encode_ratchet_message(header, body), "ratchet"
        else:
            wire = encode_prekey_message(self.ik_pub, self.ek_pub, self.spk_id,
                                         self.opk_id, header, body)
            kind = "prekey"
        return header, mk, guard, wire, kind

    def receive(self, wire):
        m = parse_message(wire)
        if m["type"] != "ratchet":
            raise ProtocolError("Alice expects ratchet messages")
        pt, mk = self.ratchet.decrypt(m["header"], m["body"])
        self.received_any = True
        return pt, mk

    def state(self):
        return self.ratchet.snapshot()

    def init_entry(self):
        """Her state right after the Double Ratchet initialisation ("alice_init")."""
        r = self.ratchet
        return {"root_key": h(r.rk), "sending_chain_key": h(r.cks), "ratchet_public": h(r.dhs[1])}


class Bob:
    def __init__(self, identity_seed, spk, opks, source):
        self.seed = identity_seed
        self.ik_pub = ed25519_pub(identity_seed)
        self.spks = {spk[0]: spk[1]}  # id -> private
        self.opks = dict(opks)        # id -> private
        self.source = source
        self.session = None           # (ek_a, ik_a, spk_id, opk_id, ratchet)
        self.x3dh = None

    def receive(self, wire):
        m = parse_message(wire)
        if m["type"] == "ratchet":
            if self.session is None:
                raise ProtocolError("no session")
            return self.session[4].decrypt(m["header"], m["body"])
        if self.session is not None and self.session[0] == m["ek_a"]:
            if self.session[1:4] != (m["ik_a"], m["spk_id"], m["opk_id"]):
                raise ProtocolError("PreKeyMessage does not match its session")
            return self.session[4].decrypt(m["header"], m["body"])
        spk_priv, opk_priv = self.prekeys(m)
        dhs, sk, ad = x3dh_bob(self.seed, spk_priv, opk_priv, m["ik_a"], m["ek_a"])
        r = Ratchet.init_bob(self.source, ad, sk, spk_priv)
        pt, mk = r.decrypt(m["header"], m["body"])  # raises before any state change
        if opk_priv is not None:
            del self.opks[m["opk_id"]]  # only once the first message authenticated
        self.session = (m["ek_a"], m["ik_a"], m["spk_id"], m["opk_id"], r)
        self.x3dh = {"dhs": dhs, "sk": sk, "ad": ad}
        return pt, mk

    def prekeys(self, m):
        """The private SPK and OPK (or None) a first message names."""
        spk_priv = self.spks.get(m["spk_id"])
        if spk_priv is None:
            raise ProtocolError("unknown SPK id")
        opk_priv = None
        if m["opk_id"] != NO_OPK:
            opk_priv = self.opks.get(m["opk_id"])
            if opk_priv is None:
                raise ProtocolError("unknown OPK id")
        return spk_priv, opk_priv

    def send(self, pt):
        header, mk, guard, body = self.session[4].encrypt(pt)
        return header, mk, guard, encode_ratchet_message(header, body), "ratchet"

    def state(self):
        return None if self.session is None else self.session[4].snapshot()


# ---------------------------------------------------------------- scenarios

ALICE_SEED = sha256(b"alice identity seed")
BOB_SEED = sha256(b"bob identity seed")
SPK_ID = 7
SPK_PRIV = sha256(b"bob spk")
OPK_ID = 42
OPK_PRIV = sha256(b"bob opk")


def check_birational_map():
    a_x, b_x = ed_sk_to_x25519(ALICE_SEED), ed_sk_to_x25519(BOB_SEED)
    a_pub, b_pub = ed25519_pub(ALICE_SEED), ed25519_pub(BOB_SEED)
    check(x25519_pub(a_x) == ed_pk_to_x25519(a_pub), "map: alice sk/pk agree")
    check(x25519_pub(b_x) == ed_pk_to_x25519(b_pub), "map: bob sk/pk agree")
    check(x25519(a_x, ed_pk_to_x25519(b_pub)) == x25519(b_x, ed_pk_to_x25519(a_pub)),
          "map: DH symmetric")


def bob_prekeys(use_opk):
    """Bob's signed prekey and one-time prekey: (spk_pub, spk_sig, opk_pub, their "bob" keys)."""
    spk_pub = x25519_pub(SPK_PRIV)
    spk_sig = ed25519_sign(BOB_SEED, encode_x25519(spk_pub))
    check(ed25519_sign(BOB_SEED, encode_x25519(spk_pub)) == spk_sig, "Ed25519 deterministic")
    opk_pub = x25519_pub(OPK_PRIV) if use_opk else None
    return spk_pub, spk_sig, opk_pub, {
        "spk_id": SPK_ID, "spk_private": h(SPK_PRIV), "spk_public": h(spk_pub),
        "spk_signature": h(spk_sig), "opk_id": OPK_ID if use_opk else None,
        "opk_private": h(OPK_PRIV) if use_opk else None, "opk_public": h(opk_pub)}


def run_scenario(name, alice_plan, bob_plan, use_opk, script):
    alice_src, bob_src = Source("alice", alice_plan), Source("bob", bob_plan)
    spk_pub, spk_sig, opk_pub, bob_keys = bob_prekeys(use_opk)
    bundle = encode_bundle(ed25519_pub(BOB_SEED), SPK_ID, spk_pub, spk_sig,
                           (OPK_ID, opk_pub) if use_opk else None)
    check(len(bundle) == (170 if use_opk else 134), "bundle length")

    alice = Alice(ALICE_SEED, alice_src)
    bob = Bob(BOB_SEED, (SPK_ID, SPK_PRIV), {OPK_ID: OPK_PRIV} if use_opk else {}, bob_src)
    a = alice.start(bundle)
    alice_init = alice.init_entry()
    check(len(a["ad"]) == 66, "AD length")

    def before_receive(mname, kind, header, wire):
        if kind == "prekey" and bob.session is None and use_opk:
            # A tampered first message must fail and leave Bob without a session
            # and with his OPK.  Tried on a copy: the failed attempt draws a
            # ratchet key, which must not shift the documented draw order.
            scratch = copy.deepcopy(bob)
            forged = wire[:-1] + bytes([wire[-1] ^ 1])
            expect_reject("forged first message", scratch.receive, forged)
            check(scratch.session is None and OPK_ID in scratch.opks, "forged message changed Bob")

    messages = exchange(alice, bob, script, 72, before_receive)

    # Bob derived everything independently; compare.
    check(bob.x3dh["dhs"] == a["dhs"], name + ": DH outputs agree")
    check(bob.x3dh["sk"] == a["sk"], name + ": SK agrees")
    check(bob.x3dh["ad"] == a["ad"], name + ": AD agrees")
    if use_opk:
        check(OPK_ID not in bob.opks, "OPK deleted after first message")
    check(not alice.ratchet.skipped and not bob.session[4].skipped, "no skipped keys left")
    alice_src.done()
    bob_src.done()

    return {
        "name": name,
        "alice": party_entry(alice, ephemeral_private=h(a["ek_priv"]),
                             ephemeral_public=h(alice.ek_pub)),
        "bob": party_entry(bob, **bob_keys),
        "bundle": h(bundle),
        "x3dh": dh_entry(a["dhs"], sk=h(a["sk"]), ad=h(a["ad"])),
        "alice_init": alice_init,
        "messages": messages,
    }


def scenario_opk():
    alice_plan = [("ephemeral", "alice ephemeral"), ("ratchet", "alice ratchet 0"),
                  ("guard", "guard A1"), ("guard", "guard A2"), ("guard", "guard A3"),
                  ("ratchet", "alice ratchet 1"),
                  ("guard", "guard A4"), ("guard", "guard A5"), ("guard", "guard A6"),
                  ("ratchet", "alice ratchet 2")]
    bob_plan = [("ratchet", "bob ratchet 0"),
                ("guard", "guard B1"), ("guard", "guard B2"), ("guard", "guard B3"),
                ("ratchet", "bob ratchet 1"), ("guard", "guard B4")]
    script = [
        ("A1", "alice", b"A1: hello Bob"),
        ("A2", "alice", b""),
        ("A3", "alice", b"A3: a third PreKeyMessage, Bob has not answered yet"),
        ("B1", "bob", b"B1: hi Alice"),
        ("B2", "bob", fox(b"B2: 300 bytes: ", 300)),
        ("B3", "bob", b"B3: 0123456789abcdef"),
        ("A4", "alice", b"A4: first message after my DH ratchet"),
        ("A5", "alice", b"A5: x"),
        ("A6", "alice", b"A6: sixteen byte"),
        ("B4", "bob", b"B4: Bob after his second DH ratchet"),
    ]
    s = run_scenario("x3dh_opk", alice_plan, bob_plan, True, script)
    m = {x["name"]: x for x in s["messages"]}
    check(len(bytes.fromhex(m["B2"]["plaintext"])) == 300, "B2 is 300 bytes")
    check(m["A4"]["header"]["pn"] == 3 and m["A4"]["header"]["n"] == 0, "A4 header PN=3 N=0")
    check(m["B4"]["header"]["pn"] == 3 and m["B4"]["header"]["n"] == 0, "B4 header PN=3 N=0")
    check([x["type"] for x in s["messages"]] == ["prekey"] * 3 + ["ratchet"] * 7, "message types")
    return s


def scenario_no_opk():
    alice_plan = [("ephemeral", "alice ephemeral 2"), ("ratchet", "alice ratchet nopk 0"),
                  ("guard", "guard nopk A1")]
    bob_plan = [("ratchet", "bob ratchet nopk 0")]
    script = [("A1", "alice", b"A1: hello Bob, no one-time prekey this time")]
    s = run_scenario("no_opk", alice_plan, bob_plan, False, script)
    wire = bytes.fromhex(s["messages"][0]["wire"])
    check(wire[70:74] == b"\xff\xff\xff\xff", "no_opk: OPK id on the wire is ffffffff")
    return s


def scenario_skips():
    """Out-of-order delivery within a chain, PN skips across a DH ratchet step,
    and eviction past MAX_STORED skipped keys. Each party's deliveries are
    listed in order with what the receiver must make of them."""
    n_chain = 2503  # Alice's chain after her first DH ratchet: 0..2502
    alice_plan = ([("ephemeral", "skips alice ephemeral"), ("ratchet", "skips alice ratchet 0"),
                   ("guard", "skips guard A0"), ("ratchet", "skips alice ratchet 1")]
                  + [("guard", "skips guard C%d" % i) for i in range(n_chain)]
                  + [("ratchet", "skips alice ratchet 2")]
                  + [("guard", "skips guard N%d" % i) for i in range(3)])
    bob_plan = [("ratchet", "skips bob ratchet 0"), ("guard", "skips guard B0"),
                ("ratchet", "skips bob ratchet 1"), ("guard", "skips guard B1"),
                ("ratchet", "skips bob ratchet 2")]
    alice_src, bob_src = Source("alice", alice_plan), Source("bob", bob_plan)
    spk_pub, spk_sig, opk_pub, _ = bob_prekeys(True)
    bundle = encode_bundle(ed25519_pub(BOB_SEED), SPK_ID, spk_pub, spk_sig, (OPK_ID, opk_pub))
    alice = Alice(ALICE_SEED, alice_src)
    bob = Bob(BOB_SEED, (SPK_ID, SPK_PRIV), {OPK_ID: OPK_PRIV}, bob_src)
    alice.start(bundle)
    sent = {}
    deliveries = []

    def send(sender, name, pt):
        header, mk, guard, wire, kind = sender.send(pt)
        sent[name] = (wire, pt, header)

    def deliver(name, to, party):
        wire, pt, header = sent[name]
        entry = {"name": name, "to": to, "wire": h(wire), "n": header[2], "pn": header[1]}
        try:
            got, _ = party.receive(wire)
            check(got == pt, name + " plaintext")
            entry.update({"plaintext": h(pt), "duplicate": None})
        except Duplicate as d:
            entry.update({"plaintext": None, "duplicate": d.n})
        deliveries.append(entry)
        return entry

    send(alice, "A0", b"A0: first")
    deliver("A0", "bob", bob)
    send(bob, "B0", b"B0: reply")
    deliver("B0", "alice", alice)                      # Alice's DH ratchet: her chain C starts
    for i in range(n_chain):
        send(alice, "C%d" % i, b"C%d" % i)
    # Out of order within the chain.
    for i in (3, 1, 0):
        deliver("C%d" % i, "bob", bob)
    check(deliveries[-1]["plaintext"] is not None, "C0 read from a skipped key")
    # Skips up to MAX_SKIP at a time until more than MAX_STORED keys are held: the oldest go.
    for i in (1000, 2000, 2500):
        deliver("C%d" % i, "bob", bob)
    ratchet = bob.session[4]
    check(len(ratchet.skipped) == MAX_STORED, "Bob holds exactly MAX_STORED skipped keys")
    oldest = min(n for (_, n) in ratchet.skipped)
    check(oldest > 2, "the oldest keys were evicted")
    for i in (2, oldest - 1):
        check(deliver("C%d" % i, "bob", bob)["duplicate"] == i, "C%d evicted: a duplicate" % i)
    for i in (oldest, 2499):
        check(deliver("C%d" % i, "bob", bob)["plaintext"] is not None, "C%d still held" % i)
    check(deliver("C1000", "bob", bob)["duplicate"] == 1000, "a replay is a duplicate")
    # PN skips: C2501 and C2502 are still in flight when Alice ratchets again.
    send(bob, "B1", b"B1: after the skips")
    deliver("B1", "alice", alice)                      # Alice's second DH ratchet
    for i in range(3):
        send(alice, "N%d" % i, b"N%d: new chain" % i)
    entry = deliver("N1", "bob", bob)                  # PN = 2503: C2501, C2502 stored first
    check(entry["pn"] == n_chain and entry["n"] == 1, "N1 header")
    for name in ("C2502", "C2501", "N0", "N2"):
        check(deliver(name, "bob", bob)["plaintext"] is not None, name + " read after the PN skip")
    for name in ("C2501", "N0", "C1"):
        check(deliver(name, "bob", bob)["duplicate"] is not None, name + " again is a duplicate")
    alice_src.done()
    bob_src.done()
    return {
        "name": "skips_and_eviction",
        "alice": {"identity_seed": h(ALICE_SEED), "ephemeral_private": h(alice_src.privates("ephemeral")[0]),
                  "ratchet_privates": [h(k) for k in alice_src.privates("ratchet")]},
        "bob": {"identity_seed": h(BOB_SEED), "spk_id": SPK_ID, "spk_private": h(SPK_PRIV),
                "opk_id": OPK_ID, "opk_private": h(OPK_PRIV),
                "ratchet_privates": [h(k) for k in bob_src.privates("ratchet")]},
        "bundle": h(bundle),
        "deliveries": deliveries,
    }


DELIVERY_DESCRIPTION = (
    "delivery_scenarios: messages made by the two parties of one X3DH session (keys as in "
    "the scenarios above, drawn from the labels in scripts/gen_protocol_vectors.py) and "
    "delivered out of order. Each delivery gives the receiver ('to'), the wire bytes and "
    "what the receiver must make of it: the plaintext, or, for a message whose key was "
    "used or evicted (at most 2000 skipped keys per session, oldest first, MAX_SKIP 1000 "
    "per step), a duplicate of counter 'duplicate'. ratchet_privates are the keys each "
    "party draws, in order (Alice's begins with her initial ratchet key); a receiver "
    "replaying the deliveries draws exactly these.")


DESCRIPTION = (
    "PROTOCOL.md suite v1 sections 1-4 end to end: Bob's prekey bundle, X3DH, "
    "the Double Ratchet with AEAD_v1 and the wire bytes, produced by the "
    "independent Python reference scripts/gen_protocol_vectors.py (whose "
    "docstring lists the exact order in which each party draws ratchet keys and "
    "guards). All private inputs are SHA-256 of ASCII labels (guards: first 4 "
    "bytes); X25519 privates are stored unclamped as drawn. Per scenario: "
    "'alice' and 'bob' hold the key material; identity_seed is the 32-byte "
    "Ed25519 seed; ratchet_privates are exactly the ratchet keys the party "
    "generates, in order (Alice's list starts with her initial DHs; Bob's "
    "initial DHs is his SPK and is not listed). spk_signature = "
    "Ed25519-Sign(IK_B, 05 || spk_public). 'bundle' = 01 || flags || IK_B || "
    "u32 spk_id || spk_public || spk_signature [|| u32 opk_id || opk_public]. "
    "'x3dh': dh1 = DH(IK_A, SPK_B), dh2 = DH(EK_A, IK_B), dh3 = DH(EK_A, SPK_B), "
    "dh4 = DH(EK_A, OPK_B) or null, identity keys mapped to X25519 with "
    "libsodium's birational map; sk = HKDF-SHA-512(salt = 00*64, ikm = ff*32 || "
    "dh1 || dh2 || dh3 [|| dh4], info = \"E2EE-v1 X3DH\", 32); ad = ed || "
    "IK_A || ed || IK_B. 'alice_init': state right after Alice's Double Ratchet "
    "initialisation (before her first KDF_CK). 'messages' are delivered in "
    "order; each is encrypted by 'from' and decrypted by the other party. "
    "header = (dh, pn, n), Encode(H) = dh || u32 pn || u32 n; message_key is "
    "the KDF_CK output used; wire is the full message: ratchet = 01 01 || "
    "Encode(H) || guard || ChaCha20-Poly1305(message_key, guard || 00*8, "
    "plaintext, ad || Encode(H)), prekey = 01 02 || IK_A || EK_A || u32 spk_id "
    "|| u32 opk_id (ffffffff = none) || Encode(H) || same AEAD_v1 output. "
    "sender_after / receiver_after: root, sending and receiving chain keys of "
    "the sender and the receiver right after this message was sent / received "
    "(null where the chain does not exist). The receiver performs the Signal "
    "DHRatchet as soon as a header carries a new ratchet key, drawing its next "
    "ratchet key then. Integers: spk_id, opk_id, pn, n; null: absent values; "
    "byte strings lowercase hex (\"\" when empty).")


def build():
    check_birational_map()
    return {"description": DESCRIPTION, "scenarios": [scenario_opk(), scenario_no_opk()],
            "delivery_description": DELIVERY_DESCRIPTION, "delivery_scenarios": [scenario_skips()]}


if __name__ == "__main__":
    sys.exit(main(sys.argv, [("protocol_v1.json", build)]))
