/*
 * Dispatch of received messages (RFC 4253 §11, §7.1; RFC 8308): the
 * per-state table of allowed messages, the generic transport messages
 * (DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG, EXT_INFO), hand-off of KEX
 * messages to kex.c and of everything else to the upper-layer queue.
 */
#include <stdlib.h>
#include <string.h>

#include "transport/transport_int.h"
#include "util/namelist.h"

/*
 * Limits on work the peer can make us do (doc/PROTOCOL.md, "Peer rate
 * limits"). A re-exchange the peer starts costs us a key agreement and a
 * host-key signature (a millisecond or more), so KEXINITs that start one are
 * allowed in a burst of AMK_RL_KEX_BURST, then one a second plus one per
 * AMK_RL_KEX_BYTES of payload received: a peer rekeying after every MB or
 * more (OpenSSH RekeyLimit) never gets near it at any speed, a peer that
 * only rekeys does (decrypting 256 KiB costs about what one exchange does).
 * IGNORE, DEBUG, UNIMPLEMENTED and unknown messages do no work for the
 * session; they are allowed in a burst of AMK_RL_GLITCH_BURST, then
 * AMK_RL_GLITCH_RATE a second plus one per real (upper-layer) message, which
 * covers keepalives, OpenSSH's keystroke-timing chaff (one IGNORE per 20 ms)
 * and an IGNORE before every packet.
 */
#define AMK_RL_KEX_BURST 32
#define AMK_RL_KEX_RATE 1
#define AMK_RL_KEX_BYTES ((uint64_t)256 * 1024)
#define AMK_RL_GLITCH_BURST 2000
#define AMK_RL_GLITCH_RATE 200

static void
ratelim_update(struct amk_transport *t, size_t payload_len)
{
    if (!t->rl_ready) {
        amk_ratelim_init(&t->rl_kexinit, AMK_RL_KEX_BURST, AMK_RL_KEX_RATE);
        amk_ratelim_init(&t->rl_glitch, AMK_RL_GLITCH_BURST, AMK_RL_GLITCH_RATE);
        t->rl_ready = 1;
    }
    amk_ratelim_update(&t->rl_kexinit, t->now_ms);
    amk_ratelim_update(&t->rl_glitch, t->now_ms);
    t->rl_bytes += payload_len;
    if (t->rl_bytes >= AMK_RL_KEX_BYTES) {
        amk_ratelim_credit(&t->rl_kexinit, t->rl_bytes / AMK_RL_KEX_BYTES);
        t->rl_bytes %= AMK_RL_KEX_BYTES;
    }
}

/* Takes one token for message @p type; fails the engine when none is left. */
static int
ratelim_take(struct amk_transport *t, struct amk_ratelim *rl, uint8_t type, const char *what)
{
    if (amk_ratelim_drain(rl, 1) == AMK_OK)
        return AMK_OK;
    return amk_transport_fail(t, AMK_ELIMIT, AMK_DISCONNECT_PROTOCOL_ERROR,
        "peer rate limit: too many %s (message %u)", what, type);
}

static int
send_unimplemented(struct amk_transport *t, uint32_t seq)
{
    uint8_t msg[5];

    /* RFC 4253 §11.4 */
    msg[0] = AMK_MSG_UNIMPLEMENTED;
    msg[1] = (uint8_t)(seq >> 24);
    msg[2] = (uint8_t)(seq >> 16);
    msg[3] = (uint8_t)(seq >> 8);
    msg[4] = (uint8_t)seq;
    return amk_transport_send_now(t, msg, sizeof(msg));
}

