/* HKDF-SHA-512 (RFC 5869) over libsodium's HMAC-SHA-512, for X3DH/PQXDH. */
#include "e2ee.h"

#include <sodium.h>
#include <string.h>

int
e2ee_hkdf_sha512(void *out, size_t out_len,
                 const void *salt, size_t salt_len,
                 const void *ikm, size_t ikm_len,
                 const void *info, size_t info_len)
{
    uint8_t *const okm = out;
    static const uint8_t zero_salt[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    uint8_t prk[crypto_auth_hmacsha512_BYTES];
    uint8_t t[crypto_auth_hmacsha512_BYTES];
    size_t done = 0, take;
    uint8_t counter;

    if (okm == NULL || out_len == 0 || out_len > E2EE_HKDF_SHA512_MAXBYTES ||
        (salt == NULL && salt_len > 0) || (ikm == NULL && ikm_len > 0) ||
        (info == NULL && info_len > 0) || e2ee_init() != 0) {
        return -1;
    }
    if (salt_len == 0) {
        /* RFC 5869 §2.2: an absent salt is HashLen zero bytes. */
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    /* Extract. */
    crypto_auth_hmacsha512_init(&st, salt, salt_len);
    crypto_auth_hmacsha512_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha512_final(&st, prk);
    /* Expand: T(i) = HMAC(PRK, T(i-1) || info || i). */
    for (counter = 1; done < out_len; counter++) {
        crypto_auth_hmacsha512_init(&st, prk, sizeof prk);
        if (counter > 1) {
            crypto_auth_hmacsha512_update(&st, t, sizeof t);
        }
        crypto_auth_hmacsha512_update(&st, info, info_len);
        crypto_auth_hmacsha512_update(&st, &counter, 1);
        crypto_auth_hmacsha512_final(&st, t);
        take = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(okm + done, t, take);
        done += take;
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    return 0;
}
