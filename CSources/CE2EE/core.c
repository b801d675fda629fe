/* Library set-up, sizes, constant-time helpers and randomness. */
#include "e2ee.h"
#include "internal.h"

#include <pthread.h>
#include <sodium.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = -1;

static void
init_run(void)
{
    /* sodium_init returns 1 when already initialised by someone else. */
    if (sodium_init() < 0) {
        return;
    }
    if (e2ee_kdf_templates_init() != 0) {
        return;
    }
    e2ee_guard_pool_init();
    init_status = 0;
}

int
e2ee_init(void)
{
    if (pthread_once(&init_once, init_run) != 0) {
        return -1;
    }
    return init_status;
}

size_t
e2ee_keybytes(void)
{
    return E2EE_KEYBYTES;
}

size_t
e2ee_aead_overheadbytes(void)
{
    return E2EE_AEAD_OVERHEADBYTES;
}

size_t
e2ee_hkdf_sha512_maxbytes(void)
{
    return E2EE_HKDF_SHA512_MAXBYTES;
}

int
e2ee_memequal(const void *a, const void *b, size_t len)
{
    if (len == 0) {
        return 0;
    }
    return sodium_memcmp(a, b, len);
}

void
e2ee_memzero(void *p, size_t len)
{
    if (p != NULL && len > 0) {
        sodium_memzero(p, len);
    }
}

void
e2ee_random_bytes(void *buf, size_t len)
{
    (void) e2ee_init();
    randombytes_buf(buf, len);
}
