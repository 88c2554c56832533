/*
 * Fuzz target for KEXINIT parsing and negotiation (src/transport/kexinit.c):
 * the input is the body of a KEXINIT after the message number, framed as
 * a plain packet and fed to a client and a server engine after a valid
 * version line.
 */
#include "fuzz_transport_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEXINIT_MAX 60000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[KEXINIT_MAX + 64];
    size_t len, pad, plen;

    if (size > KEXINIT_MAX)
        return 0;
    /* RFC 4253 §6 framing without protection: block size 8. */
    len = 1 + size;
    pad = 8 - ((5 + len) % 8);
    if (pad < 4)
        pad += 8;
    plen = 1 + len + pad;
    pkt[0] = (uint8_t)(plen >> 24);
    pkt[1] = (uint8_t)(plen >> 16);
    pkt[2] = (uint8_t)(plen >> 8);
    pkt[3] = (uint8_t)plen;
    pkt[4] = (uint8_t)pad;
    pkt[5] = 20;    /* SSH_MSG_KEXINIT */
    memcpy(pkt + 6, data, size);
    memset(pkt + 6 + size, 0, pad);
    for (int role = AMK_TRANSPORT_CLIENT; role <= AMK_TRANSPORT_SERVER; role++) {
        struct fuzz_rng rs;
        struct amk_rng rng;
        struct amk_transport *t = fuzz_engine((enum amk_transport_role)role, 0, &rs, &rng);
        fuzz_feed(t, (const uint8_t *)FUZZ_PEER_VERSION, strlen(FUZZ_PEER_VERSION));
        fuzz_feed(t, pkt, 4 + plen);
        amk_transport_free(t);
    }
    return 0;
}
