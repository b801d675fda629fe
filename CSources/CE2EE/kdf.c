/* BLAKE2b KDFs of PROTOCOL.md §3 and §5 over libb2.
 *
 * BLAKE2b's parameter block depends only on (outlen, keylen, personal), so
 * the state after blake2b_init_param is the same for every step of a chain:
 * it is computed once per KDF and copied, which leaves only the two
 * compressions (key block, data block) per step. */
#include "e2ee.h"
#include "internal.h"

#include <blake2.h>
#include <sodium.h>
#include <string.h>

enum { KDF_ROOT = 0, KDF_CHAIN = 1, KDF_GROUP = 2, KDF_COUNT = 3 };

static const char *const kdf_personal[KDF_COUNT] = {
    "E2EEv1 root", "E2EEv1 chain", "E2EEv1 group"
};

static blake2b_state kdf_template[KDF_COUNT];

static int
param_init(blake2b_param *p, size_t outlen, size_t keylen, const char *personal)
{
    size_t plen;

    if (outlen == 0 || outlen > BLAKE2B_OUTBYTES || keylen > BLAKE2B_KEYBYTES) {
        return -1;
    }
    plen = personal == NULL ? 0 : strlen(personal);
    if (plen > BLAKE2B_PERSONALBYTES) {
        return -1;
    }
    memset(p, 0, sizeof *p);
    p->digest_length = (uint8_t) outlen;
    p->key_length = (uint8_t) keylen;
    p->fanout = 1;
    p->depth = 1;
    if (plen > 0) {
        memcpy(p->personal, personal, plen);
    }
    return 0;
}

/* Keyed BLAKE2b continues from a parameter state with the key zero-padded
 * to one block (RFC 7693 §3.3). */
static int
absorb_key(blake2b_state *S, const uint8_t *key, size_t keylen)
{
    uint8_t block[BLAKE2B_BLOCKBYTES];
    int rc;

    memset(block, 0, sizeof block);
    memcpy(block, key, keylen);
    rc = blake2b_update(S, block, sizeof block);
    sodium_memzero(block, sizeof block);
    return rc;
}

int
e2ee_kdf_templates_init(void)
{
    blake2b_param p;
    size_t i;

    for (i = 0; i < KDF_COUNT; i++) {
        if (param_init(&p, E2EE_KDF_OUTBYTES, E2EE_KEYBYTES, kdf_personal[i]) != 0 ||
            blake2b_init_param(&kdf_template[i], &p) != 0) {
            return -1;
        }
    }
    return 0;
}

int
e2ee_blake2b_personal(void *out, size_t outlen,
                      const void *in, size_t inlen,
                      const void *key, size_t keylen,
                      const char *personal)
{
    blake2b_param p;
    blake2b_state S;
    int rc = -1;

    if (out == NULL || (in == NULL && inlen > 0) || (key == NULL && keylen > 0) ||
        param_init(&p, outlen, keylen, personal) != 0) {
        return -1;
    }
    if (blake2b_init_param(&S, &p) != 0) {
        goto done;
    }
    if (keylen > 0 && absorb_key(&S, key, keylen) != 0) {
        goto done;
    }
    if (blake2b_update(&S, in, inlen) != 0 || blake2b_final(&S, out, outlen) != 0) {
        goto done;
    }
    rc = 0;
done:
    sodium_memzero(&S, sizeof S);
    return rc;
}

/* One 64-byte KDF output from a precomputed template. */
static int
kdf_64(uint8_t out[E2EE_KDF_OUTBYTES], int which, const uint8_t key[E2EE_KEYBYTES],
       const uint8_t *in, size_t inlen)
{
    blake2b_state S;
    int rc;

    if (e2ee_init() != 0) {
        return -1;
    }
    memcpy(&S, &kdf_template[which], sizeof S);
    rc = absorb_key(&S, key, E2EE_KEYBYTES);
    if (rc == 0) {
        rc = blake2b_update(&S, in, inlen);
    }
    if (rc == 0) {
        rc = blake2b_final(&S, out, E2EE_KDF_OUTBYTES);
    }
    sodium_memzero(&S, sizeof S);
    return rc == 0 ? 0 : -1;
}

/* Splits a KDF output into two keys; safe when first aliases the input key. */
static void
split_64(uint8_t first[E2EE_KEYBYTES], uint8_t second[E2EE_KEYBYTES],
         uint8_t out[E2EE_KDF_OUTBYTES])
{
    memcpy(first, out, E2EE_KEYBYTES);
    memcpy(second, out + E2EE_KEYBYTES, E2EE_KEYBYTES);
    sodium_memzero(out, E2EE_KDF_OUTBYTES);
}

