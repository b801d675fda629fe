#!/usr/bin/env python3
"""Generate (or check) the PQXDH test vectors Tests/Vectors/pqxdh_v1.json.

Usage:
    python3 scripts/gen_pqxdh_vectors.py           # (re)write the JSON file
    python3 scripts/gen_pqxdh_vectors.py --check   # regenerate in memory, compare
                                                   # with the file on disk; exit 1
                                                   # on any diff

This is an independent reference implementation of PROTOCOL.md suite v1
section 2b (PQXDH: X3DH plus an ML-KEM-1024 encapsulation to a signed KEM
prekey), with the KEM part of the prekey bundle (section 1) and the
PQPreKeyMessage (section 4), written only from PROTOCOL.md and FIPS 203, not
from the Swift or C sources.  Everything PQXDH shares with X3DH is imported,
so the two agree by construction: the primitives (X25519, Ed25519, HKDF-SHA-512,
BLAKE2b, AEAD_v1), the scenario entries and the --check driver from
scripts/vectorlib.py, and the birational map, the prekey bundle, the Double
Ratchet, the other wire messages and the deterministic random source from
scripts/gen_protocol_vectors.py, the X3DH reference.  Every message is
encrypted by one party and then parsed from its wire bytes and decrypted by
the other; both sides of PQXDH are computed from their own private keys (Alice
encapsulates, Bob decapsulates with the key he derives from his seed), and
their DH outputs, shared secret, SK and AD are compared.

Dependencies: those of gen_protocol_vectors.py (`cryptography`) plus kyber-py
1.2.0 (PyPI `kyber-py`, a pure-Python FIPS 203), used through:
    ML_KEM_1024.key_derive(d || z)      FIPS 203 ML-KEM.KeyGen_internal(d, z)
    ML_KEM_1024._encaps_internal(ek, m)  FIPS 203 ML-KEM.Encaps_internal(ek, m)
                                         (returns (K, c))
    ML_KEM_1024.decaps(dk, c)            FIPS 203 ML-KEM.Decaps(dk, c)
The expanded decapsulation key is checked to be dk_pke || ek || SHA3-256(ek) || z,
and the implicit-rejection value is recomputed here as SHAKE256(z || c, 32).
Where `cryptography` provides ML-KEM-1024 (OpenSSL), key derivation and
decapsulation are also cross-checked against it; the output does not depend on
whether it does.

Conventions (as scripts/gen_protocol_vectors.py): one JSON object with a
"description" string; byte strings lowercase hex ("" when empty); numbers are
JSON integers; absent values are null; json.dumps(indent=2, sort_keys=True)
plus a trailing newline, so regeneration is byte-for-byte stable.

Deterministic inputs.  Every 32-byte value is SHA-256 of an ASCII label; a
4-byte reuse guard is the first 4 bytes of SHA-256 of its label.  X25519
private keys are stored exactly as drawn (unclamped).  An ML-KEM-1024 key pair
is derived from its 64-byte seed d || z, d = SHA-256("... d"), z =
SHA-256("... z").  Long-term keys (fixed inputs, not drawn during a session;
identity, SPK and OPK are the same keys as in protocol_v1.json):
    Alice identity (Ed25519 seed)          "alice identity seed"
    Bob identity (Ed25519 seed)            "bob identity seed"
    Bob SPK, id 7 (X25519)                 "bob spk"
    Bob OPK, id 42 (X25519)                "bob opk"   (pqxdh_opk_onetime_kem only)
    Bob KEM prekey, id 1001, one-time      "bob kem 1001 d", "bob kem 1001 z"
    Bob KEM prekey, id 1, last resort      "bob kem 1 d", "bob kem 1 z"
The 32-byte encapsulation randomness m of each session is injected separately
(it is not one of the draws below):
    pqxdh_opk_onetime_kem                  "pq encaps m 1"
    pqxdh_last_resort_no_opk               "pq lr encaps m 1"

Draw order during a session -- the exact sequence each party takes from its
(deterministic) random source; the script enforces it:

  scenario "pqxdh_opk_onetime_kem"  (messages A1, A2, B1, A3, B2)
    Alice:  1. ephemeral EK_A          "pq alice ephemeral"   (session start)
            2. ratchet key             "pq alice ratchet 0"   (Double Ratchet init,
                                                               after PQXDH)
            3-4. guards                "pq guard A1", "pq guard A2"
                                       (one per encryption, when encrypting)
            5. ratchet key             "pq alice ratchet 1"   (DH ratchet on receiving B1)
            6. guard                   "pq guard A3"
            7. ratchet key             "pq alice ratchet 2"   (DH ratchet on receiving B2)
    Bob:    1. ratchet key             "pq bob ratchet 0"     (DH ratchet on receiving A1)
            2. guard                   "pq guard B1"
            3. ratchet key             "pq bob ratchet 1"     (DH ratchet on receiving A3)
            4. guard                   "pq guard B2"
  scenario "pqxdh_last_resort_no_opk"  (messages A1, B1, A2)
    Alice:  "pq lr alice ephemeral", "pq lr alice ratchet 0", "pq lr guard A1",
            "pq lr alice ratchet 1" (on receiving B1), "pq lr guard A2"
    Bob:    "pq lr bob ratchet 0" (on receiving A1), "pq lr guard B1",
            "pq lr bob ratchet 1" (on receiving A2)

The DH ratchet is done at once when a header carries a new ratchet key, as in
gen_protocol_vectors.py (the receiver draws its next ratchet key while
receiving).  Bob deletes the one-time KEM prekey (and the OPK) only once the
first message has authenticated and keeps the last-resort one; a tampered first
message (AEAD tag or ciphertext CT) is rejected and changes nothing.

kem_checks: four ML-KEM-1024 known answers, labels "kem check d i",
"kem check z i", "kem check m i" for i = 0..3; the tampered ciphertext has the
byte at TAMPER_INDEXES[i] XORed with 0x01.

Output: Tests/Vectors/pqxdh_v1.json, layout described in its "description".
"""

