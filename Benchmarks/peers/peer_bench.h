/*
 * peer_bench.h: the timing harness the peer benchmarks share (scripts/bench.sh
 * --peers builds them with cc; they are not SwiftPM targets). It times like
 * Benchmarks/bench/Runner.swift: calibrate a repetition to ~20 ms (8 ms with
 * --quick), run 21 repetitions (5), report the median ns per operation.
 *
 * Output, one line each, read by `bench --peers FILE`:
 *   op<TAB>key<TAB>median_ns
 *   size<TAB>key<TAB>bytes
 */
#ifndef PEER_BENCH_H
#define PEER_BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct peer_case {
    const char *key;
    void *ctx;
    /* Untimed work before each timed run of n operations (e.g. making the
     * messages a receiver will consume); may be NULL. 0 on success. */
    int (*prepare)(void *ctx, size_t n);
    /* n operations, timed. 0 on success. */
    int (*run)(void *ctx, size_t n);
} peer_case;

/* Parses --quick; returns 0, or 2 on an unknown argument. */
int peer_init(int argc, char **argv);

/* Measures and prints one op line; returns 0, or -1 if the case failed. */
int peer_measure(const peer_case *c);

/* Measures every case in order; -1 at the first that fails. */
int peer_measure_all(const peer_case *cases, size_t n);

void peer_report_size(const char *key, size_t bytes);

/* n random bytes (getrandom); exits on failure. */
void peer_random(void *buf, size_t n);

/* Prints "peer: what" to stderr and exits 1: a harness whose operations do
 * not work must not print figures. */
void peer_fail(const char *what);

#endif
