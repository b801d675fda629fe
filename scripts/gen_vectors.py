#!/usr/bin/env python3
"""Generate (or check) the known-answer test vectors in Tests/Vectors/.

Usage:
    python3 scripts/gen_vectors.py           # (re)write every JSON file
    python3 scripts/gen_vectors.py --check   # regenerate in memory, compare with
                                             # the files on disk; exit 1 on any diff

Dependencies: the Python standard library plus `cryptography` (X25519,
Ed25519, ChaCha20-Poly1305 and an HKDF cross-check).  The primitive wrappers
(X25519, Ed25519, HKDF-SHA-512, BLAKE2b KDFs, AEAD_v1), shared with the other
generators, are in scripts/vectorlib.py.

Conventions for every file:
  * a JSON object with a "description" string plus the arrays/objects below;
  * byte strings are lowercase hex; an empty byte string is "";
  * lengths, counts and step numbers are JSON integers;
  * output is json.dumps(indent=2, sort_keys=True) plus a trailing newline, so
    regeneration is byte-for-byte stable and `--check` can compare text.

Files:
  x25519_rfc7748.json
      RFC 7748 section 5.2 single-shot vectors ("vectors": scalar, u, out), the
      section 5.2 iterated test ("iterated": iterations 1 and 1000, starting from
      k = u = 09 00..00) and the section 6.1 Diffie-Hellman example ("dh").
  ed25519_rfc8032.json
      RFC 8032 section 7.1 TEST 1..3: seed (the 32-byte SECRET KEY), public,
      message, signature.
  chacha20poly1305_rfc8439.json
      RFC 8439 section 2.8.2 AEAD example and appendix A.5 decryption vector;
      nonce is the full 12-byte IETF nonce, tag is separate from ciphertext.
  hkdf_sha512.json
      HKDF (RFC 5869) instantiated with SHA-512: the inputs of RFC 5869 test
      cases 1-3 (their published outputs are for SHA-256, so the outputs here
      are ours), block-boundary lengths, the maximum length 255*64, a salt
      longer than the HMAC block, and two X3DH-shaped derivations (PROTOCOL.md
      section 2).  An empty salt is "" and means HashLen zero bytes (RFC 5869).
  blake2b_kdf.json
      BLAKE2b as PROTOCOL.md defines it: keyed mode, all-zero salt, the ASCII
      "personal" string zero-padded to 16 bytes ("personal" is stored as that
      ASCII text, not hex; "key": "" means unkeyed).  "generic" exercises the
      primitive; "kdf_rk", "kdf_ck", "kdf_gk" are PROTOCOL.md KDF_RK / KDF_CK /
      KDF_GK (first 32 output bytes -> new root/chain key, last 32 -> ck / mk);
      "chain_ck" / "chain_gk" run 1000 chain steps from a fixed ck.
  aead_v1.json
      PROTOCOL.md AEAD_v1: sealed = guard || ChaCha20-Poly1305-IETF(key,
      nonce = guard || 00*8, plaintext, ad) where the AEAD output is ct || tag.

Our own vectors use fixed inputs only: byte patterns, or SHAKE-256 of an ASCII
label (see vectorlib.det), so every run produces identical files.
"""

import hashlib
import sys

sys.dont_write_bytecode = True  # importing vectorlib leaves no __pycache__

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

from vectorlib import (  # noqa: E402  (same directory)
    HASH_LEN, KEM_PUB_LEN, P_CHAIN, P_GROUP, P_KEM_BIND, P_ROOT,
    aead_v1_open, aead_v1_seal, blake2b, check, det, ed25519_pub, ed25519_sign,
    ed25519_verify, encode_ed25519, encode_kem, h, hkdf_sha512, kdf_ck, kdf_gk,
    kdf_rk, main, u32, x25519, x25519_pub,
)


# ---------------------------------------------------------------- helpers

def unhex(s):
    return bytes.fromhex(s)


def pattern(start, n):
    """start, start+1, ... (mod 256): easy to recognise in a hex dump."""
    return bytes((start + i) & 0xFF for i in range(n))


# ---------------------------------------------------------------- X25519