import copy
import hashlib
import sys

sys.dont_write_bytecode = True  # importing the X3DH reference leaves no __pycache__

import gen_protocol_vectors as gpv  # noqa: E402  (same directory)
from gen_protocol_vectors import (  # noqa: E402
    ALICE_SEED, BOB_SEED, NO_OPK, OPK_ID, OPK_PRIV, SPK_ID, SPK_PRIV, Ratchet, Source,
    bob_prekeys, encode_bundle, encode_header, parse_bundle,
)
from vectorlib import (  # noqa: E402
    KEM_PUB_LEN, P_KEM_BIND, ProtocolError, blake2b, check, dh_entry, ed25519_pub,
    ed25519_sign, ed25519_verify, encode_kem, exchange, expect_reject, fox, h,
    hkdf_sha512, main, party_entry, read_u32, sha256, u32, x25519_pub,
)

from kyber_py.ml_kem import ML_KEM_1024  # noqa: E402


# ---------------------------------------------------------------- ML-KEM-1024 (FIPS 203)

KEM_CT_LEN = 1568
KEM_DK_LEN = 3168
KEM_SEED_LEN = 64


def kem_seed(label):
    """d || z from "<label> d" and "<label> z"."""
    return sha256((label + " d").encode("ascii")) + sha256((label + " z").encode("ascii"))


def kem_keygen(seed):
    """ML-KEM.KeyGen_internal(d, z) -> (ek, dk), with dk's layout checked."""
    check(len(seed) == KEM_SEED_LEN, "KEM seed length")
    ek, dk = ML_KEM_1024.key_derive(seed)
    check(len(ek) == KEM_PUB_LEN and len(dk) == KEM_DK_LEN, "ML-KEM-1024 key sizes")
    check(dk[1536:1536 + KEM_PUB_LEN] == ek, "dk holds ek")
    check(dk[3104:3136] == hashlib.sha3_256(ek).digest(), "dk holds H(ek)")
    check(dk[3136:] == seed[32:], "dk holds z")
    return ek, dk


