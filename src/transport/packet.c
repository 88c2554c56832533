/*
 * The binary packet protocol, RFC 4253 §6: framing, padding, sequence
 * numbers, protection through crypto/cipher.h, and compression.
 *
 *   uint32 packet_length; byte padding_length; payload; padding; [tag]
 */
#include <string.h>

#include "crypto/rand.h"
#include "transport/transport_int.h"

#define PKT_HEADER_LEN AMK_PKT_HEADER_LEN

static size_t
dir_block(const struct amk_transport_dir *d)
{
    size_t b = d->cipher != NULL ? amk_pkt_cipher_block_size(d->cipher) : 0;

    return b < AMK_PKT_MIN_BLOCK ? AMK_PKT_MIN_BLOCK : b;
}

static size_t
dir_aad(const struct amk_transport_dir *d)
{
    return d->cipher != NULL ? amk_pkt_cipher_aad_len(d->cipher) : 0;
}

static size_t
dir_tag(const struct amk_transport_dir *d)
{
    return d->cipher != NULL ? amk_pkt_cipher_tag_len(d->cipher) : 0;
}

static void
store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* @p n random padding bytes: from the pool when the CSPRNG is OpenSSL's
 * (an installed source is called for each packet, so a test that makes a
 * session deterministic sees the same bytes as before). The pool is
 * wiped with the transport. */
static int
pad_bytes(struct amk_transport *t, uint8_t *p, size_t n)
{
    uint8_t *from;
    int r;

    if (t->rng != NULL || n > sizeof(t->pad_pool))
        return amk_random_bytes(t->rng, p, n);
    if (t->pad_left < n) {
        if ((r = amk_random_bytes(NULL, t->pad_pool, sizeof(t->pad_pool))) != AMK_OK)
            return r;
        t->pad_left = sizeof(t->pad_pool);
    }
    from = t->pad_pool + sizeof(t->pad_pool) - t->pad_left;
    memcpy(p, from, n);
    t->pad_left -= n;
    return AMK_OK;
}

int
amk_packet_send(struct amk_transport *t, const uint8_t *payload, size_t len)
{
    return amk_packet_send2(t, payload, len, NULL, 0);
}

int
amk_packet_send2(struct amk_transport *t, const uint8_t *payload, size_t hlen,
    const uint8_t *data, size_t dlen)
{
    struct amk_transport_dir *d = &t->dir_out;
    struct amk_buf z, joined;
    size_t block, aad, tag, padding, plen, total, len = hlen + dlen;
    uint8_t *p;
    int r = AMK_EINTERNAL;

    amk_buf_init(&z);
    amk_buf_init(&joined);
    if (d->comp != NULL && !d->comp_delayed) {
        /* zlib takes one piece: join the two (compression is rare) */
        if (dlen > 0) {
            if ((r = amk_buf_put(&joined, payload, hlen)) != AMK_OK ||
                (r = amk_buf_put(&joined, data, dlen)) != AMK_OK)
                goto out;
            payload = amk_buf_ptr(&joined);
        }
        if ((r = amk_compress_deflate(d->comp, payload, len, &z)) != AMK_OK)
            goto out;
        payload = amk_buf_ptr(&z);
        len = hlen = amk_buf_len(&z);
        dlen = 0;
    }
    if (len > AMK_TRANSPORT_MAX_PACKET - 2 * 255) {
        r = AMK_ETOOBIG;
        goto out;
    }
    block = dir_block(d);
    aad = dir_aad(d);
    tag = dir_tag(d);
    /* RFC 4253 §6: (packet_length || padding_length || payload || padding)
     * is a multiple of the block size, at least 4 bytes of padding; for
     * EtM and AEAD modes packet_length is left out (aad). */
    padding = block - ((PKT_HEADER_LEN + len - aad) % block);
    if (padding < AMK_PKT_MIN_PADDING)
        padding += block;
    plen = 1 + len + padding;
    total = 4 + plen;
    if ((r = amk_buf_reserve(&t->out, total + tag, &p)) != AMK_OK)
        goto out;
    store_u32(p, (uint32_t)plen);
    p[4] = (uint8_t)padding;
    if (hlen > 0)
        memcpy(p + PKT_HEADER_LEN, payload, hlen);
    if (dlen > 0)
        memcpy(p + PKT_HEADER_LEN + hlen, data, dlen);
    /* RFC 4253 §6: random padding. */
    if ((r = pad_bytes(t, p + PKT_HEADER_LEN + len, padding)) != AMK_OK)
        goto out;
    if (d->cipher != NULL &&
        (r = amk_pkt_seal(d->cipher, d->seq, p, total, p + total)) != AMK_OK)
        goto out;
    d->seq++;   /* RFC 4253 §6.4: wraps at 2^32 */
    if (d->seq == 0 && t->kex_count == 0)
        t->initial_wrap = 1;
    d->packets++;
    d->bytes += total + tag;
    d->total_bytes += total + tag;
    r = AMK_OK;
out:
    amk_buf_release(&z);
    amk_buf_release(&joined);
    return r;
}

