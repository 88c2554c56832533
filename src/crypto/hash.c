/* see crypto/hash.h */
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/alloc.h"
#include "util/secure.h"

struct amk_hash_ctx {
    enum amk_hash_alg alg;
    EVP_MD *md;             /* fetched once for the life of the context */
    EVP_MD_CTX *ctx;
};

struct amk_hmac_ctx {
    enum amk_hash_alg alg;
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;       /* holds the keyed state; init restarts a message */
};

static const char *
hash_name(enum amk_hash_alg alg)
{
    switch (alg) {
    case AMK_HASH_MD5: return "MD5";            /* RFC 1321 */
    case AMK_HASH_SHA1: return "SHA1";          /* FIPS 180-4 */
    case AMK_HASH_SHA256: return "SHA2-256";
    case AMK_HASH_SHA384: return "SHA2-384";
    case AMK_HASH_SHA512: return "SHA2-512";
    }
    return NULL;
}

size_t
amk_hash_len(enum amk_hash_alg alg)
{
    switch (alg) {
    case AMK_HASH_MD5: return 16;
    case AMK_HASH_SHA1: return 20;
    case AMK_HASH_SHA256: return 32;
    case AMK_HASH_SHA384: return 48;
    case AMK_HASH_SHA512: return 64;
    }
    return 0;
}

int
amk_hash(enum amk_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
    struct amk_hash_ctx *ctx = NULL;
    int r = AMK_EINTERNAL;

    if ((r = amk_hash_new(&ctx, alg)) != AMK_OK ||
        (r = amk_hash_update(ctx, data, len)) != AMK_OK ||
        (r = amk_hash_final(ctx, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_hash_free(ctx);
    return r;
}

int
amk_hash_new(struct amk_hash_ctx **out, enum amk_hash_alg alg)
{
    struct amk_hash_ctx *ctx = NULL;
    const char *name = hash_name(alg);
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (name == NULL)
        return AMK_ENOTSUP;
    if ((ctx = amk_calloc(1, sizeof(*ctx))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    ctx->alg = alg;
    if ((ctx->md = EVP_MD_fetch(NULL, name, NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((ctx->ctx = EVP_MD_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex2(ctx->ctx, ctx->md, NULL) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *out = ctx;
    ctx = NULL;
    r = AMK_OK;
out:
    amk_hash_free(ctx);
    return r;
}

int
amk_hash_update(struct amk_hash_ctx *ctx, const void *data, size_t len)
{
    if (ctx == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    if (EVP_DigestUpdate(ctx->ctx, data, len) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

int
amk_hash_final(struct amk_hash_ctx *ctx, uint8_t *out)
{
    unsigned int n = 0;

    if (ctx == NULL || out == NULL)
        return AMK_EINVAL;
    if (EVP_DigestFinal_ex(ctx->ctx, out, &n) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    if (n != amk_hash_len(ctx->alg))
        return AMK_EINTERNAL;
    return AMK_OK;
}

int
amk_hash_reset(struct amk_hash_ctx *ctx)
{
    if (ctx == NULL)
        return AMK_EINVAL;
    if (EVP_DigestInit_ex2(ctx->ctx, ctx->md, NULL) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

void
amk_hash_free(struct amk_hash_ctx *ctx)
{
    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->ctx);   /* cleanses the digest state */
    EVP_MD_free(ctx->md);
    amk_free(ctx);
}

int
amk_hmac(enum amk_hash_alg alg, const void *key, size_t keylen,
    const void *data, size_t len, uint8_t *out)
{
    struct amk_hmac_ctx *ctx = NULL;
    int r = AMK_EINTERNAL;

    if ((r = amk_hmac_new(&ctx, alg, key, keylen)) != AMK_OK ||
        (r = amk_hmac_update(ctx, data, len)) != AMK_OK ||
        (r = amk_hmac_final(ctx, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_hmac_free(ctx);
    return r;
}

int
amk_hmac_new(struct amk_hmac_ctx **out, enum amk_hash_alg alg, const void *key, size_t keylen)
{
    struct amk_hmac_ctx *ctx = NULL;
    const char *name = hash_name(alg);
    OSSL_PARAM params[2];
    static const uint8_t empty[1];
    int r = AMK_EINTERNAL;

    if (out == NULL || (key == NULL && keylen > 0))
        return AMK_EINVAL;
    *out = NULL;
    if (name == NULL)
        return AMK_ENOTSUP;
    if ((ctx = amk_calloc(1, sizeof(*ctx))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    ctx->alg = alg;
    if ((ctx->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((ctx->ctx = EVP_MAC_CTX_new(ctx->mac)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
    params[1] = OSSL_PARAM_construct_end();
    /* RFC 2104 §2 allows any key length, including zero. */
    if (EVP_MAC_init(ctx->ctx, keylen > 0 ? key : empty, keylen, params) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *out = ctx;
    ctx = NULL;
    r = AMK_OK;
out:
    amk_hmac_free(ctx);
    return r;
}

int
amk_hmac_init(struct amk_hmac_ctx *ctx)
{
    if (ctx == NULL)
        return AMK_EINVAL;
    /* A NULL key keeps the keyed inner/outer state: no rehashing of the key. */
    if (EVP_MAC_init(ctx->ctx, NULL, 0, NULL) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

int
amk_hmac_update(struct amk_hmac_ctx *ctx, const void *data, size_t len)
{
    if (ctx == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    if (len == 0)
        return AMK_OK;
    if (EVP_MAC_update(ctx->ctx, data, len) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

int
amk_hmac_final(struct amk_hmac_ctx *ctx, uint8_t *out)
{
    size_t n = 0;

    if (ctx == NULL || out == NULL)
        return AMK_EINVAL;
    if (EVP_MAC_final(ctx->ctx, out, &n, AMK_HASH_MAX_LEN) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    if (n != amk_hash_len(ctx->alg))
        return AMK_EINTERNAL;
    return AMK_OK;
}

void
amk_hmac_free(struct amk_hmac_ctx *ctx)
{
    if (ctx == NULL)
        return;
    /* OpenSSL's HMAC context cleanses its key pads when freed. */
    EVP_MAC_CTX_free(ctx->ctx);
    EVP_MAC_free(ctx->mac);
    amk_wipe(ctx, sizeof(*ctx));
    amk_free(ctx);
}