def kem_encaps(ek, m):
    """ML-KEM.Encaps_internal(ek, m) -> (ciphertext, shared secret)."""
    check(len(m) == 32, "encapsulation randomness length")
    try:
        ss, ct = ML_KEM_1024._encaps_internal(ek, m)
    except ValueError as e:  # FIPS 203 type or modulus check of ek
        raise ProtocolError("ML-KEM: invalid encapsulation key") from e
    check(len(ct) == KEM_CT_LEN and len(ss) == 32, "ML-KEM-1024 ciphertext / secret sizes")
    return ct, ss


def kem_decaps(dk, ct):
    """ML-KEM.Decaps(dk, c): a wrong ciphertext gives the implicit-rejection value."""
    if len(ct) != KEM_CT_LEN:
        raise ProtocolError("ML-KEM: ciphertext length")
    return ML_KEM_1024.decaps(dk, ct)


def implicit_rejection(seed, ct):
    """FIPS 203: K_bar = J(z || c) = SHAKE256(z || c, 32 bytes)."""
    return hashlib.shake_256(seed[32:] + ct).digest(32)


def cross_check_openssl(seed, ek, cts_and_secrets):
    """A second opinion on kyber-py where `cryptography` has ML-KEM-1024."""
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM1024PrivateKey
    except ImportError:
        return
    try:
        key = MLKEM1024PrivateKey.from_seed_bytes(seed)
    except UnsupportedAlgorithm:
        return
    check(key.public_key().public_bytes_raw() == ek, "OpenSSL agrees on the public key")
    for ct, ss in cts_and_secrets:
        check(key.decapsulate(ct) == ss, "OpenSSL agrees on decapsulation")


TAMPER_INDEXES = (0, 700, 1408, 1567)  # first byte, inside u, first byte of v, last byte


def kem_checks():
    out = []
    for i, ti in enumerate(TAMPER_INDEXES):
        seed = sha256(b"kem check d %d" % i) + sha256(b"kem check z %d" % i)
        m = sha256(b"kem check m %d" % i)
        ek, dk = kem_keygen(seed)
        ct, ss = kem_encaps(ek, m)
        check(kem_decaps(dk, ct) == ss, "kem check %d: decaps recovers the secret" % i)
        bad = bytearray(ct)
        bad[ti] ^= 0x01
        bad = bytes(bad)
        bad_ss = kem_decaps(dk, bad)
        check(bad_ss == implicit_rejection(seed, bad), "kem check %d: implicit rejection" % i)
        check(bad_ss != ss, "kem check %d: tampered secret differs" % i)
        cross_check_openssl(seed, ek, [(ct, ss), (bad, bad_ss)])
        out.append({"seed": h(seed), "public": h(ek), "m": h(m), "ciphertext": h(ct),
                    "shared_secret": h(ss), "tampered_index": ti,
                    "tampered_ciphertext": h(bad), "tampered_shared_secret": h(bad_ss)})
    return out


# ---------------------------------------------------------------- PQXDH (2b)

PQXDH_INFO = b"E2EE-v1 PQXDH X25519 SHA-512 ML-KEM-1024"


def kem_bind(kem_pub):
    """BLAKE2b(key = none, in = EncodeKEM(KEM_pub_B), outlen = 32, personal = "E2EEv1 kem bind")."""
    return blake2b(b"", encode_kem(kem_pub), 32, P_KEM_BIND)


def pqxdh_sk(dhs, ss, bind):
    return hkdf_sha512(b"\xff" * 32 + b"".join(dhs) + ss + bind, bytes(64), PQXDH_INFO, 32)


def pqxdh_alice(ik_a_seed, ek_priv, bundle, m):
    if bundle["kem"] is None:
        raise ProtocolError("PQXDH: bundle has no KEM prekey")
    _, kem_pub, kem_sig = bundle["kem"]
    if not ed25519_verify(bundle["ik"], kem_sig, encode_kem(kem_pub)):
        raise ProtocolError("PQXDH: bad KEM prekey signature")
    # The X3DH part (verifies SPK_sig; DH1..DH4; AD); its classical SK is not used.
    dhs, _, ad = gpv.x3dh_alice(ik_a_seed, ek_priv, bundle)
    ct, ss = kem_encaps(kem_pub, m)
    bind = kem_bind(kem_pub)
    return {"dhs": dhs, "ct": ct, "ss": ss, "bind": bind, "sk": pqxdh_sk(dhs, ss, bind), "ad": ad}


