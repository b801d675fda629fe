/* test_kdf.c: the BLAKE2b KDFs, keyed BLAKE2b and chain advance/seek (CSources/CE2EE/kdf.c). */
#include "e2ee.h"
#include "test_support.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reference BLAKE2b(key, in, outlen, personal) with an all-zero salt. */
static void ref_blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
                        const uint8_t *key, size_t keylen, const char *personal)
{
    uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = { 0 };
    uint8_t pers[crypto_generichash_blake2b_PERSONALBYTES] = { 0 };
    size_t plen = strlen(personal);
    if (plen > sizeof pers) {
        abort();
    }
    memcpy(pers, personal, plen);
    if (crypto_generichash_blake2b_salt_personal(out, outlen, in, (unsigned long long)inlen,
                                                 key, keylen, salt, pers) != 0) {
        fprintf(stderr, "reference BLAKE2b failed\n");
        exit(2);
    }
}

/* ---- BLAKE2b KDFs ------------------------------------------------------- */

static void test_kdfs(void)
{
    static const uint8_t one = 0x01;
    uint8_t ref[64], a[32], b[32], key[32], dh[64];

    for (uint32_t t = 0; t < 6; t++) {
        fill(key, sizeof key, 100 + t);
        fill(dh, sizeof dh, 200 + t);
        size_t dh_len = t % 2 ? 64 : 32;

        /* KDF_RK */
        ref_blake2b(ref, 64, dh, dh_len, key, 32, "E2EEv1 root");
        CHECK(e2ee_kdf_rk(a, b, key, dh, dh_len) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);
        memcpy(a, key, 32); /* rk_out aliases rk */
        CHECK(e2ee_kdf_rk(a, b, a, dh, dh_len) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);

        /* KDF_CK */
        ref_blake2b(ref, 64, &one, 1, key, 32, "E2EEv1 chain");
        CHECK(e2ee_kdf_ck(a, b, key) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);
        memcpy(a, key, 32); /* ck_out aliases ck */
        CHECK(e2ee_kdf_ck(a, b, a) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);

        /* KDF_GK */
        ref_blake2b(ref, 64, &one, 1, key, 32, "E2EEv1 group");
        CHECK(e2ee_kdf_gk(a, b, key) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);
        memcpy(a, key, 32);
        CHECK(e2ee_kdf_gk(a, b, a) == 0);
        CHECK_MEM(a, ref, 32);
        CHECK_MEM(b, ref + 32, 32);
    }

    /* A pinned value (Python hashlib.blake2b agrees), so the reference is anchored too. */
    {
        uint8_t ck[32], want[64];
        for (int i = 0; i < 32; i++) {
            ck[i] = (uint8_t)i;
        }
        hex2bin(want, 64,
                "15df196a670008950bb3501a7e63bcbe7dc1fc83d80b74696dc2f0ed99209b10"
                "c6f0d45dc64f208de765c4c729008ee5fe4624823db9868250c5197571c300f7");
        CHECK(e2ee_kdf_ck(a, b, ck) == 0);
        CHECK_MEM(a, want, 32);
        CHECK_MEM(b, want + 32, 32);
    }
}

static void test_blake2b_personal(void)
{
    static const size_t keylens[] = { 0, 32, 64 };
    static const size_t outlens[] = { 1, 17, 32, 64 };
    static const size_t inlens[] = { 0, 1, 127, 128, 129, 300 };
    static const char *const personals[] = { "E2EEv1 root", "E2EEv1 kem bind", "0123456789abcdef", "" };

    for (size_t pi = 0; pi < sizeof personals / sizeof personals[0]; pi++) {
        for (size_t ki = 0; ki < sizeof keylens / sizeof keylens[0]; ki++) {
            for (size_t oi = 0; oi < sizeof outlens / sizeof outlens[0]; oi++) {
                for (size_t ii = 0; ii < sizeof inlens / sizeof inlens[0]; ii++) {
                    size_t keylen = keylens[ki], outlen = outlens[oi], inlen = inlens[ii];
                    uint8_t *key = keylen ? xmalloc(keylen) : NULL;
                    uint8_t *in = xmalloc(inlen);
                    uint8_t *out = xmalloc(outlen);
                    uint8_t ref[64];
                    uint32_t tag = (uint32_t)(1000 + pi * 1000 + ki * 100 + oi * 10 + ii);
                    if (key != NULL) {
                        fill(key, keylen, tag);
                    }
                    fill(in, inlen, tag + 50000);
                    ref_blake2b(ref, outlen, in, inlen, key, keylen, personals[pi]);
                    memset(out, 0xAA, outlen);
                    int rc = e2ee_blake2b_personal(out, outlen, in, inlen, key, keylen, personals[pi]);
                    CHECKF(rc == 0 && memcmp(out, ref, outlen) == 0,
                           "personal \"%s\" keylen %zu outlen %zu inlen %zu (rc %d)",
                           personals[pi], keylen, outlen, inlen, rc);
                    free(key);
                    free(in);
                    free(out);
                }
            }
        }
    }

    /* Invalid arguments. */
    {
        uint8_t out[65], key[65], in[8];
        fill(key, sizeof key, 7);
        fill(in, sizeof in, 8);
        CHECK(e2ee_blake2b_personal(out, 0, in, sizeof in, key, 32, "E2EEv1 root") == -1);
        CHECK(e2ee_blake2b_personal(out, 65, in, sizeof in, key, 32, "E2EEv1 root") == -1);
        CHECK(e2ee_blake2b_personal(out, 32, in, sizeof in, key, 65, "E2EEv1 root") == -1);
        CHECK(e2ee_blake2b_personal(out, 32, in, sizeof in, key, 32, "0123456789abcdefX") == -1);
        CHECK(e2ee_blake2b_personal(out, 32, in, sizeof in, NULL, 0, "a personal far longer than 16") == -1);
    }
}

