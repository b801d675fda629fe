/* test_aead.c: ChaCha20-Poly1305-IETF and AEAD_v1, single calls (CSources/CE2EE/aead.c). */
#define _POSIX_C_SOURCE 200809L

#include "e2ee.h"
#include "test_support.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- ChaCha20-Poly1305-IETF (the primitive under AEAD_v1) --------------- */

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

/* ---- AEAD_v1 ------------------------------------------------------------ */

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

void
run_aead_tests(void)
{
    test_chacha20poly1305();
    test_aead_sizes();
    test_aead_tamper();
    test_aead_lengths();
    test_aead_random_guard();
    test_aead_guard_fork();
}
