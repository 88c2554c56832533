/*
 * Fuzz target for the version exchange (src/transport/version.c): the
 * input is what the peer sends first, fed to a client and to a server
 * engine, whole and one byte at a time; both must agree.
 */
#include "fuzz_transport_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run(enum amk_transport_role role, const uint8_t *data, size_t size, size_t step)
{
    struct fuzz_rng rs;
    struct amk_rng rng;
    struct amk_transport *t = fuzz_engine(role, 0, &rs, &rng);
    int r = AMK_OK;

    for (size_t off = 0; off < size && r == AMK_OK; off += step) {
        size_t k = size - off < step ? size - off : step;
        r = amk_transport_feed(t, data + off, k, 0);
        fuzz_drain(t);
    }
    /* A peer version is only ever a printable SSH- line. */
    if (amk_transport_peer_version(t) != NULL) {
        const char *v = amk_transport_peer_version(t);
        if (strncmp(v, "SSH-", 4) != 0 || strlen(v) > AMK_TRANSPORT_VERSION_MAX)
            abort();
    }
    r = amk_transport_error(t);
    amk_transport_free(t);
    return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 70000)
        return 0;
    for (int role = AMK_TRANSPORT_CLIENT; role <= AMK_TRANSPORT_SERVER; role++) {
        int whole = run((enum amk_transport_role)role, data, size, size > 0 ? size : 1);
        int bytes = run((enum amk_transport_role)role, data, size, 1);
        /* Delivery in pieces never changes the outcome. */
        if (whole != bytes)
            abort();
    }
    return 0;
}
