/* test_hkdf.c: HKDF-SHA-512 (CSources/CE2EE/hkdf.c). */
#include "e2ee.h"
#include "test_support.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reference RFC 5869 HKDF over libsodium's HMAC-SHA-512. */
static void ref_hkdf_sha512(uint8_t *out, size_t out_len,
                            const uint8_t *salt, size_t salt_len,
                            const uint8_t *ikm, size_t ikm_len,
                            const uint8_t *info, size_t info_len)
{
    static const uint8_t zero_salt[64] = { 0 };
    crypto_auth_hmacsha512_state st;
    uint8_t prk[64], t[64];
    size_t t_len = 0, done = 0;
    uint8_t counter = 1;

    if (salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    crypto_auth_hmacsha512_init(&st, salt, salt_len);
    crypto_auth_hmacsha512_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha512_final(&st, prk);
    while (done < out_len) {
        size_t take = out_len - done < 64 ? out_len - done : 64;
        crypto_auth_hmacsha512_init(&st, prk, sizeof prk);
        crypto_auth_hmacsha512_update(&st, t, t_len);
        crypto_auth_hmacsha512_update(&st, info, info_len);
        crypto_auth_hmacsha512_update(&st, &counter, 1);
        crypto_auth_hmacsha512_final(&st, t);
        t_len = sizeof t;
        memcpy(out + done, t, take);
        done += take;
        counter++;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
}

/* ---- HKDF-SHA-512 ------------------------------------------------------- */

static void test_hkdf(void)
{
    uint8_t ikm[22], salt[13], info[10];
    static const uint8_t zero64[64] = { 0 };
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++) {
        salt[i] = (uint8_t)i;
    }
    for (int i = 0; i < 10; i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }

    /* RFC 5869 test case 1 inputs with SHA-512 (L = 42). */
    {
        uint8_t out[42], ref[42], pinned[42];
        hex2bin(pinned, 42,
                "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c14815793"
                "38da362cb8d9f925d7cb");
        ref_hkdf_sha512(ref, 42, salt, 13, ikm, 22, info, 10);
        CHECK_MEM(ref, pinned, 42); /* anchors the in-test reference */
        CHECK(e2ee_hkdf_sha512(out, 42, salt, 13, ikm, 22, info, 10) == 0);
        CHECK_MEM(out, ref, 42);
    }

    /* Lengths at and around the block and the maximum. */
    {
        static const size_t lens[] = { 1, 32, 64, 65, 128, 129, E2EE_HKDF_SHA512_MAXBYTES };
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            uint8_t *out = xmalloc(lens[i]), *ref = xmalloc(lens[i]);
            ref_hkdf_sha512(ref, lens[i], salt, 13, ikm, 22, info, 10);
            int rc = e2ee_hkdf_sha512(out, lens[i], salt, 13, ikm, 22, info, 10);
            CHECKF(rc == 0 && memcmp(out, ref, lens[i]) == 0, "length %zu (rc %d)", lens[i], rc);
            free(out);
            free(ref);
        }
    }

    /* Out-of-range lengths. */
    {
        uint8_t *out = xmalloc(E2EE_HKDF_SHA512_MAXBYTES + 1);
        CHECK(e2ee_hkdf_sha512(out, 0, salt, 13, ikm, 22, info, 10) == -1);
        CHECK(e2ee_hkdf_sha512(out, E2EE_HKDF_SHA512_MAXBYTES + 1, salt, 13, ikm, 22, info, 10) == -1);
        free(out);
    }

    /* Empty salt means 64 zero bytes; empty info may be NULL. */
    {
        uint8_t a[100], b[100], c[100], d[100], ref[100];
        ref_hkdf_sha512(ref, 100, zero64, 64, ikm, 22, info, 10);
        CHECK(e2ee_hkdf_sha512(a, 100, NULL, 0, ikm, 22, info, 10) == 0);
        CHECK(e2ee_hkdf_sha512(b, 100, salt, 0, ikm, 22, info, 10) == 0);
        CHECK(e2ee_hkdf_sha512(c, 100, zero64, 64, ikm, 22, info, 10) == 0);
        CHECK_MEM(a, ref, 100);
        CHECK_MEM(b, ref, 100);
        CHECK_MEM(c, ref, 100);

        ref_hkdf_sha512(ref, 100, salt, 13, ikm, 22, info, 0);
        CHECK(e2ee_hkdf_sha512(d, 100, salt, 13, ikm, 22, NULL, 0) == 0);
        CHECK_MEM(d, ref, 100);
    }

    /* The X3DH shape (PROTOCOL.md §2). */
    {
        static const char x3dh_info[] = "E2EE-v1 X3DH";
        uint8_t ikm4[32 + 4 * 32], out[32], ref[32];
        memset(ikm4, 0xFF, 32);
        fill(ikm4 + 32, 4 * 32, 500);
        ref_hkdf_sha512(ref, 32, zero64, 64, ikm4, sizeof ikm4,
                        (const uint8_t *)x3dh_info, sizeof x3dh_info - 1);
        CHECK(e2ee_hkdf_sha512(out, 32, zero64, 64, ikm4, sizeof ikm4,
                               (const uint8_t *)x3dh_info, sizeof x3dh_info - 1) == 0);
        CHECK_MEM(out, ref, 32);
    }
}

void
run_hkdf_tests(void)
{
    test_hkdf();
}
