/*
 * Fuzz target for the client's handling of KEX replies (kex.c,
 * kex_gex.c, the kex_*.c methods): a client engine receives the fixed
 * server's real version and KEXINIT for configuration data[0] (see
 * fuzz_transport_common.h), sends its INIT or GEX request, and then gets
 * the rest of the input as one method message (message number first),
 * framed as a plain packet. Seeds are the real replies.
 */
#include "fuzz_transport_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLY_MAX 70000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[REPLY_MAX + 64];
    struct fuzz_rng rc, rs;
    struct amk_rng rngc, rngs;
    struct amk_transport *c, *s;
    const uint8_t *p;
    size_t n, len, pad, plen;

    if (size < 2 || size - 1 > REPLY_MAX)
        return 0;
    c = fuzz_engine(AMK_TRANSPORT_CLIENT, data[0], &rc, &rngc);
    s = fuzz_engine(AMK_TRANSPORT_SERVER, data[0], &rs, &rngs);
    /* The server's version line and KEXINIT as they are. */
    amk_transport_output(s, &p, &n);
    fuzz_feed(c, p, n);
    len = size - 1;
    pad = 8 - ((5 + len) % 8);
    if (pad < 4)
        pad += 8;
    plen = 1 + len + pad;
    pkt[0] = (uint8_t)(plen >> 24);
    pkt[1] = (uint8_t)(plen >> 16);
    pkt[2] = (uint8_t)(plen >> 8);
    pkt[3] = (uint8_t)plen;
    pkt[4] = (uint8_t)pad;
    memcpy(pkt + 5, data + 1, len);
    memset(pkt + 5 + len, 0, pad);
    fuzz_feed(c, pkt, 4 + plen);
    amk_transport_free(c);
    amk_transport_free(s);
    return 0;
}
