/* peer_bench.c: see peer_bench.h. */
#define _GNU_SOURCE
#include "peer_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int repetitions = 21;
static double target_ns = 20e6;

int
peer_init(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            repetitions = 5;
            target_ns = 8e6;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    return 0;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* ns for one timed run of n operations, or a negative value on failure. */
static double
timed(const peer_case *c, size_t n)
{
    uint64_t t0;
    if (c->prepare != NULL && c->prepare(c->ctx, n) != 0) {
        return -1;
    }
    t0 = now_ns();
    if (c->run(c->ctx, n) != 0) {
        return -1;
    }
    return (double) (now_ns() - t0);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int
peer_measure(const peer_case *c)
{
    size_t n = 1;
    double elapsed, samples[64];

    /* Calibrate: grow n until a run takes a quarter of the target, then size it. */
    for (;;) {
        elapsed = timed(c, n);
        if (elapsed < 0) {
            fprintf(stderr, "peer: %s failed\n", c->key);
            return -1;
        }
        if (elapsed >= target_ns / 4 || n >= ((size_t) 1 << 30)) {
            break;
        }
        n *= elapsed < target_ns / 1000 ? 16 : 2;
    }
    n = (size_t) ((double) n * target_ns / (elapsed > 1 ? elapsed : 1) + 0.5);
    if (n == 0) {
        n = 1;
    }
    for (int r = 0; r < repetitions; r++) {
        elapsed = timed(c, n);
        if (elapsed < 0) {
            fprintf(stderr, "peer: %s failed\n", c->key);
            return -1;
        }
        samples[r] = elapsed / (double) n;
    }
    qsort(samples, (size_t) repetitions, sizeof samples[0], cmp_double);
    printf("op\t%s\t%.1f\n", c->key, samples[repetitions / 2]);
    fflush(stdout);
    return 0;
}

int
peer_measure_all(const peer_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (peer_measure(&cases[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

void
peer_report_size(const char *key, size_t bytes)
{
    printf("size\t%s\t%zu\n", key, bytes);
    fflush(stdout);
}

void
peer_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got <= 0) {
            peer_fail("getrandom");
        }
        p += got;
        n -= (size_t) got;
    }
}

void
peer_fail(const char *what)
{
    fprintf(stderr, "peer: %s\n", what);
    exit(1);
}
