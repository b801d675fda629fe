/*
 * test_main.c: runs every area of the C core's standalone test and prints
 * the totals. Areas: test_core.c, test_kdf.c, test_hkdf.c, test_aead.c,
 * test_aead_batch.c, test_curve.c; shared checks in test_support.c.
 * Build and run with scripts/ctest.sh.
 */
#include "test_support.h"

#include <sodium.h>
#include <stdio.h>

int main(void)
{
    run_core_init_tests();
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 2;
    }
    run_kdf_tests();
    run_hkdf_tests();
    run_aead_tests();
    run_aead_batch_tests();
    run_curve_tests();
    run_core_tests();

    printf("%lu passed, %lu failed\n", test_passed_count(), test_failed_count());
    return test_failed_count() ? 1 : 0;
}
