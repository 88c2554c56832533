/*
 * RSA keys and RSASSA-PKCS1-v1_5 signatures (RFC 8017 §8.2) with SHA-1
 * (ssh-rsa, RFC 4253 §6.6) and SHA-256/512 (rsa-sha2-*, RFC 8332).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <amiko/error.h>

#include "util/alloc.h"
#include "crypto/ossl.h"
#include "crypto/pkey_impl.h"
#include "util/secure.h"

/* Smallest and largest moduli we accept (as OpenSSH: SSH_RSA_MINIMUM_MODULUS_SIZE). */
#define AMK_RSA_MIN_BITS 1024
#define AMK_RSA_MAX_BITS 16384
#define AMK_RSA_DEFAULT_BITS 3072

static const enum amk_pkey_part amk_rsa_public_parts[] = { AMK_PART_RSA_N, AMK_PART_RSA_E };
static const enum amk_pkey_part amk_rsa_all_parts[] = {
    AMK_PART_RSA_N, AMK_PART_RSA_E, AMK_PART_RSA_D, AMK_PART_RSA_P, AMK_PART_RSA_Q,
    AMK_PART_RSA_IQMP
};

static int
amk_rsa_generate(enum amk_pkey_type type, unsigned bits, EVP_PKEY **out)
{
    if (bits == 0)
        bits = AMK_RSA_DEFAULT_BITS;
    if (bits < AMK_RSA_MIN_BITS || bits > AMK_RSA_MAX_BITS)
        return AMK_EINVAL;
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    return *out != NULL ? AMK_OK : amk_ossl_error(AMK_ECRYPTO);
}

/* The components as BIGNUMs, for the checks and for OSSL_PARAM. */
struct amk_rsa_nums {
    BIGNUM *n, *e, *d, *p, *q, *iqmp, *dmp1, *dmq1;
};

static void
amk_rsa_nums_free(struct amk_rsa_nums *v)
{
    BN_free(v->n);
    BN_free(v->e);
    BN_clear_free(v->d);
    BN_clear_free(v->p);
    BN_clear_free(v->q);
    BN_clear_free(v->iqmp);
    BN_clear_free(v->dmp1);
    BN_clear_free(v->dmq1);
}

/*
 * Checks the private components against n and e and fills in the CRT
 * values: n = p*q, d*e = 1 mod (p-1) and mod (q-1) (RFC 8017 §3.2),
 * iqmp = q^-1 mod p, computed when absent.
 */
