/* test_curve.c: X25519 and Ed25519 (CSources/CE2EE/curve.c). */
#include "e2ee.h"
#include "test_support.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- X25519 ------------------------------------------------------------- */

static void test_x25519(void)
{
    static const char *const low_order_hex[] = {
        "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
        "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
    };
    uint8_t sk[32], pk[32], peer_sk[32], peer_pk[32], out[32], ref[32];

    /* DH agrees with crypto_scalarmult. */
    for (uint32_t t = 0; t < 8; t++) {
        fill(sk, 32, 3000 + t);
        fill(peer_sk, 32, 3100 + t);
        CHECK(crypto_scalarmult_base(peer_pk, peer_sk) == 0);
        CHECK(crypto_scalarmult(ref, sk, peer_pk) == 0);
        CHECK(e2ee_x25519(out, sk, peer_pk) == 0);
        CHECK_MEM(out, ref, 32);
    }

    /* Low-order peer keys: validate rejects; DH fails with zeroed output. */
    for (size_t i = 0; i < sizeof low_order_hex / sizeof low_order_hex[0]; i++) {
        for (int top = 0; top < 2; top++) {
            uint8_t bad[32];
            hex2bin(bad, 32, low_order_hex[i]);
            bad[31] ^= (uint8_t)(top ? 0x80 : 0);
            CHECKF(e2ee_x25519_public_validate(bad) == -1, "low-order point %zu (top bit flipped: %d) accepted",
                   i, top);
            fill(sk, 32, 3200);
            memset(out, 0xAA, 32);
            CHECKF(e2ee_x25519(out, sk, bad) == -1 && is_zero(out, 32),
                   "DH with low-order point %zu (top bit flipped: %d) not rejected", i, top);
        }
    }

    /* Accepted: base point and real keys. */
    {
        uint8_t nine[32] = { 9 };
        CHECK(e2ee_x25519_public_validate(nine) == 0);
        CHECK(e2ee_x25519_keypair(pk, sk, NULL) == 0);
        CHECK(e2ee_x25519_public_validate(pk) == 0);
        CHECK(e2ee_x25519_public_validate(peer_pk) == 0);
    }

    /* Canonical encodings: bit 255 clear and u < p = 2^255 - 19. */
    {
        uint8_t u[32] = { 9 };
        CHECK(e2ee_x25519_public_is_canonical(u) == 0);
        CHECK(e2ee_x25519_public_is_canonical(pk) == 0);
        u[31] = 0x80;
        CHECK(e2ee_x25519_public_is_canonical(u) == -1);
        memset(u, 0xff, 32);
        u[31] = 0x7f;
        u[0] = 0xec; /* p - 1: the largest canonical value */
        CHECK(e2ee_x25519_public_is_canonical(u) == 0);
        u[0] = 0xed; /* p */
        CHECK(e2ee_x25519_public_is_canonical(u) == -1);
        u[0] = 0xff; /* 2^255 - 1 */
        CHECK(e2ee_x25519_public_is_canonical(u) == -1);
        u[0] = 0xed;
        u[15] = 0xfe; /* below p again */
        CHECK(e2ee_x25519_public_is_canonical(u) == 0);
    }

    /* Seeded key pairs are deterministic; public agrees; DH is symmetric. */
    {
        uint8_t seed[32], pk1[32], sk1[32], pk2[32], sk2[32], pk3[32], sk3[32], derived[32];
        uint8_t ab[32], ba[32];
        fill(seed, 32, 3300);
        CHECK(e2ee_x25519_keypair(pk1, sk1, seed) == 0);
        CHECK(e2ee_x25519_keypair(pk2, sk2, seed) == 0);
        CHECK_MEM(pk1, pk2, 32);
        CHECK_MEM(sk1, sk2, 32);
        CHECK(e2ee_x25519_public(derived, sk1) == 0);
        CHECK_MEM(derived, pk1, 32);
        CHECK(crypto_scalarmult_base(derived, sk1) == 0);
        CHECK_MEM(derived, pk1, 32);

        fill(seed, 32, 3301); /* not seed[0] ^= 1: clamping would erase that bit */
        CHECK(e2ee_x25519_keypair(pk3, sk3, seed) == 0);
        CHECK(memcmp(pk3, pk1, 32) != 0 && memcmp(sk3, sk1, 32) != 0);

        CHECK(e2ee_x25519(ab, sk1, pk3) == 0);
        CHECK(e2ee_x25519(ba, sk3, pk1) == 0);
        CHECK_MEM(ab, ba, 32);

        /* Random key pairs differ and agree with their public key. */
        CHECK(e2ee_x25519_keypair(pk1, sk1, NULL) == 0);
        CHECK(e2ee_x25519_keypair(pk2, sk2, NULL) == 0);
        CHECK(memcmp(pk1, pk2, 32) != 0 && memcmp(sk1, sk2, 32) != 0);
        CHECK(e2ee_x25519_public(derived, sk2) == 0);
        CHECK_MEM(derived, pk2, 32);
    }
}

