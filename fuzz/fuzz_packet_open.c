/*
 * Fuzz target for the packet ciphers (src/crypto/pkt_cipher.c and the
 * constructions behind it), fed as the transport would feed a received
 * packet. Input layout:
 *   byte 0      bits 0-5: which cipher/MAC pair (all supported pairs);
 *               bit 7: "sealed" mode
 *   bytes 1-4   sequence number
 *   bytes 5-6   (sealed mode only) bit to flip, 0xffff for none
 *   rest        the received bytes (raw mode) or a payload (sealed mode)
 * Raw mode: decrypt_length, bounds check, open on a buffer of exactly the
 * received size; must never crash or read out of bounds.
 * Sealed mode: the payload is sealed with the matching sending key, one
 * bit may be flipped, and then it is received: an untouched packet MUST
 * open to the same bytes, a flipped one MUST give AMK_EMAC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/error.h>

#include "crypto/cipher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PACKET 35000        /* RFC 4253 §6.1: at least 35000 must be accepted */
#define HEADER_LEN 7

struct pair {
    char cipher[64];
    char mac[64];
};

static struct pair pairs[64];
static size_t npairs;

static void
init_pairs(void)
{
    char ciphers[512], macs[512];
    char *s1 = NULL;

    snprintf(ciphers, sizeof(ciphers), "%s", amk_cipher_names());
    for (char *c = strtok_r(ciphers, ",", &s1); c != NULL; c = strtok_r(NULL, ",", &s1)) {
        char *s2 = NULL;
        if (amk_cipher_info_find(c)->tag_len > 0) {
            snprintf(pairs[npairs].cipher, sizeof(pairs[npairs].cipher), "%s", c);
            pairs[npairs++].mac[0] = '\0';
            continue;
        }
        snprintf(macs, sizeof(macs), "%s", amk_mac_names());
        for (char *m = strtok_r(macs, ",", &s2); m != NULL && npairs < 64;
             m = strtok_r(NULL, ",", &s2)) {
            snprintf(pairs[npairs].cipher, sizeof(pairs[npairs].cipher), "%s", c);
            snprintf(pairs[npairs++].mac, sizeof(pairs[npairs].mac), "%s", m);
        }
    }
}

static struct amk_pkt_cipher *
make(const struct pair *p, int encrypt)
{
    static const uint8_t key[AMK_CIPHER_MAX_KEY_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89 };
    static const uint8_t iv[AMK_CIPHER_MAX_IV_LEN] = { 0xfe, 0xdc, 0xba, 0x98 };
    static const uint8_t mkey[AMK_MAC_MAX_KEY_LEN] = { 0x55, 0xaa };
    struct amk_pkt_cipher *c = NULL;

    if (amk_pkt_cipher_new(&c, p->cipher, p->mac[0] ? p->mac : NULL, encrypt,
            key, iv, mkey) != AMK_OK)
        abort();
    return c;
}

/* Receives @p len bytes at @p wire as one packet; returns the open() result or 1 if skipped. */
static int
receive(struct amk_pkt_cipher *dec, uint32_t seq, uint8_t *wire, size_t len, size_t *pkt_len)
{
    size_t lb = amk_pkt_cipher_length_bytes(dec), tl = amk_pkt_cipher_tag_len(dec);
    uint32_t plen;

    if (len < lb || len < 4 + tl)
        return 1;
    if (amk_pkt_decrypt_length(dec, seq, wire, &plen) != AMK_OK)
        abort();
    /* The transport's bounds check on the unauthenticated length. */
    if (plen > MAX_PACKET || plen > len - tl - 4)
        return 1;
    *pkt_len = 4 + (size_t)plen;
    return amk_pkt_open(dec, seq, wire, *pkt_len, wire + *pkt_len);
}

static void
run_raw(const struct pair *p, uint32_t seq, const uint8_t *body, size_t len)
{
    struct amk_pkt_cipher *dec = make(p, 0);
    uint8_t *wire = malloc(len > 0 ? len : 1);   /* exact size: ASan sees any over-read */
    size_t pkt_len = 0;
    int r;

    if (wire == NULL)
        abort();
    memcpy(wire, body, len);
    r = receive(dec, seq, wire, len, &pkt_len);
    /* Random bytes essentially never authenticate; anything else must be a clean refusal. */
    if (r != 1 && r != AMK_OK && r != AMK_EMAC && r != AMK_EPROTO)
        abort();
    free(wire);
    amk_pkt_cipher_free(dec);
}

static void
run_sealed(const struct pair *p, uint32_t seq, unsigned flip, const uint8_t *payload, size_t plen)
{
    struct amk_pkt_cipher *enc = make(p, 1), *dec = make(p, 0);
    size_t bs = amk_pkt_cipher_block_size(enc), aad = amk_pkt_cipher_aad_len(enc);
    size_t tl = amk_pkt_cipher_tag_len(enc), pad, len, got_len = 0;
    uint8_t *wire, *plain;
    int r;

    if (plen > MAX_PACKET - 64)
        plen = MAX_PACKET - 64;
    pad = bs - (4 + 1 + plen - aad) % bs;
    if (pad < 4)
        pad += bs;
    len = 4 + 1 + plen + pad;
    if ((wire = malloc(len + tl)) == NULL || (plain = malloc(len)) == NULL)
        abort();
    wire[0] = (uint8_t)((len - 4) >> 24);
    wire[1] = (uint8_t)((len - 4) >> 16);
    wire[2] = (uint8_t)((len - 4) >> 8);
    wire[3] = (uint8_t)(len - 4);
    wire[4] = (uint8_t)pad;
    memcpy(wire + 5, payload, plen);
    memset(wire + 5 + plen, 0, pad);
    memcpy(plain, wire, len);
    if (amk_pkt_seal(enc, seq, wire, len, wire + len) != AMK_OK)
        abort();
    if (flip != 0xffff)
        wire[(flip / 8) % (len + tl)] ^= (uint8_t)(1u << (flip % 8));
    r = receive(dec, seq, wire, len + tl, &got_len);
    if (flip == 0xffff) {
        if (r != AMK_OK || got_len != len || memcmp(wire, plain, len) != 0)
            abort();
    } else if (r != 1 && r != AMK_EMAC && r != AMK_EPROTO) {
        abort();   /* a flipped bit was accepted */
    }
    free(wire);
    free(plain);
    amk_pkt_cipher_free(enc);
    amk_pkt_cipher_free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct pair *p;
    uint32_t seq;

    if (npairs == 0)
        init_pairs();
    if (size < HEADER_LEN)
        return 0;
    p = &pairs[(data[0] & 0x3f) % npairs];
    seq = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    if (data[0] & 0x80)
        run_sealed(p, seq, (unsigned)data[5] << 8 | data[6], data + HEADER_LEN, size - HEADER_LEN);
    else
        run_raw(p, seq, data + 5, size - 5);
    return 0;
}
