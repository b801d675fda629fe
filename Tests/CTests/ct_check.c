/* Constant-time check of the C core under valgrind memcheck (scripts/ctcheck.sh).
 *
 * Every secret input (keys, chain keys, root keys, message keys, plaintexts,
 * DH private keys, passphrases) is marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED before the call. Memcheck then reports any
 * branch ("Conditional jump or move depends on uninitialised value") or memory
 * address ("Use of uninitialised value of size N") that depends on a secret.
 * Results derived from secrets are marked defined again before this harness
 * looks at them; the return code of an open or a DH is public by design
 * (whether a message authenticated), so it is declassified too.
 *
 * A check that the harness itself can fail: CT_SELFTEST=1 adds a deliberate
 * branch on a secret, which must make valgrind report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "e2ee.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "ct_check: %s failed\n", what);
        failures++;
    }
}

/* A public return code computed from secrets. */
static int declassify(int rc)
{
    PUBLIC(&rc, sizeof rc);
    return rc;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + 31 * i);
}

static void kdfs(void)
{
    uint8_t rk[32], dh[32], rk_out[32], ck[32], mk[32], mks[32 * 64], okm[64], ikm[160];
    fill(rk, 32, 1); fill(dh, 32, 2); fill(ck, 32, 3); fill(ikm, sizeof ikm, 4);
    SECRET(rk, 32); SECRET(dh, 32); SECRET(ck, 32); SECRET(ikm, sizeof ikm);
    expect(e2ee_kdf_rk(rk_out, ck, rk, dh, 32) == 0, "KDF_RK");
    expect(e2ee_kdf_ck(ck, mk, ck) == 0, "KDF_CK");
    expect(e2ee_kdf_gk(ck, mk, ck) == 0, "KDF_GK");
    expect(e2ee_chain_advance(ck, mks, sizeof mks, ck, 64, E2EE_CHAIN_RATCHET) == 0, "chain advance");
    expect(e2ee_chain_advance(ck, mks, sizeof mks, ck, 64, E2EE_CHAIN_GROUP) == 0, "chain advance (group)");
    expect(e2ee_chain_seek(ck, mk, ck, 100, E2EE_CHAIN_RATCHET) == 0, "chain seek");
    expect(e2ee_hkdf_sha512(okm, 32, NULL, 0, ikm, sizeof ikm, (const uint8_t *)"E2EE-v1 X3DH", 12) == 0, "HKDF");
    expect(e2ee_blake2b_personal(okm, 64, rk, 32, dh, 32, "E2EEv1 root") == 0, "BLAKE2b keyed");
}

static void aead(void)
{
    enum { N = 300 };
    uint8_t key[32], pt[N], ad[66], sealed[N + 20], opened[N], guard[4] = { 1, 2, 3, 4 };
    fill(key, 32, 5); fill(pt, N, 6); fill(ad, sizeof ad, 7);
    SECRET(key, 32); SECRET(pt, N);
    expect(e2ee_aead_seal(sealed, sizeof sealed, pt, N, ad, sizeof ad, key, guard) == 0, "AEAD_v1 seal");
    PUBLIC(sealed, sizeof sealed);   /* ciphertext goes on the wire */
    expect(declassify(e2ee_aead_open(opened, N, sealed, sizeof sealed, ad, sizeof ad, key)) == 0, "AEAD_v1 open");
    sealed[30] ^= 1;                 /* a forged message: the tag check itself must not branch on secrets */
    expect(declassify(e2ee_aead_open(opened, N, sealed, sizeof sealed, ad, sizeof ad, key)) == -1, "AEAD_v1 open (forged)");
    sealed[30] ^= 1;

    /* Batches: several items, one forged in the middle. */
    e2ee_aead_item items[5];
    uint8_t keys[5][32], pts[5][64], outs[5][84], back[5][64];
    int results[5];
    for (int i = 0; i < 5; i++) {
        fill(keys[i], 32, (uint8_t)(10 + i)); fill(pts[i], 64, (uint8_t)(20 + i));
        SECRET(keys[i], 32); SECRET(pts[i], 64);
        items[i] = (e2ee_aead_item){ outs[i], 84, pts[i], 64, ad, sizeof ad, keys[i], guard };
    }
    expect(e2ee_aead_seal_batch(results, items, 5) == 0, "batched seal");
    for (int i = 0; i < 5; i++) {
        PUBLIC(outs[i], 84);
        items[i] = (e2ee_aead_item){ back[i], 64, outs[i], 84, ad, sizeof ad, keys[i], NULL };
    }
    outs[2][40] ^= 1;
    expect(declassify(e2ee_aead_open_batch(results, items, 5)) == 1, "batched open with one forged item");
    PUBLIC(results, sizeof results);
    expect(results[2] == -1 && results[0] == 0, "batched open results");
}

