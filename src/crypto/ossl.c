/* see crypto/ossl.h */
#include "crypto/ossl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <amiko/error.h>

#include "util/alloc.h"
#include "util/secure.h"

/* Attempts at drawing a scalar below the group order before giving up. */
#define AMK_EC_SCALAR_TRIES 64

int
amk_ossl_random(const struct amk_rng *rng, uint8_t *out, size_t len)
{
    if (len == 0)
        return AMK_OK;
    if (rng != NULL)
        return rng->fill(rng->user, out, len) == AMK_OK ? AMK_OK : AMK_ECRYPTO;
    if (len > INT32_MAX || RAND_priv_bytes(out, (int)len) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

int
amk_ossl_bn_from(const uint8_t *p, size_t len, BIGNUM **out)
{
    *out = NULL;
    if (len > INT32_MAX)
        return AMK_ELIMIT;
    *out = BN_bin2bn(len > 0 ? p : (const uint8_t *)"", (int)len, NULL);
    return *out != NULL ? AMK_OK : AMK_ENOMEM;
}

int
amk_ossl_bn_from_secret(const uint8_t *p, size_t len, BIGNUM **out)
{
    BIGNUM *bn;

    *out = NULL;
    if (len > INT32_MAX)
        return AMK_ELIMIT;
    if ((bn = BN_secure_new()) == NULL)
        return AMK_ENOMEM;
    if (BN_bin2bn(len > 0 ? p : (const uint8_t *)"", (int)len, bn) == NULL) {
        BN_clear_free(bn);
        return AMK_ENOMEM;
    }
    BN_set_flags(bn, BN_FLG_CONSTTIME);
    *out = bn;
    return AMK_OK;
}

int
amk_ossl_bn_export(const BIGNUM *bn, uint8_t **out, size_t *len)
{
    int n = BN_num_bytes(bn);
    size_t cap = n > 0 ? (size_t)n : 1;
    uint8_t *p;

    *out = NULL;
    *len = 0;
    if ((p = amk_calloc(1, cap)) == NULL)
        return AMK_ENOMEM;
    if (n > 0 && BN_bn2bin(bn, p) != n) {
        amk_free(p);
        return amk_ossl_error(AMK_ECRYPTO);
    }
    *out = p;
    *len = cap;
    return AMK_OK;
}

const char *
amk_ossl_curve_name(enum amk_ec_curve curve)
{
    switch (curve) {
    case AMK_EC_P256: return "P-256";
    case AMK_EC_P384: return "P-384";
    case AMK_EC_P521: return "P-521";
    }
    return NULL;
}

int
amk_ossl_curve_nid(enum amk_ec_curve curve)
{
    switch (curve) {
    case AMK_EC_P256: return NID_X9_62_prime256v1;
    case AMK_EC_P384: return NID_secp384r1;
    case AMK_EC_P521: return NID_secp521r1;
    }
    return 0;
}

size_t
amk_ec_field_len(enum amk_ec_curve curve)
{
    switch (curve) {
    case AMK_EC_P256: return 32;
    case AMK_EC_P384: return 48;
    case AMK_EC_P521: return 66;
    }
    return 0;
}

int
amk_ossl_ec_point_check(enum amk_ec_curve curve, const uint8_t *pt, size_t len)
{
    size_t flen = amk_ec_field_len(curve);
    EC_GROUP *group = NULL;
    EC_POINT *point = NULL;
    int r = AMK_EINTERNAL;

    if (flen == 0)
        return AMK_EINVAL;
    /* RFC 5656 §4: only the uncompressed form is used (SEC1 2.3.3). */
    if (len != 1 + 2 * flen || pt[0] != AMK_EC_POINT_UNCOMPRESSED)
        return AMK_EKEY;
    if ((group = EC_GROUP_new_by_curve_name(amk_ossl_curve_nid(curve))) == NULL ||
        (point = EC_POINT_new(group)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* SEC1 3.2.2.1: coordinates in the field, on the curve, not infinity. */
    if (EC_POINT_oct2point(group, point, pt, len, NULL) != 1 ||
        EC_POINT_is_at_infinity(group, point) ||
        EC_POINT_is_on_curve(group, point, NULL) != 1) {
        r = AMK_EKEY;
        goto out;
    }
    r = AMK_OK;
out:
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return r;
}

int
amk_ossl_ec_public_from_private(enum amk_ec_curve curve, const uint8_t *priv,
    size_t privlen, uint8_t *pub, size_t *publen)
{
    size_t flen = amk_ec_field_len(curve);
    EC_GROUP *group = NULL;
    EC_POINT *point = NULL;
    BIGNUM *d = NULL;
    BN_CTX *ctx = NULL;
    int r = AMK_EINTERNAL;

    *publen = 0;
    if (flen == 0)
        return AMK_EINVAL;
    if (privlen == 0 || privlen > flen)
        return AMK_EKEY;
    if ((r = amk_ossl_bn_from_secret(priv, privlen, &d)) != AMK_OK)
        goto out;
    if ((group = EC_GROUP_new_by_curve_name(amk_ossl_curve_nid(curve))) == NULL ||
        (point = EC_POINT_new(group)) == NULL || (ctx = BN_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    /* SEC1 3.2.1: the private key is an integer in [1, n-1]. */
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        r = AMK_EKEY;
        goto out;
    }
    if (EC_POINT_mul(group, point, d, NULL, NULL, ctx) != 1 ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub,
            1 + 2 * flen, ctx) != 1 + 2 * flen) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *publen = 1 + 2 * flen;
    r = AMK_OK;
out:
    BN_CTX_free(ctx);
    BN_clear_free(d);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return r;
}

int
amk_ossl_ec_pkey(enum amk_ec_curve curve, const uint8_t *pub, size_t publen,
    const uint8_t *priv, size_t privlen, EVP_PKEY **out)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *d = NULL;
    const char *name = amk_ossl_curve_name(curve);
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (name == NULL)
        return AMK_EINVAL;
    if (privlen > 0 && (r = amk_ossl_bn_from_secret(priv, privlen, &d)) != AMK_OK)
        goto out;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) != 1 ||
        (d != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
            params) != 1) {
        r = amk_ossl_error(AMK_EKEY);
        goto out;
    }
    r = AMK_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);    /* clears the (secure) copy of the scalar */
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    return r;
}

