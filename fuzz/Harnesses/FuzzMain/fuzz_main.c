/* SwiftPM (tools-version >= 5.5) links an executable's entry point as
 * `<module>_main`. The harnesses are built with -parse-as-library, so none is
 * emitted; these hand control to libFuzzer's driver instead. Each harness
 * executable defines LLVMFuzzerTestOneInput; the other modules' entries here
 * are never called. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));

#define FUZZ_MAIN(module) \
    int module##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

FUZZ_MAIN(bundle)
FUZZ_MAIN(prekey_message)
FUZZ_MAIN(pq_prekey_message)
FUZZ_MAIN(ratchet_message)
FUZZ_MAIN(session_record)
FUZZ_MAIN(account_record)
FUZZ_MAIN(session_set_record)
FUZZ_MAIN(decrypt)
FUZZ_MAIN(interaction)
FUZZ_MAIN(sender_key_message)
FUZZ_MAIN(sender_key_distribution)
FUZZ_MAIN(group_record)
FUZZ_MAIN(group_interaction)
FUZZ_MAIN(group_update)
FUZZ_MAIN(relay_request)