int
amk_packet_next(struct amk_transport *t)
{
    struct amk_transport_dir *d = &t->dir_in;
    size_t lenbytes, block, aad, tag, total, avail;
    uint8_t *p;
    uint8_t padlen;
    size_t paylen;
    int r = AMK_EINTERNAL;

    block = dir_block(d);
    aad = dir_aad(d);
    tag = dir_tag(d);
    lenbytes = d->cipher != NULL ? amk_pkt_cipher_length_bytes(d->cipher) : 4;
    /* Packets before in_decoded were decoded already; this one follows. */
    avail = amk_inbuf_len(&t->in) - t->in_decoded;
    if (!t->have_len) {
        uint32_t plen;
        if (avail < lenbytes)
            return AMK_EAGAIN;
        p = amk_inbuf_ptr(&t->in) + t->in_decoded;
        if (d->cipher != NULL) {
            if ((r = amk_pkt_decrypt_length(d->cipher, d->seq, p, &plen)) != AMK_OK)
                return amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR,
                    "cannot decrypt packet length");
        } else {
            plen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
        /* Check the length before waiting for the rest (RFC 4253 §6.1). */
        if (plen > AMK_TRANSPORT_MAX_PACKET)
            return amk_transport_fail(t, AMK_ETOOBIG, AMK_DISCONNECT_PROTOCOL_ERROR,
                "packet length %u exceeds the limit of %zu", plen, AMK_TRANSPORT_MAX_PACKET);
        if (plen < 1 + AMK_PKT_MIN_PADDING || (4 + (size_t)plen - aad) % block != 0)
            return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
                "packet length %u is not a multiple of the block size %zu", plen, block);
        t->in_packet_len = plen;
        t->have_len = 1;
    }
    total = 4 + (size_t)t->in_packet_len;
    if (avail < total + tag)
        return AMK_EAGAIN;
    p = amk_inbuf_ptr(&t->in) + t->in_decoded;
    /* The tag is checked before anything in the packet is parsed; the
     * packet is decrypted where it was received. */
    if (d->cipher != NULL && (r = amk_pkt_open(d->cipher, d->seq, p, total, p + total)) != AMK_OK) {
        if (r == AMK_EMAC)
            return amk_transport_fail(t, AMK_EMAC, AMK_DISCONNECT_MAC_ERROR,
                "message authentication code incorrect (packet %u)", d->seq);
        return amk_transport_fail(t, r, AMK_DISCONNECT_PROTOCOL_ERROR, "cannot decrypt packet");
    }
    padlen = p[4];
    /* RFC 4253 §6: at least four bytes of padding, inside the packet. */
    if (padlen < AMK_PKT_MIN_PADDING || (size_t)padlen + 1 > t->in_packet_len)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "bad padding length %u in a packet of %u bytes", padlen, t->in_packet_len);
    paylen = t->in_packet_len - 1 - padlen;
    if (paylen == 0)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "packet without a message number");
    if (d->comp != NULL && !d->comp_delayed) {
        amk_buf_reset(&t->pkt);
        r = amk_compress_inflate(d->comp, p + PKT_HEADER_LEN, paylen, &t->pkt,
            AMK_TRANSPORT_MAX_PAYLOAD);
        if (r != AMK_OK)
            return amk_transport_fail(t, r, AMK_DISCONNECT_COMPRESSION_ERROR,
                "cannot decompress packet: %s", amk_strerror(r));
        t->pkt_payload = amk_buf_ptr(&t->pkt);
        t->pkt_len = amk_buf_len(&t->pkt);
        t->pkt_inline = 1;
    } else {
        t->pkt_payload = p + PKT_HEADER_LEN;
        t->pkt_len = paylen;
        t->pkt_inline = 0;
    }
    t->pkt_start = t->in_abs + t->in_decoded;
    t->in_decoded += total + tag;
    t->have_len = 0;
    d->seq++;   /* RFC 4253 §6.4: wraps at 2^32 */
    if (d->seq == 0 && t->kex_count == 0)
        t->initial_wrap = 1;
    d->packets++;
    d->bytes += total + tag;
    d->total_bytes += total + tag;
    t->packets_received++;
    /* A compressed payload can still inflate to nothing. */
    if (t->pkt_len == 0)
        return amk_transport_fail(t, AMK_EPROTO, AMK_DISCONNECT_PROTOCOL_ERROR,
            "packet without a message number");
    return AMK_OK;
}
