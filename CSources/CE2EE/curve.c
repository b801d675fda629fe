/* X25519 and Ed25519 through libsodium, with the peer-key checks of
 * PROTOCOL.md §1 and §4. */
#include "e2ee.h"
#include "internal.h"

#include <sodium.h>
#include <string.h>

/* The public key through the fixed-base Edwards multiplication: libsodium's
 * X25519 base multiplication runs the generic ladder (as slow as a DH), its
 * Ed25519 one uses precomputed tables. The clamped scalar times the Ed25519
 * base point maps to the clamped scalar times u = 9 (RFC 7748 §4.1). */
static int
x25519_public_edwards(uint8_t pk[E2EE_X25519_BYTES], const uint8_t sk[E2EE_X25519_BYTES])
{
    uint8_t scalar[32], edwards[32];
    int rc;

    memcpy(scalar, sk, sizeof scalar);
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
    /* Fails only for a scalar that is 0 mod L, which clamping excludes. */
    rc = crypto_scalarmult_ed25519_base_noclamp(edwards, scalar);
    sodium_memzero(scalar, sizeof scalar);
    /* The public key is public: its bytes and the outcome may be branched on. */
    E2EE_DECLASSIFY(edwards, sizeof edwards);
    E2EE_DECLASSIFY(&rc, sizeof rc);
    if (rc != 0) {
        return -1;
    }
    return e2ee_edwards_to_montgomery(pk, edwards);
}

int
e2ee_x25519_keypair(void *pk /* E2EE_X25519_BYTES */, void *sk /* E2EE_X25519_BYTES */,
                    const void *seed /* E2EE_X25519_BYTES or NULL */)
{
    if (pk == NULL || sk == NULL || e2ee_init() != 0) {
        return -1;
    }
    if (seed != NULL) {
        memcpy(sk, seed, E2EE_X25519_BYTES);
    } else {
        randombytes_buf(sk, E2EE_X25519_BYTES);
    }
    return e2ee_x25519_public(pk, sk);
}

int
e2ee_x25519_public(void *pk /* E2EE_X25519_BYTES */, const void *sk /* E2EE_X25519_BYTES */)
{
    if (pk == NULL || sk == NULL || e2ee_init() != 0) {
        return -1;
    }
    return x25519_public_edwards(pk, sk);
}

int
e2ee_x25519(void *out /* E2EE_X25519_BYTES */, const void *sk /* E2EE_X25519_BYTES */,
            const void *pk /* E2EE_X25519_BYTES */)
{
    int rc;

    if (out == NULL || sk == NULL || pk == NULL || e2ee_init() != 0) {
        return -1;
    }
    /* libsodium fails on an all-zero shared secret (a low-order pk). */
    rc = crypto_scalarmult(out, sk, pk);
    E2EE_DECLASSIFY(&rc, sizeof rc); /* whether the peer key was of low order */
    if (rc != 0) {
        sodium_memzero(out, E2EE_X25519_BYTES);
        return -1;
    }
    return 0;
}

/* u-coordinates of the points of order 1, 2, 4 and 8, and their
 * non-canonical encodings below 2^255 (p, p + 1). The top bit is ignored
 * by X25519, so it is ignored here too. */
