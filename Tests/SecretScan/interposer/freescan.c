/* freescan: an LD_PRELOAD library that scans every heap block as it is freed
 * (free, and the old block of a realloc) for byte patterns a test registered,
 * and counts the blocks that still hold one. A secret found there was released
 * without being wiped.
 *
 * Patterns come from e2ee_freescan_register() (found with dlsym by the process
 * under test) or from FREESCAN_PATTERNS (comma-separated hex) at load, for a
 * program that knows nothing of the scan (the CLI). With FREESCAN_EXIT set, a
 * process whose scan found anything exits with status 99 after printing what.
 *
 * Nothing here allocates: patterns live in static storage, so the scan never
 * finds its own copies. glibc's __libc_* entry points reach the real allocator.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_realloc(void *, size_t);

#define MAX_PATTERNS 256
#define PATTERN_BYTES 16 /* a window long enough to be unique */

static unsigned char patterns[MAX_PATTERNS][PATTERN_BYTES];
static char labels[MAX_PATTERNS][32];
static atomic_size_t npatterns;
static atomic_ulong hits;
static atomic_ulong hit_pattern[MAX_PATTERNS];
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

/* Registers the first 16 bytes of a secret (shorter ones are refused). Returns 0 or -1. */
int e2ee_freescan_register(const void *p, size_t len, const char *label)
{
    size_t i;
    if (p == NULL || len < PATTERN_BYTES) {
        return -1;
    }
    pthread_mutex_lock(&register_lock);
    i = atomic_load(&npatterns);
    if (i == MAX_PATTERNS) {
        pthread_mutex_unlock(&register_lock);
        return -1;
    }
    memcpy(patterns[i], p, PATTERN_BYTES);
    snprintf(labels[i], sizeof labels[i], "%s", label ? label : "?");
    atomic_store(&npatterns, i + 1);
    pthread_mutex_unlock(&register_lock);
    return 0;
}

unsigned long e2ee_freescan_hits(void) { return atomic_load(&hits); }

/* Forgets every pattern and hit (between scenarios). */
void e2ee_freescan_reset(void)
{
    pthread_mutex_lock(&register_lock);
    atomic_store(&npatterns, 0);
    atomic_store(&hits, 0);
    for (size_t i = 0; i < MAX_PATTERNS; i++) atomic_store(&hit_pattern[i], 0);
    pthread_mutex_unlock(&register_lock);
}

/* The label of the first pattern found since the last reset, or NULL. */
const char *e2ee_freescan_first_hit(void)
{
    size_t n = atomic_load(&npatterns);
    for (size_t i = 0; i < n; i++) {
        if (atomic_load(&hit_pattern[i]) > 0) return labels[i];
    }
    return NULL;
}

static void scan(void *p)
{
    size_t n = atomic_load(&npatterns), size;
    if (n == 0 || p == NULL) return;
    size = malloc_usable_size(p);
    for (size_t i = 0; i < n; i++) {
        if (memmem(p, size, patterns[i], PATTERN_BYTES) != NULL) {
            atomic_fetch_add(&hits, 1);
            atomic_fetch_add(&hit_pattern[i], 1);
        }
    }
}

void free(void *p)
{
    scan(p);
    __libc_free(p);
}

/* A moving realloc frees the old block inside glibc, where free() above does
 * not see it: with patterns registered, every realloc moves, through us. */
void *realloc(void *p, size_t size)
{
    void *q;
    size_t old;
    if (p == NULL || size == 0 || atomic_load(&npatterns) == 0) return __libc_realloc(p, size);
    q = __libc_malloc(size);
    if (q == NULL) return NULL;
    old = malloc_usable_size(p);
    memcpy(q, p, old < size ? old : size);
    free(p);
    return q;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

__attribute__((constructor)) static void load_patterns(void)
{
    const char *s = getenv("FREESCAN_PATTERNS");
    unsigned char buf[PATTERN_BYTES];
    size_t len = 0;
    int index = 0;
    char label[32];
    if (s == NULL) return;
    for (;; s++) {
        if (*s == ',' || *s == '\0') {
            if (len >= PATTERN_BYTES) {
                snprintf(label, sizeof label, "env pattern %d", index);
                e2ee_freescan_register(buf, PATTERN_BYTES, label);
            }
            index++;
            len = 0;
            if (*s == '\0') break;
            continue;
        }
        if (hexval(s[0]) < 0 || hexval(s[1]) < 0) break;
        if (len < PATTERN_BYTES) buf[len] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
        len++;
        s++;
    }
}

__attribute__((destructor)) static void report(void)
{
    const char *first;
    if (getenv("FREESCAN_EXIT") == NULL || atomic_load(&hits) == 0) return;
    first = e2ee_freescan_first_hit();
    fprintf(stderr, "freescan: %lu freed block(s) held a registered secret (first: %s)\n",
            atomic_load(&hits), first ? first : "?");
    _exit(99);
}