/* ---- Ed25519 ------------------------------------------------------------ */

static size_t count_bad_flips(uint8_t *buf, size_t len, const uint8_t *sig, const uint8_t *msg_, size_t msg_len,
                              const uint8_t *pk)
{
    /* buf aliases one of sig / msg_ / pk; each bit is flipped, verified and restored. */
    size_t bad = 0;
    for (size_t bit = 0; bit < len * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        bad += e2ee_ed25519_verify(sig, msg_, msg_len, pk) != -1;
        buf[bit / 8] ^= (uint8_t)(1U << (bit % 8));
    }
    return bad;
}

static void test_ed25519(void)
{
    uint8_t seed[32], pk[32], sk[64], pk2[32], sk2[64], ref_pk[32], ref_sk[64];
    uint8_t sig[64], ref_sig[64], message[32];

    /* Seeded key pairs: deterministic, libsodium's seed || public form. */
    fill(seed, 32, 4000);
    CHECK(e2ee_ed25519_keypair(pk, sk, seed) == 0);
    CHECK(e2ee_ed25519_keypair(pk2, sk2, seed) == 0);
    CHECK_MEM(pk, pk2, 32);
    CHECK_MEM(sk, sk2, 64);
    CHECK(crypto_sign_seed_keypair(ref_pk, ref_sk, seed) == 0);
    CHECK_MEM(pk, ref_pk, 32);
    CHECK_MEM(sk, ref_sk, 64);
    CHECK_MEM(sk, seed, 32);
    CHECK_MEM(sk + 32, pk, 32);

    /* Random key pairs differ. */
    CHECK(e2ee_ed25519_keypair(pk2, sk2, NULL) == 0);
    CHECK(memcmp(pk2, pk, 32) != 0);
    CHECK_MEM(sk2 + 32, pk2, 32);

    /* Sign / verify. */
    fill(message, sizeof message, 4001);
    CHECK(e2ee_ed25519_sign(sig, message, sizeof message, sk) == 0);
    CHECK(crypto_sign_detached(ref_sig, NULL, message, sizeof message, sk) == 0);
    CHECK_MEM(sig, ref_sig, 64);
    CHECK(e2ee_ed25519_verify(sig, message, sizeof message, pk) == 0);
    CHECK(e2ee_ed25519_verify(sig, message, sizeof message, pk2) == -1);
    CHECK(e2ee_ed25519_verify(sig, message, sizeof message - 1, pk) == -1);
    {
        uint8_t empty_sig[64];
        CHECK(e2ee_ed25519_sign(empty_sig, message, 0, sk) == 0);
        CHECK(e2ee_ed25519_verify(empty_sig, message, 0, pk) == 0);
        CHECK(crypto_sign_verify_detached(empty_sig, message, 0, pk) == 0);
    }

    /* Every single-bit flip of message, signature and key is rejected. */
    {
        size_t bad;
        bad = count_bad_flips(message, sizeof message, sig, message, sizeof message, pk);
        CHECKF(bad == 0, "%zu message-bit flips accepted", bad);
        bad = count_bad_flips(sig, sizeof sig, sig, message, sizeof message, pk);
        CHECKF(bad == 0, "%zu signature-bit flips accepted", bad);
        bad = count_bad_flips(pk, sizeof pk, sig, message, sizeof message, pk);
        CHECKF(bad == 0, "%zu key-bit flips accepted", bad);
        CHECK(e2ee_ed25519_verify(sig, message, sizeof message, pk) == 0); /* restored */
    }

    /* Public key validation. */
    {
        uint8_t zero[32] = { 0 }, identity[32] = { 1 }, order8[32], mixed[32], noncanon[32];
        size_t disagree = 0;
        hex2bin(order8, 32, "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        hex2bin(noncanon, 32, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        CHECK(e2ee_ed25519_public_validate(pk) == 0);
        CHECK(e2ee_ed25519_public_validate(pk2) == 0);
        CHECK(e2ee_ed25519_public_validate(zero) == -1);
        CHECK(e2ee_ed25519_public_validate(identity) == -1);
        CHECK(e2ee_ed25519_public_validate(order8) == -1);
        CHECK(e2ee_ed25519_public_validate(noncanon) == -1);
        /* pk + an order-8 point: on the curve, outside the prime-order subgroup. */
        CHECK(crypto_core_ed25519_add(mixed, pk, order8) == 0);
        CHECK(e2ee_ed25519_public_validate(mixed) == -1);
        /* Random encodings: agree with libsodium's validity check. */
        for (uint32_t t = 0; t < 256; t++) {
            uint8_t r[32];
            fill(r, 32, 4100 + t);
            disagree += (e2ee_ed25519_public_validate(r) == 0) != (crypto_core_ed25519_is_valid_point(r) == 1);
        }
        CHECKF(disagree == 0, "%zu random encodings judged differently from libsodium", disagree);
    }

    /* Conversion to X25519. */
    {
        uint8_t a_pk[32], a_sk[64], b_pk[32], b_sk[64];
        uint8_t xa_pk[32], xa_sk[32], xb_pk[32], xb_sk[32], ref_x[32], derived[32], ab[32], ba[32];
        uint8_t identity[32] = { 1 }, order8[32], out[32];
        fill(seed, 32, 4200);
        CHECK(e2ee_ed25519_keypair(a_pk, a_sk, seed) == 0);
        fill(seed, 32, 4201);
        CHECK(e2ee_ed25519_keypair(b_pk, b_sk, seed) == 0);
        CHECK(e2ee_ed25519_pk_to_x25519(xa_pk, a_pk) == 0);
        CHECK(e2ee_ed25519_pk_to_x25519(xb_pk, b_pk) == 0);
        CHECK(e2ee_ed25519_sk_to_x25519(xa_sk, a_sk) == 0);
        CHECK(e2ee_ed25519_sk_to_x25519(xb_sk, b_sk) == 0);

        CHECK(crypto_sign_ed25519_pk_to_curve25519(ref_x, a_pk) == 0);
        CHECK_MEM(xa_pk, ref_x, 32);
        CHECK(crypto_sign_ed25519_sk_to_curve25519(ref_x, a_sk) == 0);
        CHECK_MEM(xa_sk, ref_x, 32);
        CHECK(e2ee_x25519_public(derived, xa_sk) == 0);
        CHECK_MEM(derived, xa_pk, 32);

        CHECK(e2ee_x25519(ab, xa_sk, xb_pk) == 0);
        CHECK(e2ee_x25519(ba, xb_sk, xa_pk) == 0);
        CHECK_MEM(ab, ba, 32);

        hex2bin(order8, 32, "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        CHECK(e2ee_ed25519_pk_to_x25519(out, identity) == -1);
        CHECK(e2ee_ed25519_pk_to_x25519(out, order8) == -1);
    }
}

/* ---- the Edwards paths (montgomery.c) ------------------------------------ */

/* Key generation goes through the fixed-base Edwards multiplication and our own
 * map to Montgomery u; libsodium's ladder and its own map are the references. */
static void
test_edwards_paths(void)
{
    enum { KEYS = 20000, MAPS = 2000 };
    uint8_t sk[32], pk[32], ref[32], ed_pk[32], ed_sk[64];
    size_t differ = 0, failed = 0;

    /* Random scalars, and the ones clamping treats specially. */
    for (uint32_t t = 0; t < KEYS + 4; t++) {
        if (t < KEYS) {
            randombytes_buf(sk, sizeof sk);
        } else {
            memset(sk, (int[]){ 0x00, 0xff, 0x07, 0xf8 }[t - KEYS], sizeof sk);
        }
        failed += e2ee_x25519_public(pk, sk) != 0;
        if (crypto_scalarmult_base(ref, sk) != 0 || memcmp(pk, ref, 32) != 0) {
            differ++;
        }
    }
    CHECKF(failed == 0, "%zu key generations failed", failed);
    CHECKF(differ == 0, "%zu of %d public keys differ from crypto_scalarmult_base", differ, KEYS + 4);

    /* The map of validated identity keys equals libsodium's validating map. */
    differ = 0;
    for (uint32_t t = 0; t < MAPS; t++) {
        CHECK(crypto_sign_keypair(ed_pk, ed_sk) == 0);
        if (e2ee_ed25519_pk_to_x25519_valid(pk, ed_pk) != 0
            || crypto_sign_ed25519_pk_to_curve25519(ref, ed_pk) != 0 || memcmp(pk, ref, 32) != 0) {
            differ++;
        }
    }
    CHECKF(differ == 0, "%zu of %d mapped identity keys differ from libsodium's", differ, MAPS);

    /* The identity (y = 1) has no image: refused, output zeroed. */
    {
        uint8_t identity[32] = { 1 }, zero[32] = { 0 };
        memset(pk, 0xaa, sizeof pk);
        CHECK(e2ee_ed25519_pk_to_x25519_valid(pk, identity) == -1);
        CHECK_MEM(pk, zero, 32);
        CHECK(e2ee_ed25519_pk_to_x25519_valid(NULL, identity) == -1);
    }
    /* y = 0 maps to u = 1; y = p - 1 (= -1) maps to u = 0: refused. */
    {
        uint8_t y[32] = { 0 }, one[32] = { 1 };
        CHECK(e2ee_ed25519_pk_to_x25519_valid(pk, y) == 0);
        CHECK_MEM(pk, one, 32);
        hex2bin(y, 32, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        CHECK(e2ee_ed25519_pk_to_x25519_valid(pk, y) == -1);
    }
}

void
run_curve_tests(void)
{
    test_x25519();
    test_ed25519();
    test_edwards_paths();
}