/* Copies printable ASCII of a peer string for logs and queries. */
static char *
sanitize(const uint8_t *p, size_t len)
{
    char *s;

    if (len > 512)
        len = 512;
    if ((s = malloc(len + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        s[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    s[len] = '\0';
    return s;
}

static int
handle_disconnect(struct amk_transport *t, struct amk_buf *msg)
{
    uint32_t reason = 0;
    const uint8_t *d = NULL;
    size_t dlen = 0;

    /* RFC 4253 §11.1; a truncated message still ends the connection. */
    if (amk_buf_get_u32(msg, &reason) == AMK_OK &&
        amk_buf_get_string_direct(msg, &d, &dlen) != AMK_OK) {
        d = NULL;
        dlen = 0;
    }
    t->peer_disconnect_reason = reason;
    free(t->peer_disconnect_msg);
    t->peer_disconnect_msg = sanitize(d, dlen);
    t->closed = 1;
    return amk_transport_fail(t, AMK_EDISCONNECT, 0, "peer disconnected (reason %u): %s",
        reason, t->peer_disconnect_msg != NULL ? t->peer_disconnect_msg : "");
}

/* RFC 8308 §2.3: the client reads server-sig-algs and skips the rest. */
static int
handle_ext_info(struct amk_transport *t, struct amk_buf *msg)
{
    uint32_t n = 0;
    int r = AMK_EINTERNAL;

    if (t->role == AMK_TRANSPORT_SERVER)
        return AMK_OK;
    if ((r = amk_buf_get_u32(msg, &n)) != AMK_OK)
        goto bad;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *name = NULL;
        size_t nlen = 0;
        if ((r = amk_buf_get_string_direct(msg, &name, &nlen)) != AMK_OK)
            goto bad;
        if (nlen == 15 && memcmp(name, "server-sig-algs", 15) == 0) {
            char *v = NULL;
            if ((r = amk_buf_get_namelist(msg, &v)) != AMK_OK)
                goto bad;
            free(t->peer_sig_algs);
            t->peer_sig_algs = v;
        } else if ((r = amk_buf_skip_string(msg)) != AMK_OK) {
            goto bad;
        }
    }
    if ((r = amk_buf_get_end(msg)) != AMK_OK)
        goto bad;
    return AMK_OK;
bad:
    return amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed EXT_INFO");
}

static int
deliver(struct amk_transport *t, const struct amk_buf *payload)
{
    return amk_transport_queue_upper(t, payload);
}

/*
 * Which messages are allowed when (RFC 4253 §7.1, OpenSSH PROTOCOL §1.10):
 *   strict initial KEX:  KEXINIT, NEWKEYS, 30..49, DISCONNECT; all else fatal
 *   before first NEWKEYS: also IGNORE, DEBUG, UNIMPLEMENTED; no service
 *                         or upper-layer messages
 *   peer's KEX running:  no service or upper-layer messages from the peer
 *   otherwise:           everything; unknown numbers get UNIMPLEMENTED
 */
int
amk_transport_dispatch(struct amk_transport *t, struct amk_buf *payload)
{
    uint8_t type;
    int upper;
    int r = AMK_EINTERNAL;

    if ((r = amk_buf_peek_u8(payload, 0, &type)) != AMK_OK)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR, "empty packet");
    ratelim_update(t, amk_buf_len(payload));
    upper = type >= AMK_MSG_USERAUTH_FIRST || type == AMK_MSG_SERVICE_REQUEST ||
        type == AMK_MSG_SERVICE_ACCEPT;
    if (t->strict && t->kex_count == 0 && type != AMK_MSG_KEXINIT && type != AMK_MSG_NEWKEYS &&
        type != AMK_MSG_DISCONNECT && !(type >= AMK_MSG_KEX_FIRST && type <= AMK_MSG_KEX_LAST))
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "strict KEX: unexpected message %u during the initial key exchange", type);
    /* OpenSSH PROTOCOL §1.10: no sequence number may wrap during the
     * initial exchange under strict KEX. */
    if (t->strict && t->kex_count == 0 && t->initial_wrap)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "strict KEX: sequence number wrapped during the initial key exchange");
    if (upper && (t->kex_count == 0 || t->kexinit_received))
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "message %u received during key exchange", type);
    if (upper) {
        /* The point where zlib@openssh.com starts for the client. */
        if (t->role == AMK_TRANSPORT_CLIENT && type == AMK_MSG_USERAUTH_SUCCESS) {
            t->authenticated = 1;
            t->dir_in.comp_delayed = 0;
            t->dir_out.comp_delayed = 0;
        }
        amk_ratelim_credit(&t->rl_glitch, 1);
        return deliver(t, payload);
    }
    if (type == AMK_MSG_IGNORE || type == AMK_MSG_DEBUG || type == AMK_MSG_UNIMPLEMENTED ||
        (type != AMK_MSG_DISCONNECT && type != AMK_MSG_EXT_INFO && type != AMK_MSG_KEXINIT &&
        type != AMK_MSG_NEWKEYS && !(type >= AMK_MSG_KEX_FIRST && type <= AMK_MSG_KEX_LAST))) {
        if ((r = ratelim_take(t, &t->rl_glitch, type, "IGNORE/DEBUG/UNIMPLEMENTED/unknown messages")) != AMK_OK)
            return r;
    }
    /* Only a KEXINIT that starts an exchange costs a token: the answer to
     * our own KEXINIT is free. */
    if (type == AMK_MSG_KEXINIT && t->phase == AMK_KEX_IDLE &&
        (r = ratelim_take(t, &t->rl_kexinit, type, "key re-exchanges")) != AMK_OK)
        return r;
    if (type != AMK_MSG_KEXINIT && (r = amk_buf_consume(payload, 1)) != AMK_OK)
        return amk_transport_fail(t, r, 0, NULL);
    switch (type) {
    case AMK_MSG_DISCONNECT:
        return handle_disconnect(t, payload);
    case AMK_MSG_IGNORE:        /* RFC 4253 §11.2 */
        return AMK_OK;
    case AMK_MSG_UNIMPLEMENTED: { /* RFC 4253 §11.4 */
        uint32_t seq = 0;
        if (amk_buf_get_u32(payload, &seq) == AMK_OK)
            amk_log(&t->log, AMK_LOG_DEBUG, "peer did not implement our packet %u", seq);
        return AMK_OK;
    }
    case AMK_MSG_DEBUG:         /* RFC 4253 §11.3 */
        return AMK_OK;
    case AMK_MSG_EXT_INFO:
        if (t->kex_count == 0)
            return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
                "EXT_INFO before NEWKEYS");
        return handle_ext_info(t, payload);
    default:
        break;
    }
    if (type == AMK_MSG_KEXINIT || type == AMK_MSG_NEWKEYS ||
        (type >= AMK_MSG_KEX_FIRST && type <= AMK_MSG_KEX_LAST)) {
        if (type != AMK_MSG_KEXINIT && t->phase == AMK_KEX_IDLE)
            return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
                "key exchange message %u outside a key exchange", type);
        return amk_kex_handle(t, type, payload);
    }
    /* RFC 4253 §11.4: unknown message numbers get UNIMPLEMENTED. */
    return send_unimplemented(t, t->dir_in.seq - 1);
}
