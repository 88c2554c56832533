/*
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com: RFC 5647 with the
 * changes of OpenSSH PROTOCOL §1.6 (the MAC is implied by the cipher name).
 *
 * RFC 5647 §7.1: the 12-byte nonce is a 4-byte fixed field followed by an
 * 8-byte big-endian invocation counter, both initialised from the KEX IV;
 * the counter is incremented (mod 2^64) after each packet.
 * RFC 5647 §7.3: packet_length is sent in clear as additional authenticated
 * data; the rest of the packet is encrypted; the tag is 16 bytes.
 *
 * GCM cannot check its tag before producing plaintext without a second
 * pass, so open() decrypts in place and, when the tag is wrong, wipes the
 * buffer before returning AMK_EMAC: no unauthenticated plaintext escapes.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/pkt_ops.h"
#include "util/secure.h"

#define GCM_IV_LEN 12
#define GCM_FIXED_LEN 4
#define GCM_TAG_LEN 16

struct aesgcm {
    EVP_CIPHER *aes;
    EVP_CIPHER_CTX *ctx;        /* keyed once; the IV is set per packet */
    uint8_t iv[GCM_IV_LEN];     /* fixed || invocation_counter */
};

static void
gcm_destroy(void *state)
{
    struct aesgcm *g = state;

    if (g == NULL)
        return;
    EVP_CIPHER_CTX_free(g->ctx);
    EVP_CIPHER_free(g->aes);
    amk_wipe(g, sizeof(*g));
    free(g);
}

static int
gcm_create(void **state, const struct amk_pkt_alg *alg, const struct amk_mac_info *mac,
    int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
    struct aesgcm *g = NULL;
    int r = AMK_EINTERNAL;

    *state = NULL;
    if ((g = calloc(1, sizeof(*g))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    memcpy(g->iv, iv, GCM_IV_LEN);
    if ((g->aes = EVP_CIPHER_fetch(NULL, alg->evp_name, NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((g->ctx = EVP_CIPHER_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_CipherInit_ex2(g->ctx, g->aes, key, NULL, encrypt, NULL) != 1) {
        r = AMK_ECRYPTO;
        goto out;
    }
    *state = g;
    g = NULL;
    r = AMK_OK;
out:
    gcm_destroy(g);
    return r;
}

/* RFC 5647 §7.1: invocation_counter += 1 (mod 2^64), after every packet. */
static void
gcm_next_iv(struct aesgcm *g)
{
    for (size_t i = GCM_IV_LEN; i-- > GCM_FIXED_LEN;) {
        if (++g->iv[i] != 0)
            break;
    }
}

/* Starts a packet: sets the nonce and feeds packet_length as AAD. */
static int
gcm_start(struct aesgcm *g, const uint8_t *pkt)
{
    int n = 0;

    if (EVP_CipherInit_ex2(g->ctx, NULL, NULL, g->iv, -1, NULL) != 1 ||
        EVP_CipherUpdate(g->ctx, NULL, &n, pkt, AMK_PKT_LENGTH_FIELD) != 1)
        return AMK_ECRYPTO;
    return AMK_OK;
}

static int
gcm_decrypt_length(void *state, uint32_t seq, uint8_t *head, uint32_t *packet_length)
{
    /* RFC 5647 §7.3: packet_length is not encrypted. */
    *packet_length = amk_pkt_load_be32(head);
    return AMK_OK;
}

static int
gcm_open(void *state, uint32_t seq, uint8_t *pkt, size_t len, const uint8_t *tag)
{
    struct aesgcm *g = state;
    uint8_t *body = pkt + AMK_PKT_LENGTH_FIELD;
    size_t body_len = len - AMK_PKT_LENGTH_FIELD;
    uint8_t tagbuf[GCM_TAG_LEN], fin[GCM_TAG_LEN];
    int n = 0, r = AMK_EINTERNAL;

    memcpy(tagbuf, tag, GCM_TAG_LEN);
    if ((r = gcm_start(g, pkt)) != AMK_OK)
        goto out;
    r = AMK_ECRYPTO;
    if (EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, tagbuf) != 1 ||
        EVP_CipherUpdate(g->ctx, body, &n, body, (int)body_len) != 1 || (size_t)n != body_len)
        goto out;
    /* The tag is compared inside OpenSSL's final step, in constant time. */
    if (EVP_CipherFinal_ex(g->ctx, fin, &n) != 1) {
        amk_wipe(body, body_len);
        r = AMK_EMAC;
        goto out;
    }
    r = AMK_OK;
out:
    gcm_next_iv(g);
    return r;
}

static int
gcm_seal(void *state, uint32_t seq, uint8_t *pkt, size_t len, uint8_t *tag)
{
    struct aesgcm *g = state;
    uint8_t *body = pkt + AMK_PKT_LENGTH_FIELD;
    size_t body_len = len - AMK_PKT_LENGTH_FIELD;
    uint8_t fin[GCM_TAG_LEN];
    int n = 0, r = AMK_EINTERNAL;

    if ((r = gcm_start(g, pkt)) != AMK_OK)
        goto out;
    r = AMK_ECRYPTO;
    if (EVP_CipherUpdate(g->ctx, body, &n, body, (int)body_len) != 1 || (size_t)n != body_len ||
        EVP_CipherFinal_ex(g->ctx, fin, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, tag) != 1)
        goto out;
    r = AMK_OK;
out:
    gcm_next_iv(g);
    return r;
}

const struct amk_pkt_ops amk_pkt_ops_aesgcm = {
    .create = gcm_create,
    .destroy = gcm_destroy,
    .decrypt_length = gcm_decrypt_length,
    .open = gcm_open,
    .seal = gcm_seal,
};
