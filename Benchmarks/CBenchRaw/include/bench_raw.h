/* The raw libsodium and libb2 APIs, exposed to the bench so that each of our
 * operations is timed next to the primitive call it wraps. */
#ifndef BENCH_RAW_H
#define BENCH_RAW_H
#include <sodium.h>
#include <blake2.h>

/* KDF_CK computed the plain way with libb2's public API: parameter block,
 * zero-padded key block, the one input byte, final. This is the baseline
 * for our templated step. Returns 0 on success. */
int bench_raw_kdf_ck(uint8_t out[64], const uint8_t key[32]);
#endif
