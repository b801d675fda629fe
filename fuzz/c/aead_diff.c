/* Differential harness for the C core (libFuzzer + ASan + UBSan).
 *
 * The input chooses keys, guards, plaintexts, associated data, tampering and
 * chain lengths; the harness asserts that paths which must agree do, byte for
 * byte:
 *   - e2ee_aead_seal_batch / e2ee_aead_open_batch against e2ee_aead_seal /
 *     e2ee_aead_open item by item (results, outputs, failure count), with
 *     tampered items and wrong output lengths mixed in;
 *   - AEAD_v1 against its definition: G || ChaCha20-Poly1305-IETF(nonce = G || 0^8);
 *   - untampered items open to their plaintext; failed opens leave zeroes;
 *   - e2ee_chain_advance(n) against n calls of e2ee_kdf_ck / e2ee_kdf_gk, in
 *     place and out of place, and one KDF_CK step against BLAKE2b as
 *     PROTOCOL.md §3 defines it; short output buffers and unknown kinds fail.
 * Every buffer is its own exact-size allocation, so ASan sees any overrun.
 *
 * Input: byte 0 bit 0 picks the check.
 *   chain: kind byte (bit 0: group), u16 steps (mod 1101), chain key (32).
 *   AEAD:  item count (mod 9), then per item: flags (bit 0: NULL guard,
 *          bits 1-3 = 1: seal length off by one, = 2: open length off by one,
 *          bit 4: tamper, bit 7: long plaintext), key (32), guard (4),
 *          plaintext length (u8 mod 64, or u16 mod 4096), AD length (u8 mod 128),
 *          plaintext, AD, tamper position (u16, if bit 4), tamper mask.
 *
 * Build: see fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined). */
#include "e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 8
#define MAX_CHAIN 1100

#define CHECK(cond, what)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "aead_diff: invariant violated: %s (%s:%d)\n", what, \
                    __FILE__, __LINE__);                                         \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Reads the input front to back; past the end every byte is 0. */
typedef struct {
    const uint8_t *p;
    size_t n, off;
} cursor;

static uint8_t
u8(cursor *c)
{
    return c->off < c->n ? c->p[c->off++] : 0;
}

static uint16_t
u16(cursor *c)
{
    uint16_t hi = u8(c);
    return (uint16_t) (hi << 8 | u8(c));
}

/* An exact-size heap copy of the next len input bytes (zero-filled past the end). */
static uint8_t *
take(cursor *c, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    size_t i;

    CHECK(b != NULL, "malloc");
    for (i = 0; i < len; i++) {
        b[i] = u8(c);
    }
    return b;
}

static int
all_zero(const uint8_t *b, size_t len)
{
    uint8_t acc = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        acc |= b[i];
    }
    return acc == 0;
}

typedef struct {
    uint8_t key[E2EE_KEYBYTES];
    uint8_t guard[E2EE_AEAD_GUARDBYTES];
    uint8_t *pt, *ad;
    size_t pt_len, ad_len;
    int use_guard;        /* 0: NULL guard (random), only checked by round trip */
    int bad_seal_len;     /* seal output length off by one */
    int tamper;           /* 0 none, else which byte of the sealed output to flip (1-based) */
    uint8_t tamper_mask;
    int bad_open_len;     /* open output length off by one */
} item;

