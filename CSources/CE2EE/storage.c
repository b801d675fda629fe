/* Primitives of the storage layer: SHA-512 for safety numbers, XChaCha20-
 * Poly1305 for records at rest (PROTOCOL.md §6), Argon2id for passphrases. */
#include "e2ee.h"
#include "internal.h"

#include <sodium.h>

int
e2ee_sha512(void *out /* E2EE_SHA512_BYTES */, const void *in, size_t in_len)
{
    if (out == NULL || (in == NULL && in_len > 0) || e2ee_init() != 0) {
        return -1;
    }
    return crypto_hash_sha512(out, in, in_len);
}

int
e2ee_record_seal(void *out, size_t out_len,
                 const void *record, size_t record_len,
                 const void *ad, size_t ad_len,
                 const void *key /* E2EE_KEYBYTES */)
{
    uint8_t *const sealed = out;
    unsigned long long ct_len;

    if (sealed == NULL || key == NULL || (record == NULL && record_len > 0) ||
        (ad == NULL && ad_len > 0) ||
        record_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        out_len != record_len + E2EE_SEAL_OVERHEADBYTES || e2ee_init() != 0) {
        return -1;
    }
    /* A random 192-bit nonce per write: records are rewritten in place, so
     * counters would need state of their own. */
    randombytes_buf(sealed, E2EE_XCHACHA_NONCEBYTES);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + E2EE_XCHACHA_NONCEBYTES, &ct_len,
                                                   record, record_len, ad, ad_len,
                                                   NULL, sealed, key) != 0) {
        sodium_memzero(sealed, out_len);
        return -1;
    }
    return 0;
}

int
e2ee_record_open(void *record_out, size_t record_out_len,
                 const void *sealed, size_t sealed_len,
                 const void *ad, size_t ad_len,
                 const void *key /* E2EE_KEYBYTES */)
{
    const uint8_t *const in = sealed;
    unsigned long long len;
    int rc;

    if (in == NULL || key == NULL || (ad == NULL && ad_len > 0) ||
        sealed_len < E2EE_SEAL_OVERHEADBYTES ||
        record_out_len != sealed_len - E2EE_SEAL_OVERHEADBYTES ||
        (record_out == NULL && record_out_len > 0) || e2ee_init() != 0) {
        e2ee_memzero(record_out, record_out_len);
        return -1;
    }
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(record_out, &len, NULL,
                                                    in + E2EE_XCHACHA_NONCEBYTES,
                                                    sealed_len - E2EE_XCHACHA_NONCEBYTES,
                                                    ad, ad_len, in, key);
    E2EE_DECLASSIFY(&rc, sizeof rc); /* whether the record authenticated */
    if (rc != 0) {
        e2ee_memzero(record_out, record_out_len);
        return -1;
    }
    return 0;
}

int
e2ee_pwhash_storage_key(void *key /* E2EE_KEYBYTES */,
                        const void *passphrase, size_t passphrase_len,
                        const void *salt /* E2EE_PWHASH_SALTBYTES */,
                        unsigned long long opslimit, size_t memlimit)
{
    if (key == NULL || salt == NULL || (passphrase == NULL && passphrase_len > 0) ||
        e2ee_init() != 0) {
        return -1;
    }
    if (opslimit == 0) {
        opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
    }
    if (memlimit == 0) {
        memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
    }
    if (crypto_pwhash(key, E2EE_KEYBYTES, passphrase == NULL ? "" : passphrase, passphrase_len,
                      salt, opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, E2EE_KEYBYTES);
        return -1;
    }
    return 0;
}