def pqxdh_bob(ik_b_seed, spk_priv, opk_priv, kem_dk, kem_pub, ik_a_pub, ek_a_pub, ct):
    dhs, _, ad = gpv.x3dh_bob(ik_b_seed, spk_priv, opk_priv, ik_a_pub, ek_a_pub)
    ss = kem_decaps(kem_dk, ct)
    bind = kem_bind(kem_pub)
    return {"dhs": dhs, "ct": ct, "ss": ss, "bind": bind, "sk": pqxdh_sk(dhs, ss, bind), "ad": ad}


# ---------------------------------------------------------------- wire (4)

PQ_SETUP_LEN = 2 + 32 + 32 + 4 + 4 + 4 + KEM_CT_LEN  # up to Encode(H)


def encode_pqprekey_message(ik_a, ek_a, spk_id, opk_id, kem_id, ct, header, body):
    check(len(ct) == KEM_CT_LEN, "CT length")
    return (b"\x01\x05" + ik_a + ek_a + u32(spk_id) + u32(opk_id) + u32(kem_id) + ct
            + encode_header(*header) + body)


def parse_pq_message(b):
    """Type 0x05 here; every other type as gen_protocol_vectors.parse_message."""
    if len(b) < 2 or b[0] != 0x01 or b[1] != 0x05:
        return gpv.parse_message(b)
    if len(b) < PQ_SETUP_LEN + 40 + 20:
        raise ProtocolError("message: short")
    ik_a, ek_a = b[2:34], b[34:66]
    if ik_a == bytes(32) or ek_a == bytes(32):
        raise ProtocolError("message: all-zero key")
    return {"type": "pqprekey", "ik_a": ik_a, "ek_a": ek_a,
            "spk_id": read_u32(b[66:70]), "opk_id": read_u32(b[70:74]),
            "kem_id": read_u32(b[74:78]), "ct": b[78:PQ_SETUP_LEN],
            "header": gpv.parse_header(b[PQ_SETUP_LEN:PQ_SETUP_LEN + 40]),
            "body": b[PQ_SETUP_LEN + 40:]}


# ---------------------------------------------------------------- parties

class PQAlice(gpv.Alice):
    """The initiator: PQXDH instead of X3DH, PQPreKeyMessages until she receives."""

    def start(self, bundle_bytes, encaps_m):
        bundle = parse_bundle(bundle_bytes)
        if bundle["kem"] is None:
            raise ProtocolError("PQXDH: no KEM prekey (classical setup not allowed)")
        ek_priv = self.source.draw("ephemeral")
        self.ek_pub = x25519_pub(ek_priv)
        pq = pqxdh_alice(self.seed, ek_priv, bundle, encaps_m)
        self.spk_id = bundle["spk_id"]
        self.opk_id = bundle["opk"][0] if bundle["opk"] is not None else NO_OPK
        self.kem_id = bundle["kem"][0]
        self.ct = pq["ct"]
        self.ratchet = Ratchet.init_alice(self.source, pq["ad"], pq["sk"], bundle["spk"])
        pq["ek_priv"] = ek_priv
        return pq

    def send(self, pt):
        header, mk, guard, body = self.ratchet.encrypt(pt)
        if self.received_any:
            return header, mk, guard, gpv.encode_ratchet_message(header, body), "ratchet"
        wire = encode_pqprekey_message(self.ik_pub, self.ek_pub, self.spk_id, self.opk_id,
                                       self.kem_id, self.ct, header, body)
        return header, mk, guard, wire, "pqprekey"


