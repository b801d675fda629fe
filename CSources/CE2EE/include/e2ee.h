/*
 * CE2EE: the hot-path core of swift-e2ee (suite v1, ../PROTOCOL.md).
 *
 * libsodium-style conventions: outputs first, explicit size_t lengths,
 * int return 0 on success and -1 on failure, verification and opening
 * functions are warn_unused_result, and every temporary secret is wiped
 * before return. Outputs may alias inputs only where a function says so.
 * Byte buffers are void * (outputs) and const void * (inputs), so that any
 * byte pointer converts without a cast; a buffer of fixed size names that
 * size in a comment beside the parameter.
 */
#ifndef E2EE_H
#define E2EE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define E2EE_WUR __attribute__((warn_unused_result))
#else
#define E2EE_WUR
#endif

/* ---- library ---------------------------------------------------------- */

/* Initialises libsodium exactly once, thread-safely. Every other function
 * calls it implicitly where it needs randomness; calling it first is cheap. */
int e2ee_init(void);

/* ---- sizes -------------------------------------------------------------- */

#define E2EE_KEYBYTES 32U          /* root, chain and message keys */
#define E2EE_KDF_OUTBYTES 64U      /* one BLAKE2b KDF output: two keys */
#define E2EE_X25519_BYTES 32U
#define E2EE_ED25519_PUBLICKEYBYTES 32U
#define E2EE_ED25519_SEEDBYTES 32U
#define E2EE_ED25519_SECRETKEYBYTES 64U /* libsodium's seed || public form */
#define E2EE_ED25519_SIGBYTES 64U
#define E2EE_AEAD_GUARDBYTES 4U
#define E2EE_AEAD_TAGBYTES 16U
#define E2EE_AEAD_OVERHEADBYTES (E2EE_AEAD_GUARDBYTES + E2EE_AEAD_TAGBYTES)
#define E2EE_HKDF_SHA512_MAXBYTES (255U * 64U)
#define E2EE_BLAKE2B_PERSONALBYTES 16U

size_t e2ee_keybytes(void);
size_t e2ee_aead_overheadbytes(void);
size_t e2ee_hkdf_sha512_maxbytes(void);

/* ---- BLAKE2b KDFs (PROTOCOL.md §3, §5) ---------------------------------- */

/* BLAKE2b(key, in, outlen, personal) with an all-zero salt. key may be NULL
 * with keylen 0; personal is at most 16 ASCII bytes, zero-padded.
 * outlen 1..64, keylen 0..64. */
int e2ee_blake2b_personal(void *out, size_t outlen,
                          const void *in, size_t inlen,
                          const void *key, size_t keylen,
                          const char *personal);

/* KDF_RK: (rk', ck) = BLAKE2b(key = rk, in = dh, 64, "E2EEv1 root").
 * rk_out may alias rk. */
int e2ee_kdf_rk(void *rk_out /* E2EE_KEYBYTES */, void *ck_out /* E2EE_KEYBYTES */,
                const void *rk /* E2EE_KEYBYTES */,
                const void *dh, size_t dh_len);

/* KDF_CK: (ck', mk) = BLAKE2b(key = ck, in = 0x01, 64, "E2EEv1 chain").
 * ck_out may alias ck. */
int e2ee_kdf_ck(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
                const void *ck /* E2EE_KEYBYTES */);

/* KDF_GK: as KDF_CK with personal "E2EEv1 group" (sender-key chains). */
int e2ee_kdf_gk(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
                const void *ck /* E2EE_KEYBYTES */);

typedef enum e2ee_chain_kind {
    E2EE_CHAIN_RATCHET = 1, /* KDF_CK */
    E2EE_CHAIN_GROUP = 2    /* KDF_GK */
} e2ee_chain_kind;

/* Advances a chain n steps from ck: writes the n message keys, in order,
 * to mks_out (n * 32 bytes, may be NULL when n == 0) and the chain key
 * after the last step to ck_out (may alias ck). n == 0 copies ck. */
int e2ee_chain_advance(void *ck_out /* E2EE_KEYBYTES */,
                       void *mks_out, size_t mks_out_len,
                       const void *ck /* E2EE_KEYBYTES */, size_t n,
                       e2ee_chain_kind kind);

/* Steps a chain n + 1 times from ck and keeps only the last message key:
 * mk_out is message key number n (counting from 0 at ck), ck_out the chain
 * key after it (may alias ck). Nothing else is written: the keys in between
 * are wiped. It is how a receiver tries a message n ahead before it knows the
 * message is genuine (no storage per skipped key until then). */
int e2ee_chain_seek(void *ck_out /* E2EE_KEYBYTES */, void *mk_out /* E2EE_KEYBYTES */,
                    const void *ck /* E2EE_KEYBYTES */, size_t n,
                    e2ee_chain_kind kind);

/* ---- HKDF-SHA-512 (RFC 5869) over libsodium's HMAC-SHA-512 ---------------- */

