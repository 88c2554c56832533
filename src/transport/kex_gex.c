/*
 * diffie-hellman-group-exchange-sha256, RFC 4419 (with RFC 8270's
 * 2048-bit floor): the client asks for a group size, the server answers
 * with a group from its moduli (here the RFC 3526 groups of 3072 bits or
 * more), then e / f as in kex_dh.c. The exchange hash adds min, n, max,
 * p and g (kex.c).
 */
#include "crypto/kex.h"
#include "transport/transport_int.h"

/* The server's moduli: RFC 3526 groups, smallest first. */
static const struct {
    int group;
    uint32_t bits;
} gex_groups[] = {
    { 16, 4096 },
    { 18, 8192 },
};
#define N_GEX_GROUPS (sizeof(gex_groups) / sizeof(gex_groups[0]))

/* The group size the client prefers for a hash (RFC 8270 §3, NIST SP 800-57). */
static uint32_t
gex_preferred_bits(enum amk_hash_alg hash)
{
    return amk_hash_len(hash) > 32 ? 7680 : 3072;
}

int
amk_gex_client_begin(struct amk_transport *t)
{
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b);
    t->ks.gex_min = AMK_GEX_MIN_BITS;
    t->ks.gex_n = gex_preferred_bits(t->neg.kex->hash);
    t->ks.gex_max = AMK_GEX_MAX_BITS;
    /* RFC 4419 §3: SSH_MSG_KEY_DH_GEX_REQUEST min, n, max. */
    if ((r = amk_buf_put_u8(&b, AMK_MSG_KEX_DH_GEX_REQUEST)) != AMK_OK ||
        (r = amk_buf_put_u32(&b, t->ks.gex_min)) != AMK_OK ||
        (r = amk_buf_put_u32(&b, t->ks.gex_n)) != AMK_OK ||
        (r = amk_buf_put_u32(&b, t->ks.gex_max)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(&b), amk_buf_len(&b))) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot send GEX_REQUEST");
        goto out;
    }
    t->phase = AMK_KEX_GEX_GROUP;
    r = AMK_OK;
out:
    amk_buf_release(&b);
    return r;
}

/* Client: SSH_MSG_KEX_DH_GEX_GROUP p, g; answers with GEX_INIT e. */
int
amk_gex_client_group(struct amk_transport *t, struct amk_buf *msg)
{
    const struct amk_kex_impl *impl = t->neg.kex;
    const uint8_t *p = NULL, *g = NULL, *e = NULL;
    size_t plen = 0, glen = 0, elen = 0, bits;
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b);
    if ((r = amk_buf_get_mpint_direct(msg, &p, &plen)) != AMK_OK ||
        (r = amk_buf_get_mpint_direct(msg, &g, &glen)) != AMK_OK ||
        (r = amk_buf_get_end(msg)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed GEX_GROUP");
        goto out;
    }
    if ((r = amk_dh_new_custom(&t->ks.dh, p, plen, g, glen)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "server sent an unusable DH group (%zu bits): %s", plen * 8, amk_strerror(r));
        goto out;
    }
    /* RFC 4419 §3: the group must be within what we asked for. */
    bits = amk_dh_bits(t->ks.dh);
    if (bits < t->ks.gex_min || bits > t->ks.gex_max) {
        r = amk_transport_fail(t, AMK_EKEY, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "server DH group has %zu bits, outside the requested %u..%u",
            bits, t->ks.gex_min, t->ks.gex_max);
        goto out;
    }
    if ((r = amk_buf_put(&t->gex_p, p, plen)) != AMK_OK ||
        (r = amk_buf_put(&t->gex_g, g, glen)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, NULL);
        goto out;
    }
    if ((r = impl->keypair(&t->ks, impl, t->rng, &e, &elen)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot generate the DH key");
        goto out;
    }
    amk_buf_reset(&t->client_pub);
    if ((r = amk_buf_put(&t->client_pub, e, elen)) != AMK_OK ||
        (r = amk_buf_put_u8(&b, AMK_MSG_KEX_DH_GEX_INIT)) != AMK_OK ||
        (r = amk_buf_put_mpint(&b, e, elen)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(&b), amk_buf_len(&b))) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot send GEX_INIT");
        goto out;
    }
    t->phase = AMK_KEX_REPLY;
    r = AMK_OK;
out:
    amk_buf_release(&b);
    return r;
}

/* Server: SSH_MSG_KEY_DH_GEX_REQUEST; answers with GEX_GROUP. */
int
amk_gex_server_request(struct amk_transport *t, struct amk_buf *msg)
{
    uint32_t min = 0, n = 0, max = 0;
    const uint8_t *p = NULL, *g = NULL;
    size_t plen = 0, glen = 0;
    int pick = -1;
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b);
    if ((r = amk_buf_get_u32(msg, &min)) != AMK_OK ||
        (r = amk_buf_get_u32(msg, &n)) != AMK_OK ||
        (r = amk_buf_get_u32(msg, &max)) != AMK_OK ||
        (r = amk_buf_get_end(msg)) != AMK_OK) {
        r = amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "malformed GEX_REQUEST");
        goto out;
    }
    if (min > n || n > max) {
        r = amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "GEX_REQUEST sizes out of order: min %u, n %u, max %u", min, n, max);
        goto out;
    }
    /* The smallest group of at least n bits within [min, max], else the
     * largest within it (RFC 4419 §3). */
    for (size_t i = 0; i < N_GEX_GROUPS; i++) {
        if (gex_groups[i].bits < min || gex_groups[i].bits > max)
            continue;
        pick = (int)i;
        if (gex_groups[i].bits >= n)
            break;
    }
    if (pick < 0) {
        r = amk_transport_fail(t, AMK_ENOMATCH, AMK_DISCONNECT_KEY_EXCHANGE_FAILED,
            "no DH group between %u and %u bits (have 4096 and 8192)", min, max);
        goto out;
    }
    t->ks.gex_min = min;
    t->ks.gex_n = n;
    t->ks.gex_max = max;
    if ((r = amk_dh_new_group(&t->ks.dh, gex_groups[pick].group)) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot load DH group %d", gex_groups[pick].group);
        goto out;
    }
    amk_dh_group(t->ks.dh, &p, &plen, &g, &glen);
    if ((r = amk_buf_put(&t->gex_p, p, plen)) != AMK_OK ||
        (r = amk_buf_put(&t->gex_g, g, glen)) != AMK_OK ||
        (r = amk_buf_put_u8(&b, AMK_MSG_KEX_DH_GEX_GROUP)) != AMK_OK ||
        (r = amk_buf_put_mpint(&b, p, plen)) != AMK_OK ||
        (r = amk_buf_put_mpint(&b, g, glen)) != AMK_OK ||
        (r = amk_packet_send(t, amk_buf_ptr(&b), amk_buf_len(&b))) != AMK_OK) {
        r = amk_transport_fail(t, r, 0, "cannot send GEX_GROUP");
        goto out;
    }
    t->phase = AMK_KEX_INIT;
    r = AMK_OK;
out:
    amk_buf_release(&b);
    return r;
}

const struct amk_kex_impl amk_kex_dh_gex_sha256 = {
    .name = "diffie-hellman-group-exchange-sha256",
    .hash = AMK_HASH_SHA256,
    .pub_mpint = 1,
    .gex = 1,
    .server_default = 1,
    .keypair = amk_kex_dh_keypair,
    .shared = amk_kex_dh_shared,
};