int
amk_ossl_ec_random_scalar(enum amk_ec_curve curve, const struct amk_rng *rng,
    uint8_t *out, size_t len)
{
    size_t flen = amk_ec_field_len(curve);
    EC_GROUP *group = NULL;
    BIGNUM *d = NULL;
    int bits, r = AMK_EINTERNAL;

    if (flen == 0 || len != flen)
        return AMK_EINVAL;
    if ((group = EC_GROUP_new_by_curve_name(amk_ossl_curve_nid(curve))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    bits = BN_num_bits(EC_GROUP_get0_order(group));
    /* Rejection sampling (FIPS 186-4 B.4.2): uniform in [1, n-1]. */
    for (int i = 0; i < AMK_EC_SCALAR_TRIES; i++) {
        if ((r = amk_ossl_random(rng, out, len)) != AMK_OK)
            goto out;
        if (bits % 8 != 0)
            out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
        BN_clear_free(d);
        if ((r = amk_ossl_bn_from_secret(out, len, &d)) != AMK_OK)
            goto out;
        if (!BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(group)) < 0) {
            r = AMK_OK;
            goto out;
        }
    }
    r = AMK_ECRYPTO;    /* the source is not random */
out:
    if (r != AMK_OK)
        amk_wipe(out, len);
    BN_clear_free(d);
    EC_GROUP_free(group);
    return r;
}

int
amk_ossl_sig_der_to_raw(const uint8_t *der, size_t derlen, size_t width, uint8_t *raw)
{
    const uint8_t *p = der;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *br, *bs;
    int r = AMK_EINTERNAL;

    if (derlen > INT32_MAX || width > INT32_MAX / 2)
        return AMK_EINVAL;
    if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    ECDSA_SIG_get0(sig, &br, &bs);
    if (BN_bn2binpad(br, raw, (int)width) < 0 || BN_bn2binpad(bs, raw + width, (int)width) < 0) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    r = AMK_OK;
out:
    ECDSA_SIG_free(sig);
    return r;
}

int
amk_ossl_sig_raw_to_der(const uint8_t *raw, size_t width, uint8_t **der, size_t *derlen)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    uint8_t *p = NULL;
    int n, r = AMK_EINTERNAL;

    *der = NULL;
    *derlen = 0;
    if ((r = amk_ossl_bn_from(raw, width, &br)) != AMK_OK ||
        (r = amk_ossl_bn_from(raw + width, width, &bs)) != AMK_OK)
        goto out;
    /* A zero r or s is never valid (FIPS 186-4 §6.4.2, §4.7). */
    if (BN_is_zero(br) || BN_is_zero(bs)) {
        r = AMK_ESIGNATURE;
        goto out;
    }
    if ((sig = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
        r = AMK_ENOMEM;
        goto out;
    }
    br = bs = NULL;    /* owned by sig */
    if ((n = i2d_ECDSA_SIG(sig, &p)) <= 0) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    *der = p;
    *derlen = (size_t)n;
    r = AMK_OK;
out:
    ECDSA_SIG_free(sig);
    BN_free(br);
    BN_free(bs);
    return r;
}

const EVP_MD *
amk_ossl_md(enum amk_hash_alg alg)
{
    switch (alg) {
    case AMK_HASH_SHA1: return EVP_sha1();
    case AMK_HASH_SHA256: return EVP_sha256();
    case AMK_HASH_SHA384: return EVP_sha384();
    case AMK_HASH_SHA512: return EVP_sha512();
    case AMK_HASH_MD5: break;
    }
    return NULL;
}

int
amk_ossl_error(int code)
{
    unsigned long e;
    int oom = 0;

    /* OpenSSL reports an allocation failure as one of the errors it queues;
     * an empty queue (or any other reason) keeps the caller's code. */
    while ((e = ERR_get_error()) != 0) {
        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
            oom = 1;
    }
    return oom ? AMK_ENOMEM : code;
}