static int
amk_rsa_check_private(struct amk_rsa_nums *v)
{
    BN_CTX *ctx = NULL;
    BIGNUM *t = NULL, *pm1 = NULL, *qm1 = NULL;
    int r = AMK_EINTERNAL;

    if ((ctx = BN_CTX_secure_new()) == NULL || (t = BN_secure_new()) == NULL ||
        (pm1 = BN_secure_new()) == NULL || (qm1 = BN_secure_new()) == NULL ||
        (v->dmp1 = BN_secure_new()) == NULL || (v->dmq1 = BN_secure_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (BN_cmp(v->p, BN_value_one()) <= 0 || BN_cmp(v->q, BN_value_one()) <= 0 ||
        BN_is_zero(v->d) || BN_cmp(v->d, v->n) >= 0) {
        r = AMK_EKEY;
        goto out;
    }
    if (BN_mul(t, v->p, v->q, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (BN_cmp(t, v->n) != 0) {
        r = AMK_EKEY;
        goto out;
    }
    if (BN_sub(pm1, v->p, BN_value_one()) != 1 || BN_sub(qm1, v->q, BN_value_one()) != 1 ||
        BN_mod(v->dmp1, v->d, pm1, ctx) != 1 || BN_mod(v->dmq1, v->d, qm1, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    /* e * dmp1 = 1 mod (p-1) and e * dmq1 = 1 mod (q-1) */
    if (BN_mod_mul(t, v->e, v->dmp1, pm1, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (!BN_is_one(t)) {
        r = AMK_EKEY;
        goto out;
    }
    if (BN_mod_mul(t, v->e, v->dmq1, qm1, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (!BN_is_one(t)) {
        r = AMK_EKEY;
        goto out;
    }
    if (v->iqmp == NULL) {
        if ((v->iqmp = BN_secure_new()) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if (BN_mod_inverse(v->iqmp, v->q, v->p, ctx) == NULL) {
            r = AMK_EKEY;
            goto out;
        }
    } else if (BN_cmp(v->iqmp, v->p) >= 0 || BN_mod_mul(t, v->iqmp, v->q, v->p, ctx) != 1 ||
        !BN_is_one(t)) {
        r = AMK_EKEY;
        goto out;
    }
    r = AMK_OK;
out:
    BN_clear_free(t);
    BN_clear_free(pm1);
    BN_clear_free(qm1);
    BN_CTX_free(ctx);
    return r;
}

static int
amk_rsa_from_parts(enum amk_pkey_type type, const struct amk_bytes parts[AMK_PART_COUNT],
    EVP_PKEY **out, int *has_private)
{
    struct amk_rsa_nums v = { .n = NULL };
    int priv = parts[AMK_PART_RSA_D].len > 0 || parts[AMK_PART_RSA_P].len > 0 ||
        parts[AMK_PART_RSA_Q].len > 0 || parts[AMK_PART_RSA_IQMP].len > 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int bits, r = AMK_EINTERNAL;

    *out = NULL;
    if (parts[AMK_PART_RSA_N].len > AMK_RSA_MAX_BITS / 8 + 1 ||
        parts[AMK_PART_RSA_E].len > parts[AMK_PART_RSA_N].len)
        return AMK_EKEY;
    if ((r = amk_ossl_bn_from(parts[AMK_PART_RSA_N].p, parts[AMK_PART_RSA_N].len, &v.n)) != AMK_OK ||
        (r = amk_ossl_bn_from(parts[AMK_PART_RSA_E].p, parts[AMK_PART_RSA_E].len, &v.e)) != AMK_OK)
        goto out;
    bits = BN_num_bits(v.n);
    /* Too-small moduli are refused, as OpenSSH does (RFC 8332 §3 suggests 2048). */
    if (bits < AMK_RSA_MIN_BITS || bits > AMK_RSA_MAX_BITS || !BN_is_odd(v.n)) {
        r = AMK_EKEY;
        goto out;
    }
    /* RFC 8017 §3.1: 3 <= e <= n-1, odd. */
    if (!BN_is_odd(v.e) || BN_is_one(v.e) || BN_cmp(v.e, v.n) >= 0) {
        r = AMK_EKEY;
        goto out;
    }
    if (priv) {
        if (parts[AMK_PART_RSA_D].len == 0 || parts[AMK_PART_RSA_P].len == 0 ||
            parts[AMK_PART_RSA_Q].len == 0) {
            r = AMK_EKEY;
            goto out;
        }
        if ((r = amk_ossl_bn_from_secret(parts[AMK_PART_RSA_D].p, parts[AMK_PART_RSA_D].len, &v.d)) != AMK_OK ||
            (r = amk_ossl_bn_from_secret(parts[AMK_PART_RSA_P].p, parts[AMK_PART_RSA_P].len, &v.p)) != AMK_OK ||
            (r = amk_ossl_bn_from_secret(parts[AMK_PART_RSA_Q].p, parts[AMK_PART_RSA_Q].len, &v.q)) != AMK_OK ||
            (parts[AMK_PART_RSA_IQMP].len > 0 && (r = amk_ossl_bn_from_secret(parts[AMK_PART_RSA_IQMP].p,
                parts[AMK_PART_RSA_IQMP].len, &v.iqmp)) != AMK_OK))
            goto out;
        if ((r = amk_rsa_check_private(&v)) != AMK_OK)
            goto out;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, v.n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, v.e) != 1 ||
        (priv && (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, v.d) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, v.p) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, v.q) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, v.dmp1) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, v.dmq1) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, v.iqmp) != 1)) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
        r = AMK_EKEY;
        goto out;
    }
    *has_private = priv;
    r = AMK_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    amk_rsa_nums_free(&v);
    return r;
}

static int
amk_rsa_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
{
    const char *name;

    switch (part) {
    case AMK_PART_RSA_N: name = OSSL_PKEY_PARAM_RSA_N; break;
    case AMK_PART_RSA_E: name = OSSL_PKEY_PARAM_RSA_E; break;
    case AMK_PART_RSA_D: name = OSSL_PKEY_PARAM_RSA_D; break;
    case AMK_PART_RSA_P: name = OSSL_PKEY_PARAM_RSA_FACTOR1; break;
    case AMK_PART_RSA_Q: name = OSSL_PKEY_PARAM_RSA_FACTOR2; break;
    case AMK_PART_RSA_IQMP: name = OSSL_PKEY_PARAM_RSA_COEFFICIENT1; break;
    default: return AMK_EINVAL;
    }
    return amk_pkey_bn_param(k->pk, name, p, len);
}

static unsigned
amk_rsa_bits(const struct amk_pkey *k)
{
    return (unsigned)EVP_PKEY_get_bits(k->pk);
}

/* RFC 8332 §3 and RFC 4253 §6.6: the digests PKCS#1 v1.5 signatures use here. */
static const EVP_MD *
amk_rsa_md(enum amk_hash_alg hash)
{
    switch (hash) {
    case AMK_HASH_SHA1:
    case AMK_HASH_SHA256:
    case AMK_HASH_SHA512: return amk_ossl_md(hash);
    default: return NULL;
    }
}

static int
amk_rsa_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
    const EVP_MD *md = amk_rsa_md(hash);

    if (md == NULL)
        return AMK_EINVAL;
    return amk_pkey_evp_sign(k->pk, md, data, len, sig, siglen);
}

static int
amk_rsa_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    const EVP_MD *md = amk_rsa_md(hash);
    size_t modlen = (size_t)EVP_PKEY_get_size(k->pk);
    uint8_t *padded = NULL;
    int r;

    if (md == NULL)
        return AMK_EINVAL;
    if (siglen == 0 || siglen > modlen)
        return AMK_ESIGNATURE;
    if (siglen == modlen)
        return amk_pkey_evp_verify(k->pk, md, data, len, sig, siglen);
    /*
     * Some signers drop leading zero octets of the signature; RFC 8017
     * §8.2.2 step 1 wants k octets, so restore them as OpenSSH does.
     */
    if ((padded = amk_calloc(1, modlen)) == NULL)
        return AMK_ENOMEM;
    memcpy(padded + modlen - siglen, sig, siglen);
    r = amk_pkey_evp_verify(k->pk, md, data, len, padded, modlen);
    amk_free(padded);
    return r;
}

const struct amk_pkey_ops amk_pkey_rsa_ops = {
    .public_parts = amk_rsa_public_parts,
    .npublic_parts = sizeof(amk_rsa_public_parts) / sizeof(amk_rsa_public_parts[0]),
    .all_parts = amk_rsa_all_parts,
    .nall_parts = sizeof(amk_rsa_all_parts) / sizeof(amk_rsa_all_parts[0]),
    .generate = amk_rsa_generate,
    .from_parts = amk_rsa_from_parts,
    .get_part = amk_rsa_get_part,
    .bits = amk_rsa_bits,
    .sign = amk_rsa_sign,
    .verify = amk_rsa_verify,
};
