/* see keyfile_cipher.h */
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "crypto/keyfile_cipher.h"
#include "util/secure.h"

enum {
    MODE_NONE = 0,
    MODE_AES128_CTR,
    MODE_AES192_CTR,
    MODE_AES256_CTR,
    MODE_AES128_CBC,
    MODE_AES192_CBC,
    MODE_AES256_CBC,
    MODE_AES128_GCM,
    MODE_AES256_GCM,
    MODE_CHACHAPOLY
};

#define AES_BLOCK 16
#define GCM_IV_LEN 12               /* RFC 5647 §7.1 */
#define GCM_TAG_LEN 16
#define CHACHA_KEY_LEN 32
#define POLY1305_KEY_LEN 32
#define POLY1305_TAG_LEN 16
#define CHACHA_BLOCK 8              /* OpenSSH PROTOCOL.chacha20poly1305: block size 8 */

static const struct amk_keyfile_cipher keyfile_ciphers[] = {
    { .name = "none", .key_len = 0, .iv_len = 0, .block_size = 8, .tag_len = 0,
      .mode = MODE_NONE },
    { .name = "aes128-ctr", .key_len = 16, .iv_len = 16, .block_size = 16, .mode = MODE_AES128_CTR },
    { .name = "aes192-ctr", .key_len = 24, .iv_len = 16, .block_size = 16, .mode = MODE_AES192_CTR },
    { .name = "aes256-ctr", .key_len = 32, .iv_len = 16, .block_size = 16, .mode = MODE_AES256_CTR },
    { .name = "aes128-cbc", .key_len = 16, .iv_len = 16, .block_size = 16, .mode = MODE_AES128_CBC },
    { .name = "aes192-cbc", .key_len = 24, .iv_len = 16, .block_size = 16, .mode = MODE_AES192_CBC },
    { .name = "aes256-cbc", .key_len = 32, .iv_len = 16, .block_size = 16, .mode = MODE_AES256_CBC },
    { .name = "aes128-gcm@openssh.com", .key_len = 16, .iv_len = GCM_IV_LEN, .block_size = 16,
      .tag_len = GCM_TAG_LEN, .mode = MODE_AES128_GCM },
    { .name = "aes256-gcm@openssh.com", .key_len = 32, .iv_len = GCM_IV_LEN, .block_size = 16,
      .tag_len = GCM_TAG_LEN, .mode = MODE_AES256_GCM },
    /* PROTOCOL.chacha20poly1305: 64 bytes of key, K_2 (the first 32) for
     * the payload; K_1 only encrypts packet lengths, which a key file has not. */
    { .name = "chacha20-poly1305@openssh.com", .key_len = 64, .iv_len = 0,
      .block_size = CHACHA_BLOCK, .tag_len = POLY1305_TAG_LEN, .mode = MODE_CHACHAPOLY },
};

const struct amk_keyfile_cipher *
amk_keyfile_cipher_find(const char *name)
{
    for (size_t i = 0; i < sizeof(keyfile_ciphers) / sizeof(keyfile_ciphers[0]); i++)
        if (strcmp(keyfile_ciphers[i].name, name) == 0)
            return &keyfile_ciphers[i];
    return NULL;
}

static const EVP_CIPHER *
evp_for(int mode)
{
    switch (mode) {
    case MODE_AES128_CTR: return EVP_aes_128_ctr();
    case MODE_AES192_CTR: return EVP_aes_192_ctr();
    case MODE_AES256_CTR: return EVP_aes_256_ctr();
    case MODE_AES128_CBC: return EVP_aes_128_cbc();
    case MODE_AES192_CBC: return EVP_aes_192_cbc();
    case MODE_AES256_CBC: return EVP_aes_256_cbc();
    case MODE_AES128_GCM: return EVP_aes_128_gcm();
    case MODE_AES256_GCM: return EVP_aes_256_gcm();
    default: return NULL;
    }
}

