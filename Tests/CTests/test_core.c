/*
 * test_core.c: standalone checks of the CE2EE C core (include/e2ee.h).
 *
 * Every expectation is computed independently with libsodium (BLAKE2b with
 * salt and personal, HMAC-SHA-512, ChaCha20-Poly1305-IETF, X25519, Ed25519)
 * or pinned as a constant. Data buffers are heap allocated at their exact
 * size so that ASan catches any read or write past a stated length.
 * Build and run with scripts/ctest.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include "e2ee.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- check machinery --------------------------------------------------- */

static unsigned long g_passed;
static unsigned long g_failed;

static int check_at(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
    }
    return ok;
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
    size_t shown = len < 48 ? len : 48;
    fprintf(stderr, "    %s (%zu bytes): ", label, len);
    for (size_t i = 0; i < shown; i++) {
        fprintf(stderr, "%02x", p[i]);
    }
    fprintf(stderr, "%s\n", shown < len ? "..." : "");
}

static int check_mem_at(const uint8_t *a, const uint8_t *b, size_t len,
                        const char *file, int line, const char *expr)
{
    int ok = len == 0 || memcmp(a, b, len) == 0;
    if (!check_at(ok, file, line, expr)) {
        print_hex("got     ", a, len);
        print_hex("expected", b, len);
    }
    return ok;
}