static const uint8_t low_order[7][E2EE_X25519_BYTES] = {
    { 0 },
    { 0x01 },
    { 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
      0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
    { 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
      0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
    { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

int
e2ee_x25519_public_validate(const void *pk /* E2EE_X25519_BYTES */)
{
    const uint8_t *const k = pk;
    unsigned int match = 0, diff;
    size_t i, j;

    if (k == NULL) {
        return -1;
    }
    /* Branch-free over the key bytes: keys are public, but cheap to keep so. */
    for (i = 0; i < 7; i++) {
        diff = 0;
        for (j = 0; j < E2EE_X25519_BYTES - 1; j++) {
            diff |= (unsigned int) (k[j] ^ low_order[i][j]);
        }
        diff |= (unsigned int) ((k[31] & 0x7f) ^ low_order[i][31]);
        match |= ((diff - 1U) >> 8) & 1U; /* 1 iff diff == 0 */
    }
    return match ? -1 : 0;
}

int
e2ee_x25519_public_is_canonical(const void *pk /* E2EE_X25519_BYTES */)
{
    const uint8_t *const k = pk;
    unsigned int all_ff = 0xff;
    size_t i;

    if (k == NULL || (k[31] & 0x80) != 0) {
        return -1;
    }
    /* u >= p = 2^255 - 19 only if bytes 1..30 are 0xff, byte 31 is 0x7f
     * and byte 0 is at least 0xed. */
    for (i = 1; i < 31; i++) {
        all_ff &= k[i];
    }
    if (all_ff == 0xff && k[31] == 0x7f && k[0] >= 0xed) {
        return -1;
    }
    return 0;
}

int
e2ee_ed25519_keypair(void *pk /* E2EE_ED25519_PUBLICKEYBYTES */,
                     void *sk /* E2EE_ED25519_SECRETKEYBYTES */,
                     const void *seed /* E2EE_ED25519_SEEDBYTES or NULL */)
{
    if (pk == NULL || sk == NULL || e2ee_init() != 0) {
        return -1;
    }
    if (seed != NULL) {
        return crypto_sign_seed_keypair(pk, sk, seed);
    }
    return crypto_sign_keypair(pk, sk);
}

int
e2ee_ed25519_sign(void *sig /* E2EE_ED25519_SIGBYTES */, const void *msg, size_t msg_len,
                  const void *sk /* E2EE_ED25519_SECRETKEYBYTES */)
{
    if (sig == NULL || sk == NULL || (msg == NULL && msg_len > 0) || e2ee_init() != 0) {
        return -1;
    }
    return crypto_sign_detached(sig, NULL, msg, msg_len, sk);
}

int
e2ee_ed25519_verify(const void *sig /* E2EE_ED25519_SIGBYTES */, const void *msg, size_t msg_len,
                    const void *pk /* E2EE_ED25519_PUBLICKEYBYTES */)
{
    if (sig == NULL || pk == NULL || (msg == NULL && msg_len > 0) || e2ee_init() != 0) {
        return -1;
    }
    return crypto_sign_verify_detached(sig, msg, msg_len, pk) == 0 ? 0 : -1;
}

int
e2ee_ed25519_public_validate(const void *pk /* E2EE_ED25519_PUBLICKEYBYTES */)
{
    if (pk == NULL || e2ee_init() != 0) {
        return -1;
    }
    return crypto_core_ed25519_is_valid_point(pk) == 1 ? 0 : -1;
}

int
e2ee_ed25519_pk_to_x25519(void *x_pk /* E2EE_X25519_BYTES */,
                          const void *ed_pk /* E2EE_ED25519_PUBLICKEYBYTES */)
{
    if (x_pk == NULL || ed_pk == NULL || e2ee_init() != 0) {
        return -1;
    }
    return crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) == 0 ? 0 : -1;
}

int
e2ee_ed25519_pk_to_x25519_valid(void *x_pk /* E2EE_X25519_BYTES */,
                                const void *ed_pk /* E2EE_ED25519_PUBLICKEYBYTES */)
{
    if (x_pk == NULL || ed_pk == NULL) {
        return -1;
    }
    return e2ee_edwards_to_montgomery(x_pk, ed_pk);
}

int
e2ee_ed25519_sk_to_x25519(void *x_sk /* E2EE_X25519_BYTES */,
                          const void *ed_sk /* E2EE_ED25519_SECRETKEYBYTES */)
{
    if (x_sk == NULL || ed_sk == NULL || e2ee_init() != 0) {
        return -1;
    }
    return crypto_sign_ed25519_sk_to_curve25519(x_sk, ed_sk);
}
