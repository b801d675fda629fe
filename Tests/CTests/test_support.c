/* test_support.c: check counters, check reports and data helpers shared by every area. */
#include "test_support.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- check machinery --------------------------------------------------- */

static unsigned long g_passed;
static unsigned long g_failed;

int
check_at(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
    }
    return ok;
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
    size_t shown = len < 48 ? len : 48;
    fprintf(stderr, "    %s (%zu bytes): ", label, len);
    for (size_t i = 0; i < shown; i++) {
        fprintf(stderr, "%02x", p[i]);
    }
    fprintf(stderr, "%s\n", shown < len ? "..." : "");
}

int
check_mem_at(const uint8_t *a, const uint8_t *b, size_t len,
             const char *file, int line, const char *expr)
{
    int ok = len == 0 || memcmp(a, b, len) == 0;
    if (!check_at(ok, file, line, expr)) {
        print_hex("got     ", a, len);
        print_hex("expected", b, len);
    }
    return ok;
}

unsigned long
test_passed_count(void)
{
    return g_passed;
}

unsigned long
test_failed_count(void)
{
    return g_failed;
}

/* ---- helpers ------------------------------------------------------------ */

uint8_t *
xmalloc(size_t n)
{
    /* Exact size, so ASan flags overruns; malloc(0) may return NULL. */
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

void
hex2bin(uint8_t *out, size_t out_len, const char *hex)
{
    size_t got = 0;
    if (sodium_hex2bin(out, out_len, hex, strlen(hex), NULL, &got, NULL) != 0 || got != out_len) {
        fprintf(stderr, "bad hex constant: %s\n", hex);
        exit(2);
    }
}

/* Deterministic test data: a ChaCha20 stream keyed by tag. */
void
fill(uint8_t *buf, size_t len, uint32_t tag)
{
    uint8_t seed[randombytes_SEEDBYTES] = { 0 };
    seed[0] = (uint8_t)tag;
    seed[1] = (uint8_t)(tag >> 8);
    seed[2] = (uint8_t)(tag >> 16);
    seed[3] = (uint8_t)(tag >> 24);
    seed[4] = 0xC7; /* keep test data apart from any all-zero seed */
    randombytes_buf_deterministic(buf, len, seed);
}

int
is_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

const size_t k_msg_sizes[] = { 0, 1, 15, 16, 17, 100, 4096, 65536 };
_Static_assert(sizeof k_msg_sizes / sizeof k_msg_sizes[0] == N_MSG_SIZES, "N_MSG_SIZES is the count of k_msg_sizes");
