/*
 * Asymmetric keys: the type-independent half, dispatching to one ops table
 * per key family. see crypto/pkey.h
 */
#include "crypto/pkey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "crypto/pkey_impl.h"
#include "util/alloc.h"
#include "util/secure.h"

static const struct amk_pkey_ops *
amk_pkey_ops_for(enum amk_pkey_type type)
{
    switch (type) {
    case AMK_PKEY_ED25519: return &amk_pkey_ed25519_ops;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521: return &amk_pkey_ecdsa_ops;
    case AMK_PKEY_RSA: return &amk_pkey_rsa_ops;
    case AMK_PKEY_DSA: return &amk_pkey_dsa_ops;
    }
    return NULL;
}

static int
amk_pkey_part_applies(const struct amk_pkey_ops *ops, enum amk_pkey_part part)
{
    for (size_t i = 0; i < ops->nall_parts; i++) {
        if (ops->all_parts[i] == part)
            return 1;
    }
    return 0;
}

static int
amk_pkey_part_is_public(const struct amk_pkey_ops *ops, enum amk_pkey_part part)
{
    for (size_t i = 0; i < ops->npublic_parts; i++) {
        if (ops->public_parts[i] == part)
            return 1;
    }
    return 0;
}

/* Takes @p pk (also on failure). */
static int
amk_pkey_wrap(enum amk_pkey_type type, EVP_PKEY *pk, int has_private, struct amk_pkey **out)
{
    struct amk_pkey *k;

    if ((k = amk_calloc(1, sizeof(*k))) == NULL) {
        EVP_PKEY_free(pk);
        return AMK_ENOMEM;
    }
    k->type = type;
    k->ops = amk_pkey_ops_for(type);
    k->pk = pk;
    k->has_private = has_private;
    *out = k;
    return AMK_OK;
}

int
amk_pkey_generate(struct amk_pkey **out, enum amk_pkey_type type, unsigned bits)
{
    const struct amk_pkey_ops *ops = amk_pkey_ops_for(type);
    EVP_PKEY *pk = NULL;
    int r;

    *out = NULL;
    if (ops == NULL)
        return AMK_ENOTSUP;
    if ((r = ops->generate(type, bits, &pk)) != AMK_OK) {
        ERR_clear_error();
        return r;
    }
    return amk_pkey_wrap(type, pk, 1, out);
}

int
amk_pkey_from_parts(struct amk_pkey **out, enum amk_pkey_type type,
    const struct amk_bytes parts[AMK_PART_COUNT])
{
    const struct amk_pkey_ops *ops = amk_pkey_ops_for(type);
    EVP_PKEY *pk = NULL;
    int has_private = 0, r;

    *out = NULL;
    if (ops == NULL)
        return AMK_ENOTSUP;
    for (int i = 0; i < AMK_PART_COUNT; i++) {
        if (parts[i].len == 0)
            continue;
        if (parts[i].p == NULL || !amk_pkey_part_applies(ops, (enum amk_pkey_part)i))
            return AMK_EINVAL;
    }
    for (size_t i = 0; i < ops->npublic_parts; i++) {
        if (parts[ops->public_parts[i]].len == 0)
            return AMK_EKEY;    /* public parts are required */
    }
    if ((r = ops->from_parts(type, parts, &pk, &has_private)) != AMK_OK) {
        ERR_clear_error();
        return r;
    }
    return amk_pkey_wrap(type, pk, has_private, out);
}

int
amk_pkey_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
{
    int r;

    *p = NULL;
    *len = 0;
    if ((unsigned)part >= AMK_PART_COUNT || !amk_pkey_part_applies(k->ops, part))
        return AMK_EINVAL;
    if (!k->has_private && !amk_pkey_part_is_public(k->ops, part))
        return AMK_EINVAL;
    if ((r = k->ops->get_part(k, part, p, len)) != AMK_OK)
        ERR_clear_error();
    return r;
}

enum amk_pkey_type
amk_pkey_type(const struct amk_pkey *k)
{
    return k->type;
}

