/* The raw libsodium and libb2 APIs, exposed to the bench so that each of our
 * operations is timed next to the primitive call it wraps. */
#ifndef BENCH_RAW_H
#define BENCH_RAW_H
#include <sodium.h>
#include <blake2.h>
#include <stddef.h>
#include <stdint.h>

/* KDF_CK computed the plain way with libb2's public API: parameter block,
 * zero-padded key block, the one input byte, final. This is the baseline
 * for our templated step. Returns 0 on success. */
int bench_raw_kdf_ck(uint8_t out[64], const uint8_t key[32]);

/* n KDF_CK steps of bench_raw_kdf_ck in one C loop, the baseline for
 * ChainKey.messageKeys(count:): each output's first 32 bytes become the next
 * chain key (updated in place in ck), its last 32 bytes the i-th message key
 * at mks_out + 32 * i. mks_out_len must be at least 32 * n. Returns 0 on
 * success, -1 on bad arguments or a libb2 failure. */
int bench_raw_chain_advance(uint8_t ck[32], uint8_t *mks_out, size_t mks_out_len, size_t n);
/* KDF_RK the plain libb2 way: personal "E2EEv1 root", key rk, input dh. */
int bench_raw_kdf_rk(uint8_t out[64], const uint8_t rk[32], const uint8_t dh[32]);
/* Bytes of heap in use (glibc mallinfo2), for memory-per-object figures. */
size_t bench_heap_in_use(void);
#endif