class PQBob(gpv.Bob):
    """The recipient. session = (ek_a, ik_a, spk_id, opk_id, ratchet, kem_id, ct)."""

    def __init__(self, identity_seed, spk, opks, kems, source):
        super().__init__(identity_seed, spk, opks, source)
        self.kems = {}  # id -> (dk, ek, last_resort)
        for kem_id, (seed, last_resort) in kems.items():
            ek, dk = kem_keygen(seed)
            self.kems[kem_id] = (dk, ek, last_resort)
        self.pqxdh = None

    def receive(self, wire):
        m = parse_pq_message(wire)
        if m["type"] == "ratchet":
            if self.session is None:
                raise ProtocolError("no session")
            return self.session[4].decrypt(m["header"], m["body"])
        if m["type"] != "pqprekey":
            raise ProtocolError("classical PreKeyMessage refused (PQXDH is required)")
        if self.session is not None and self.session[0] == m["ek_a"]:
            # §2 names IK_A, SPK_id, OPK_id; the initiator resends all its setup
            # fields unchanged (§2b/§4), so KEM_id and CT must match as well.
            if self.session[1:4] + self.session[5:7] != (
                    m["ik_a"], m["spk_id"], m["opk_id"], m["kem_id"], m["ct"]):
                raise ProtocolError("PQPreKeyMessage does not match its session")
            return self.session[4].decrypt(m["header"], m["body"])
        spk_priv, opk_priv = self.prekeys(m)
        kem = self.kems.get(m["kem_id"])
        if kem is None:
            raise ProtocolError("unknown KEM prekey id")
        dk, ek, last_resort = kem
        pq = pqxdh_bob(self.seed, spk_priv, opk_priv, dk, ek, m["ik_a"], m["ek_a"], m["ct"])
        r = Ratchet.init_bob(self.source, pq["ad"], pq["sk"], spk_priv)
        pt, mk = r.decrypt(m["header"], m["body"])  # raises before any state change
        # Only once the first message authenticated:
        if opk_priv is not None:
            del self.opks[m["opk_id"]]
        if not last_resort:
            del self.kems[m["kem_id"]]
        self.session = (m["ek_a"], m["ik_a"], m["spk_id"], m["opk_id"], r, m["kem_id"], m["ct"])
        self.pqxdh = pq
        return pt, mk


# ---------------------------------------------------------------- scenarios

def tampered_first_messages(wire):
    """The first message with its AEAD tag broken, and with its CT broken."""
    tag = wire[:-1] + bytes([wire[-1] ^ 1])
    ct_at = 78 + 100
    ct = wire[:ct_at] + bytes([wire[ct_at] ^ 1]) + wire[ct_at + 1:]
    return [("tag", tag), ("ciphertext", ct)]


