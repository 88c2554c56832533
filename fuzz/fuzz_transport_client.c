/*
 * Fuzz target: a fresh client engine receives a valid server version line
 * and then arbitrary bytes (the packet decoder, KEXINIT, every KEX reply,
 * NEWKEYS, EXT_INFO and the encrypted phase). The first input byte picks
 * the configuration (fuzz_transport_common.h); seeds are captured server
 * streams that replay a whole handshake.
 */
#include "fuzz_transport_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_rng rs;
    struct amk_rng rng;
    struct amk_transport *t;

    if (size < 1)
        return 0;
    t = fuzz_engine(AMK_TRANSPORT_CLIENT, data[0], &rs, &rng);
    fuzz_feed(t, (const uint8_t *)FUZZ_PEER_VERSION, strlen(FUZZ_PEER_VERSION));
    fuzz_feed(t, data + 1, size - 1);
    amk_transport_free(t);
    return 0;
}
