/*
 * Fuzz target for the connection engine (src/channel): the input is a
 * list of records, each a type byte and a big-endian uint16 length then
 * that many bytes:
 *   type 0: a payload the peer sends (amk_conn_handle)
 *   type 1: an application call chosen by the first byte (open, read,
 *           write, EOF, close, release, requests, keepalive, tick)
 *   type 2: the sink refuses (first byte odd) or accepts from now on
 * The engine starts with two sessions being opened (channels 0 and 1) and
 * a 64 KiB window, so confirmations, data and window limits are in reach.
 * Checks: a failing peer message leaves the engine failed with that code,
 * application calls fail only with the codes their documentation lists,
 * and no channel ever buffers more than its window.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/conn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW ((uint32_t)64 * 1024)

struct fuzz_sink {
    int refuse;
    size_t sent;
};

static int
fuzz_send(void *user, const uint8_t *payload, size_t len)
{
    struct fuzz_sink *s = user;

    if (s->refuse)
        return AMK_EAGAIN;
    s->sent += len;
    return AMK_OK;
}

/*
 * A peer message either succeeds, is refused without harm (AMK_ENOTSUP,
 * AMK_EINVAL) or fails the engine with the code it returns; application
 * calls on a healthy engine fail only with usage, limit or channel codes.
 */
static void
check(struct amk_conn *c, int from_peer, int r)
{
    int err = amk_conn_error(c);

    if (from_peer && r != AMK_OK && r != AMK_ENOTSUP && r != AMK_EINVAL && r != err) {
        fprintf(stderr, "handle returned %s, engine error %s\n", amk_errname(r),
            amk_errname(err));
        abort();
    }
    if (!from_peer && err == AMK_OK && r != AMK_OK && r != AMK_EAGAIN && r != AMK_EINVAL
        && r != AMK_ESTATE && r != AMK_ELIMIT && r != AMK_ECLOSED) {
        fprintf(stderr, "call returned %s on a healthy engine\n", amk_errname(r));
        abort();
    }
    for (size_t i = 0; i < c->max_channels; i++) {
        const struct amk_chan *ch = c->slots[i];
        if (ch == NULL)
            continue;
        if (amk_ring_len(&ch->rx[0]) + amk_ring_len(&ch->rx[1]) > WINDOW)
            abort();
        if ((uint64_t)ch->rwin + ch->rconsumed > WINDOW)
            abort();
    }
}

/* One application call chosen by @p p[0], on a channel chosen by p[1]. */
static int
app_call(struct amk_conn *c, const uint8_t *p, size_t len)
{
    static const uint8_t junk[300] = { 0 };
    uint8_t buf[4096];
    uint32_t id = len > 1 ? p[1] : 0, ticket;
    size_t n;
    const struct amk_pty_mode modes[] = { { AMK_TTY_ECHO, 1 } };
    struct amk_pty_req pty = { .term = "xterm", .cols = 80, .rows = 24, .modes = modes,
        .n_modes = 1 };

    if (len == 0)
        return AMK_OK;
    switch (p[0] % 16) {
    case 0: return amk_conn_open_session(c, &id);
    case 1: return amk_conn_channel_read(c, id, AMK_CHAN_STDOUT, buf, sizeof(buf), &n);
    case 2: return amk_conn_channel_read(c, id, AMK_CHAN_STDERR, buf, sizeof(buf), &n);
    case 3: return amk_conn_channel_write(c, id, junk, len > 2 ? p[2] + 44u : 1, &n);
    case 4: return amk_conn_channel_send_eof(c, id);
    case 5: return amk_conn_channel_close(c, id);
    case 6: return amk_conn_channel_release(c, id);
    case 7: return amk_conn_channel_exec(c, id, "true", len > 2 && (p[2] & 1), &ticket);
    case 8: return amk_conn_channel_pty(c, id, &pty, 1, &ticket);
    case 9: return amk_conn_channel_signal(c, id, "TERM");
    case 10: return amk_conn_keepalive(c, &ticket);
    case 11: return amk_conn_tick(c, len > 2 ? (uint64_t)p[2] * 1000 : 0);
    case 12: return amk_conn_flush(c);
    case 13: return amk_conn_channel_merge_stderr(c, id, len > 2 && (p[2] & 1));
    case 14: return amk_conn_next_changed(c, &id);
    default: return amk_conn_open_direct_tcpip(c, "h", 1, "o", 2, &id);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_sink fs = { 0, 0 };
    struct amk_pkt_sink sink = { fuzz_send, &fs, NULL };
    struct amk_conn_config cfg;
    struct amk_conn *c = NULL;
    uint32_t id;
    size_t off = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.window = WINDOW;
    cfg.maxpacket = 16 * 1024;
    cfg.max_channels = 8;
    cfg.keepalive_interval_ms = 1000;
    if (amk_conn_new(&c, &cfg, &sink) != AMK_OK)
        abort();
    if (amk_conn_open_session(c, &id) != AMK_OK || amk_conn_open_session(c, &id) != AMK_OK)
        abort();
    while (size - off >= 3) {
        uint8_t type = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        int r;

        off += 3;
        if (len > size - off)
            len = size - off;
        switch (type % 3) {
        case 0:
            r = amk_conn_handle(c, data + off, len);
            break;
        case 1:
            r = app_call(c, data + off, len);
            break;
        default:
            fs.refuse = len > 0 && (data[off] & 1);
            r = AMK_OK;
            break;
        }
        check(c, type % 3 == 0, r);
        off += len;
    }
    amk_conn_free(c);
    return 0;
}