def run_scenario(name, labels, use_opk, kem_id, kem_last_resort, script):
    """labels: "alice"/"bob" draw plans, "kem" (seed label), "m" (encapsulation)."""
    alice_src, bob_src = Source("alice", labels["alice"]), Source("bob", labels["bob"])
    spk_pub, spk_sig, opk_pub, bob_keys = bob_prekeys(use_opk)
    bob_ik = ed25519_pub(BOB_SEED)
    kseed = kem_seed(labels["kem"])
    kem_pub, _ = kem_keygen(kseed)
    kem_sig = ed25519_sign(BOB_SEED, encode_kem(kem_pub))
    check(ed25519_verify(bob_ik, kem_sig, encode_kem(kem_pub)), "KEM signature verifies")
    bundle = encode_bundle(bob_ik, SPK_ID, spk_pub, spk_sig,
                           (OPK_ID, opk_pub) if use_opk else None,
                           (kem_id, kem_pub, kem_sig))
    check(len(bundle) == 134 + (36 if use_opk else 0) + 4 + 1568 + 64, "bundle length")
    check(parse_bundle(bundle)["kem"] == (kem_id, kem_pub, kem_sig), "bundle round trip")
    # A bundle whose KEM signature is broken is refused (on a scratch source).
    broken = bundle[:-1] + bytes([bundle[-1] ^ 1])
    scratch = PQAlice(ALICE_SEED, Source("scratch", [("ephemeral", "unused")]))
    expect_reject("bad KEM signature", scratch.start, broken, bytes(32))

    encaps_m = sha256(labels["m"].encode("ascii"))
    alice = PQAlice(ALICE_SEED, alice_src)
    bob = PQBob(BOB_SEED, (SPK_ID, SPK_PRIV), {OPK_ID: OPK_PRIV} if use_opk else {},
                {kem_id: (kseed, kem_last_resort)}, bob_src)
    a = alice.start(bundle, encaps_m)
    check(len(a["ad"]) == 66, "AD length")
    alice_init = alice.init_entry()
    first_wire = None

    def before_receive(mname, kind, header, wire):
        nonlocal first_wire
        if kind == "pqprekey":
            check(wire[2:PQ_SETUP_LEN] == (alice.ik_pub + alice.ek_pub + u32(SPK_ID)
                                           + u32(OPK_ID if use_opk else NO_OPK) + u32(kem_id)
                                           + a["ct"]), mname + " carries the same setup fields")
        if kind == "pqprekey" and bob.session is None:
            first_wire = wire
            # A tampered first message must fail and leave Bob without a session,
            # with his OPK and KEM prekey.  Tried on copies: the failed attempt
            # draws a ratchet key, which must not shift the documented draw order.
            for what, forged in tampered_first_messages(wire):
                scratch = copy.deepcopy(bob)
                expect_reject("first message with a broken " + what, scratch.receive, forged)
                check(scratch.session is None and scratch.opks == bob.opks
                      and scratch.kems.keys() == bob.kems.keys(), "forged message changed Bob")
            # A classical PreKeyMessage with the same keys is refused.
            classical = gpv.encode_prekey_message(alice.ik_pub, alice.ek_pub, SPK_ID,
                                                  OPK_ID if use_opk else NO_OPK, header,
                                                  wire[PQ_SETUP_LEN + 40:])
            expect_reject("classical PreKeyMessage", copy.deepcopy(bob).receive, classical)

    messages = exchange(alice, bob, script, PQ_SETUP_LEN - 2, before_receive)

    # Bob derived everything from his own private keys; compare.
    for k in ("dhs", "ct", "ss", "bind", "sk", "ad"):
        check(bob.pqxdh[k] == a[k], "%s: PQXDH %s agrees" % (name, k))
    check(a["sk"] != gpv.x3dh_sk(a["dhs"]), "PQXDH SK differs from the X3DH SK")
    check(OPK_ID not in bob.opks, "OPK used up (or never there)")
    check((kem_id in bob.kems) == kem_last_resort, "one-time KEM prekey deleted, last resort kept")
    check(not alice.ratchet.skipped and not bob.session[4].skipped, "no skipped keys left")
    alice_src.done()
    bob_src.done()

    return {
        "name": name,
        "alice": party_entry(alice, ephemeral_private=h(a["ek_priv"]),
                             ephemeral_public=h(alice.ek_pub)),
        "bob": party_entry(bob, kem_id=kem_id, kem_seed=h(kseed), kem_public=h(kem_pub),
                           kem_signature=h(kem_sig), kem_last_resort=kem_last_resort, **bob_keys),
        "bundle": h(bundle),
        "pqxdh": dh_entry(a["dhs"], encaps_m=h(encaps_m), ciphertext=h(a["ct"]),
                          shared_secret=h(a["ss"]), kem_bind=h(a["bind"]),
                          sk=h(a["sk"]), ad=h(a["ad"])),
        "alice_init": alice_init,
        "messages": messages,
    }, len(bundle), len(first_wire)


SIZES = {}  # scenario -> (bundle bytes, first message bytes), for the summary line


