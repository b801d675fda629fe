"""What the test-vector generators scripts/gen_*.py share.

The generators are an independent Python implementation of PROTOCOL.md, used
to check the Swift and C code, so nothing here comes from those sources.  This
module holds the helpers, primitive wrappers, scenario entries and the
write / `--check` driver each of them needs, once; every generator keeps its
own protocol logic and imports the rest from here.

Dependencies: the Python standard library (hashlib, hmac) plus `cryptography`
(X25519, Ed25519, ChaCha20-Poly1305).
"""

import hashlib
import hmac
import json
import os
import sys

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "Vectors")
SCRIPT = os.path.splitext(os.path.basename(sys.argv[0]))[0]


# ---------------------------------------------------------------- helpers

def h(b):
    """Byte strings are stored as lowercase hex, absent ones as null."""
    return None if b is None else b.hex()


def check(cond, what):
    """A self-check; a plain assert would vanish under `python3 -O`, these must not."""
    if not cond:
        sys.exit("%s: self-check failed: %s" % (SCRIPT, what))


class ProtocolError(Exception):
    """Anything a receiver must refuse."""


class Duplicate(ProtocolError):
    """A message whose key was used or evicted, or of a chain whose keys are gone (§3, §5)."""

    def __init__(self, n):
        super().__init__("duplicate %d" % n)
        self.n = n


def expect_reject(what, call, *args, exc=ProtocolError, state=None):
    """call(*args) must fail with exc (another ProtocolError is the wrong reason)
    and, given state, leave state() as it was."""
    before = state() if state else None
    try:
        call(*args)
    except exc:
        pass
    except ProtocolError as e:
        check(False, "%s rejected for the wrong reason: %s" % (what, e))
    else:
        check(False, what + " accepted")
    if state:
        check(state() == before, what + " changed state")


def det(label, n):
    """n fixed pseudo-random bytes named by `label` (no randomness involved)."""
    return hashlib.shake_256(b"swift-e2ee test vectors/" + label.encode()).digest(n)


def sha256(label):
    """Protocol inputs are SHA-256 of ASCII labels, so every run draws the same keys."""
    return hashlib.sha256(label).digest()


