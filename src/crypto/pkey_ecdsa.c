/*
 * ECDSA keys on P-256, P-384 and P-521 with SHA-256/384/512 (FIPS 186-4
 * §6, RFC 5656 §3.1.2). Signatures cross the interface as r || s, each
 * padded to the field length.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <amiko/error.h>

#include "util/alloc.h"
#include "crypto/ossl.h"
#include "crypto/pkey_impl.h"
#include "util/secure.h"

static const enum amk_pkey_part amk_ecdsa_public_parts[] = { AMK_PART_PUBLIC };
static const enum amk_pkey_part amk_ecdsa_all_parts[] = { AMK_PART_PUBLIC, AMK_PART_PRIVATE };

static enum amk_ec_curve
amk_ecdsa_curve(enum amk_pkey_type type)
{
    switch (type) {
    case AMK_PKEY_ECDSA_P384: return AMK_EC_P384;
    case AMK_PKEY_ECDSA_P521: return AMK_EC_P521;
    default: return AMK_EC_P256;
    }
}

/* RFC 5656 §6.2.1: the hash goes with the curve size. */
static const EVP_MD *
amk_ecdsa_md(enum amk_pkey_type type)
{
    switch (type) {
    case AMK_PKEY_ECDSA_P384: return EVP_sha384();
    case AMK_PKEY_ECDSA_P521: return EVP_sha512();
    default: return EVP_sha256();
    }
}

static int
amk_ecdsa_generate(enum amk_pkey_type type, unsigned bits, EVP_PKEY **out)
{
    enum amk_ec_curve curve = amk_ecdsa_curve(type);
    size_t flen = amk_ec_field_len(curve), publen;
    uint8_t d[AMK_EC_MAX_FIELD_LEN], pub[AMK_EC_MAX_POINT_LEN];
    int r;

    if ((r = amk_ossl_ec_random_scalar(curve, NULL, d, flen)) != AMK_OK ||
        (r = amk_ossl_ec_public_from_private(curve, d, flen, pub, &publen)) != AMK_OK ||
        (r = amk_ossl_ec_pkey(curve, pub, publen, d, flen, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(d, sizeof(d));
    return r;
}

static int
amk_ecdsa_from_parts(enum amk_pkey_type type, const struct amk_bytes parts[AMK_PART_COUNT],
    EVP_PKEY **out, int *has_private)
{
    enum amk_ec_curve curve = amk_ecdsa_curve(type);
    const struct amk_bytes *pub = &parts[AMK_PART_PUBLIC], *priv = &parts[AMK_PART_PRIVATE];
    uint8_t derived[AMK_EC_MAX_POINT_LEN];
    const uint8_t *d = priv->p;
    size_t dlen = priv->len, derivedlen;
    int r;

    *out = NULL;
    /* RFC 5656 §3.1: Q must be a valid point (SEC1 3.2.2.1). */
    if ((r = amk_ossl_ec_point_check(curve, pub->p, pub->len)) != AMK_OK)
        return r;
    if (dlen == 0)
        return amk_ossl_ec_pkey(curve, pub->p, pub->len, NULL, 0, out);
    /* The scalar is a magnitude; tolerate leading zeros. */
    while (dlen > 1 && d[0] == 0) {
        d++;
        dlen--;
    }
    if ((r = amk_ossl_ec_public_from_private(curve, d, dlen, derived, &derivedlen)) != AMK_OK)
        return r;
    if (derivedlen != pub->len || memcmp(derived, pub->p, derivedlen) != 0)
        return AMK_EKEY;    /* Q != d*G */
    if ((r = amk_ossl_ec_pkey(curve, pub->p, pub->len, d, dlen, out)) != AMK_OK)
        return r;
    *has_private = 1;
    return AMK_OK;
}

static int
amk_ecdsa_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
{
    size_t flen = amk_ec_field_len(amk_ecdsa_curve(k->type)), n = 0, cap;
    uint8_t *buf = NULL;
    BIGNUM *d = NULL;
    int r = AMK_EINTERNAL;

    cap = part == AMK_PART_PUBLIC ? 1 + 2 * flen : flen;
    if (part == AMK_PART_PUBLIC) {
        if ((buf = amk_malloc(cap)) == NULL)
            return AMK_ENOMEM;
        if (EVP_PKEY_get_octet_string_param(k->pk, OSSL_PKEY_PARAM_PUB_KEY, buf,
                1 + 2 * flen, &n) != 1 || n != 1 + 2 * flen ||
            buf[0] != AMK_EC_POINT_UNCOMPRESSED) {
            r = amk_ossl_error(AMK_ECRYPTO);
            goto out;
        }
    } else {
        /* The scalar, padded to the field length (SEC1 2.3.7). */
        if ((buf = amk_malloc(cap)) == NULL)
            return AMK_ENOMEM;
        n = flen;
        if (EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
            BN_bn2binpad(d, buf, (int)flen) != (int)flen) {
            r = amk_ossl_error(AMK_ECRYPTO);
            goto out;
        }
    }
    *p = buf;
    *len = n;
    buf = NULL;
    r = AMK_OK;
out:
    BN_clear_free(d);
    amk_free_wiped(buf, cap);
    return r;
}

static unsigned
amk_ecdsa_bits(const struct amk_pkey *k)
{
    switch (k->type) {
    case AMK_PKEY_ECDSA_P384: return 384;
    case AMK_PKEY_ECDSA_P521: return 521;
    default: return 256;
    }
}

static int
amk_ecdsa_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
    size_t flen = amk_ec_field_len(amk_ecdsa_curve(k->type)), derlen = 0;
    uint8_t *der = NULL, *raw = NULL;
    int r = AMK_EINTERNAL;

    if ((r = amk_pkey_evp_sign(k->pk, amk_ecdsa_md(k->type), data, len, &der, &derlen)) != AMK_OK)
        goto out;
    if ((raw = amk_malloc(2 * flen)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_ossl_sig_der_to_raw(der, derlen, flen, raw)) != AMK_OK)
        goto out;
    *sig = raw;
    *siglen = 2 * flen;
    raw = NULL;
    r = AMK_OK;
out:
    amk_free(raw);
    amk_free(der);
    return r;
}

static int
amk_ecdsa_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    size_t flen = amk_ec_field_len(amk_ecdsa_curve(k->type)), derlen = 0;
    uint8_t *der = NULL;
    int r;

    if (siglen != 2 * flen)
        return AMK_ESIGNATURE;
    if ((r = amk_ossl_sig_raw_to_der(sig, flen, &der, &derlen)) != AMK_OK)
        return r;
    r = amk_pkey_evp_verify(k->pk, amk_ecdsa_md(k->type), data, len, der, derlen);
    OPENSSL_free(der);
    return r;
}

const struct amk_pkey_ops amk_pkey_ecdsa_ops = {
    .public_parts = amk_ecdsa_public_parts,
    .npublic_parts = sizeof(amk_ecdsa_public_parts) / sizeof(amk_ecdsa_public_parts[0]),
    .all_parts = amk_ecdsa_all_parts,
    .nall_parts = sizeof(amk_ecdsa_all_parts) / sizeof(amk_ecdsa_all_parts[0]),
    .generate = amk_ecdsa_generate,
    .from_parts = amk_ecdsa_from_parts,
    .get_part = amk_ecdsa_get_part,
    .bits = amk_ecdsa_bits,
    .sign = amk_ecdsa_sign,
    .verify = amk_ecdsa_verify,
};
