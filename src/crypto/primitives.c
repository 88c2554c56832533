/* see crypto/primitives.h */
#include "crypto/primitives.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/secure.h"

static const char *
aes_name(size_t keylen, const char *mode)
{
    static const char *const names[3][3] = {
        { "AES-128-CTR", "AES-128-CBC", "AES-128-GCM" },
        { "AES-192-CTR", "AES-192-CBC", "AES-192-GCM" },
        { "AES-256-CTR", "AES-256-CBC", "AES-256-GCM" },
    };
    int m = strcmp(mode, "CTR") == 0 ? 0 : strcmp(mode, "CBC") == 0 ? 1 : 2;

    switch (keylen) {
    case 16: return names[0][m];
    case 24: return names[1][m];
    case 32: return names[2][m];
    }
    return NULL;
}

/* Runs one cipher over @p len bytes (no padding) with optional AAD and tag. */
static int
run_cipher(const char *name, const uint8_t *key, const uint8_t *iv, int encrypt,
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t *tag_out, const uint8_t *tag_in, size_t tag_len)
{
    EVP_CIPHER *cipher = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t tagbuf[16], fin[32];
    int n = 0, r = AMK_EINTERNAL;

    if (name == NULL)
        return AMK_ENOTSUP;
    if (len > INT_MAX - 64 || aad_len > INT_MAX || (len > 0 && (in == NULL || out == NULL)))
        return AMK_EINVAL;
    if ((cipher = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    r = amk_ossl_error(AMK_ECRYPTO);
    if (EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        goto out;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    if (len > 0 && (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len))
        goto out;
    if (tag_in != NULL) {
        memcpy(tagbuf, tag_in, tag_len);
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, tagbuf) != 1)
            goto out;
    }
    if (EVP_CipherFinal_ex(ctx, fin, &n) != 1) {
        if (tag_in != NULL) {
            amk_wipe(out, len);
            r = AMK_EMAC;
        }
        goto out;
    }
    if (tag_out != NULL &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, tag_out) != 1)
        goto out;
    r = AMK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    return r;
}

int
amk_chacha20_xor(const uint8_t key[AMK_CHACHA20_KEY_LEN],
    const uint8_t state_iv[AMK_CHACHA20_STATE_IV_LEN], const uint8_t *in, uint8_t *out, size_t len)
{
    /* OpenSSL's ChaCha20 IV is exactly state words 12..15. */
    return run_cipher("ChaCha20", key, state_iv, 1, NULL, 0, in, out, len, NULL, NULL, 0);
}

int
amk_poly1305(const uint8_t key[AMK_POLY1305_KEY_LEN], const uint8_t *msg, size_t len,
    uint8_t tag[AMK_POLY1305_TAG_LEN])
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    size_t n = 0;
    int r = AMK_EINTERNAL;

    if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((ctx = EVP_MAC_CTX_new(mac)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_MAC_init(ctx, key, AMK_POLY1305_KEY_LEN, NULL) != 1 ||
        EVP_MAC_update(ctx, msg, len) != 1 ||
        EVP_MAC_final(ctx, tag, &n, AMK_POLY1305_TAG_LEN) != 1 || n != AMK_POLY1305_TAG_LEN) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    r = AMK_OK;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return r;
}

int
amk_aes_ctr_xor(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_AES_BLOCK_LEN],
    const uint8_t *in, uint8_t *out, size_t len)
{
    return run_cipher(aes_name(keylen, "CTR"), key, iv, 1, NULL, 0, in, out, len, NULL, NULL, 0);
}

int
amk_aes_cbc(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_AES_BLOCK_LEN],
    int encrypt, const uint8_t *in, uint8_t *out, size_t len)
{
    if (len % AMK_AES_BLOCK_LEN != 0)
        return AMK_EINVAL;
    return run_cipher(aes_name(keylen, "CBC"), key, iv, encrypt != 0, NULL, 0, in, out, len,
        NULL, NULL, 0);
}

int
amk_aes_gcm_seal(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_GCM_IV_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t tag[AMK_GCM_TAG_LEN])
{
    return run_cipher(aes_name(keylen, "GCM"), key, iv, 1, aad, aad_len, in, out, len,
        tag, NULL, AMK_GCM_TAG_LEN);
}

int
amk_aes_gcm_open(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_GCM_IV_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    const uint8_t tag[AMK_GCM_TAG_LEN])
{
    return run_cipher(aes_name(keylen, "GCM"), key, iv, 0, aad, aad_len, in, out, len,
        NULL, tag, AMK_GCM_TAG_LEN);
}
