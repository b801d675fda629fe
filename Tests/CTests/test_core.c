/* test_core.c: init, compare, wipe, randomness and sizes (CSources/CE2EE/core.c). */
#define _POSIX_C_SOURCE 200809L

#include "e2ee.h"
#include "test_support.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory, sizes, init ------------------------------------------------ */

static void test_memory(void)
{
    enum { LEN = 64 };
    uint8_t *a = xmalloc(LEN), *b = xmalloc(LEN);
    size_t missed = 0;

    fill(a, LEN, 5000);
    memcpy(b, a, LEN);
    CHECK(e2ee_memequal(a, b, LEN) == 0);
    b[0] ^= 1;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    b[0] ^= 1;
    b[LEN / 2] ^= 0x80;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    b[LEN / 2] ^= 0x80;
    b[LEN - 1] ^= 0x10;
    CHECK(e2ee_memequal(a, b, LEN) == -1);
    CHECK(e2ee_memequal(a, b, LEN - 1) == 0);
    b[LEN - 1] ^= 0x10;
    for (size_t bit = 0; bit < LEN * 8; bit++) {
        b[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        missed += e2ee_memequal(a, b, LEN) != -1;
        b[bit / 8] ^= (uint8_t)(1U << (bit % 8));
    }
    CHECKF(missed == 0, "%zu single-bit differences not detected", missed);
    b[0] ^= 0xFF;
    CHECK(e2ee_memequal(a, b, 0) == 0);

    /* memzero wipes exactly the range asked. */
    {
        uint8_t buf[100], want[100];
        memset(buf, 0xAA, sizeof buf);
        memset(want, 0xAA, sizeof want);
        memset(want + 10, 0, 50);
        e2ee_memzero(buf + 10, 50);
        CHECK_MEM(buf, want, sizeof buf);
        e2ee_memzero(buf, 0);
        CHECK_MEM(buf, want, sizeof buf);
        e2ee_memzero(buf, sizeof buf);
        CHECK(is_zero(buf, sizeof buf));
    }

    /* Randomness and sizes. */
    {
        uint8_t r1[32] = { 0 }, r2[32] = { 0 };
        e2ee_random_bytes(r1, sizeof r1);
        e2ee_random_bytes(r2, sizeof r2);
        CHECK(!is_zero(r1, 32) && memcmp(r1, r2, 32) != 0);
        CHECK(e2ee_keybytes() == 32);
        CHECK(e2ee_aead_overheadbytes() == 20);
        CHECK(e2ee_hkdf_sha512_maxbytes() == 16320);
    }

    free(a);
    free(b);
}

enum { INIT_THREADS = 4, INIT_CALLS = 1000 };
static pthread_barrier_t g_init_barrier;

static void *init_thread(void *arg)
{
    int *failures = arg;
    pthread_barrier_wait(&g_init_barrier);
    for (int i = 0; i < INIT_CALLS; i++) {
        *failures += e2ee_init() != 0;
    }
    return NULL;
}

/* Runs first, before anything has initialised libsodium. */
static void test_init(void)
{
    pthread_t threads[INIT_THREADS];
    int failures[INIT_THREADS] = { 0 };
    int started = 0, total = 0;

    if (pthread_barrier_init(&g_init_barrier, NULL, INIT_THREADS) != 0) {
        fprintf(stderr, "pthread_barrier_init failed\n");
        exit(2);
    }
    for (int i = 0; i < INIT_THREADS; i++) {
        started += pthread_create(&threads[i], NULL, init_thread, &failures[i]) == 0;
    }
    CHECK(started == INIT_THREADS);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        total += failures[i];
    }
    pthread_barrier_destroy(&g_init_barrier);
    CHECKF(total == 0, "%d concurrent e2ee_init calls failed", total);

    total = 0;
    for (int i = 0; i < 100; i++) {
        total += e2ee_init() != 0;
    }
    CHECK(total == 0);
    CHECK(sodium_init() == 1); /* e2ee_init really initialised libsodium */
}

void
run_core_init_tests(void)
{
    test_init();
}

void
run_core_tests(void)
{
    test_memory();
}
