/*
 * Legacy DSA keys (ssh-dss, RFC 4253 §6.6): FIPS 186-2 style, 160-bit q,
 * SHA-1. Signatures cross the interface as r || s, 20 bytes each.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <amiko/error.h>

#include "util/alloc.h"
#include "crypto/ossl.h"
#include "crypto/pkey_impl.h"
#include "util/secure.h"

#define AMK_DSA_BITS 1024
#define AMK_DSA_MAX_BITS 10000    /* OpenSSL's OPENSSL_DSA_MAX_MODULUS_BITS */
#define AMK_DSA_Q_BITS 160
#define AMK_DSA_Q_LEN (AMK_DSA_Q_BITS / 8)

static const enum amk_pkey_part amk_dsa_public_parts[] = {
    AMK_PART_DSA_P, AMK_PART_DSA_Q, AMK_PART_DSA_G, AMK_PART_DSA_Y
};
static const enum amk_pkey_part amk_dsa_all_parts[] = {
    AMK_PART_DSA_P, AMK_PART_DSA_Q, AMK_PART_DSA_G, AMK_PART_DSA_Y, AMK_PART_DSA_X
};

static int
amk_dsa_generate(enum amk_pkey_type type, unsigned bits, EVP_PKEY **out)
{
    EVP_PKEY_CTX *pctx = NULL, *kctx = NULL;
    EVP_PKEY *params = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (bits != 0 && bits != AMK_DSA_BITS)
        return AMK_EINVAL;
    if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_paramgen_init(pctx) != 1 ||
        EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, AMK_DSA_BITS) != 1 ||
        EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pctx, AMK_DSA_Q_BITS) != 1 ||
        EVP_PKEY_CTX_set_dsa_paramgen_md(pctx, EVP_sha1()) != 1 ||
        EVP_PKEY_paramgen(pctx, &params) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if ((kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_keygen_init(kctx) != 1 || EVP_PKEY_keygen(kctx, out) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    r = AMK_OK;
out:
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(params);
    return r;
}

struct amk_dsa_nums {
    BIGNUM *p, *q, *g, *y, *x;
};

static void
amk_dsa_nums_free(struct amk_dsa_nums *v)
{
    BN_free(v->p);
    BN_free(v->q);
    BN_free(v->g);
    BN_free(v->y);
    BN_clear_free(v->x);
}

/*
 * FIPS 186-4 §4.1 and SP 800-89 §5.3.1 (partial public key validation):
 * sizes, 1 < g < p and 1 < y < p both in the order-q subgroup, and for a
 * private key 0 < x < q with y = g^x mod p.
 */
static int
amk_dsa_check(struct amk_dsa_nums *v)
{
    BN_CTX *ctx = NULL;
    BIGNUM *t = NULL;
    int pbits = BN_num_bits(v->p), r = AMK_EINTERNAL;

    if (pbits < AMK_DSA_BITS || pbits > AMK_DSA_MAX_BITS || !BN_is_odd(v->p) ||
        BN_num_bits(v->q) != AMK_DSA_Q_BITS || !BN_is_odd(v->q) ||
        BN_cmp(v->g, BN_value_one()) <= 0 || BN_cmp(v->g, v->p) >= 0 ||
        BN_cmp(v->y, BN_value_one()) <= 0 || BN_cmp(v->y, v->p) >= 0)
        return AMK_EKEY;
    if (v->x != NULL && (BN_is_zero(v->x) || BN_cmp(v->x, v->q) >= 0))
        return AMK_EKEY;
    if ((ctx = BN_CTX_secure_new()) == NULL || (t = BN_secure_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (BN_mod_exp(t, v->g, v->q, v->p, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (!BN_is_one(t)) {
        r = AMK_EKEY;
        goto out;
    }
    if (BN_mod_exp(t, v->y, v->q, v->p, ctx) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (!BN_is_one(t)) {
        r = AMK_EKEY;
        goto out;
    }
    if (v->x != NULL) {
        if (BN_mod_exp(t, v->g, v->x, v->p, ctx) != 1) {
            r = amk_ossl_error(AMK_ECRYPTO);
            goto out;
        }
        if (BN_cmp(t, v->y) != 0) {
            r = AMK_EKEY;
            goto out;
        }
    }
    r = AMK_OK;
out:
    BN_clear_free(t);
    BN_CTX_free(ctx);
    return r;
}

static int
amk_dsa_from_parts(enum amk_pkey_type type, const struct amk_bytes parts[AMK_PART_COUNT],
    EVP_PKEY **out, int *has_private)
{
    struct amk_dsa_nums v = { .p = NULL };
    int priv = parts[AMK_PART_DSA_X].len > 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    for (size_t i = 0; i < sizeof(amk_dsa_all_parts) / sizeof(amk_dsa_all_parts[0]); i++) {
        if (parts[amk_dsa_all_parts[i]].len > AMK_DSA_MAX_BITS / 8 + 1)
            return AMK_EKEY;
    }
    if ((r = amk_ossl_bn_from(parts[AMK_PART_DSA_P].p, parts[AMK_PART_DSA_P].len, &v.p)) != AMK_OK ||
        (r = amk_ossl_bn_from(parts[AMK_PART_DSA_Q].p, parts[AMK_PART_DSA_Q].len, &v.q)) != AMK_OK ||
        (r = amk_ossl_bn_from(parts[AMK_PART_DSA_G].p, parts[AMK_PART_DSA_G].len, &v.g)) != AMK_OK ||
        (r = amk_ossl_bn_from(parts[AMK_PART_DSA_Y].p, parts[AMK_PART_DSA_Y].len, &v.y)) != AMK_OK ||
        (priv && (r = amk_ossl_bn_from_secret(parts[AMK_PART_DSA_X].p, parts[AMK_PART_DSA_X].len,
            &v.x)) != AMK_OK))
        goto out;
    if ((r = amk_dsa_check(&v)) != AMK_OK)
        goto out;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, v.p) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, v.q) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, v.g) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, v.y) != 1 ||
        (priv && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, v.x) != 1) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) == NULL) {
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
    amk_dsa_nums_free(&v);
    return r;
}