int
e2ee_kdf_rk(void *rk_out /* E2EE_KEYBYTES */, void *ck_out /* E2EE_KEYBYTES */,
            const void *rk /* E2EE_KEYBYTES */, const void *dh, size_t dh_len)
{
    uint8_t out[E2EE_KDF_OUTBYTES];

    if (rk_out == NULL || ck_out == NULL || rk == NULL || (dh == NULL && dh_len > 0)) {
        return -1;
    }
    if (kdf_64(out, KDF_ROOT, rk, dh, dh_len) != 0) {
        sodium_memzero(out, sizeof out);
        return -1;
    }
    split_64(rk_out, ck_out, out);
    return 0;
}

static const uint8_t chain_input = 0x01;

static int
chain_step(uint8_t ck_out[E2EE_KEYBYTES], uint8_t mk_out[E2EE_KEYBYTES],
           const uint8_t ck[E2EE_KEYBYTES], int which)
{
    uint8_t out[E2EE_KDF_OUTBYTES];

    if (ck_out == NULL || mk_out == NULL || ck == NULL) {
        return -1;
    }
    if (kdf_64(out, which, ck, &chain_input, 1) != 0) {
        sodium_memzero(out, sizeof out);
        return -1;
    }
    split_64(ck_out, mk_out, out);
    return 0;
}

int
e2ee_kdf_ck(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
            const void *ck /* E2EE_KEYBYTES */)
{
    return chain_step(ck_out, mk_out, ck, KDF_CHAIN);
}

int
e2ee_kdf_gk(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
            const void *ck /* E2EE_KEYBYTES */)
{
    return chain_step(ck_out, mk_out, ck, KDF_GROUP);
}

/* The KDF of a chain kind, or -1 for an unknown kind. */
static int
chain_kdf(e2ee_chain_kind kind)
{
    switch (kind) {
    case E2EE_CHAIN_RATCHET: return KDF_CHAIN;
    case E2EE_CHAIN_GROUP: return KDF_GROUP;
    default: return -1;
    }
}

int
e2ee_chain_advance(void *ck_out /* E2EE_KEYBYTES */,
                   void *mks_out, size_t mks_out_len,
                   const void *ck /* E2EE_KEYBYTES */, size_t n,
                   e2ee_chain_kind kind)
{
    uint8_t *const mks = mks_out;
    uint8_t cur[E2EE_KEYBYTES];
    int which;
    size_t i;

    if (ck_out == NULL || ck == NULL || (mks == NULL && n > 0) ||
        n > SIZE_MAX / E2EE_KEYBYTES || mks_out_len < n * E2EE_KEYBYTES) {
        return -1;
    }
    if ((which = chain_kdf(kind)) < 0) {
        return -1;
    }
    memcpy(cur, ck, sizeof cur);
    for (i = 0; i < n; i++) {
        if (chain_step(cur, mks + i * E2EE_KEYBYTES, cur, which) != 0) {
            sodium_memzero(cur, sizeof cur);
            sodium_memzero(mks, n * E2EE_KEYBYTES);
            return -1;
        }
    }
    memcpy(ck_out, cur, sizeof cur);
    sodium_memzero(cur, sizeof cur);
    return 0;
}

int
e2ee_chain_seek(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
                const void *ck /* E2EE_KEYBYTES */, size_t n,
                e2ee_chain_kind kind)
{
    uint8_t cur[E2EE_KEYBYTES];
    uint8_t mk[E2EE_KEYBYTES];
    int which;
    size_t i;

    if (ck_out == NULL || mk_out == NULL || ck == NULL || n == SIZE_MAX) {
        return -1;
    }
    if ((which = chain_kdf(kind)) < 0) {
        return -1;
    }
    memcpy(cur, ck, sizeof cur);
    for (i = 0; i <= n; i++) {
        if (chain_step(cur, mk, cur, which) != 0) {
            sodium_memzero(cur, sizeof cur);
            sodium_memzero(mk, sizeof mk);
            return -1;
        }
    }
    memcpy(ck_out, cur, sizeof cur);
    memcpy(mk_out, mk, sizeof mk);
    sodium_memzero(cur, sizeof cur);
    sodium_memzero(mk, sizeof mk);
    return 0;
}