/* ---- chain advance ------------------------------------------------------ */

static int kdf_step(e2ee_chain_kind kind, uint8_t ck_out[32], uint8_t mk_out[32], const uint8_t ck[32])
{
    return kind == E2EE_CHAIN_RATCHET ? e2ee_kdf_ck(ck_out, mk_out, ck) : e2ee_kdf_gk(ck_out, mk_out, ck);
}

static void test_chain_advance(void)
{
    static const size_t counts[] = { 0, 1, 2, 1000 };
    static const e2ee_chain_kind kinds[] = { E2EE_CHAIN_RATCHET, E2EE_CHAIN_GROUP };

    for (size_t ki = 0; ki < 2; ki++) {
        e2ee_chain_kind kind = kinds[ki];
        for (size_t ni = 0; ni < sizeof counts / sizeof counts[0]; ni++) {
            size_t n = counts[ni];
            uint8_t ck[32], cur[32], ck_out[32], alias[32];
            uint8_t *want = xmalloc(n * 32), *mks = xmalloc(n * 32), *mks2 = xmalloc(n * 32);
            int steps_ok = 1;

            fill(ck, 32, (uint32_t)(300 + ki * 10 + ni));
            memcpy(cur, ck, 32);
            for (size_t i = 0; i < n; i++) {
                steps_ok &= kdf_step(kind, cur, want + 32 * i, cur) == 0;
            }
            CHECK(steps_ok);

            memset(mks, 0xAA, n * 32);
            CHECKF(e2ee_chain_advance(ck_out, n ? mks : NULL, n * 32, ck, n, kind) == 0,
                   "kind %d n %zu", (int)kind, n);
            CHECKF(memcmp(ck_out, cur, 32) == 0, "ck_out: kind %d n %zu", (int)kind, n);
            CHECKF(n == 0 || memcmp(mks, want, n * 32) == 0, "mks: kind %d n %zu", (int)kind, n);

            memcpy(alias, ck, 32); /* ck_out aliases ck */
            CHECKF(e2ee_chain_advance(alias, n ? mks2 : NULL, n * 32, alias, n, kind) == 0,
                   "aliased: kind %d n %zu", (int)kind, n);
            CHECKF(memcmp(alias, cur, 32) == 0, "aliased ck_out: kind %d n %zu", (int)kind, n);
            CHECKF(n == 0 || memcmp(mks2, want, n * 32) == 0, "aliased mks: kind %d n %zu", (int)kind, n);

            /* Seeking n - 1 ahead gives message key n - 1 and the same chain key as advancing n. */
            if (n > 0) {
                uint8_t mk[32], seek_alias[32];
                CHECKF(e2ee_chain_seek(ck_out, mk, ck, n - 1, kind) == 0, "seek: kind %d n %zu", (int)kind, n);
                CHECKF(memcmp(ck_out, cur, 32) == 0 && memcmp(mk, want + 32 * (n - 1), 32) == 0,
                       "seek: kind %d n %zu", (int)kind, n);
                memcpy(seek_alias, ck, 32);
                CHECKF(e2ee_chain_seek(seek_alias, mk, seek_alias, n - 1, kind) == 0 && memcmp(seek_alias, cur, 32) == 0,
                       "aliased seek: kind %d n %zu", (int)kind, n);
            }

            free(want);
            free(mks);
            free(mks2);
        }

        /* mks_out_len too small. */
        {
            uint8_t ck[32], ck_out[32];
            uint8_t *mks = xmalloc(999 * 32);
            fill(ck, 32, 400);
            CHECK(e2ee_chain_advance(ck_out, mks, 63, ck, 2, kind) == -1);
            CHECK(e2ee_chain_advance(ck_out, mks, 31, ck, 1, kind) == -1);
            CHECK(e2ee_chain_advance(ck_out, NULL, 0, ck, 1, kind) == -1);
            CHECK(e2ee_chain_advance(ck_out, mks, 999 * 32, ck, 1000, kind) == -1);
            /* n * 32 wraps to 32: must be caught, not trusted. */
            CHECK(e2ee_chain_advance(ck_out, mks, 32, ck, SIZE_MAX / 32 + 2, kind) == -1);
            CHECK(e2ee_chain_seek(ck_out, NULL, ck, 1, kind) == -1);
            CHECK(e2ee_chain_seek(NULL, mks, ck, 1, kind) == -1);
            CHECK(e2ee_chain_seek(ck_out, mks, ck, SIZE_MAX, kind) == -1);
            CHECK(e2ee_chain_seek(ck_out, mks, ck, 1, (e2ee_chain_kind)7) == -1);
            free(mks);
        }
    }
}

void
run_kdf_tests(void)
{
    test_kdfs();
    test_blake2b_personal();
    test_chain_advance();
}