/* out_len 1..E2EE_HKDF_SHA512_MAXBYTES. An empty salt means 64 zero bytes. */
int e2ee_hkdf_sha512(void *out, size_t out_len,
                     const void *salt, size_t salt_len,
                     const void *ikm, size_t ikm_len,
                     const void *info, size_t info_len);

/* ---- ChaCha20-Poly1305-IETF (RFC 8439) ----------------------------------- */
/* The primitive under AEAD_v1, with a caller-chosen 12-byte nonce; exposed so
 * that the RFC 8439 vectors exercise exactly the code AEAD_v1 runs.
 * out_len = pt_len + 16; pt_out_len = ct_len - 16; pt_out zeroed on failure. */
#define E2EE_CHACHA20POLY1305_NONCEBYTES 12U

int e2ee_chacha20poly1305_seal(void *out, size_t out_len,
                               const void *pt, size_t pt_len,
                               const void *ad, size_t ad_len,
                               const void *nonce /* E2EE_CHACHA20POLY1305_NONCEBYTES */,
                               const void *key /* E2EE_KEYBYTES */);
E2EE_WUR int e2ee_chacha20poly1305_open(void *pt_out, size_t pt_out_len,
                                        const void *ct, size_t ct_len,
                                        const void *ad, size_t ad_len,
                                        const void *nonce /* E2EE_CHACHA20POLY1305_NONCEBYTES */,
                                        const void *key /* E2EE_KEYBYTES */);

/* ---- AEAD_v1 (PROTOCOL.md §3) ------------------------------------------ */
/* sealed = G || ChaCha20-Poly1305-IETF(key, nonce = G || 0^8, pt, ad),
 * len(sealed) = len(pt) + E2EE_AEAD_OVERHEADBYTES. */

/* Seals pt into out (out_len must equal pt_len + overhead). guard is the
 * 4-byte reuse guard, or NULL to draw it from libsodium's CSPRNG.
 * out must not overlap pt or ad. */
int e2ee_aead_seal(void *out, size_t out_len,
                   const void *pt, size_t pt_len,
                   const void *ad, size_t ad_len,
                   const void *key /* E2EE_KEYBYTES */,
                   const void *guard /* E2EE_AEAD_GUARDBYTES or NULL */);

/* Opens sealed into pt_out (pt_out_len must equal sealed_len - overhead).
 * On failure returns -1 and pt_out is zeroed. */
E2EE_WUR int e2ee_aead_open(void *pt_out, size_t pt_out_len,
                            const void *sealed, size_t sealed_len,
                            const void *ad, size_t ad_len,
                            const void *key /* E2EE_KEYBYTES */);

/* One message of a batch. For seal, in is the plaintext and out receives
 * the sealed form; for open, the reverse. guard is read by seal only
 * (NULL: random). Items are independent: each has its own key and AD. */
typedef struct e2ee_aead_item {
    void *out;
    size_t out_len;
    const void *in;
    size_t in_len;
    const void *ad;
    size_t ad_len;
    const void *key;   /* E2EE_KEYBYTES */
    const void *guard; /* E2EE_AEAD_GUARDBYTES or NULL (seal only) */
} e2ee_aead_item;

/* Batched seal/open: results[i] is 0 or -1 for item i, exactly as the
 * single-message call would return; a failed item never affects another.
 * Returns the number of failed items (0 = all succeeded), or -1 if the
 * arguments themselves are unusable (NULL arrays with n > 0). */
int e2ee_aead_seal_batch(int *results, const e2ee_aead_item *items, size_t n);
E2EE_WUR int e2ee_aead_open_batch(int *results, const e2ee_aead_item *items, size_t n);

/* ---- X25519 and Ed25519 (libsodium) ----------------------------------- */

/* Generates a key pair; seed (32 bytes) makes it deterministic, NULL = random. */
int e2ee_x25519_keypair(void *pk /* E2EE_X25519_BYTES */, void *sk /* E2EE_X25519_BYTES */,
                        const void *seed /* E2EE_X25519_BYTES or NULL */);
/* The public key of sk (the fixed-base Edwards multiplication, then the map
 * to Montgomery u: equal to crypto_scalarmult_base, in about half the time). */
int e2ee_x25519_public(void *pk /* E2EE_X25519_BYTES */, const void *sk /* E2EE_X25519_BYTES */);

/* DH(sk, pk). Fails (-1, out zeroed) for an all-zero result, i.e. a
 * low-order peer key. */
E2EE_WUR int e2ee_x25519(void *out /* E2EE_X25519_BYTES */,
                         const void *sk /* E2EE_X25519_BYTES */,
                         const void *pk /* E2EE_X25519_BYTES */);

/* 0 if pk is usable as a peer key: not one of the encodings of a point of
 * order 1, 2, 4 or 8 (all-zero included), with or without the top bit. */
