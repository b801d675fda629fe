/*
 * test_support.h: what the C core's standalone test shares between its areas
 * (Tests/CTests/test_*.c, one file per CSources/CE2EE source file).
 *
 * Every expectation is computed independently with libsodium (BLAKE2b with
 * salt and personal, HMAC-SHA-512, ChaCha20-Poly1305-IETF, X25519, Ed25519)
 * or pinned as a constant. Data buffers are heap allocated at their exact
 * size so that ASan catches any read or write past a stated length.
 * Build and run with scripts/ctest.sh.
 */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- check machinery --------------------------------------------------- */

/* Counts one check as passed or failed; prints file:line: FAILED: expr. */
int check_at(int ok, const char *file, int line, const char *expr);

/* A check that a and b hold the same len bytes; prints both on failure. */
int check_mem_at(const uint8_t *a, const uint8_t *b, size_t len,
                 const char *file, int line, const char *expr);

/* Totals over every area. */
unsigned long test_passed_count(void);
unsigned long test_failed_count(void);

#define CHECK(cond) check_at((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* CHECKF(cond, fmt, ...): CHECK, plus a context line when it fails. */
#define CHECKF(cond, ...)                                                  \
    do {                                                                   \
        if (!check_at((cond) ? 1 : 0, __FILE__, __LINE__, #cond)) {        \
            fprintf(stderr, "    ");                                       \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#define CHECK_MEM(a, b, len) \
    check_mem_at((a), (b), (len), __FILE__, __LINE__, "memcmp(" #a ", " #b ", " #len ") == 0")


/* ---- helpers ------------------------------------------------------------ */

/* malloc of exactly n bytes (1 for 0), so ASan flags overruns; exits if out of memory. */
uint8_t *xmalloc(size_t n);

/* Decodes a hex constant of exactly out_len bytes; exits on a bad constant. */
void hex2bin(uint8_t *out, size_t out_len, const char *hex);

/* Deterministic test data: a ChaCha20 stream keyed by tag. */
void fill(uint8_t *buf, size_t len, uint32_t tag);

/* 1 if the len bytes at p are all zero, else 0. */
int is_zero(const uint8_t *p, size_t len);

/* Message sizes the AEAD tests (single and batched) go through. */
#define N_MSG_SIZES 8
extern const size_t k_msg_sizes[N_MSG_SIZES];

/* ---- areas (one per CSources/CE2EE source file) -------------------------- */

void run_core_init_tests(void);  /* core.c: e2ee_init; runs before anything initialises libsodium */
void run_kdf_tests(void);        /* kdf.c: BLAKE2b KDFs, keyed BLAKE2b, chain advance and seek */
void run_hkdf_tests(void);       /* hkdf.c: HKDF-SHA-512 */
void run_aead_tests(void);       /* aead.c: ChaCha20-Poly1305-IETF and AEAD_v1, single calls */
void run_aead_batch_tests(void); /* aead.c: AEAD_v1 seal and open batches */
void run_curve_tests(void);      /* curve.c: X25519 and Ed25519 */
void run_core_tests(void);       /* core.c: compare, wipe, randomness, sizes */

#endif /* TEST_SUPPORT_H */
