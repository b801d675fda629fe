/* The birational map from Ed25519 to X25519 for points already known to be
 * valid: u = (1 + y) / (1 - y) mod 2^255 - 19.
 *
 * libsodium 1.0.18 exports no field arithmetic, and its own map
 * (crypto_sign_ed25519_pk_to_curve25519) re-runs a full prime-order-subgroup
 * check, a scalar multiplication by L that costs more than the fixed-base
 * multiplication it would follow. Key generation (a fixed-base Edwards
 * multiplication, then this map) and identity keys validated once both need
 * only the map itself: one inversion and one multiplication.
 *
 * Field elements are five 51-bit limbs. Every operation is branch-free, so
 * the map is constant time even though its inputs are public keys. */
#include "internal.h"

#include <string.h>

typedef struct {
    uint64_t v[5];
} fe;

#define MASK51 ((uint64_t)0x7ffffffffffff)

static uint64_t
load64_le(const uint8_t *b)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) {
        x = (x << 8) | b[i];
    }
    return x;
}

/* The low 255 bits of s (bit 255, the Edwards sign of x, is ignored). */
static void
fe_frombytes(fe *h, const uint8_t s[32])
{
    h->v[0] = load64_le(s) & MASK51;
    h->v[1] = (load64_le(s + 6) >> 3) & MASK51;
    h->v[2] = (load64_le(s + 12) >> 6) & MASK51;
    h->v[3] = (load64_le(s + 19) >> 1) & MASK51;
    h->v[4] = (load64_le(s + 24) >> 12) & MASK51;
}

/* Limbs back under 2^51 (plus a small carry into limb 1). */
static void
fe_carry(fe *h)
{
    uint64_t c;
    for (int i = 0; i < 4; i++) {
        c = h->v[i] >> 51;
        h->v[i] &= MASK51;
        h->v[i + 1] += c;
    }
    c = h->v[4] >> 51;
    h->v[4] &= MASK51;
    h->v[0] += c * 19;
    c = h->v[0] >> 51;
    h->v[0] &= MASK51;
    h->v[1] += c;
}

static void
fe_add(fe *h, const fe *f, const fe *g)
{
    for (int i = 0; i < 5; i++) {
        h->v[i] = f->v[i] + g->v[i];
    }
    fe_carry(h);
}

/* f - g, computed as f + 2p - g so that no limb goes negative (g carried). */
static void
fe_sub(fe *h, const fe *f, const fe *g)
{
    h->v[0] = f->v[0] + 0xfffffffffffdaULL - g->v[0];
    for (int i = 1; i < 5; i++) {
        h->v[i] = f->v[i] + 0xffffffffffffeULL - g->v[i];
    }
    fe_carry(h);
}

static void
fe_mul(fe *h, const fe *f, const fe *g)
{
    typedef unsigned __int128 u128;
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    /* 2^255 = 19 mod p: a product landing at limb 5 or above wraps times 19. */
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    uint64_t c;

    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    c = (uint64_t)(r4 >> 51);
    h->v[0] = ((uint64_t)r0 & MASK51) + c * 19;
    h->v[1] = (uint64_t)r1 & MASK51;
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
    c = h->v[0] >> 51;
    h->v[0] &= MASK51;
    h->v[1] += c;
}

/* h = f^(2^n). */
static void
fe_sqn(fe *h, const fe *f, int n)
{
    fe_mul(h, f, f);
    for (int i = 1; i < n; i++) {
        fe_mul(h, h, h);
    }
}

/* f^(p - 2) = f^(2^255 - 21): 1/f, and 0 for f = 0. */
static void
fe_invert(fe *out, const fe *z)
{
    fe z2, z9, z11, z5_0, z10_0, z20_0, z50_0, z100_0, t;

    fe_mul(&z2, z, z);             /* 2 */
    fe_sqn(&t, &z2, 2);            /* 8 */
    fe_mul(&z9, &t, z);            /* 9 */
    fe_mul(&z11, &z9, &z2);        /* 11 */
    fe_mul(&t, &z11, &z11);        /* 22 */
    fe_mul(&z5_0, &t, &z9);        /* 2^5 - 1 */
    fe_sqn(&t, &z5_0, 5);
    fe_mul(&z10_0, &t, &z5_0);     /* 2^10 - 1 */
    fe_sqn(&t, &z10_0, 10);
    fe_mul(&z20_0, &t, &z10_0);    /* 2^20 - 1 */
    fe_sqn(&t, &z20_0, 20);
    fe_mul(&t, &t, &z20_0);        /* 2^40 - 1 */
    fe_sqn(&t, &t, 10);
    fe_mul(&z50_0, &t, &z10_0);    /* 2^50 - 1 */
    fe_sqn(&t, &z50_0, 50);
    fe_mul(&z100_0, &t, &z50_0);   /* 2^100 - 1 */
    fe_sqn(&t, &z100_0, 100);
    fe_mul(&t, &t, &z100_0);       /* 2^200 - 1 */
    fe_sqn(&t, &t, 50);
    fe_mul(&t, &t, &z50_0);        /* 2^250 - 1 */
    fe_sqn(&t, &t, 5);             /* 2^255 - 32 */
    fe_mul(out, &t, &z11);         /* 2^255 - 21 */
}

/* The canonical 32-byte encoding (value < p, bit 255 clear). */
static void
fe_tobytes(uint8_t s[32], const fe *f)
{
    fe h = *f;
    uint64_t q, c;

    /* Three sequential passes leave every limb under 2^51, so h < 2^255. */
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < 4; i++) {
            h.v[i + 1] += h.v[i] >> 51;
            h.v[i] &= MASK51;
        }
        c = h.v[4] >> 51;
        h.v[4] &= MASK51;
        h.v[0] += 19 * c;
    }
    /* q = 1 exactly when h >= p, i.e. h + 19 >= 2^255. */
    q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    for (int i = 0; i < 4; i++) {
        h.v[i + 1] += h.v[i] >> 51;
        h.v[i] &= MASK51;
    }
    h.v[4] &= MASK51;

    const uint64_t w0 = h.v[0] | (h.v[1] << 51);
    const uint64_t w1 = (h.v[1] >> 13) | (h.v[2] << 38);
    const uint64_t w2 = (h.v[2] >> 26) | (h.v[3] << 25);
    const uint64_t w3 = (h.v[3] >> 39) | (h.v[4] << 12);
    const uint64_t w[4] = { w0, w1, w2, w3 };
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 8; j++) {
            s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
        }
    }
}

int
e2ee_edwards_to_montgomery(uint8_t u[32], const uint8_t edwards[32])
{
    fe y, one, num, den, inv, x;
    uint8_t d = 0;

    memset(&one, 0, sizeof one);
    one.v[0] = 1;
    fe_frombytes(&y, edwards);
    fe_add(&num, &one, &y);
    fe_sub(&den, &one, &y);
    fe_invert(&inv, &den);
    fe_mul(&x, &num, &inv);
    fe_tobytes(u, &x);
    /* y = 1 (the identity; 1 - y has no inverse) gives u = 0: refused, as
     * every all-zero key is. Computed without a branch on the key. */
    for (int i = 0; i < 32; i++) {
        d |= u[i];
    }
    return -(int)(1 & (((unsigned)d - 1) >> 8));
}