RFC7748_VECTORS = [
    {
        "scalar": "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "u": "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "out": "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    },
    {
        # As published: the top bit of the last u byte (0x93) is set and an
        # implementation must ignore it (RFC 7748 section 5).
        "scalar": "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "u": "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "out": "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    },
]
RFC7748_ITERATED = {
    1: "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
    1000: "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
}
RFC7748_DH = {
    "alice_private": "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "alice_public": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "bob_private": "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    "bob_public": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    "shared": "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
}


def build_x25519():
    for v in RFC7748_VECTORS:
        check(h(x25519(unhex(v["scalar"]), unhex(v["u"]))) == v["out"],
              "RFC 7748 5.2 vector " + v["scalar"][:8])

    # k <- X25519(k, u), u <- old k, starting from k = u = 9.
    k = u = b"\x09" + bytes(31)
    seen = {}
    for i in range(1, 1001):
        k, u = x25519(k, u), k
        if i in RFC7748_ITERATED:
            seen[i] = h(k)
    for n, out in RFC7748_ITERATED.items():
        check(seen[n] == out, "RFC 7748 5.2 after %d iterations" % n)

    d = RFC7748_DH
    check(h(x25519_pub(unhex(d["alice_private"]))) == d["alice_public"], "RFC 7748 6.1 alice public")
    check(h(x25519_pub(unhex(d["bob_private"]))) == d["bob_public"], "RFC 7748 6.1 bob public")
    check(h(x25519(unhex(d["alice_private"]), unhex(d["bob_public"]))) == d["shared"], "RFC 7748 6.1 shared (alice)")
    check(h(x25519(unhex(d["bob_private"]), unhex(d["alice_public"]))) == d["shared"], "RFC 7748 6.1 shared (bob)")

    return {
        "description": (
            "X25519 known answers from RFC 7748. 'vectors': section 5.2, "
            "out = X25519(scalar, u); the second u has its most significant bit "
            "set, exactly as published, and a conforming implementation ignores "
            "that bit. 'iterated': section 5.2, start with k = u = 09 followed by "
            "31 zero bytes, then repeat (k, u) = (X25519(k, u), k); 'out' is k "
            "after that many iterations. 'dh': section 6.1, public = X25519(private, 9), "
            "shared = X25519(alice_private, bob_public) = X25519(bob_private, alice_public). "
            "All values lowercase hex."),
        "vectors": [dict(v) for v in RFC7748_VECTORS],
        "iterated": [{"iterations": n, "out": RFC7748_ITERATED[n]} for n in sorted(RFC7748_ITERATED)],
        "dh": dict(RFC7748_DH),
    }


# ---------------------------------------------------------------- Ed25519

RFC8032_VECTORS = [
    {
        "name": "TEST 1",
        "seed": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "public": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "message": "",
        "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
        "name": "TEST 2",
        "seed": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "public": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "message": "72",
        "signature": "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
        "name": "TEST 3",
        "seed": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "public": "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "message": "af82",
        "signature": "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
]


def build_ed25519():
    for v in RFC8032_VECTORS:
        seed, msg = unhex(v["seed"]), unhex(v["message"])
        check(h(ed25519_pub(seed)) == v["public"], "RFC 8032 %s public key" % v["name"])
        sig = ed25519_sign(seed, msg)
        check(h(sig) == v["signature"], "RFC 8032 %s signature" % v["name"])
        check(ed25519_verify(ed25519_pub(seed), sig, msg), "RFC 8032 %s verifies" % v["name"])
    return {
        "description": (
            "Ed25519 known answers from RFC 8032 section 7.1 (TEST 1-3). 'seed' is "
            "the 32-byte SECRET KEY of the RFC (libsodium crypto_sign_seed_keypair "
            "input; libsodium's 64-byte secret key is seed || public). Ed25519 is "
            "deterministic, so signing 'message' with 'seed' must give exactly "
            "'signature', and it must verify under 'public'. 'message' may be "
            "empty (\"\"). All values lowercase hex."),
        "vectors": [dict(v) for v in RFC8032_VECTORS],
    }


# ---------------------------------------------------------------- ChaCha20-Poly1305

RFC8439_VECTORS = [
    {
        "name": "RFC 8439 2.8.2",
        "key": "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
        "nonce": "070000004041424344454647",
        "aad": "50515253c0c1c2c3c4c5c6c7",
        "plaintext": (
            "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
            "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
            "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
            "637265656e20776f756c642062652069742e"),
        "ciphertext": (
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
            "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
            "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
            "3ff4def08e4b7a9de576d26586cec64b6116"),
        "tag": "1ae10b594f09e26a7e902ecbd0600691",
    },
    {
        "name": "RFC 8439 A.5",
        "key": "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
        "nonce": "000000000102030405060708",
        "aad": "f33388860000000000004e91",
        "plaintext": (
            "496e7465726e65742d4472616674732061726520647261667420646f63756d65"
            "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
            "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
            "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
            "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
            "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
            "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
            "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
            "726573732e2fe2809d"),
        "ciphertext": (
            "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
            "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
            "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
            "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
            "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
            "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
            "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
            "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
            "a6ad5cb4022b02709b"),
        "tag": "eead9d67890cbb22392336fea1851f38",
    },
]


def build_chacha():
    for v in RFC8439_VECTORS:
        aead = ChaCha20Poly1305(unhex(v["key"]))
        out = aead.encrypt(unhex(v["nonce"]), unhex(v["plaintext"]), unhex(v["aad"]))
        check(h(out) == v["ciphertext"] + v["tag"], v["name"] + " encrypt")
        pt = aead.decrypt(unhex(v["nonce"]), unhex(v["ciphertext"] + v["tag"]), unhex(v["aad"]))
        check(h(pt) == v["plaintext"], v["name"] + " decrypt")
    return {
        "description": (
            "ChaCha20-Poly1305 (IETF, 12-byte nonce) known answers from RFC 8439: "
            "the section 2.8.2 AEAD example and the appendix A.5 decryption "
            "vector. Encrypt(key, nonce, plaintext, aad) = ciphertext || tag "
            "(tag 16 bytes, stored separately here). All values lowercase hex."),
        "vectors": [dict(v) for v in RFC8439_VECTORS],
    }


# ---------------------------------------------------------------- HKDF-SHA-512

def hkdf_reference(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA512(), length=length,
                salt=salt if salt else None, info=info).derive(ikm)


def build_hkdf():
    # X3DH-shaped input: DH outputs are fixed, recognisable patterns.
    dh = [pattern(0x01, 32), pattern(0x21, 32), pattern(0x41, 32), pattern(0x61, 32)]
    x3dh_info = b"E2EE-v1 X3DH"
    cases = [
        # RFC 5869 A.1-A.3 inputs; the RFC's outputs are SHA-256, not reproduced here.
        ("rfc5869-tc1-inputs", b"\x0b" * 22, pattern(0x00, 13), pattern(0xF0, 10), 42),
        ("rfc5869-tc2-inputs", pattern(0x00, 80), pattern(0x60, 80), pattern(0xB0, 80), 82),
        ("rfc5869-tc3-inputs-empty-salt-info", b"\x0b" * 22, b"", b"", 42),
        ("length-64-one-block", det("hkdf/64/ikm", 32), det("hkdf/64/salt", 64), det("hkdf/64/info", 16), 64),
        ("length-65-two-blocks", det("hkdf/65/ikm", 32), det("hkdf/65/salt", 64), det("hkdf/65/info", 16), 65),
        ("length-16320-maximum", det("hkdf/max/ikm", 80), det("hkdf/max/salt", 13), det("hkdf/max/info", 20), 255 * HASH_LEN),
        # HMAC hashes keys longer than its 128-byte block first; cover that path.
        ("salt-200-bytes-longer-than-block", det("hkdf/longsalt/ikm", 32), det("hkdf/longsalt/salt", 200), b"", 32),
        ("x3dh-3dh", b"\xff" * 32 + dh[0] + dh[1] + dh[2], bytes(64), x3dh_info, 32),
        ("x3dh-4dh", b"\xff" * 32 + dh[0] + dh[1] + dh[2] + dh[3], bytes(64), x3dh_info, 32),
    ]
    vectors = []
    for name, ikm, salt, info, length in cases:
        okm = hkdf_sha512(ikm, salt, info, length)
        check(okm == hkdf_reference(ikm, salt, info, length), "HKDF cross-check " + name)
        vectors.append({"name": name, "ikm": h(ikm), "salt": h(salt), "info": h(info),
                        "length": length, "okm": h(okm)})
    # An empty salt and an explicit 64-zero-byte salt must agree (RFC 5869 2.2).
    check(hkdf_sha512(b"\x0b" * 22, b"", b"", 42) == hkdf_sha512(b"\x0b" * 22, bytes(64), b"", 42),
          "HKDF empty salt == 64 zero bytes")
    return {
        "description": (
            "HKDF (RFC 5869) with SHA-512 (HashLen 64): okm = HKDF-Expand(HKDF-Extract("
            "salt, ikm), info, length). salt \"\" means no salt, i.e. 64 zero bytes. "
            "The rfc5869-* cases reuse the inputs of RFC 5869 test cases 1-3 (whose "
            "published outputs are for SHA-256; these outputs are SHA-512). "
            "length-16320 is the maximum 255*64. x3dh-* follow PROTOCOL.md section 2: "
            "salt = 64 zero bytes, ikm = ff*32 || DH1 || DH2 || DH3 [|| DH4] with "
            "DH1..DH4 the patterns 01..20, 21..40, 41..60, 61..80, info = ASCII "
            "\"E2EE-v1 X3DH\", length 32. Byte strings (including info) are "
            "lowercase hex; length is an integer. Outputs cross-checked against the "
            "cryptography package's HKDF."),
        "vectors": vectors,
    }


# ---------------------------------------------------------------- BLAKE2b KDFs

def chain(step, ck, steps=1000):
    start = ck
    mks = []
    for _ in range(steps):
        ck, mk = step(ck)
        mks.append(mk)
    return {"ck": h(start), "steps": steps, "mks_first": [h(m) for m in mks[:5]],
            "mk_last": h(mks[-1]), "ck_final": h(ck)}


def build_blake2b():
    # Sanity: hashlib's unkeyed, unpersonalised BLAKE2b-512 agrees with OpenSSL's.
    d = hashes.Hash(hashes.BLAKE2b(64))
    d.update(b"abc")
    check(d.finalize() == hashlib.blake2b(b"abc").digest(), "BLAKE2b-512 hashlib vs cryptography")

    k32a, k32b, k32c = det("b2/key32/a", 32), det("b2/key32/b", 32), det("b2/key32/c", 32)
    k64 = det("b2/key64", 64)
    generic_cases = [
        # Unkeyed KEM binding over an EncodeKEM-shaped input (0x0a || 1568 bytes).
        (b"", encode_kem(det("b2/kem-pub", KEM_PUB_LEN)), 32, P_KEM_BIND),
        (b"", b"", 32, P_KEM_BIND),
        # Unkeyed, empty personal: plain BLAKE2b-512("abc").
        (b"", b"abc", 64, ""),
        (k32a, det("b2/dh", 32), 64, P_ROOT),
        (k32b, b"\x01", 64, P_CHAIN),
        (k32c, b"\x01", 64, P_GROUP),
        (k64, det("b2/in32", 32), 64, P_ROOT),
        (k32a, b"", 64, P_CHAIN),
        (k64, b"", 64, P_GROUP),
        (k32b, det("b2/in128", 128), 64, P_ROOT),  # exactly one message block
        (k32c, det("b2/in300", 300), 64, P_GROUP),
        (k64, det("b2/in300", 300), 64, P_CHAIN),
        (k32a, b"\x01", 1, P_CHAIN),
        (k64, det("b2/in17", 17), 17, P_ROOT),
        # A 32-byte all-zero key is still keyed mode, unlike key "".
        (bytes(32), b"\x01", 64, P_CHAIN),
    ]
    generic = [{"key": h(k), "input": h(i), "outlen": n, "personal": p, "out": h(blake2b(k, i, n, p))}
               for k, i, n, p in generic_cases]
    check(generic[2]["out"] == h(hashlib.blake2b(b"abc").digest()), "empty personal == default BLAKE2b")
    check(generic[-1]["out"] != h(blake2b(b"", b"\x01", 64, P_CHAIN)), "zero key differs from unkeyed")

    rk_inputs = [
        (bytes(32), bytes(32)),
        (pattern(0x00, 32), pattern(0x20, 32)),
        (det("rk/1/rk", 32), det("rk/1/dh", 32)),
        (det("rk/2/rk", 32), det("rk/2/dh", 32)),
    ]
    rk_vectors = []
    for rk, dh in rk_inputs:
        rk2, ck = kdf_rk(rk, dh)
        rk_vectors.append({"rk": h(rk), "dh": h(dh), "rk_out": h(rk2), "ck_out": h(ck)})

    ck_inputs = [bytes(32), pattern(0x00, 32), det("ck/1", 32), det("ck/2", 32)]
    ck_vectors, gk_vectors = [], []
    for ck in ck_inputs:
        c2, mk = kdf_ck(ck)
        ck_vectors.append({"ck": h(ck), "ck_out": h(c2), "mk": h(mk)})
        g2, gmk = kdf_gk(ck)
        gk_vectors.append({"ck": h(ck), "ck_out": h(g2), "mk": h(gmk)})
        # Domain separation: the same key must give different chain and group outputs.
        check(mk != gmk and c2 != g2, "KDF_CK and KDF_GK must differ")

    return {
        "description": (
            "BLAKE2b as pinned by PROTOCOL.md sections 2b, 3 and 5: "
            "BLAKE2b(key, input, outlen, personal) with an all-zero salt and "
            "'personal' given as ASCII text (stored here as text, not hex) "
            "zero-padded to 16 bytes; key \"\" means unkeyed (an all-zero key is "
            "keyed). Equivalent to Python hashlib.blake2b(input, digest_size=outlen, "
            "key=key, person=personal) and libsodium "
            "crypto_generichash_blake2b_salt_personal. 'generic' covers the "
            "primitive. 'kdf_rk': out = BLAKE2b(rk, dh, 64, \"E2EEv1 root\"), "
            "rk_out = out[0..32], ck_out = out[32..64]. 'kdf_ck': out = BLAKE2b(ck, "
            "01, 64, \"E2EEv1 chain\"), ck_out = out[0..32], mk = out[32..64]. "
            "'kdf_gk': as kdf_ck with personal \"E2EEv1 group\". 'chain_ck' / "
            "'chain_gk': apply KDF_CK / KDF_GK 'steps' times starting from 'ck'; "
            "mks_first are the message keys of steps 1-5, mk_last the message key "
            "of the last step, ck_final the chain key after the last step. Byte "
            "strings lowercase hex; outlen and steps are integers."),
        "generic": generic,
        "kdf_rk": rk_vectors,
        "kdf_ck": ck_vectors,
        "kdf_gk": gk_vectors,
        "chain_ck": chain(kdf_ck, det("chain/ck", 32)),
        "chain_gk": chain(kdf_gk, det("chain/gk", 32)),
    }


# ---------------------------------------------------------------- AEAD_v1

def build_aead_v1():
    # AD shapes from PROTOCOL.md: 66 = Encode(IK_A) || Encode(IK_B);
    # 106 = that || Encode(H) (DHs_pub || u32 PN || u32 N).
    ad66 = encode_ed25519(det("aead/ik_a", 32)) + encode_ed25519(det("aead/ik_b", 32))
    ad106 = ad66 + det("aead/dhs", 32) + u32(3) + u32(7)
    ads = [b"", ad66, ad106]
    guards = [bytes(4), b"\xff\xff\xff\xff", bytes.fromhex("01020304"),
              det("aead/guard/3", 4), det("aead/guard/4", 4),
              det("aead/guard/5", 4), det("aead/guard/6", 4)]
    sizes = [0, 1, 15, 16, 17, 100, 1000]
    vectors = []
    for i, size in enumerate(sizes):
        key = pattern(0x80, 32) if i == 0 else det("aead/key/%d" % i, 32)
        guard = guards[i]
        ad = ads[i % 3]
        pt = det("aead/pt/%d" % size, size)
        sealed = aead_v1_seal(key, guard, pt, ad)
        check(len(sealed) == 4 + size + 16, "AEAD_v1 length")
        check(aead_v1_open(key, sealed, ad) == pt, "AEAD_v1 round trip")
        vectors.append({"name": "pt%d-ad%d" % (size, len(ad)), "key": h(key), "guard": h(guard),
                        "ad": h(ad), "plaintext": h(pt), "sealed": h(sealed)})
    return {
        "description": (
            "AEAD_v1 from PROTOCOL.md section 3: sealed = guard || "
            "ChaCha20-Poly1305-IETF(key, nonce = guard || 00*8, plaintext, ad), where "
            "the AEAD output is ciphertext || 16-byte tag, so len(sealed) = 4 + "
            "len(plaintext) + 16. guard is the 4-byte reuse guard. ad of 66 bytes "
            "is shaped like Encode(IK_A) || Encode(IK_B), 106 bytes like that || "
            "Encode(H). All values lowercase hex."),
        "vectors": vectors,
    }


# ---------------------------------------------------------------- driver

BUILDERS = [
    ("x25519_rfc7748.json", build_x25519),
    ("ed25519_rfc8032.json", build_ed25519),
    ("chacha20poly1305_rfc8439.json", build_chacha),
    ("hkdf_sha512.json", build_hkdf),
    ("blake2b_kdf.json", build_blake2b),
    ("aead_v1.json", build_aead_v1),
]


if __name__ == "__main__":
    sys.exit(main(sys.argv, BUILDERS))