static void
check_aead(cursor *c)
{
    item it[MAX_ITEMS];
    e2ee_aead_item seal_items[MAX_ITEMS], open_items[MAX_ITEMS];
    uint8_t *single_sealed[MAX_ITEMS], *batch_sealed[MAX_ITEMS];
    uint8_t *single_opened[MAX_ITEMS], *batch_opened[MAX_ITEMS];
    size_t sealed_len[MAX_ITEMS];
    int single_rc[MAX_ITEMS], batch_rc[MAX_ITEMS];
    int failed, expected_failed;
    size_t n = u8(c) % (MAX_ITEMS + 1), i;

    for (i = 0; i < n; i++) {
        uint8_t flags = u8(c);
        uint8_t *k = take(c, E2EE_KEYBYTES), *g = take(c, E2EE_AEAD_GUARDBYTES);

        memcpy(it[i].key, k, E2EE_KEYBYTES);
        memcpy(it[i].guard, g, E2EE_AEAD_GUARDBYTES);
        free(k);
        free(g);
        it[i].pt_len = (flags & 0x80) ? u16(c) % 4096 : u8(c) % 64;
        it[i].ad_len = u8(c) % 128;
        it[i].pt = take(c, it[i].pt_len);
        it[i].ad = take(c, it[i].ad_len);
        it[i].use_guard = (flags & 0x01) == 0;
        it[i].bad_seal_len = (flags & 0x0e) == 0x02;
        it[i].bad_open_len = (flags & 0x0e) == 0x04;
        it[i].tamper = (flags & 0x10) ? 1 + (int) (u16(c) % (it[i].pt_len + E2EE_AEAD_OVERHEADBYTES)) : 0;
        it[i].tamper_mask = u8(c);
        if (it[i].tamper_mask == 0) {
            it[i].tamper_mask = 1;
        }
    }

    /* Seal: batch against single, item by item. */
    expected_failed = 0;
    for (i = 0; i < n; i++) {
        sealed_len[i] = it[i].pt_len + E2EE_AEAD_OVERHEADBYTES + (it[i].bad_seal_len ? 1 : 0);
        single_sealed[i] = calloc(1, sealed_len[i]);
        batch_sealed[i] = calloc(1, sealed_len[i]);
        CHECK(single_sealed[i] && batch_sealed[i], "calloc");
        single_rc[i] = e2ee_aead_seal(single_sealed[i], sealed_len[i], it[i].pt, it[i].pt_len,
                                      it[i].ad, it[i].ad_len, it[i].key,
                                      it[i].use_guard ? it[i].guard : NULL);
        CHECK((single_rc[i] == 0) == !it[i].bad_seal_len, "seal succeeds exactly when the output length is right");
        expected_failed += single_rc[i] != 0;
        seal_items[i] = (e2ee_aead_item) {
            .out = batch_sealed[i], .out_len = sealed_len[i], .in = it[i].pt, .in_len = it[i].pt_len,
            .ad = it[i].ad, .ad_len = it[i].ad_len, .key = it[i].key,
            .guard = it[i].use_guard ? it[i].guard : NULL,
        };
    }
    failed = e2ee_aead_seal_batch(batch_rc, seal_items, n);
    CHECK(failed == expected_failed, "seal batch failure count");
    for (i = 0; i < n; i++) {
        CHECK(batch_rc[i] == single_rc[i], "seal batch result differs from single seal");
        if (single_rc[i] != 0) {
            continue;
        }
        if (it[i].use_guard) {
            uint8_t nonce[E2EE_CHACHA20POLY1305_NONCEBYTES] = { 0 };
            uint8_t *ref = malloc(it[i].pt_len + E2EE_AEAD_TAGBYTES);

            CHECK(memcmp(batch_sealed[i], single_sealed[i], sealed_len[i]) == 0,
                  "seal batch output differs from single seal");
            CHECK(memcmp(single_sealed[i], it[i].guard, E2EE_AEAD_GUARDBYTES) == 0, "sealed output starts with G");
            memcpy(nonce, it[i].guard, E2EE_AEAD_GUARDBYTES);
            CHECK(ref != NULL, "malloc");
            CHECK(e2ee_chacha20poly1305_seal(ref, it[i].pt_len + E2EE_AEAD_TAGBYTES, it[i].pt, it[i].pt_len,
                                             it[i].ad, it[i].ad_len, nonce, it[i].key) == 0,
                  "ChaCha20-Poly1305 seal");
            CHECK(memcmp(ref, single_sealed[i] + E2EE_AEAD_GUARDBYTES, it[i].pt_len + E2EE_AEAD_TAGBYTES) == 0,
                  "AEAD_v1 is not G || ChaCha20-Poly1305(nonce = G || 0^8)");
            free(ref);
        }
        /* Random guards differ between the two calls; open each on its own below. */
        if (it[i].tamper) {
            single_sealed[i][it[i].tamper - 1] ^= it[i].tamper_mask;
            batch_sealed[i][it[i].tamper - 1] ^= it[i].tamper_mask;
        }
    }

    /* Open: batch against single, on what was sealed. */
    expected_failed = 0;
    for (i = 0; i < n; i++) {
        size_t in_len = it[i].pt_len + E2EE_AEAD_OVERHEADBYTES;
        size_t out_len = it[i].pt_len + (it[i].bad_open_len ? 1 : 0);
        int should_open = single_rc[i] == 0 && !it[i].tamper && !it[i].bad_open_len;

        single_opened[i] = malloc(out_len ? out_len : 1);
        batch_opened[i] = malloc(out_len ? out_len : 1);
        CHECK(single_opened[i] && batch_opened[i], "malloc");
        memset(single_opened[i], 0xA5, out_len);
        memset(batch_opened[i], 0x5A, out_len);
        if (single_rc[i] != 0) {
            /* A failed seal left zeroes (or nothing): opening it must fail. */
            in_len = sealed_len[i];
        }
        single_rc[i] = e2ee_aead_open(single_opened[i], out_len, single_sealed[i], in_len,
                                      it[i].ad, it[i].ad_len, it[i].key);
        CHECK((single_rc[i] == 0) == should_open, "open succeeds exactly for untampered items of the right length");
        if (single_rc[i] == 0) {
            CHECK(memcmp(single_opened[i], it[i].pt, it[i].pt_len) == 0, "open returns other bytes than were sealed");
        } else {
            CHECK(all_zero(single_opened[i], out_len), "a failed open leaves its output zeroed");
        }
        expected_failed += single_rc[i] != 0;
        open_items[i] = (e2ee_aead_item) {
            .out = batch_opened[i], .out_len = out_len, .in = batch_sealed[i], .in_len = in_len,
            .ad = it[i].ad, .ad_len = it[i].ad_len, .key = it[i].key, .guard = NULL,
        };
    }
    failed = e2ee_aead_open_batch(batch_rc, open_items, n);
    CHECK(failed == expected_failed, "open batch failure count");
    for (i = 0; i < n; i++) {
        size_t out_len = it[i].pt_len + (it[i].bad_open_len ? 1 : 0);

        CHECK(batch_rc[i] == single_rc[i], "open batch result differs from single open");
        CHECK(memcmp(batch_opened[i], single_opened[i], out_len) == 0, "open batch output differs from single open");
        free(single_sealed[i]);
        free(batch_sealed[i]);
        free(single_opened[i]);
        free(batch_opened[i]);
        free(it[i].pt);
        free(it[i].ad);
    }
}

