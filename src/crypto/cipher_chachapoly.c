/*
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305).
 *
 * The 64 bytes of key are K_2 (first 32, the main key) and K_1 (last 32,
 * the header key). Both ChaCha20 instances use the original 64-bit nonce
 * form with the nonce = sequence number as a uint64 (big-endian bytes).
 *   - packet_length is encrypted with K_1, block counter 0;
 *   - the Poly1305 key is the first 32 bytes of K_2's block 0;
 *   - the rest of the packet is encrypted with K_2 from block counter 1;
 *   - tag = Poly1305(encrypted length || encrypted rest), 16 bytes.
 * OpenSSL's "ChaCha20" takes a 16-byte IV that fills state words 12..15:
 * an 8-byte little-endian block counter followed by the 8 nonce bytes is
 * exactly DJB's 64-bit-counter, 64-bit-nonce layout.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/pkt_ops.h"
#include "util/secure.h"

#define CP_KEY_LEN 32           /* each of K_1 and K_2 */
#define CP_TAG_LEN 16           /* Poly1305 */
#define CP_BLOCK_LEN 64         /* one ChaCha20 block */
#define CP_IV_LEN 16            /* OpenSSL's counter || nonce */

struct chachapoly {
    EVP_CIPHER *chacha;
    EVP_CIPHER_CTX *main_ctx;   /* K_2: Poly1305 key and payload */
    EVP_CIPHER_CTX *hdr_ctx;    /* K_1: packet_length */
    EVP_MAC *poly;
    EVP_MAC_CTX *mac;
};

static const uint8_t zero_block[CP_BLOCK_LEN];

/* IV for block counter 0 and nonce = seq as a big-endian uint64. */
static void
cp_iv(uint8_t iv[CP_IV_LEN], uint32_t seq)
{
    memset(iv, 0, CP_IV_LEN);
    amk_pkt_store_be32(iv + 12, seq);   /* bytes 8..11 are the high half: 0 */
}

static void
cp_destroy(void *state)
{
    struct chachapoly *cp = state;

    if (cp == NULL)
        return;
    EVP_CIPHER_CTX_free(cp->main_ctx);  /* cleanses key schedules */
    EVP_CIPHER_CTX_free(cp->hdr_ctx);
    EVP_MAC_CTX_free(cp->mac);
    EVP_MAC_free(cp->poly);
    EVP_CIPHER_free(cp->chacha);
    free(cp);
}