E2EE_WUR int e2ee_x25519_public_validate(const void *pk /* E2EE_X25519_BYTES */);

/* 0 if pk is the canonical encoding of its u-coordinate: bit 255 clear and
 * u < 2^255 - 19. X25519 itself accepts the other encodings (RFC 7748), but a
 * protocol that identifies keys by their bytes must not: flipping bit 255 of a
 * key outside the AEAD's associated data would otherwise give a second,
 * equally valid message. */
E2EE_WUR int e2ee_x25519_public_is_canonical(const void *pk /* E2EE_X25519_BYTES */);

int e2ee_ed25519_keypair(void *pk /* E2EE_ED25519_PUBLICKEYBYTES */,
                         void *sk /* E2EE_ED25519_SECRETKEYBYTES */,
                         const void *seed /* E2EE_ED25519_SEEDBYTES or NULL */);
int e2ee_ed25519_sign(void *sig /* E2EE_ED25519_SIGBYTES */,
                      const void *msg, size_t msg_len,
                      const void *sk /* E2EE_ED25519_SECRETKEYBYTES */);
E2EE_WUR int e2ee_ed25519_verify(const void *sig /* E2EE_ED25519_SIGBYTES */,
                                 const void *msg, size_t msg_len,
                                 const void *pk /* E2EE_ED25519_PUBLICKEYBYTES */);
/* 0 if pk is a canonical encoding of a prime-order-subgroup point other than
 * the identity (libsodium's crypto_core_ed25519_is_valid_point). */
E2EE_WUR int e2ee_ed25519_public_validate(const void *pk /* E2EE_ED25519_PUBLICKEYBYTES */);
/* The birational map of PROTOCOL.md §1, for using an identity key in DH. */
E2EE_WUR int e2ee_ed25519_pk_to_x25519(void *x_pk /* E2EE_X25519_BYTES */,
                                       const void *ed_pk /* E2EE_ED25519_PUBLICKEYBYTES */);
/* The same map for a key that e2ee_ed25519_public_validate accepted before
 * (an identity key checked when it arrived): the map alone, without
 * libsodium's repeated subgroup check. Garbage in, garbage out for any other
 * input; -1 only for the identity point. */
E2EE_WUR int e2ee_ed25519_pk_to_x25519_valid(void *x_pk /* E2EE_X25519_BYTES */,
                                             const void *ed_pk /* E2EE_ED25519_PUBLICKEYBYTES */);
int e2ee_ed25519_sk_to_x25519(void *x_sk /* E2EE_X25519_BYTES */,
                              const void *ed_sk /* E2EE_ED25519_SECRETKEYBYTES */);

/* ---- storage: hashing, sealing at rest, passphrases -------------------- */

#define E2EE_SHA512_BYTES 64U
#define E2EE_XCHACHA_NONCEBYTES 24U
#define E2EE_SEAL_OVERHEADBYTES (E2EE_XCHACHA_NONCEBYTES + 16U)
#define E2EE_PWHASH_SALTBYTES 16U

/* SHA-512 of in (libsodium crypto_hash_sha512), for safety numbers. */
int e2ee_sha512(void *out /* E2EE_SHA512_BYTES */, const void *in, size_t in_len);

/* Records at rest (PROTOCOL.md §6): out = nonce(24, random) ||
 * XChaCha20-Poly1305-IETF(key, nonce, record, ad); out_len = record_len + E2EE_SEAL_OVERHEADBYTES. */
int e2ee_record_seal(void *out, size_t out_len,
                     const void *record, size_t record_len,
                     const void *ad, size_t ad_len,
                     const void *key /* E2EE_KEYBYTES */);
/* Opens a sealed record; record_out_len = sealed_len - E2EE_SEAL_OVERHEADBYTES; zeroed on failure. */
E2EE_WUR int e2ee_record_open(void *record_out, size_t record_out_len,
                              const void *sealed, size_t sealed_len,
                              const void *ad, size_t ad_len,
                              const void *key /* E2EE_KEYBYTES */);

/* A 32-byte storage key from a passphrase with Argon2id (crypto_pwhash),
 * at libsodium's MODERATE limits unless opslimit/memlimit are non-zero. */
E2EE_WUR int e2ee_pwhash_storage_key(void *key /* E2EE_KEYBYTES */,
                                     const void *passphrase, size_t passphrase_len,
                                     const void *salt /* E2EE_PWHASH_SALTBYTES */,
                                     unsigned long long opslimit, size_t memlimit);

/* ---- memory and randomness ------------------------------------------- */

/* Constant-time equality: 0 if equal, -1 otherwise. Time depends on len only. */
E2EE_WUR int e2ee_memequal(const void *a, const void *b, size_t len);
/* Wipes len bytes in a way the compiler cannot elide. */
void e2ee_memzero(void *p, size_t len);
/* Fills buf with libsodium CSPRNG output. */
void e2ee_random_bytes(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* E2EE_H */