static void compare_and_wipe(void)
{
    uint8_t a[32], b[32];
    fill(a, 32, 8); fill(b, 32, 8); b[31] ^= 1;
    SECRET(a, 32); SECRET(b, 32);
    expect(declassify(e2ee_memequal(a, b, 32)) == -1, "constant-time compare (differ)");
    memcpy(b, a, 32);
    expect(declassify(e2ee_memequal(a, b, 32)) == 0, "constant-time compare (equal)");
    e2ee_memzero(a, 32);
}

static void curves_and_records(void)
{
    uint8_t seed[32], sk[32], pk[32], peer_sk[32], peer_pk[32], shared[32];
    uint8_t ed_pk[32], ed_sk[64], sig[64], xsk[32], msg[100];
    fill(seed, 32, 9);
    SECRET(seed, 32);
    expect(e2ee_x25519_keypair(pk, sk, seed) == 0, "X25519 key pair");
    PUBLIC(pk, 32);
    fill(peer_sk, 32, 10);
    expect(e2ee_x25519_public(peer_pk, peer_sk) == 0, "X25519 public");
    expect(declassify(e2ee_x25519(shared, sk, peer_pk)) == 0, "X25519 DH");
    expect(e2ee_ed25519_keypair(ed_pk, ed_sk, seed) == 0, "Ed25519 key pair");
    PUBLIC(ed_pk, 32);
    fill(msg, sizeof msg, 11);
    expect(e2ee_ed25519_sign(sig, msg, sizeof msg, ed_sk) == 0, "Ed25519 sign");
    expect(e2ee_ed25519_sk_to_x25519(xsk, ed_sk) == 0, "Ed25519 to X25519 (private)");

    uint8_t key[32], record[200], sealed[240], opened[200], ad[20];
    fill(key, 32, 12); fill(record, sizeof record, 13); fill(ad, sizeof ad, 14);
    SECRET(key, 32); SECRET(record, sizeof record);
    expect(e2ee_record_seal(sealed, sizeof sealed, record, sizeof record, ad, sizeof ad, key) == 0, "record seal");
    PUBLIC(sealed, sizeof sealed);
    expect(declassify(e2ee_record_open(opened, sizeof opened, sealed, sizeof sealed, ad, sizeof ad, key)) == 0, "record open");

    /* Argon2id (e2ee_pwhash_storage_key) is left out on purpose: its second
     * half indexes memory by the data (the "d" in Argon2id, for resistance to
     * GPU cracking), so its addresses depend on the passphrase by design. */
}

int main(void)
{
    if (e2ee_init() != 0) return 2;
    kdfs();
    aead();
    compare_and_wipe();
    curves_and_records();
    if (getenv("CT_SELFTEST") != NULL) {
        uint8_t secret = 1;
        SECRET(&secret, 1);
        if (secret == 1) puts("ct_check: (selftest branch taken)");
    }
    if (failures != 0) return 1;
    puts("ct_check: every call ran");
    return 0;
}