def scenario_opk_onetime_kem():
    labels = {
        "alice": [("ephemeral", "pq alice ephemeral"), ("ratchet", "pq alice ratchet 0"),
                  ("guard", "pq guard A1"), ("guard", "pq guard A2"),
                  ("ratchet", "pq alice ratchet 1"), ("guard", "pq guard A3"),
                  ("ratchet", "pq alice ratchet 2")],
        "bob": [("ratchet", "pq bob ratchet 0"), ("guard", "pq guard B1"),
                ("ratchet", "pq bob ratchet 1"), ("guard", "pq guard B2")],
        "kem": "bob kem 1001", "m": "pq encaps m 1",
    }
    script = [
        ("A1", "alice", b"A1: hello Bob, post-quantum"),
        ("A2", "alice", b""),
        ("B1", "bob", b"B1: hi Alice"),
        ("A3", "alice", b"A3: first message after my DH ratchet"),
        ("B2", "bob", fox(b"B2: 200 bytes: ", 200)),
    ]
    name = "pqxdh_opk_onetime_kem"
    s, nb, nm = run_scenario(name, labels, True, 1001, False, script)
    SIZES[name] = (nb, nm)
    m = {x["name"]: x for x in s["messages"]}
    check([x["type"] for x in s["messages"]] == ["pqprekey"] * 2 + ["ratchet"] * 3, "message types")
    check(m["A3"]["header"]["pn"] == 2 and m["A3"]["header"]["n"] == 0, "A3 header PN=2 N=0")
    check(m["B2"]["header"]["pn"] == 1 and m["B2"]["header"]["n"] == 0, "B2 header PN=1 N=0")
    return s


def scenario_last_resort_no_opk():
    labels = {
        "alice": [("ephemeral", "pq lr alice ephemeral"), ("ratchet", "pq lr alice ratchet 0"),
                  ("guard", "pq lr guard A1"), ("ratchet", "pq lr alice ratchet 1"),
                  ("guard", "pq lr guard A2")],
        "bob": [("ratchet", "pq lr bob ratchet 0"), ("guard", "pq lr guard B1"),
                ("ratchet", "pq lr bob ratchet 1")],
        "kem": "bob kem 1", "m": "pq lr encaps m 1",
    }
    script = [
        ("A1", "alice", b"A1: hello Bob, no one-time prekeys left"),
        ("B1", "bob", b"B1: hi Alice"),
        ("A2", "alice", b"A2: after my DH ratchet"),
    ]
    name = "pqxdh_last_resort_no_opk"
    s, nb, nm = run_scenario(name, labels, False, 1, True, script)
    SIZES[name] = (nb, nm)
    check([x["type"] for x in s["messages"]] == ["pqprekey", "ratchet", "ratchet"], "message types")
    wire = bytes.fromhex(s["messages"][0]["wire"])
    check(wire[70:74] == b"\xff\xff\xff\xff", "no OPK: OPK id on the wire is ffffffff")
    check(wire[74:78] == u32(1), "KEM id 1 on the wire")
    return s