static void
check_chain(cursor *c)
{
    uint8_t kindbyte = u8(c);
    e2ee_chain_kind kind = (kindbyte & 1) ? E2EE_CHAIN_GROUP : E2EE_CHAIN_RATCHET;
    size_t n = u16(c) % (MAX_CHAIN + 1), i;
    uint8_t *ck = take(c, E2EE_KEYBYTES);
    uint8_t *mks = malloc(n * E2EE_KEYBYTES + 1), *ref = malloc(n * E2EE_KEYBYTES + 1);
    uint8_t ck_out[E2EE_KEYBYTES], cur[E2EE_KEYBYTES], inplace[E2EE_KEYBYTES];
    uint8_t out64[E2EE_KDF_OUTBYTES], mk[E2EE_KEYBYTES];
    static const uint8_t one = 0x01;

    CHECK(mks && ref, "malloc");
    CHECK(e2ee_chain_advance(ck_out, mks, n * E2EE_KEYBYTES, ck, n, kind) == 0, "chain advance");
    memcpy(cur, ck, sizeof cur);
    for (i = 0; i < n; i++) {
        int rc = kind == E2EE_CHAIN_GROUP ? e2ee_kdf_gk(cur, ref + i * E2EE_KEYBYTES, cur)
                                          : e2ee_kdf_ck(cur, ref + i * E2EE_KEYBYTES, cur);
        CHECK(rc == 0, "chain step");
    }
    CHECK(n == 0 || memcmp(mks, ref, n * E2EE_KEYBYTES) == 0, "chain advance message keys differ from repeated steps");
    CHECK(memcmp(ck_out, cur, sizeof cur) == 0, "chain advance chain key differs from repeated steps");

    /* In place: ck_out aliasing ck. */
    memcpy(inplace, ck, sizeof inplace);
    CHECK(e2ee_chain_advance(inplace, mks, n * E2EE_KEYBYTES, inplace, n, kind) == 0, "chain advance in place");
    CHECK(memcmp(inplace, cur, sizeof cur) == 0, "chain advance in place differs");
    CHECK(n == 0 || memcmp(mks, ref, n * E2EE_KEYBYTES) == 0, "chain advance in place message keys differ");

    /* Misuse fails. */
    if (n > 0) {
        CHECK(e2ee_chain_advance(ck_out, mks, n * E2EE_KEYBYTES - 1, ck, n, kind) != 0,
              "chain advance accepts a short output buffer");
    }
    CHECK(e2ee_chain_advance(ck_out, mks, n * E2EE_KEYBYTES, ck, n, (e2ee_chain_kind) (3 + (kindbyte >> 1))) != 0,
          "chain advance accepts an unknown kind");

    /* One step against the definition (PROTOCOL.md §3, §5). */
    CHECK(e2ee_blake2b_personal(out64, sizeof out64, &one, 1, ck, E2EE_KEYBYTES,
                                kind == E2EE_CHAIN_GROUP ? "E2EEv1 group" : "E2EEv1 chain") == 0,
          "BLAKE2b");
    memcpy(cur, ck, sizeof cur);
    CHECK((kind == E2EE_CHAIN_GROUP ? e2ee_kdf_gk(cur, mk, cur) : e2ee_kdf_ck(cur, mk, cur)) == 0, "chain step");
    CHECK(memcmp(cur, out64, E2EE_KEYBYTES) == 0 && memcmp(mk, out64 + E2EE_KEYBYTES, E2EE_KEYBYTES) == 0,
          "a chain step is not BLAKE2b(key = ck, in = 0x01, 64, personal)");

    free(ck);
    free(mks);
    free(ref);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    return e2ee_init() == 0 ? 0 : 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cursor c = { data, size, 0 };

    /* Byte 0 picks the check: bit 0 set, chains; clear, AEAD batches. */
    if (u8(&c) & 1) {
        check_chain(&c);
    } else {
        check_aead(&c);
    }
    return 0;
}