static int
cp_create(void **state, const struct amk_pkt_alg *alg, const struct amk_mac_info *mac,
    int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
    struct chachapoly *cp = NULL;
    uint8_t zero_iv[CP_IV_LEN] = { 0 };
    int r = AMK_EINTERNAL;

    *state = NULL;
    if ((cp = calloc(1, sizeof(*cp))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((cp->chacha = EVP_CIPHER_fetch(NULL, alg->evp_name, NULL)) == NULL ||
        (cp->poly = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((cp->main_ctx = EVP_CIPHER_CTX_new()) == NULL ||
        (cp->hdr_ctx = EVP_CIPHER_CTX_new()) == NULL ||
        (cp->mac = EVP_MAC_CTX_new(cp->poly)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* A stream cipher: both directions run it forwards. */
    if (EVP_CipherInit_ex2(cp->main_ctx, cp->chacha, key, zero_iv, 1, NULL) != 1 ||
        EVP_CipherInit_ex2(cp->hdr_ctx, cp->chacha, key + CP_KEY_LEN, zero_iv, 1, NULL) != 1) {
        r = AMK_ECRYPTO;
        goto out;
    }
    *state = cp;
    cp = NULL;
    r = AMK_OK;
out:
    cp_destroy(cp);
    return r;
}

/* XORs @p len bytes with @p ctx's keystream from the start of its current position. */
static int
cp_xor(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    int n = 0;

    if (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len)
        return AMK_ECRYPTO;
    return AMK_OK;
}

/*
 * Resets K_2 to block 0 of @p seq and draws the Poly1305 key, leaving the
 * keystream at block 1 for the payload.
 */
static int
cp_start_main(struct chachapoly *cp, uint32_t seq, uint8_t polykey[CP_BLOCK_LEN])
{
    uint8_t iv[CP_IV_LEN];

    cp_iv(iv, seq);
    if (EVP_CipherInit_ex2(cp->main_ctx, NULL, NULL, iv, 1, NULL) != 1)
        return AMK_ECRYPTO;
    return cp_xor(cp->main_ctx, polykey, zero_block, CP_BLOCK_LEN);
}

static int
cp_poly(struct chachapoly *cp, const uint8_t *polykey, const uint8_t *data, size_t len,
    uint8_t tag[CP_TAG_LEN])
{
    size_t n = 0;

    if (EVP_MAC_init(cp->mac, polykey, CP_KEY_LEN, NULL) != 1 ||
        EVP_MAC_update(cp->mac, data, len) != 1 ||
        EVP_MAC_final(cp->mac, tag, &n, CP_TAG_LEN) != 1 || n != CP_TAG_LEN)
        return AMK_ECRYPTO;
    return AMK_OK;
}

static int
cp_crypt_length(struct chachapoly *cp, uint32_t seq, uint8_t *out, const uint8_t *in)
{
    uint8_t iv[CP_IV_LEN];

    cp_iv(iv, seq);
    if (EVP_CipherInit_ex2(cp->hdr_ctx, NULL, NULL, iv, 1, NULL) != 1)
        return AMK_ECRYPTO;
    return cp_xor(cp->hdr_ctx, out, in, AMK_PKT_LENGTH_FIELD);
}

static int
cp_decrypt_length(void *state, uint32_t seq, uint8_t *head, uint32_t *packet_length)
{
    struct chachapoly *cp = state;
    uint8_t plain[AMK_PKT_LENGTH_FIELD];
    int r = AMK_EINTERNAL;

    /* The buffer stays encrypted: the tag covers the encrypted length. */
    if ((r = cp_crypt_length(cp, seq, plain, head)) != AMK_OK)
        goto out;
    *packet_length = amk_pkt_load_be32(plain);
    r = AMK_OK;
out:
    amk_wipe(plain, sizeof(plain));
    return r;
}

static int
cp_open(void *state, uint32_t seq, uint8_t *pkt, size_t len, const uint8_t *tag)
{
    struct chachapoly *cp = state;
    uint8_t polykey[CP_BLOCK_LEN], want[CP_TAG_LEN];
    int r = AMK_EINTERNAL;

    if ((r = cp_start_main(cp, seq, polykey)) != AMK_OK ||
        (r = cp_poly(cp, polykey, pkt, len, want)) != AMK_OK)
        goto out;
    /* PROTOCOL.chacha20poly1305: check the tag before decrypting anything. */
    if (!amk_ct_equal(want, tag, CP_TAG_LEN)) {
        r = AMK_EMAC;
        goto out;
    }
    if ((r = cp_crypt_length(cp, seq, pkt, pkt)) != AMK_OK ||
        (r = cp_xor(cp->main_ctx, pkt + AMK_PKT_LENGTH_FIELD, pkt + AMK_PKT_LENGTH_FIELD,
            len - AMK_PKT_LENGTH_FIELD)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(polykey, sizeof(polykey));
    return r;
}

static int
cp_seal(void *state, uint32_t seq, uint8_t *pkt, size_t len, uint8_t *tag)
{
    struct chachapoly *cp = state;
    uint8_t polykey[CP_BLOCK_LEN];
    int r = AMK_EINTERNAL;

    if ((r = cp_crypt_length(cp, seq, pkt, pkt)) != AMK_OK ||
        (r = cp_start_main(cp, seq, polykey)) != AMK_OK ||
        (r = cp_xor(cp->main_ctx, pkt + AMK_PKT_LENGTH_FIELD, pkt + AMK_PKT_LENGTH_FIELD,
            len - AMK_PKT_LENGTH_FIELD)) != AMK_OK ||
        (r = cp_poly(cp, polykey, pkt, len, tag)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(polykey, sizeof(polykey));
    return r;
}

const struct amk_pkt_ops amk_pkt_ops_chachapoly = {
    .create = cp_create,
    .destroy = cp_destroy,
    .decrypt_length = cp_decrypt_length,
    .open = cp_open,
    .seal = cp_seal,
};
