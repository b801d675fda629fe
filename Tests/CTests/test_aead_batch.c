/* test_aead_batch.c: AEAD_v1 seal and open batches against single calls (CSources/CE2EE/aead.c). */
#include "e2ee.h"
#include "test_support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- batches ------------------------------------------------------------ */

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

void
run_aead_batch_tests(void)
{
    test_seal_batch();
    test_open_batch();
}
