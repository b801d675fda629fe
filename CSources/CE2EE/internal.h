/* Shared between the core's translation units; not part of the public API. */
#ifndef E2EE_INTERNAL_H
#define E2EE_INTERNAL_H

/* The outcome of a verification (a tag matched, a Diffie-Hellman was not
 * all-zero) is public by design, though computed from secrets. The valgrind
 * constant-time check (scripts/ctcheck.sh) builds with -DE2EE_CT_VALGRIND,
 * which marks such an outcome defined, so that memcheck reports only what
 * depends on the secrets themselves. A no-op in every other build. */
#ifdef E2EE_CT_VALGRIND
#include <valgrind/memcheck.h>
#define E2EE_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define E2EE_DECLASSIFY(p, n) ((void)0)
#endif


#include <stddef.h>
#include <stdint.h>

/* u = (1 + y) / (1 - y) for the Ed25519 encoding `edwards` of a point known
 * to be valid (montgomery.c): -1 (u zeroed) only for the identity. */
int e2ee_edwards_to_montgomery(uint8_t u[32], const uint8_t edwards[32]);

/* Precomputes the BLAKE2b parameter states of the three KDFs (called once). */
int e2ee_kdf_templates_init(void);

/* Reuse guards come from a small per-thread pool filled by libsodium's
 * CSPRNG: a guard is public and only has to differ between a rolled-back
 * state and its original, so one getrandom() per 64 guards is enough. */
void e2ee_guard_pool_init(void);
void e2ee_guard_draw(uint8_t guard[4]);

#endif