def fox(prefix, n):
    """An n-byte readable plaintext starting with prefix."""
    text = prefix + b"the quick brown fox jumps over the lazy dog " * ((n // 44) + 1)
    return text[:n]


def u32(n):
    """PROTOCOL.md integers on the wire are u32 big-endian."""
    check(0 <= n <= 0xFFFFFFFF, "u32 range")
    return n.to_bytes(4, "big")


def read_u32(b):
    """The inverse of u32, for parsing wire bytes."""
    return int.from_bytes(b, "big")


# ---------------------------------------------------------------- X25519, Ed25519 (1)

def x25519_pub(priv):
    """X25519(priv, 9); cryptography clamps the stored (unclamped) private key."""
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()


def x25519(priv, pub):
    """DH of PROTOCOL.md 1: X25519, where an all-zero result is an error."""
    try:
        out = X25519PrivateKey.from_private_bytes(priv).exchange(
            X25519PublicKey.from_public_bytes(pub))
    except ValueError as e:  # cryptography refuses an all-zero shared secret
        raise ProtocolError("DH: all-zero result") from e
    if out == bytes(32):
        raise ProtocolError("DH: all-zero result")
    return out


def ed25519_pub(seed):
    """The Ed25519 public key of a 32-byte seed (RFC 8032 secret key)."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_sign(seed, msg):
    """Ed25519 is deterministic, so signatures are fixed known answers."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(msg)


def ed25519_verify(pub, sig, msg):
    """A yes/no answer: a bad signature or an unusable key is just False."""
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


KEM_PUB_LEN = 1568  # ML-KEM-1024 encapsulation key


def encode_x25519(pub):
    """Encode(PK) of an X25519 key: 0x05 || pub."""
    return b"\x05" + pub


def encode_ed25519(pub):
    """Encode(PK) of an identity key: 0xED || pub."""
    return b"\xed" + pub


def encode_kem(pub):
    """EncodeKEM(PK) = 0x0A || mlkem1024_pub (1569 bytes)."""
    check(len(pub) == KEM_PUB_LEN, "EncodeKEM: key length")
    return b"\x0a" + pub


# ---------------------------------------------------------------- HKDF-SHA-512 (2)

HASH_LEN = 64


def hkdf_sha512(ikm, salt, info, length):
    """RFC 5869 written out, so the C side has an independent reference."""
    if length > 255 * HASH_LEN:
        raise ValueError("HKDF length too large")
    if not salt:
        salt = bytes(HASH_LEN)  # RFC 5869 2.2: absent salt = HashLen zeros
    prk = hmac.new(salt, ikm, hashlib.sha512).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha512).digest()
        okm += t
        i += 1
    return okm[:length]


# ---------------------------------------------------------------- BLAKE2b KDFs (2b, 3, 5)

P_KEM_BIND = "E2EEv1 kem bind"
P_ROOT = "E2EEv1 root"
P_CHAIN = "E2EEv1 chain"
P_GROUP = "E2EEv1 group"


def blake2b(key, data, outlen, personal):
    """BLAKE2b as PROTOCOL.md pins it."""
    # hashlib zero-pads person to 16 bytes and leaves the salt all-zero, as
    # PROTOCOL.md requires; an empty key selects unkeyed mode.
    return hashlib.blake2b(data, digest_size=outlen, key=key,
                           person=personal.encode("ascii")).digest()


def kdf_rk(rk, dh_out):
    """KDF_RK: (new root key, chain key)."""
    out = blake2b(rk, dh_out, 64, P_ROOT)
    return out[:32], out[32:]


def kdf_ck(ck):
    """KDF_CK: (next chain key, message key)."""
    out = blake2b(ck, b"\x01", 64, P_CHAIN)
    return out[:32], out[32:]


def kdf_gk(ck):
    """KDF_GK, the group chain step: (next chain key, message key)."""
    out = blake2b(ck, b"\x01", 64, P_GROUP)
    return out[:32], out[32:]


# ---------------------------------------------------------------- AEAD_v1 (3)

GUARD_LEN, TAG_LEN = 4, 16


def aead_v1_seal(key, guard, pt, ad):
    """guard || ChaCha20-Poly1305-IETF(key, nonce = guard || 00*8, pt, ad)."""
    check(len(guard) == GUARD_LEN, "guard length")
    return guard + ChaCha20Poly1305(key).encrypt(guard + bytes(8), pt, ad)


def aead_v1_open(key, sealed, ad):
    """The inverse of aead_v1_seal; any failure is a ProtocolError."""
    if len(sealed) < GUARD_LEN + TAG_LEN:
        raise ProtocolError("AEAD_v1: short")
    try:
        return ChaCha20Poly1305(key).decrypt(sealed[:GUARD_LEN] + bytes(8), sealed[GUARD_LEN:], ad)
    except InvalidTag as e:
        raise ProtocolError("AEAD_v1: authentication failed") from e


# ---------------------------------------------------------------- sessions (protocol_v1, pqxdh_v1)

def exchange(alice, bob, script, setup_len, before_receive):
    """Delivers script [(name, "alice" | "bob", plaintext)] in order and returns the
    "messages" entries.  Each message is sent, received from its wire bytes, then
    replayed, which must fail and leave the receiver's state() as it was.
    setup_len: bytes a first message carries before Encode(H), beyond the 2-byte
    type; before_receive(name, kind, header, wire) runs the caller's extra checks."""
    parties = {"alice": (alice, bob), "bob": (bob, alice)}
    messages = []
    for mname, sender_name, pt in script:
        sender, receiver = parties[sender_name]
        header, mk, guard, wire, kind = sender.send(pt)
        check(len(wire) == 2 + (0 if kind == "ratchet" else setup_len) + 40 + 4 + len(pt) + 16,
              mname + " wire length")
        before_receive(mname, kind, header, wire)
        got, rmk = receiver.receive(wire)
        check(got == pt, mname + " plaintext round trip")
        check(rmk == mk, mname + " message key agrees")
        messages.append({
            "name": mname, "from": sender_name, "plaintext": h(pt), "guard": h(guard),
            "header": {"dh": h(header[0]), "pn": header[1], "n": header[2]},
            "message_key": h(mk), "wire": h(wire), "type": kind,
            "sender_after": sender.state(), "receiver_after": receiver.state(),
        })
        expect_reject(mname + " replay", receiver.receive, wire, state=receiver.state)
    return messages


def party_entry(party, **keys):
    """A party's "alice" / "bob" keys: its identity, the ratchet keys it drew, and keys."""
    return dict(keys, identity_seed=h(party.seed), identity_public=h(party.ik_pub),
                ratchet_privates=[h(k) for k in party.source.privates("ratchet")])


def dh_entry(dhs, **values):
    """The "x3dh" / "pqxdh" values: dh1..dh4 (null without a one-time prekey) and values."""
    return dict(values, dh1=h(dhs[0]), dh2=h(dhs[1]), dh3=h(dhs[2]),
                dh4=h(dhs[3]) if len(dhs) == 4 else None)


# ---------------------------------------------------------------- driver

def render(obj):
    """json.dumps(indent=2, sort_keys=True) plus a newline: byte-for-byte stable."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def main(argv, builders, summary=None):
    """`gen_X.py` writes builders' files [(name in Tests/Vectors, build)];
    `gen_X.py --check` compares them with the files on disk, exit 1 on any diff."""
    script = os.path.basename(argv[0])
    check_mode = argv[1:] == ["--check"]
    if argv[1:] and not check_mode:
        sys.exit("usage: %s [--check]" % script)
    files = [(name, render(build())) for name, build in builders]
    if check_mode:
        bad = []
        for name, text in files:
            try:
                with open(os.path.join(OUT_DIR, name), encoding="utf-8", newline="") as f:
                    on_disk = f.read()
            except FileNotFoundError:
                bad.append(name + " (missing)")
                continue
            if on_disk != text:
                bad.append(name + " (differs)")
        if bad:
            print("vectors: out of date, rerun scripts/%s: %s" % (script, ", ".join(bad)),
                  file=sys.stderr)
            return 1
        print("vectors: %s match" % ", ".join(name for name, _ in files))
        return 0
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, text in files:
        with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print("vectors: wrote %s to %s%s" % (", ".join(name for name, _ in files),
                                          os.path.relpath(OUT_DIR, ROOT),
                                          " (%s)" % summary() if summary else ""))
    return 0