/* Plain CTR/CBC, no padding: the caller pads. */
static int
crypt_plain(const struct amk_keyfile_cipher *c, int encrypt, const uint8_t *key,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, r = amk_ossl_error(AMK_ECRYPTO);

    if (len > INT32_MAX)
        return AMK_EINVAL;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        return AMK_ENOMEM;
    if (EVP_CipherInit_ex(ctx, evp_for(c->mode), NULL, key, iv, encrypt) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        goto out;
    r = AMK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

/* AES-GCM with the derived 12-byte IV as is and no AAD (RFC 5647 §7.1 with
 * OpenSSH's key-file use: one message, invocation counter unused). */
static int
crypt_gcm(const struct amk_keyfile_cipher *c, int encrypt, const uint8_t *key,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t tagcopy[GCM_TAG_LEN];
    int outl = 0, finl = 0, r = amk_ossl_error(AMK_ECRYPTO);

    if (len > INT32_MAX)
        return AMK_EINVAL;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        return AMK_ENOMEM;
    if (EVP_CipherInit_ex(ctx, evp_for(c->mode), NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, encrypt) != 1)
        goto out;
    if (!encrypt) {
        memcpy(tagcopy, tag, sizeof(tagcopy));
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tagcopy) != 1)
            goto out;
    }
    if (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1) {
        /* Decryption: the tag did not match; discard what was produced. */
        amk_wipe(out, len);
        r = encrypt ? AMK_ECRYPTO : AMK_EMAC;
        goto out;
    }
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag) != 1)
        goto out;
    r = AMK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

/*
 * ChaCha20 in OpenSSH's (original, 64-bit nonce and counter) form through
 * OpenSSL's RFC 8439 one: OpenSSL's 16-byte IV is counter (32-bit LE) then
 * nonce (96 bits); the original layout is counter (64-bit LE) then nonce
 * (64 bits), the same state words when the counter stays below 2^32.
 * The nonce is the sequence number, 0 here.
 */
static int
chacha20(const uint8_t key[CHACHA_KEY_LEN], uint32_t counter, const uint8_t *in, size_t len,
    uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t iv[16] = { 0 };
    int outl = 0, r = amk_ossl_error(AMK_ECRYPTO);

    if (len > INT32_MAX)
        return AMK_EINVAL;
    iv[0] = (uint8_t)counter;
    iv[1] = (uint8_t)(counter >> 8);
    iv[2] = (uint8_t)(counter >> 16);
    iv[3] = (uint8_t)(counter >> 24);
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        return AMK_ENOMEM;
    if (EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) != 1 ||
        EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
        goto out;
    r = AMK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

static int
poly1305(const uint8_t key[POLY1305_KEY_LEN], const uint8_t *msg, size_t len,
    uint8_t tag[POLY1305_TAG_LEN])
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    size_t outl = 0;
    int r = amk_ossl_error(AMK_ECRYPTO);

    if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL)
        goto out;
    if ((ctx = EVP_MAC_CTX_new(mac)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_MAC_init(ctx, key, POLY1305_KEY_LEN, NULL) != 1 ||
        EVP_MAC_update(ctx, msg, len) != 1 ||
        EVP_MAC_final(ctx, tag, &outl, POLY1305_TAG_LEN) != 1 || outl != POLY1305_TAG_LEN)
        goto out;
    r = AMK_OK;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return r;
}

/* PROTOCOL.chacha20poly1305 with no length field: Poly1305 keyed by the
 * first 32 bytes of the K_2 keystream block 0, over the ciphertext, which
 * is encrypted from block 1. */
static int
crypt_chachapoly(int encrypt, const uint8_t *key, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t *tag)
{
    static const uint8_t zeros[POLY1305_KEY_LEN];
    uint8_t polykey[POLY1305_KEY_LEN], expect[POLY1305_TAG_LEN];
    int r = AMK_EINTERNAL;

    if ((r = chacha20(key, 0, zeros, sizeof(zeros), polykey)) != AMK_OK)
        goto out;
    if (!encrypt) {
        if ((r = poly1305(polykey, in, len, expect)) != AMK_OK)
            goto out;
        if (!amk_ct_equal(expect, tag, POLY1305_TAG_LEN)) {
            r = AMK_EMAC;
            goto out;
        }
    }
    if ((r = chacha20(key, 1, in, len, out)) != AMK_OK)
        goto out;
    if (encrypt && (r = poly1305(polykey, out, len, tag)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(polykey, sizeof(polykey));
    amk_wipe(expect, sizeof(expect));
    return r;
}

int
amk_keyfile_crypt(const struct amk_keyfile_cipher *c, int encrypt, const uint8_t *key,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    if (c->block_size == 0 || len % c->block_size != 0)
        return AMK_EINVAL;
    switch (c->mode) {
    case MODE_NONE:
        if (out != in && len > 0)
            memmove(out, in, len);
        return AMK_OK;
    case MODE_AES128_GCM:
    case MODE_AES256_GCM:
        return crypt_gcm(c, encrypt, key, iv, in, len, out, tag);
    case MODE_CHACHAPOLY:
        return crypt_chachapoly(encrypt, key, in, len, out, tag);
    default:
        return crypt_plain(c, encrypt, key, iv, in, len, out);
    }
}
