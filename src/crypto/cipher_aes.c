/*
 * aes128/192/256-ctr (RFC 4344 §4) and aes128/192/256-cbc (RFC 4253 §6.3,
 * legacy), each combined with an hmac-* MAC (RFC 4253 §6.4, RFC 6668).
 *
 * Both modes carry their state across packets: the CTR counter keeps
 * counting (RFC 4344 §4) and CBC chains from the last ciphertext block
 * (RFC 4253 §6.3), so every byte goes through the one EVP context exactly
 * once and in order.
 *
 * Encrypt-and-MAC (RFC 4253 §6.4): the whole packet is encrypted, and
 * mac = MAC(seq || plaintext packet). The receiver must decrypt the first
 * block to learn the length; decrypt_length() does that in place.
 * Encrypt-then-MAC (OpenSSH PROTOCOL §1.5, *-etm@openssh.com):
 * packet_length is sent in clear, the rest is encrypted, and
 * mac = MAC(seq || packet_length || ciphertext), checked before decrypting.
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/mac.h"
#include "crypto/pkt_ops.h"
#include "util/secure.h"

struct aes_pkt {
    EVP_CIPHER *aes;
    EVP_CIPHER_CTX *ctx;
    struct amk_pkt_mac *mac;
    size_t block;
    int etm;
    int head_done;      /* decrypt_length() already decrypted this packet's first block */
};

static void
aes_destroy(void *state)
{
    struct aes_pkt *a = state;

    if (a == NULL)
        return;
    EVP_CIPHER_CTX_free(a->ctx);
    EVP_CIPHER_free(a->aes);
    amk_pkt_mac_free(a->mac);
    free(a);
}

static int
aes_create(void **state, const struct amk_pkt_alg *alg, const struct amk_mac_info *mac,
    int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
    struct aes_pkt *a = NULL;
    int r = AMK_EINTERNAL;

    *state = NULL;
    if ((a = calloc(1, sizeof(*a))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    a->block = alg->info.block_size;
    a->etm = mac->etm;
    if ((r = amk_pkt_mac_new(&a->mac, mac, mac_key)) != AMK_OK)
        goto out;
    if ((a->aes = EVP_CIPHER_fetch(NULL, alg->evp_name, NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((a->ctx = EVP_CIPHER_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* SSH pads packets itself (RFC 4253 §6): no cipher-level padding. */
    if (EVP_CipherInit_ex2(a->ctx, a->aes, key, iv, encrypt, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(a->ctx, 0) != 1) {
        r = AMK_ECRYPTO;
        goto out;
    }
    *state = a;
    a = NULL;
    r = AMK_OK;
out:
    aes_destroy(a);
    return r;
}

static int
aes_crypt(struct aes_pkt *a, uint8_t *p, size_t len)
{
    int n = 0;

    if (len == 0)
        return AMK_OK;
    if (EVP_CipherUpdate(a->ctx, p, &n, p, (int)len) != 1 || (size_t)n != len)
        return AMK_ECRYPTO;
    return AMK_OK;
}

static int
aes_decrypt_length(void *state, uint32_t seq, uint8_t *head, uint32_t *packet_length)
{
    struct aes_pkt *a = state;
    int r = AMK_EINTERNAL;

    if (!a->etm && !a->head_done) {
        /* RFC 4253 §6: the length is inside the first encrypted block. */
        if ((r = aes_crypt(a, head, a->block)) != AMK_OK)
            return r;
        a->head_done = 1;
    }
    *packet_length = amk_pkt_load_be32(head);
    return AMK_OK;
}

static int
aes_open(void *state, uint32_t seq, uint8_t *pkt, size_t len, const uint8_t *tag)
{
    struct aes_pkt *a = state;
    size_t done = a->head_done ? a->block : 0;
    int r = AMK_EINTERNAL;

    a->head_done = 0;
    if (a->etm) {
        /* OpenSSH PROTOCOL §1.5: verify MAC(seq || length || ciphertext) first. */
        if ((r = amk_pkt_mac_verify(a->mac, seq, pkt, len, tag)) != AMK_OK)
            return r;
        return aes_crypt(a, pkt + AMK_PKT_LENGTH_FIELD, len - AMK_PKT_LENGTH_FIELD);
    }
    /* RFC 4253 §6.4: the MAC covers the plaintext, so decrypt first ... */
    if ((r = aes_crypt(a, pkt + done, len - done)) != AMK_OK)
        return r;
    /* ... and wipe it when the MAC is wrong, so no forged plaintext escapes. */
    if ((r = amk_pkt_mac_verify(a->mac, seq, pkt, len, tag)) == AMK_EMAC)
        amk_wipe(pkt, len);
    return r;
}

static int
aes_seal(void *state, uint32_t seq, uint8_t *pkt, size_t len, uint8_t *tag)
{
    struct aes_pkt *a = state;
    int r = AMK_EINTERNAL;

    if (a->etm) {
        if ((r = aes_crypt(a, pkt + AMK_PKT_LENGTH_FIELD, len - AMK_PKT_LENGTH_FIELD)) != AMK_OK)
            return r;
        return amk_pkt_mac_compute(a->mac, seq, pkt, len, tag);
    }
    if ((r = amk_pkt_mac_compute(a->mac, seq, pkt, len, tag)) != AMK_OK)
        return r;
    return aes_crypt(a, pkt, len);
}

const struct amk_pkt_ops amk_pkt_ops_aes = {
    .create = aes_create,
    .destroy = aes_destroy,
    .decrypt_length = aes_decrypt_length,
    .open = aes_open,
    .seal = aes_seal,
};