int
amk_pkey_has_private(const struct amk_pkey *k)
{
    return k->has_private;
}

unsigned
amk_pkey_bits(const struct amk_pkey *k)
{
    return k->ops->bits(k);
}

int
amk_pkey_equal_public(const struct amk_pkey *a, const struct amk_pkey *b)
{
    int eq;

    if (a == NULL || b == NULL || a->type != b->type)
        return 0;
    /* EVP_PKEY_eq compares the public components (and parameters). */
    eq = EVP_PKEY_eq(a->pk, b->pk) == 1;
    ERR_clear_error();
    return eq;
}

int
amk_pkey_public_copy(const struct amk_pkey *k, struct amk_pkey **out)
{
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t *bufs[AMK_PART_COUNT] = { NULL };
    size_t lens[AMK_PART_COUNT] = { 0 };
    int r = AMK_EINTERNAL;

    *out = NULL;
    memset(parts, 0, sizeof(parts));
    for (size_t i = 0; i < k->ops->npublic_parts; i++) {
        enum amk_pkey_part part = k->ops->public_parts[i];

        if ((r = amk_pkey_get_part(k, part, &bufs[part], &lens[part])) != AMK_OK)
            goto out;
        parts[part].p = bufs[part];
        parts[part].len = lens[part];
    }
    r = amk_pkey_from_parts(out, k->type, parts);
out:
    for (int i = 0; i < AMK_PART_COUNT; i++)
        amk_free(bufs[i]);
    return r;
}

void
amk_pkey_free(struct amk_pkey *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pk);    /* clears private components */
    amk_free_wiped(k, sizeof(*k));
}

int
amk_pkey_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
    int r;

    *sig = NULL;
    *siglen = 0;
    if (!k->has_private)
        return AMK_EINVAL;
    if ((r = k->ops->sign(k, hash, data, len, sig, siglen)) != AMK_OK)
        ERR_clear_error();
    return r;
}

int
amk_pkey_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    int r;

    if ((r = k->ops->verify(k, hash, data, len, sig, siglen)) != AMK_OK)
        ERR_clear_error();
    return r;
}

int
amk_pkey_evp_sign(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data, size_t len,
    uint8_t **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t *s = NULL;
    size_t slen = 0, cap = 0;
    int r = AMK_EINTERNAL;

    *sig = NULL;
    *siglen = 0;
    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, pk) != 1 ||
        EVP_DigestSign(ctx, NULL, &slen, data, len) != 1 || slen == 0) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if ((s = amk_malloc(slen)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* OpenSSL 3.0's ECDSA can report success with a length of
     * (unsigned)-1 when an allocation inside it fails: anything longer than
     * the buffer it asked for is a failure, never a signature. */
    cap = slen;
    if (EVP_DigestSign(ctx, s, &slen, data, len) != 1 || slen == 0 || slen > cap) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *sig = s;
    *siglen = slen;
    s = NULL;
    r = AMK_OK;
out:
    amk_free(s);
    EVP_MD_CTX_free(ctx);
    return r;
}

int
amk_pkey_evp_verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data, size_t len,
    const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *ctx = NULL;
    int r = AMK_EINTERNAL;

    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    /* 1 is a valid signature; 0 a wrong one, < 0 a malformed one (or
     * OpenSSL ran out of memory: then it is not the signature's fault). */
    ERR_clear_error();
    r = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1 ? AMK_OK
        : amk_ossl_error(AMK_ESIGNATURE);
out:
    EVP_MD_CTX_free(ctx);
    return r;
}

int
amk_pkey_bn_param(EVP_PKEY *pk, const char *name, uint8_t **p, size_t *len)
{
    BIGNUM *bn = NULL;
    int r;

    *p = NULL;
    *len = 0;
    if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1)
        return amk_ossl_error(AMK_EINVAL);
    r = amk_ossl_bn_export(bn, p, len);
    BN_clear_free(bn);
    return r;
}