#define CHECK(cond) check_at((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* CHECKF(cond, fmt, ...): CHECK, plus a context line when it fails. */
#define CHECKF(cond, ...)                                                  \
    do {                                                                   \
        if (!check_at((cond) ? 1 : 0, __FILE__, __LINE__, #cond)) {        \
            fprintf(stderr, "    ");                                       \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#define CHECK_MEM(a, b, len) \
    check_mem_at((a), (b), (len), __FILE__, __LINE__, "memcmp(" #a ", " #b ", " #len ") == 0")

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *xmalloc(size_t n)
{
    /* Exact size, so ASan flags overruns; malloc(0) may return NULL. */
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void hex2bin(uint8_t *out, size_t out_len, const char *hex)
{
    size_t got = 0;
    if (sodium_hex2bin(out, out_len, hex, strlen(hex), NULL, &got, NULL) != 0 || got != out_len) {
        fprintf(stderr, "bad hex constant: %s\n", hex);
        exit(2);
    }
}

/* Deterministic test data: a ChaCha20 stream keyed by tag. */
static void fill(uint8_t *buf, size_t len, uint32_t tag)
{
    uint8_t seed[randombytes_SEEDBYTES] = { 0 };
    seed[0] = (uint8_t)tag;
    seed[1] = (uint8_t)(tag >> 8);
    seed[2] = (uint8_t)(tag >> 16);
    seed[3] = (uint8_t)(tag >> 24);
    seed[4] = 0xC7; /* keep test data apart from any all-zero seed */
    randombytes_buf_deterministic(buf, len, seed);
}

static int is_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

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

/* Reference AEAD_v1: G || ChaCha20-Poly1305-IETF(key, G || 0^8, pt, ad). */
static void ref_aead_seal(uint8_t *out, const uint8_t *pt, size_t pt_len,
                          const uint8_t *ad, size_t ad_len,
                          const uint8_t key[32], const uint8_t guard[4])
{
    uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = { 0 };
    unsigned long long clen = 0;
    memcpy(nonce, guard, 4);
    memcpy(out, guard, 4);
    if (crypto_aead_chacha20poly1305_ietf_encrypt(out + 4, &clen, pt, pt_len, ad, ad_len,
                                                  NULL, nonce, key) != 0 ||
        clen != pt_len + 16) {
        fprintf(stderr, "reference AEAD failed\n");
        exit(2);
    }
}

static const size_t k_msg_sizes[] = { 0, 1, 15, 16, 17, 100, 4096, 65536 };
#define N_MSG_SIZES (sizeof k_msg_sizes / sizeof k_msg_sizes[0])

/* ---- 1. BLAKE2b KDFs ----------------------------------------------------- */

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

/* ---- 2. chain advance ---------------------------------------------------- */

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

/* ---- 3. HKDF-SHA-512 ----------------------------------------------------- */

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

/* ---- 4a. ChaCha20-Poly1305-IETF (the primitive under AEAD_v1) ------------ */

static void test_chacha20poly1305(void)
{
    static const char pt_text[] =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
        "for the future, sunscreen would be it.";
    enum { PT = sizeof pt_text - 1, CT = PT + 16 };
    uint8_t key[32], nonce[12], ad[12], want[CT];
    uint8_t *pt = xmalloc(PT), *ct = xmalloc(CT), *out = xmalloc(PT);

    /* RFC 8439 §2.8.2. */
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(0x80 + i);
    }
    hex2bin(nonce, 12, "070000004041424344454647");
    hex2bin(ad, 12, "50515253c0c1c2c3c4c5c6c7");
    hex2bin(want, CT,
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
            "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
            "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
            "3ff4def08e4b7a9de576d26586cec64b6116"
            "1ae10b594f09e26a7e902ecbd0600691");
    memcpy(pt, pt_text, PT);
    CHECK(e2ee_chacha20poly1305_seal(ct, CT, pt, PT, ad, sizeof ad, nonce, key) == 0);
    CHECK_MEM(ct, want, CT);
    memset(out, 0xAA, PT);
    CHECK(e2ee_chacha20poly1305_open(out, PT, ct, CT, ad, sizeof ad, nonce, key) == 0);
    CHECK_MEM(out, pt, PT);

    ct[0] ^= 0x01;
    memset(out, 0xAA, PT);
    CHECK(e2ee_chacha20poly1305_open(out, PT, ct, CT, ad, sizeof ad, nonce, key) == -1 && is_zero(out, PT));
    ct[0] ^= 0x01;
    nonce[11] ^= 0x01;
    memset(out, 0xAA, PT);
    CHECK(e2ee_chacha20poly1305_open(out, PT, ct, CT, ad, sizeof ad, nonce, key) == -1 && is_zero(out, PT));
    nonce[11] ^= 0x01;

    /* Lengths: out_len = pt_len + 16, pt_out_len = ct_len - 16, ct_len >= 16. */
    CHECK(e2ee_chacha20poly1305_seal(ct, CT - 1, pt, PT, ad, sizeof ad, nonce, key) == -1);
    CHECK(e2ee_chacha20poly1305_open(out, PT - 1, ct, CT, ad, sizeof ad, nonce, key) == -1);
    CHECK(e2ee_chacha20poly1305_open(out, 0, ct, 15, ad, sizeof ad, nonce, key) == -1);

    free(pt);
    free(ct);
    free(out);
}

/* ---- 4b. AEAD_v1 --------------------------------------------------------- */

static void test_aead_sizes(void)
{
    uint8_t key[32], guard[4], ad[13];
    fill(key, 32, 600);
    fill(ad, sizeof ad, 601);

    for (size_t si = 0; si < N_MSG_SIZES; si++) {
        size_t len = k_msg_sizes[si];
        const uint8_t *adp = si % 2 ? NULL : ad; /* alternate empty (NULL) AD */
        size_t ad_len = si % 2 ? 0 : sizeof ad;
        uint8_t *pt = xmalloc(len), *out = xmalloc(len);
        uint8_t *sealed = xmalloc(len + 20), *ref = xmalloc(len + 20);

        fill(pt, len, (uint32_t)(610 + si));
        fill(guard, 4, (uint32_t)(620 + si));
        ref_aead_seal(ref, pt, len, adp, ad_len, key, guard);

        CHECKF(e2ee_aead_seal(sealed, len + 20, pt, len, adp, ad_len, key, guard) == 0, "size %zu", len);
        CHECKF(memcmp(sealed, ref, len + 20) == 0, "fixed-guard seal differs from reference, size %zu", len);

        memset(out, 0xAA, len);
        CHECKF(e2ee_aead_open(out, len, sealed, len + 20, adp, ad_len, key) == 0, "open size %zu", len);
        CHECKF(len == 0 || memcmp(out, pt, len) == 0, "round trip size %zu", len);

        /* Random guard: still opens. */
        CHECKF(e2ee_aead_seal(sealed, len + 20, pt, len, adp, ad_len, key, NULL) == 0, "size %zu", len);
        memset(out, 0xAA, len);
        CHECKF(e2ee_aead_open(out, len, sealed, len + 20, adp, ad_len, key) == 0 &&
                   (len == 0 || memcmp(out, pt, len) == 0),
               "random-guard round trip size %zu", len);

        /* A tampered tag is rejected at every size. */
        sealed[len + 19] ^= 0x01;
        CHECKF(e2ee_aead_open(out, len, sealed, len + 20, adp, ad_len, key) == -1 && is_zero(out, len),
               "tampered tag accepted, size %zu", len);

        free(pt);
        free(out);
        free(sealed);
        free(ref);
    }
}

static void test_aead_tamper(void)
{
    enum { PT = 33, AD = 40, SEALED = PT + 20 };
    uint8_t key[32], guard[4] = { 0x01, 0x02, 0x03, 0x04 };
    uint8_t *pt = xmalloc(PT), *ad = xmalloc(AD), *sealed = xmalloc(SEALED);
    uint8_t *bad = xmalloc(SEALED), *badad = xmalloc(AD), *out = xmalloc(PT);
    size_t n_bad = 0, first_bad = SIZE_MAX;

    fill(key, 32, 700);
    fill(pt, PT, 701);
    fill(ad, AD, 702);
    CHECK(e2ee_aead_seal(sealed, SEALED, pt, PT, ad, AD, key, guard) == 0);
    memset(out, 0xAA, PT);
    CHECK(e2ee_aead_open(out, PT, sealed, SEALED, ad, AD, key) == 0);
    CHECK_MEM(out, pt, PT);

    /* Every single-bit flip of guard, ciphertext and tag. */
    for (size_t bit = 0; bit < SEALED * 8; bit++) {
        memcpy(bad, sealed, SEALED);
        bad[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        memset(out, 0xAA, PT);
        if (e2ee_aead_open(out, PT, bad, SEALED, ad, AD, key) != -1 || !is_zero(out, PT)) {
            if (n_bad++ == 0) {
                first_bad = bit;
            }
        }
    }
    CHECKF(n_bad == 0, "%zu of %d sealed-bit flips not rejected with zeroed output (first: bit %zu)",
           n_bad, SEALED * 8, first_bad);

    /* Every single-bit flip of the AD. */
    n_bad = 0;
    for (size_t bit = 0; bit < AD * 8; bit++) {
        memcpy(badad, ad, AD);
        badad[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        memset(out, 0xAA, PT);
        if (e2ee_aead_open(out, PT, sealed, SEALED, badad, AD, key) != -1 || !is_zero(out, PT)) {
            if (n_bad++ == 0) {
                first_bad = bit;
            }
        }
    }
    CHECKF(n_bad == 0, "%zu of %d AD-bit flips not rejected with zeroed output (first: bit %zu)",
           n_bad, AD * 8, first_bad);

    /* Shortened or missing AD. */
    memset(out, 0xAA, PT);
    CHECK(e2ee_aead_open(out, PT, sealed, SEALED, ad, AD - 1, key) == -1 && is_zero(out, PT));
    memset(out, 0xAA, PT);
    CHECK(e2ee_aead_open(out, PT, sealed, SEALED, NULL, 0, key) == -1 && is_zero(out, PT));

    /* Wrong key: one bit off, and unrelated. */
    {
        uint8_t key2[32];
        memcpy(key2, key, 32);
        key2[31] ^= 0x80;
        memset(out, 0xAA, PT);
        CHECK(e2ee_aead_open(out, PT, sealed, SEALED, ad, AD, key2) == -1 && is_zero(out, PT));
        fill(key2, 32, 703);
        memset(out, 0xAA, PT);
        CHECK(e2ee_aead_open(out, PT, sealed, SEALED, ad, AD, key2) == -1 && is_zero(out, PT));
    }

    /* The untouched message still opens (the rejections above were not vacuous). */
    memset(out, 0xAA, PT);
    CHECK(e2ee_aead_open(out, PT, sealed, SEALED, ad, AD, key) == 0);
    CHECK_MEM(out, pt, PT);

    free(pt);
    free(ad);
    free(sealed);
    free(bad);
    free(badad);
    free(out);
}

static void test_aead_lengths(void)
{
    uint8_t key[32], guard[4] = { 9, 9, 9, 9 };
    uint8_t pt[33], sealed[53];
    fill(key, 32, 800);
    fill(pt, sizeof pt, 801);
    CHECK(e2ee_aead_seal(sealed, 53, pt, 33, NULL, 0, key, guard) == 0);

    /* Seal: out_len must be exactly pt_len + 20. */
    {
        uint8_t *out = xmalloc(54);
        CHECK(e2ee_aead_seal(out, 52, pt, 33, NULL, 0, key, guard) == -1);
        CHECK(e2ee_aead_seal(out, 54, pt, 33, NULL, 0, key, guard) == -1);
        CHECK(e2ee_aead_seal(out, 19, pt, 0, NULL, 0, key, guard) == -1);
        CHECK(e2ee_aead_seal(out, 0, pt, 0, NULL, 0, key, guard) == -1);
        free(out);
    }

    /* Open: pt_out_len must be exactly sealed_len - 20. */
    {
        uint8_t *out = xmalloc(34);
        memset(out, 0xAA, 34);
        CHECK(e2ee_aead_open(out, 32, sealed, 53, NULL, 0, key) == -1);
        CHECK(is_zero(out, 32)); /* header: on failure pt_out is zeroed */
        memset(out, 0xAA, 34);
        CHECK(e2ee_aead_open(out, 34, sealed, 53, NULL, 0, key) == -1);
        CHECK(is_zero(out, 34));
        free(out);
    }

    /* Open: sealed shorter than the 20-byte overhead. */
    {
        uint8_t out[1];
        size_t n_bad = 0;
        for (size_t len = 0; len < 20; len++) {
            uint8_t *s = xmalloc(len); /* exact size: an overread trips ASan */
            memcpy(s, sealed, len);
            if (e2ee_aead_open(out, 0, s, len, NULL, 0, key) != -1) {
                n_bad++;
            }
            free(s);
        }
        CHECKF(n_bad == 0, "%zu short sealed lengths accepted", n_bad);
    }

    /* An empty plaintext is exactly 20 bytes and opens. */
    {
        uint8_t s[20], out[1];
        CHECK(e2ee_aead_seal(s, 20, pt, 0, NULL, 0, key, guard) == 0);
        CHECK(e2ee_aead_open(out, 0, s, 20, NULL, 0, key) == 0);
        s[0] ^= 0x10; /* guard is part of the nonce */
        CHECK(e2ee_aead_open(out, 0, s, 20, NULL, 0, key) == -1);
    }
}

static void test_aead_random_guard(void)
{
    enum { CALLS = 16 };
    uint8_t key[32], pt[10], sealed[CALLS][30], out[10];
    size_t collisions = 0, n_open_bad = 0;
    fill(key, 32, 900);
    fill(pt, sizeof pt, 901);
    for (int i = 0; i < CALLS; i++) {
        CHECK(e2ee_aead_seal(sealed[i], 30, pt, 10, NULL, 0, key, NULL) == 0);
        if (e2ee_aead_open(out, 10, sealed[i], 30, NULL, 0, key) != 0 || memcmp(out, pt, 10) != 0) {
            n_open_bad++;
        }
    }
    for (int i = 0; i < CALLS; i++) {
        for (int j = i + 1; j < CALLS; j++) {
            collisions += memcmp(sealed[i], sealed[j], 4) == 0;
        }
    }
    CHECKF(collisions == 0, "%zu pairs of random guards equal among %d calls", collisions, CALLS);
    CHECK(n_open_bad == 0);
}

/* A forked child must not draw the guards its parent draws next. */
static void test_aead_guard_fork(void)
{
    uint8_t key[32], pt[1] = { 0 }, sealed[21], child_guard[4] = { 0 };
    int fds[2];
    pid_t pid;
    int status = 0;

    fill(key, 32, 950);
    CHECK(e2ee_aead_seal(sealed, 21, pt, 1, NULL, 0, key, NULL) == 0); /* primes any guard cache */
    if (pipe(fds) != 0) {
        fprintf(stderr, "pipe failed\n");
        exit(2);
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int ok = e2ee_aead_seal(sealed, 21, pt, 1, NULL, 0, key, NULL) == 0 &&
                 write(fds[1], sealed, 4) == 4;
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    close(fds[1]);
    if (pid > 0) {
        CHECK(read(fds[0], child_guard, 4) == 4);
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(e2ee_aead_seal(sealed, 21, pt, 1, NULL, 0, key, NULL) == 0);
        CHECKF(memcmp(sealed, child_guard, 4) != 0, "parent and forked child drew the same guard");
    }
    close(fds[0]);
}

/* ---- 5. batches ---------------------------------------------------------- */

typedef struct msg {
    uint8_t key[32];
    uint8_t guard[4];
    uint8_t ad[24];
    size_t ad_len;
    uint8_t *pt;
    size_t pt_len;
} msg;

static void msg_make(msg *m, size_t pt_len, uint32_t tag)
{
    fill(m->key, 32, tag);
    fill(m->guard, 4, tag + 1);
    m->ad_len = tag % 25;
    fill(m->ad, sizeof m->ad, tag + 2);
    m->pt_len = pt_len;
    m->pt = xmalloc(pt_len);
    fill(m->pt, pt_len, tag + 3);
}

static void test_seal_batch(void)
{
    enum { N = 2 * N_MSG_SIZES };
    msg m[N];
    e2ee_aead_item items[N];
    uint8_t *outs[N], *refs[N];
    int results[N];
    size_t n_bad = 0;

    for (size_t i = 0; i < N; i++) {
        msg_make(&m[i], k_msg_sizes[i % N_MSG_SIZES], (uint32_t)(1000 + 10 * i));
        outs[i] = xmalloc(m[i].pt_len + 20);
        refs[i] = xmalloc(m[i].pt_len + 20);
        CHECK(e2ee_aead_seal(refs[i], m[i].pt_len + 20, m[i].pt, m[i].pt_len,
                             m[i].ad, m[i].ad_len, m[i].key, m[i].guard) == 0);
        items[i] = (e2ee_aead_item){ outs[i], m[i].pt_len + 20, m[i].pt, m[i].pt_len,
                                     m[i].ad, m[i].ad_len, m[i].key, m[i].guard };
        results[i] = 42;
    }
    CHECK(e2ee_aead_seal_batch(results, items, N) == 0);
    for (size_t i = 0; i < N; i++) {
        if (results[i] != 0 || memcmp(outs[i], refs[i], m[i].pt_len + 20) != 0) {
            n_bad++;
        }
    }
    CHECKF(n_bad == 0, "%zu of %d batch seals differ from single seals", n_bad, (int)N);

    /* A failing item (bad out_len) and a random-guard item among good ones. */
    items[2].out_len -= 1;
    items[5].guard = NULL;
    for (size_t i = 0; i < N; i++) {
        results[i] = 42;
    }
    CHECK(e2ee_aead_seal_batch(results, items, N) == 1);
    CHECK(results[2] == -1);
    n_bad = 0;
    for (size_t i = 0; i < N; i++) {
        if (i == 2) {
            continue;
        }
        if (results[i] != 0) {
            n_bad++;
        } else if (i == 5) {
            uint8_t *pt = xmalloc(m[i].pt_len);
            if (e2ee_aead_open(pt, m[i].pt_len, outs[i], m[i].pt_len + 20, m[i].ad, m[i].ad_len, m[i].key) != 0 ||
                (m[i].pt_len && memcmp(pt, m[i].pt, m[i].pt_len) != 0)) {
                n_bad++;
            }
            free(pt);
        } else if (memcmp(outs[i], refs[i], m[i].pt_len + 20) != 0) {
            n_bad++;
        }
    }
    CHECKF(n_bad == 0, "%zu good items disturbed by a failing one", n_bad);

    for (size_t i = 0; i < N; i++) {
        free(m[i].pt);
        free(outs[i]);
        free(refs[i]);
    }
}

static void test_open_batch(void)
{
    enum { N = 3 * N_MSG_SIZES };
    msg m[N];
    e2ee_aead_item items[N];
    uint8_t *sealed[N], *outs[N], *single[N], wrong_key[32];
    int results[N], expect[N];
    int expected_failures = 0;
    size_t n_res = 0, n_pt = 0, n_zero = 0, n_corrupt_ok = 0;

    fill(wrong_key, 32, 1999);
    for (size_t i = 0; i < N; i++) {
        size_t sealed_len, out_len;
        const uint8_t *key;

        msg_make(&m[i], k_msg_sizes[i % N_MSG_SIZES], (uint32_t)(2000 + 10 * i));
        sealed_len = m[i].pt_len + 20;
        sealed[i] = xmalloc(sealed_len);
        CHECK(e2ee_aead_seal(sealed[i], sealed_len, m[i].pt, m[i].pt_len,
                             m[i].ad, m[i].ad_len, m[i].key, m[i].guard) == 0);
        key = m[i].key;
        out_len = m[i].pt_len;
        if (i % 3 == 2) {
            switch ((i / 3) % 3) {
            case 0: /* flipped byte */
                sealed[i][(i * 7) % sealed_len] ^= 0x40;
                break;
            case 1: /* wrong key */
                key = wrong_key;
                break;
            default: /* truncated by one byte */
                sealed_len -= 1;
                out_len = sealed_len >= 20 ? sealed_len - 20 : 0;
                break;
            }
        }
        outs[i] = xmalloc(out_len);
        single[i] = xmalloc(out_len);
        memset(outs[i], 0xAA, out_len);
        items[i] = (e2ee_aead_item){ outs[i], out_len, sealed[i], sealed_len,
                                     m[i].ad, m[i].ad_len, key, NULL };
        expect[i] = e2ee_aead_open(single[i], out_len, sealed[i], sealed_len, m[i].ad, m[i].ad_len, key);
        expected_failures += expect[i] != 0;
        n_corrupt_ok += (i % 3 == 2) != (expect[i] == -1);
        results[i] = 42;
    }
    CHECKF(n_corrupt_ok == 0, "%zu items where single open disagrees with the corruption plan", n_corrupt_ok);
    CHECK(expected_failures == (int)(N / 3));

    CHECK(e2ee_aead_open_batch(results, items, N) == expected_failures);
    for (size_t i = 0; i < N; i++) {
        if (results[i] != expect[i]) {
            n_res++;
            fprintf(stderr, "    item %zu: batch result %d, single %d\n", i, results[i], expect[i]);
        }
        if (expect[i] == 0 && m[i].pt_len && memcmp(outs[i], m[i].pt, m[i].pt_len) != 0) {
            n_pt++;
        }
        if (expect[i] != 0 && !is_zero(outs[i], items[i].out_len)) {
            n_zero++;
        }
    }
    CHECKF(n_res == 0, "%zu results differ from single opens", n_res);
    CHECKF(n_pt == 0, "%zu good items with a wrong plaintext", n_pt);
    CHECKF(n_zero == 0, "%zu failed items with a non-zeroed output", n_zero);

    /* Degenerate arguments. */
    CHECK(e2ee_aead_open_batch(NULL, NULL, 0) == 0);
    CHECK(e2ee_aead_open_batch(results, items, 0) == 0);
    CHECK(e2ee_aead_seal_batch(NULL, NULL, 0) == 0);
    CHECK(e2ee_aead_seal_batch(results, items, 0) == 0);
    CHECK(e2ee_aead_open_batch(results, NULL, 3) == -1);
    CHECK(e2ee_aead_seal_batch(results, NULL, 3) == -1);
    CHECK(e2ee_aead_open_batch(NULL, items, 3) == -1);
    CHECK(e2ee_aead_seal_batch(NULL, items, 3) == -1);

    for (size_t i = 0; i < N; i++) {
        free(m[i].pt);
        free(sealed[i]);
        free(outs[i]);
        free(single[i]);
    }
}

/* ---- 6. X25519 ----------------------------------------------------------- */

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

/* ---- 7. Ed25519 ---------------------------------------------------------- */

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

/* ---- 8. memory, sizes, init --------------------------------------------- */

static void test_memory(void)
{
    enum { LEN = 64 };
    uint8_t *a = xmalloc(LEN), *b = xmalloc(LEN);
    size_t missed = 0;

    fill(a, LEN, 5000);
    memcpy(b, a, LEN);
    CHECK(e2ee_memequal(a, b, LEN) == 0);
    b[0] ^= 1;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    b[0] ^= 1;
    b[LEN / 2] ^= 0x80;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    b[LEN / 2] ^= 0x80;
    b[LEN - 1] ^= 0x10;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    CHECK(e2ee_memequal(a, b, LEN - 1) == 0);
    b[LEN - 1] ^= 0x10;
    for (size_t bit = 0; bit < LEN * 8; bit++) {
        b[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        missed += e2ee_memequal(a, b, LEN) != -1;
        b[bit / 8] ^= (uint8_t)(1U << (bit % 8));
    }
    CHECKF(missed == 0, "%zu single-bit differences not detected", missed);
    b[0] ^= 0xFF;
    CHECK(e2ee_memequal(a, b, 0) == 0);

    /* memzero wipes exactly the range asked. */
    {
        uint8_t buf[100], want[100];
        memset(buf, 0xAA, sizeof buf);
        memset(want, 0xAA, sizeof want);
        memset(want + 10, 0, 50);
        e2ee_memzero(buf + 10, 50);
        CHECK_MEM(buf, want, sizeof buf);
        e2ee_memzero(buf, 0);
        CHECK_MEM(buf, want, sizeof buf);
        e2ee_memzero(buf, sizeof buf);
        CHECK(is_zero(buf, sizeof buf));
    }

    /* Randomness and sizes. */
    {
        uint8_t r1[32] = { 0 }, r2[32] = { 0 };
        e2ee_random_bytes(r1, sizeof r1);
        e2ee_random_bytes(r2, sizeof r2);
        CHECK(!is_zero(r1, 32) && memcmp(r1, r2, 32) != 0);
        CHECK(e2ee_keybytes() == 32);
        CHECK(e2ee_aead_overheadbytes() == 20);
        CHECK(e2ee_hkdf_sha512_maxbytes() == 16320);
    }

    free(a);
    free(b);
}

enum { INIT_THREADS = 4, INIT_CALLS = 1000 };
static pthread_barrier_t g_init_barrier;

static void *init_thread(void *arg)
{
    int *failures = arg;
    pthread_barrier_wait(&g_init_barrier);
    for (int i = 0; i < INIT_CALLS; i++) {
        *failures += e2ee_init() != 0;
    }
    return NULL;
}

/* Runs first, before anything has initialised libsodium. */
static void test_init(void)
{
    pthread_t threads[INIT_THREADS];
    int failures[INIT_THREADS] = { 0 };
    int started = 0, total = 0;

    if (pthread_barrier_init(&g_init_barrier, NULL, INIT_THREADS) != 0) {
        fprintf(stderr, "pthread_barrier_init failed\n");
        exit(2);
    }
    for (int i = 0; i < INIT_THREADS; i++) {
        started += pthread_create(&threads[i], NULL, init_thread, &failures[i]) == 0;
    }
    CHECK(started == INIT_THREADS);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        total += failures[i];
    }
    pthread_barrier_destroy(&g_init_barrier);
    CHECKF(total == 0, "%d concurrent e2ee_init calls failed", total);

    total = 0;
    for (int i = 0; i < 100; i++) {
        total += e2ee_init() != 0;
    }
    CHECK(total == 0);
    CHECK(sodium_init() == 1); /* e2ee_init really initialised libsodium */
}

int main(void)
{
    test_init();
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 2;
    }
    test_kdfs();
    test_blake2b_personal();
    test_chain_advance();
    test_hkdf();
    test_chacha20poly1305();
    test_aead_sizes();
    test_aead_tamper();
    test_aead_lengths();
    test_aead_random_guard();
    test_aead_guard_fork();
    test_seal_batch();
    test_open_batch();
    test_x25519();
    test_ed25519();
    test_memory();

    printf("%lu passed, %lu failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
