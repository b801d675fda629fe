/* AEAD_v1 of PROTOCOL.md §3: a 4-byte reuse guard G, then
 * ChaCha20-Poly1305-IETF under nonce G || 0^8. */
#include "e2ee.h"
#include "internal.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* ---- reuse guards ------------------------------------------------------ */

#define GUARD_POOL_BYTES 256U

static _Thread_local uint8_t guard_pool[GUARD_POOL_BYTES];
static _Thread_local size_t guard_pool_left;

/* A forked child must not hand out the guards its parent will also use. */
static void
guard_pool_forget(void)
{
    guard_pool_left = 0;
}

void
e2ee_guard_pool_init(void)
{
    (void) pthread_atfork(NULL, NULL, guard_pool_forget);
}

void
e2ee_guard_draw(uint8_t guard[E2EE_AEAD_GUARDBYTES])
{
    if (guard_pool_left < E2EE_AEAD_GUARDBYTES) {
        (void) e2ee_init();
        randombytes_buf(guard_pool, sizeof guard_pool);
        guard_pool_left = sizeof guard_pool;
    }
    guard_pool_left -= E2EE_AEAD_GUARDBYTES;
    memcpy(guard, guard_pool + guard_pool_left, E2EE_AEAD_GUARDBYTES);
}

/* ---- single message ---------------------------------------------------- */

static void
nonce_from_guard(uint8_t nonce[E2EE_CHACHA20POLY1305_NONCEBYTES],
                 const uint8_t guard[E2EE_AEAD_GUARDBYTES])
{
    memset(nonce, 0, E2EE_CHACHA20POLY1305_NONCEBYTES);
    memcpy(nonce, guard, E2EE_AEAD_GUARDBYTES);
}

int
e2ee_chacha20poly1305_seal(void *out, size_t out_len,
                           const void *pt, size_t pt_len,
                           const void *ad, size_t ad_len,
                           const void *nonce /* E2EE_CHACHA20POLY1305_NONCEBYTES */,
                           const void *key /* E2EE_KEYBYTES */)
{
    unsigned long long ct_len;

    if (out == NULL || key == NULL || nonce == NULL || (pt == NULL && pt_len > 0) ||
        (ad == NULL && ad_len > 0) ||
        pt_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        out_len != pt_len + E2EE_AEAD_TAGBYTES || e2ee_init() != 0) {
        return -1;
    }
    if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &ct_len, pt, pt_len, ad, ad_len,
                                                  NULL, nonce, key) != 0) {
        sodium_memzero(out, out_len);
        return -1;
    }
    return 0;
}

int
e2ee_chacha20poly1305_open(void *pt_out, size_t pt_out_len,
                           const void *ct, size_t ct_len,
                           const void *ad, size_t ad_len,
                           const void *nonce /* E2EE_CHACHA20POLY1305_NONCEBYTES */,
                           const void *key /* E2EE_KEYBYTES */)
{
    unsigned long long pt_len;
    int rc;

    if (ct == NULL || key == NULL || nonce == NULL || (ad == NULL && ad_len > 0) ||
        ct_len < E2EE_AEAD_TAGBYTES || pt_out_len != ct_len - E2EE_AEAD_TAGBYTES ||
        (pt_out == NULL && pt_out_len > 0)) {
        e2ee_memzero(pt_out, pt_out_len);
        return -1;
    }
    rc = crypto_aead_chacha20poly1305_ietf_decrypt(pt_out, &pt_len, NULL, ct, ct_len,
                                                   ad, ad_len, nonce, key);
    E2EE_DECLASSIFY(&rc, sizeof rc); /* whether the tag matched */
    if (rc != 0) {
        e2ee_memzero(pt_out, pt_out_len);
        return -1;
    }
    return 0;
}

int
e2ee_aead_seal(void *out, size_t out_len,
               const void *pt, size_t pt_len,
               const void *ad, size_t ad_len,
               const void *key /* E2EE_KEYBYTES */,
               const void *guard /* E2EE_AEAD_GUARDBYTES or NULL */)
{
    uint8_t *const sealed = out;
    uint8_t nonce[E2EE_CHACHA20POLY1305_NONCEBYTES];

    if (sealed == NULL || out_len < E2EE_AEAD_OVERHEADBYTES ||
        out_len - E2EE_AEAD_OVERHEADBYTES != pt_len) {
        return -1;
    }
    if (guard != NULL) {
        memcpy(sealed, guard, E2EE_AEAD_GUARDBYTES);
    } else {
        e2ee_guard_draw(sealed);
    }
    nonce_from_guard(nonce, sealed);
    if (e2ee_chacha20poly1305_seal(sealed + E2EE_AEAD_GUARDBYTES, out_len - E2EE_AEAD_GUARDBYTES,
                                   pt, pt_len, ad, ad_len, nonce, key) != 0) {
        sodium_memzero(out, out_len);
        return -1;
    }
    return 0;
}

int
e2ee_aead_open(void *pt_out, size_t pt_out_len,
               const void *sealed, size_t sealed_len,
               const void *ad, size_t ad_len,
               const void *key /* E2EE_KEYBYTES */)
{
    const uint8_t *const in = sealed;
    uint8_t nonce[E2EE_CHACHA20POLY1305_NONCEBYTES];

    if (in == NULL || sealed_len < E2EE_AEAD_OVERHEADBYTES) {
        e2ee_memzero(pt_out, pt_out_len);
        return -1;
    }
    nonce_from_guard(nonce, in);
    return e2ee_chacha20poly1305_open(pt_out, pt_out_len,
                                      in + E2EE_AEAD_GUARDBYTES,
                                      sealed_len - E2EE_AEAD_GUARDBYTES,
                                      ad, ad_len, nonce, key);
}

/* ---- batches ------------------------------------------------------------ */
/* Each item goes through exactly the single-message path, so a batch can
 * never produce bytes that a single call would not; the saving is one call
 * from Swift, one argument check and one output buffer for the whole batch. */

typedef int (*aead_one_fn)(const e2ee_aead_item *it);

static int
seal_one(const e2ee_aead_item *it)
{
    return e2ee_aead_seal(it->out, it->out_len, it->in, it->in_len, it->ad, it->ad_len, it->key, it->guard);
}

static int
open_one(const e2ee_aead_item *it)
{
    return e2ee_aead_open(it->out, it->out_len, it->in, it->in_len, it->ad, it->ad_len, it->key);
}

static int
batch_run(int *results, const e2ee_aead_item *items, size_t n, aead_one_fn one)
{
    size_t i;
    int failed = 0;

    if (n == 0) {
        return 0;
    }
    if (results == NULL || items == NULL || n > (size_t) INT_MAX) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        results[i] = one(&items[i]);
        failed += results[i] != 0;
    }
    return failed;
}

int
e2ee_aead_seal_batch(int *results, const e2ee_aead_item *items, size_t n)
{
    return batch_run(results, items, n, seal_one);
}

int
e2ee_aead_open_batch(int *results, const e2ee_aead_item *items, size_t n)
{
    return batch_run(results, items, n, open_one);
}