static int
amk_dsa_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
{
    const char *name;

    switch (part) {
    case AMK_PART_DSA_P: name = OSSL_PKEY_PARAM_FFC_P; break;
    case AMK_PART_DSA_Q: name = OSSL_PKEY_PARAM_FFC_Q; break;
    case AMK_PART_DSA_G: name = OSSL_PKEY_PARAM_FFC_G; break;
    case AMK_PART_DSA_Y: name = OSSL_PKEY_PARAM_PUB_KEY; break;
    case AMK_PART_DSA_X: name = OSSL_PKEY_PARAM_PRIV_KEY; break;
    default: return AMK_EINVAL;
    }
    return amk_pkey_bn_param(k->pk, name, p, len);
}

static unsigned
amk_dsa_bits(const struct amk_pkey *k)
{
    return (unsigned)EVP_PKEY_get_bits(k->pk);
}

static int
amk_dsa_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
    uint8_t *der = NULL, *raw = NULL;
    size_t derlen = 0;
    int r = AMK_EINTERNAL;

    /* RFC 4253 §6.6: ssh-dss signs the SHA-1 hash. */
    if ((r = amk_pkey_evp_sign(k->pk, EVP_sha1(), data, len, &der, &derlen)) != AMK_OK)
        goto out;
    if ((raw = amk_malloc(2 * AMK_DSA_Q_LEN)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_ossl_sig_der_to_raw(der, derlen, AMK_DSA_Q_LEN, raw)) != AMK_OK)
        goto out;
    *sig = raw;
    *siglen = 2 * AMK_DSA_Q_LEN;
    raw = NULL;
    r = AMK_OK;
out:
    amk_free(raw);
    amk_free(der);
    return r;
}

static int
amk_dsa_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    uint8_t *der = NULL;
    size_t derlen = 0;
    int r;

    /* RFC 4253 §6.6: r and s as 160-bit integers, 40 bytes in all. */
    if (siglen != 2 * AMK_DSA_Q_LEN)
        return AMK_ESIGNATURE;
    if ((r = amk_ossl_sig_raw_to_der(sig, AMK_DSA_Q_LEN, &der, &derlen)) != AMK_OK)
        return r;
    r = amk_pkey_evp_verify(k->pk, EVP_sha1(), data, len, der, derlen);
    OPENSSL_free(der);
    return r;
}

const struct amk_pkey_ops amk_pkey_dsa_ops = {
    .public_parts = amk_dsa_public_parts,
    .npublic_parts = sizeof(amk_dsa_public_parts) / sizeof(amk_dsa_public_parts[0]),
    .all_parts = amk_dsa_all_parts,
    .nall_parts = sizeof(amk_dsa_all_parts) / sizeof(amk_dsa_all_parts[0]),
    .generate = amk_dsa_generate,
    .from_parts = amk_dsa_from_parts,
    .get_part = amk_dsa_get_part,
    .bits = amk_dsa_bits,
    .sign = amk_dsa_sign,
    .verify = amk_dsa_verify,
};