DESCRIPTION = (
    "PROTOCOL.md suite v1 section 2b (PQXDH) end to end: Bob's prekey bundle with a "
    "KEM prekey, PQXDH, the Double Ratchet with AEAD_v1 and the PQPreKeyMessage wire "
    "bytes, produced by the independent Python reference scripts/gen_pqxdh_vectors.py "
    "(ML-KEM-1024 from kyber-py, FIPS 203; X25519/Ed25519/ratchet shared with "
    "scripts/gen_protocol_vectors.py, whose conventions apply). Its docstring lists "
    "every label and the exact order in which each party draws. All 32-byte inputs are "
    "SHA-256 of ASCII labels (guards: first 4 bytes); X25519 privates are stored "
    "unclamped as drawn. Identity keys, SPK (id 7) and OPK (id 42) are those of "
    "protocol_v1.json. "
    "'kem_checks': ML-KEM-1024 known answers; seed = d || z (64 bytes, d = "
    "SHA-256(\"kem check d i\"), z = SHA-256(\"kem check z i\"), i = 0..3), public = "
    "the encapsulation key of ML-KEM.KeyGen_internal(d, z) (1568 bytes), m = "
    "SHA-256(\"kem check m i\"), (shared_secret, ciphertext) = "
    "ML-KEM.Encaps_internal(public, m); tampered_ciphertext = ciphertext with the byte "
    "at tampered_index XORed with 01; tampered_shared_secret = ML-KEM.Decaps of it "
    "(the implicit-rejection value SHAKE256(z || tampered_ciphertext, 32)). "
    "'scenarios': 'alice' and 'bob' hold the key material as in protocol_v1.json "
    "(identity_seed is the Ed25519 seed; ratchet_privates are exactly the ratchet keys "
    "the party generates, in order, Alice's starting with her initial DHs; Bob's "
    "initial DHs is his SPK). Bob's KEM prekey: kem_id, kem_seed = d || z with d = "
    "SHA-256(\"bob kem <id> d\"), z = SHA-256(\"bob kem <id> z\"), kem_public its "
    "1568-byte encapsulation key, kem_signature = Ed25519-Sign(IK_B, 0a || kem_public), "
    "kem_last_resort true for the reusable last-resort prekey (kept after use), false "
    "for a one-time one (deleted once the first message authenticated). spk_signature "
    "= Ed25519-Sign(IK_B, 05 || spk_public). 'bundle' = 01 || flags || IK_B || u32 "
    "spk_id || spk_public || spk_signature [|| u32 opk_id || opk_public] || u32 kem_id "
    "|| kem_public || kem_signature, flags bit 0 = OPK part present, bit 1 = KEM part "
    "present. 'pqxdh': dh1 = DH(IK_A, SPK_B), dh2 = DH(EK_A, IK_B), dh3 = DH(EK_A, "
    "SPK_B), dh4 = DH(EK_A, OPK_B) or null, identity keys mapped to X25519 with "
    "libsodium's birational map; encaps_m is the 32-byte randomness of Alice's "
    "encapsulation (SHA-256 of the scenario's label, injected separately, not one of "
    "her draws); (shared_secret, ciphertext) = ML-KEM.Encaps_internal(kem_public, "
    "encaps_m), Bob recovers shared_secret with ML-KEM.Decaps; kem_bind = "
    "BLAKE2b(unkeyed, 0a || kem_public, outlen 32, personal \"E2EEv1 kem bind\" "
    "zero-padded to 16); sk = HKDF-SHA-512(salt = 00*64, ikm = ff*32 || dh1 || dh2 || "
    "dh3 [|| dh4] || shared_secret || kem_bind, info = \"E2EE-v1 PQXDH X25519 SHA-512 "
    "ML-KEM-1024\", 32); ad = ed || IK_A || ed || IK_B. 'alice_init': state right after "
    "Alice's Double Ratchet initialisation (DHs = her first ratchet key, DHr = SPK_B, "
    "(root_key, sending_chain_key) = KDF_RK(sk, DH(DHs, SPK_B)); before her first "
    "KDF_CK). 'messages' are delivered in order; each is encrypted by 'from' and "
    "parsed from 'wire' and decrypted by the other party. header = (dh, pn, n), "
    "Encode(H) = dh || u32 pn || u32 n; message_key is the KDF_CK output used; guard "
    "the 4-byte reuse guard. type 'pqprekey' (every message Alice sends before she has "
    "received one, all with the same setup fields and the same CT) = 01 05 || IK_A || "
    "EK_A || u32 spk_id || u32 opk_id (ffffffff = none) || u32 kem_id || ciphertext "
    "(1568) || Encode(H) || guard || ChaCha20-Poly1305(message_key, guard || 00*8, "
    "plaintext, ad || Encode(H)); type 'ratchet' = 01 01 || Encode(H) || the same "
    "AEAD_v1 output. sender_after / receiver_after: root, sending and receiving chain "
    "keys of the sender and the receiver right after this message was sent / received "
    "(null where the chain does not exist). The receiver performs the Signal DHRatchet "
    "as soon as a header carries a new ratchet key, drawing its next ratchet key then. "
    "Integers: spk_id, opk_id, kem_id, pn, n, tampered_index; null: absent values; byte "
    "strings lowercase hex (\"\" when empty).")


def build():
    gpv.check_birational_map()
    return {"description": DESCRIPTION, "kem_checks": kem_checks(),
            "scenarios": [scenario_opk_onetime_kem(), scenario_last_resort_no_opk()]}


if __name__ == "__main__":
    sys.exit(main(sys.argv, [("pqxdh_v1.json", build)], summary=lambda: "; ".join(
        "%s: bundle %d B, first message %d B" % (k, *v) for k, v in SIZES.items())))
