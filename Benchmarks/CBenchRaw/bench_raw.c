#include "bench_raw.h"
#include <malloc.h>
#include <string.h>

/* A 64-byte keyed, personalised BLAKE2b the plain libb2 way: parameter
 * block, init_param, the key zero-padded to one block, the input, final. */
static inline int
raw_kdf(uint8_t out[64], const char *personal, size_t personal_len, const uint8_t key[32],
        const uint8_t *in, size_t in_len)
{
    blake2b_param p;
    blake2b_state S;
    uint8_t block[BLAKE2B_BLOCKBYTES] = { 0 };

    memset(&p, 0, sizeof p);
    p.digest_length = 64;
    p.key_length = 32;
    p.fanout = 1;
    p.depth = 1;
    memcpy(p.personal, personal, personal_len);
    memcpy(block, key, 32);
    if (blake2b_init_param(&S, &p) != 0 || blake2b_update(&S, block, sizeof block) != 0 ||
        blake2b_update(&S, in, in_len) != 0 || blake2b_final(&S, out, 64) != 0) {
        return -1;
    }
    return 0;
}

int
bench_raw_kdf_ck(uint8_t out[64], const uint8_t key[32])
{
    static const uint8_t one = 0x01;
    return raw_kdf(out, "E2EEv1 chain", 12, key, &one, 1);
}

int
bench_raw_chain_advance(uint8_t ck[32], uint8_t *mks_out, size_t mks_out_len, size_t n)
{
    uint8_t out[64];
    size_t i;

    if (ck == NULL || (mks_out == NULL && n > 0) || n > SIZE_MAX / 32 || mks_out_len < n * 32) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (bench_raw_kdf_ck(out, ck) != 0) {
            return -1;
        }
        memcpy(ck, out, 32);
        memcpy(mks_out + i * 32, out + 32, 32);
    }
    return 0;
}

int
bench_raw_kdf_rk(uint8_t out[64], const uint8_t rk[32], const uint8_t dh[32])
{
    return raw_kdf(out, "E2EEv1 root", 11, rk, dh, 32);
}

size_t
bench_heap_in_use(void)
{
    return mallinfo2().uordblks;
}
