#!/usr/bin/env python3
"""Generate (or check) the safety-number test vectors Tests/Vectors/safety_numbers.json.

Usage:
    python3 scripts/gen_safety_vectors.py           # (re)write the JSON file
    python3 scripts/gen_safety_vectors.py --check   # regenerate in memory, compare
                                                    # with the file on disk; exit 1
                                                    # on any diff

An independent reference implementation (hashlib only for the computation) of
Signal's numeric fingerprint, "version 0" displayable form, as libsignal's
NumericFingerprintGenerator computes it (rust/protocol/src/fingerprint.rs):

    h = u16be(0) || key || stable_id             (not hashed yet)
    repeat 5200 times:  h = SHA-512(h || key)    (5200 hashes in all; the
                                                 first one covers
                                                 version || key || id || key)
    half = for each 5-byte chunk of h[0:30]: big-endian 40-bit int % 100000,
           as 5 zero-padded decimal digits       (30 digits)
    digits = min(local_half, remote_half) || max(local_half, remote_half)

`key` is the 33-byte serialized identity key.  libsignal serializes its
Curve25519 identity keys as 0x05 || 32 bytes; ours are Ed25519 keys encoded
0xED || 32 bytes (PROTOCOL.md section 1, IdentityKey.PublicKey.encoded), so our
numbers differ from Signal's for the same 32 bytes by construction, and a
Signal key could never collide with one of ours.

The "libsignal" object reproduces libsignal's own published test vector
(fingerprint_test_v1: 0x05 keys, stable ids "+14152222222" / "+14153333333"),
checked here on every run, which pins the iteration count and byte layout.

Dependencies: the Python standard library plus `cryptography` (only to derive
valid Ed25519 public keys from fixed seeds, through scripts/vectorlib.py).

Conventions (as scripts/gen_vectors.py): one JSON object with a "description"
string; byte strings lowercase hex ("" when empty); digit strings are JSON
strings; json.dumps(indent=2, sort_keys=True) plus a trailing newline, so
regeneration is byte-for-byte stable.
"""

import hashlib
import sys

sys.dont_write_bytecode = True  # importing vectorlib leaves no __pycache__

from vectorlib import check, det, ed25519_pub, encode_ed25519, main  # noqa: E402  (same directory)

ITERATIONS = 5200
VERSION = 0


# ---------------------------------------------------------------- fingerprint

def fingerprint(encoded_key, stable_id, iterations=ITERATIONS):
    """The 64-byte iterated hash for one party."""
    h = VERSION.to_bytes(2, "big") + encoded_key + stable_id
    for _ in range(iterations):
        h = hashlib.sha512(h + encoded_key).digest()
    return h


def display_half(fp):
    """30 decimal digits from the first 30 bytes of a fingerprint."""
    check(len(fp) >= 30, "fingerprint too short")
    return "".join(
        "%05d" % (int.from_bytes(fp[i:i + 5], "big") % 100000) for i in range(0, 30, 5))


def safety_number(local_key, local_id, remote_key, remote_id):
    """(digits, local_half, remote_half) for 33-byte encoded keys."""
    local = display_half(fingerprint(local_key, local_id))
    remote = display_half(fingerprint(remote_key, remote_id))
    return (local + remote if local < remote else remote + local), local, remote


# ---------------------------------------------------------------- cases

# libsignal rust/protocol/src/fingerprint.rs, test fingerprint_test_v1.
LIBSIGNAL = {
    "local_key_encoded": "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868",
    "local_id": b"+14152222222".hex(),
    "remote_key_encoded": "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b",
    "remote_id": b"+14153333333".hex(),
    "digits": "300354477692869396892869876765458257569162576843440918079131",
}


def case(name, local_seed_label, local_id, remote_seed_label, remote_id):
    lk = ed25519_pub(det(local_seed_label, 32))
    rk = ed25519_pub(det(remote_seed_label, 32))
    digits, lh, rh = safety_number(encode_ed25519(lk), local_id, encode_ed25519(rk), remote_id)
    swapped, rh2, lh2 = safety_number(encode_ed25519(rk), remote_id, encode_ed25519(lk), local_id)
    check(swapped == digits and lh2 == lh and rh2 == rh, name + ": not symmetric")
    check(len(digits) == 60 and digits.isdigit() and digits.isascii(), name + ": not 60 digits")
    return {
        "name": name,
        "local_key": lk.hex(),
        "local_id": local_id.hex(),
        "remote_key": rk.hex(),
        "remote_id": remote_id.hex(),
        "digits": digits,
        "local_half": lh,
        "remote_half": rh,
    }


def build():
    got, _, _ = safety_number(
        bytes.fromhex(LIBSIGNAL["local_key_encoded"]), bytes.fromhex(LIBSIGNAL["local_id"]),
        bytes.fromhex(LIBSIGNAL["remote_key_encoded"]), bytes.fromhex(LIBSIGNAL["remote_id"]))
    check(got == LIBSIGNAL["digits"], "libsignal's published vector not reproduced")

    long_id = bytes((i * 37 + 11) & 0xFF for i in range(300))
    cases = [
        case("utf8 user ids", "safety/alice", "@alice:example.org".encode(),
             "safety/bob", "@bob:example.org".encode()),
        case("phone-number ids", "safety/carol", b"+14152222222",
             "safety/dave", b"+14153333333"),
        case("empty local id", "safety/erin", b"",
             "safety/frank", "frank".encode()),
        case("both ids empty", "safety/grace", b"", "safety/heidi", b""),
        case("long binary id vs non-ASCII UTF-8 id", "safety/ivan", long_id,
             "safety/judy", "Zoë 🙂 ユーザー".encode()),
        case("same key, different ids", "safety/kim", b"device-1",
             "safety/kim", b"device-2"),
    ]
    return {
        "description": (
            "Safety numbers (Signal NumericFingerprintGenerator, displayable version 0, "
            "5200 SHA-512 iterations) over our identity keys. local_key / remote_key are "
            "32-byte Ed25519 public keys (hex); the hashed key bytes are 0xED || key. "
            "local_id / remote_id are the stable identifiers (hex, '' when empty). "
            "local_half / remote_half are each party's 30 digits; digits is the smaller "
            "half followed by the larger (60 digits), the same from both sides. "
            "\"libsignal\" is libsignal's own published vector (keys already serialized, "
            "0x05 || 32 bytes), computed by the same algorithm."),
        "vectors": cases,
        "libsignal": LIBSIGNAL,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv, [("safety_numbers.json", build)]))
