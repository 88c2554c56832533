/*
 * DER private keys for PEM and PKCS#8 files, and their encryption, over
 * OpenSSL's decoders and encoders. See pem.h.
 *
 * A decoded key is taken apart into components and rebuilt through
 * amk_pkey_from_parts(), so it gets the same checks as every other key
 * amiko loads (point on the curve, n = p*q, y = g^x, public derived from
 * private).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <amiko/error.h>

#include "util/alloc.h"
#include "crypto/ossl.h"
#include "crypto/pem.h"
#include "crypto/pkey_impl.h"
#include "util/secure.h"

#define ED25519_KEY_LEN 32
#define PEM_LEGACY_SALT_LEN 8     /* PKCS5_SALT_LEN: the salt is the IV's first 8 bytes */

static const struct {
    enum amk_ec_curve curve;
    enum amk_pkey_type type;
} ec_curves[] = {
    { AMK_EC_P256, AMK_PKEY_ECDSA_P256 },
    { AMK_EC_P384, AMK_PKEY_ECDSA_P384 },
    { AMK_EC_P521, AMK_PKEY_ECDSA_P521 },
};

/* Frees the parts fetched by the from_evp helpers. */
static void
free_parts(uint8_t *p[AMK_PART_COUNT], size_t len[AMK_PART_COUNT])
{
    for (size_t i = 0; i < AMK_PART_COUNT; i++)
        amk_free_wiped(p[i], len[i]);
}

static int
from_parts(enum amk_pkey_type type, uint8_t *p[AMK_PART_COUNT], size_t len[AMK_PART_COUNT],
    struct amk_pkey **out)
{
    struct amk_bytes parts[AMK_PART_COUNT];

    for (size_t i = 0; i < AMK_PART_COUNT; i++) {
        parts[i].p = p[i];
        parts[i].len = p[i] != NULL ? len[i] : 0;
    }
    return amk_pkey_from_parts(out, type, parts);
}

/* Fetches BIGNUM parameters @p names into parts @p which; AMK_EFORMAT if one is missing. */
static int
get_bns(EVP_PKEY *pk, const char *const *names, const enum amk_pkey_part *which, size_t n,
    uint8_t *p[AMK_PART_COUNT], size_t len[AMK_PART_COUNT])
{
    int r;

    for (size_t i = 0; i < n; i++) {
        if ((r = amk_pkey_bn_param(pk, names[i], &p[which[i]], &len[which[i]])) != AMK_OK)
            return r == AMK_EINVAL ? AMK_EFORMAT : r;
    }
    return AMK_OK;
}

static int
ec_from_evp(EVP_PKEY *pk, uint8_t *p[AMK_PART_COUNT], size_t len[AMK_PART_COUNT],
    enum amk_pkey_type *type)
{
    char group[64];
    uint8_t *d = NULL;
    size_t dlen = 0, flen = 0, i;
    int nid, r = AMK_EINTERNAL;

    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
            NULL) != 1) {
        r = AMK_ENOTSUP;    /* explicit curve parameters */
        goto out;
    }
    nid = OBJ_txt2nid(group);
    for (i = 0; i < sizeof(ec_curves) / sizeof(ec_curves[0]); i++)
        if (nid != NID_undef && amk_ossl_curve_nid(ec_curves[i].curve) == nid)
            break;
    if (i == sizeof(ec_curves) / sizeof(ec_curves[0])) {
        r = AMK_ENOTSUP;
        goto out;
    }
    *type = ec_curves[i].type;
    flen = amk_ec_field_len(ec_curves[i].curve);
    if ((r = amk_pkey_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d, &dlen)) != AMK_OK) {
        r = r == AMK_EINVAL ? AMK_EFORMAT : r;
        goto out;
    }
    if (dlen > flen) {
        r = AMK_EKEY;
        goto out;
    }
    /* The public point is derived from the scalar, not taken from the file. */
    if ((p[AMK_PART_PRIVATE] = amk_calloc(1, flen)) == NULL ||
        (p[AMK_PART_PUBLIC] = amk_malloc(AMK_EC_MAX_POINT_LEN)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    memcpy(p[AMK_PART_PRIVATE] + flen - dlen, d, dlen);
    len[AMK_PART_PRIVATE] = flen;
    len[AMK_PART_PUBLIC] = AMK_EC_MAX_POINT_LEN;
    if ((r = amk_ossl_ec_public_from_private(ec_curves[i].curve, d, dlen, p[AMK_PART_PUBLIC],
             &len[AMK_PART_PUBLIC])) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_free_wiped(d, dlen);
    return r;
}

static int
ed25519_from_evp(EVP_PKEY *pk, uint8_t *p[AMK_PART_COUNT], size_t len[AMK_PART_COUNT])
{
    size_t n = ED25519_KEY_LEN;

    if ((p[AMK_PART_PRIVATE] = amk_malloc(ED25519_KEY_LEN)) == NULL ||
        (p[AMK_PART_PUBLIC] = amk_malloc(ED25519_KEY_LEN)) == NULL)
        return AMK_ENOMEM;
    len[AMK_PART_PRIVATE] = len[AMK_PART_PUBLIC] = ED25519_KEY_LEN;
    if (EVP_PKEY_get_raw_private_key(pk, p[AMK_PART_PRIVATE], &n) != 1 || n != ED25519_KEY_LEN)
        return AMK_EFORMAT;
    n = ED25519_KEY_LEN;
    if (EVP_PKEY_get_raw_public_key(pk, p[AMK_PART_PUBLIC], &n) != 1 || n != ED25519_KEY_LEN)
        return AMK_EFORMAT;
    return AMK_OK;
}

/* Rebuilds the OpenSSL key @p pk as an amk_pkey. */
static int
pkey_from_evp(EVP_PKEY *pk, struct amk_pkey **out)
{
    static const char *const rsa_names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    static const enum amk_pkey_part rsa_parts[] = {
        AMK_PART_RSA_N, AMK_PART_RSA_E, AMK_PART_RSA_D, AMK_PART_RSA_P, AMK_PART_RSA_Q,
        AMK_PART_RSA_IQMP,
    };
    static const char *const dsa_names[] = {
        OSSL_PKEY_PARAM_FFC_P, OSSL_PKEY_PARAM_FFC_Q, OSSL_PKEY_PARAM_FFC_G,
        OSSL_PKEY_PARAM_PUB_KEY, OSSL_PKEY_PARAM_PRIV_KEY,
    };
    static const enum amk_pkey_part dsa_parts[] = {
        AMK_PART_DSA_P, AMK_PART_DSA_Q, AMK_PART_DSA_G, AMK_PART_DSA_Y, AMK_PART_DSA_X,
    };
    uint8_t *p[AMK_PART_COUNT] = { NULL };
    size_t len[AMK_PART_COUNT] = { 0 };
    enum amk_pkey_type type = AMK_PKEY_RSA;
    int r = AMK_EINTERNAL;

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        type = AMK_PKEY_RSA;
        r = get_bns(pk, rsa_names, rsa_parts, 6, p, len);
        break;
    case EVP_PKEY_DSA:
        type = AMK_PKEY_DSA;
        r = get_bns(pk, dsa_names, dsa_parts, 5, p, len);
        break;
    case EVP_PKEY_EC:
        r = ec_from_evp(pk, p, len, &type);
        break;
    case EVP_PKEY_ED25519:
        type = AMK_PKEY_ED25519;
        r = ed25519_from_evp(pk, p, len);
        break;
    default:
        r = AMK_ENOTSUP;
        break;
    }
    if (r == AMK_OK)
        r = from_parts(type, p, len, out);
    free_parts(p, len);
    return r;
}

int
amk_der_private_decode(enum amk_der_kind kind, const uint8_t *der, size_t len,
    struct amk_pkey **out)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY *pk = NULL;
    int want = EVP_PKEY_NONE, r = AMK_EINTERNAL;

    *out = NULL;
    if (len == 0 || len > LONG_MAX) {
        r = AMK_EFORMAT;
        goto out;
    }
    switch (kind) {
    case AMK_DER_RSA: want = EVP_PKEY_RSA; break;
    case AMK_DER_EC: want = EVP_PKEY_EC; break;
    case AMK_DER_DSA: want = EVP_PKEY_DSA; break;
    case AMK_DER_PKCS8: break;
    default:
        r = AMK_EINVAL;
        goto out;
    }
    if (kind == AMK_DER_PKCS8) {
        if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL ||
            p != der + len) {
            r = AMK_EFORMAT;
            goto out;
        }
        if ((pk = EVP_PKCS82PKEY(p8)) == NULL) {
            /* A well-formed PrivateKeyInfo of an algorithm OpenSSL cannot
             * use (or OpenSSL ran out of memory). */
            r = amk_ossl_error(AMK_ENOTSUP);
            goto out;
        }
    } else {
        /* The traditional (type-specific) structure of @p want. */
        if ((pk = d2i_PrivateKey(want, NULL, &p, (long)len)) == NULL || p != der + len ||
            EVP_PKEY_get_base_id(pk) != want) {
            r = AMK_EFORMAT;
            goto out;
        }
    }
    r = pkey_from_evp(pk, out);
out:
    EVP_PKEY_free(pk);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

/* Moves an OpenSSL-allocated encoding into malloc'ed memory. */
static int
take_der(unsigned char *der, int n, uint8_t **out, size_t *outlen)
{
    if (der == NULL || n <= 0)
        return amk_ossl_error(AMK_ECRYPTO);
    if ((*out = amk_malloc((size_t)n)) == NULL) {
        OPENSSL_clear_free(der, (size_t)n);
        return AMK_ENOMEM;
    }
    memcpy(*out, der, (size_t)n);
    *outlen = (size_t)n;
    OPENSSL_clear_free(der, (size_t)n);
    return AMK_OK;
}

int
amk_der_private_encode(const struct amk_pkey *k, enum amk_der_kind kind, uint8_t **der,
    size_t *len)
{
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    unsigned char *enc = NULL;
    int n, want, r = AMK_EINTERNAL;

    *der = NULL;
    *len = 0;
    if (!k->has_private)
        return AMK_EINVAL;
    switch (k->type) {
    case AMK_PKEY_RSA: want = AMK_DER_RSA; break;
    case AMK_PKEY_DSA: want = AMK_DER_DSA; break;
    case AMK_PKEY_ED25519: want = AMK_DER_PKCS8; break;
    default: want = AMK_DER_EC; break;
    }
    if (kind != AMK_DER_PKCS8 && kind != (enum amk_der_kind)want)
        return AMK_EINVAL;
    if (kind == AMK_DER_PKCS8) {
        if ((p8 = EVP_PKEY2PKCS8(k->pk)) == NULL) {
            r = amk_ossl_error(AMK_ECRYPTO);
            goto out;
        }
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &enc);
    } else {
        n = i2d_PrivateKey(k->pk, &enc);
    }
    r = take_der(enc, n, der, len);
out:
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

/* An ASN1_INTEGER iteration count within AMK_PKCS8_MAX_ITER. */
static int
iter_ok(const ASN1_INTEGER *iter)
{
    long v;

    if (iter == NULL)
        return 0;
    v = ASN1_INTEGER_get(iter);
    return v > 0 && (unsigned long)v <= AMK_PKCS8_MAX_ITER;
}

/* Checks the work factor of the PBE algorithm before anything runs it. */
static int
check_pbe_cost(const X509_ALGOR *alg)
{
    const ASN1_OBJECT *oid;
    const void *pval;
    int ptype, nid, r = AMK_EINTERNAL;
    PBE2PARAM *pbe2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    PBEPARAM *pbe = NULL;

    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    nid = OBJ_obj2nid(oid);
    if (ptype != V_ASN1_SEQUENCE) {
        r = AMK_EFORMAT;
        goto out;
    }
    if (nid == NID_pbes2) {
        /* RFC 8018 A.4: PBES2-params { keyDerivationFunc, encryptionScheme } */
        if ((pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
                 (const ASN1_TYPE *)alg->parameter)) == NULL) {
            r = AMK_EFORMAT;
            goto out;
        }
        X509_ALGOR_get0(&oid, &ptype, &pval, pbe2->keyfunc);
        if (OBJ_obj2nid(oid) == NID_id_scrypt) {
            /* OpenSSL bounds scrypt's memory itself (EVP_PBE_scrypt maxmem). */
            r = AMK_OK;
            goto out;
        }
        if (OBJ_obj2nid(oid) != NID_id_pbkdf2) {
            r = AMK_ENOTSUP;
            goto out;
        }
        if (ptype != V_ASN1_SEQUENCE ||
            (kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
                 pbe2->keyfunc->parameter)) == NULL) {
            r = AMK_EFORMAT;
            goto out;
        }
        r = iter_ok(kdf->iter) ? AMK_OK : AMK_ELIMIT;
        goto out;
    }
    /* PKCS#5 v1 and PKCS#12 PBEs: PBEParameter { salt, iterationCount } */
    if ((pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter)) == NULL) {
        r = AMK_EFORMAT;
        goto out;
    }
    r = iter_ok(pbe->iter) ? AMK_OK : AMK_ELIMIT;
out:
    PBE2PARAM_free(pbe2);
    PBKDF2PARAM_free(kdf);
    PBEPARAM_free(pbe);
    return r;
}

int
amk_der_pkcs8_decrypt(const uint8_t *der, size_t len, const char *pass, size_t passlen,
    uint8_t **plain, size_t *plainlen)
{
    const unsigned char *p = der;
    const X509_ALGOR *alg = NULL;
    const ASN1_OCTET_STRING *digest = NULL;
    X509_SIG *sig = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    unsigned char *enc = NULL;
    int n, r = AMK_EINTERNAL;

    *plain = NULL;
    *plainlen = 0;
    if (len == 0 || len > LONG_MAX || passlen > INT_MAX) {
        r = AMK_EFORMAT;
        goto out;
    }
    /* RFC 5208 §6: EncryptedPrivateKeyInfo has X509_SIG's shape. */
    if ((sig = d2i_X509_SIG(NULL, &p, (long)len)) == NULL || p != der + len) {
        r = AMK_EFORMAT;
        goto out;
    }
    X509_SIG_get0(sig, &alg, &digest);
    if ((r = check_pbe_cost(alg)) != AMK_OK)
        goto out;
    if ((p8 = PKCS8_decrypt(sig, pass, (int)passlen)) == NULL) {
        r = amk_ossl_error(AMK_EPASSPHRASE);
        goto out;
    }
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, &enc);
    r = take_der(enc, n, plain, plainlen);
out:
    X509_SIG_free(sig);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

int
amk_der_pkcs8_encrypt(const uint8_t *der, size_t len, const char *pass, size_t passlen,
    uint8_t **enc, size_t *enclen)
{
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    X509_SIG *sig = NULL;
    X509_ALGOR *alg = NULL;
    unsigned char *out = NULL;
    int n, r = AMK_EINTERNAL;

    *enc = NULL;
    *enclen = 0;
    if (len > LONG_MAX || passlen > INT_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL) {
        r = AMK_EINVAL;
        goto out;
    }
    /* RFC 8018 §6.2 PBES2; PBKDF2 with HMAC-SHA-256 (A.2), AES-256-CBC (B.2.5). */
    if ((alg = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), AMK_PKCS8_ITER, NULL, 0, NULL,
             NID_hmacWithSHA256)) == NULL ||
        (sig = PKCS8_set0_pbe(pass, (int)passlen, p8, alg)) == NULL) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    alg = NULL;     /* owned by sig */
    n = i2d_X509_SIG(sig, &out);
    r = take_der(out, n, enc, enclen);
out:
    X509_ALGOR_free(alg);
    X509_SIG_free(sig);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return r;
}

static const EVP_CIPHER *
legacy_cipher(const char *name)
{
    if (strcmp(name, "AES-128-CBC") == 0)
        return EVP_aes_128_cbc();
    if (strcmp(name, "AES-192-CBC") == 0)
        return EVP_aes_192_cbc();
    if (strcmp(name, "AES-256-CBC") == 0)
        return EVP_aes_256_cbc();
    if (strcmp(name, "DES-EDE3-CBC") == 0)
        return EVP_des_ede3_cbc();
    return NULL;
}

size_t
amk_pem_legacy_iv_len(const char *cipher)
{
    const EVP_CIPHER *c = legacy_cipher(cipher);

    return c == NULL ? 0 : (size_t)EVP_CIPHER_get_iv_length(c);
}

int
amk_pem_legacy_crypt(const char *cipher, int encrypt, const uint8_t *iv,
    const char *pass, size_t passlen, const uint8_t *in, size_t len, uint8_t **out,
    size_t *outlen)
{
    const EVP_CIPHER *c = legacy_cipher(cipher);
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t key[EVP_MAX_KEY_LENGTH];
    uint8_t *buf = NULL;
    size_t cap = 0, block;
    int n1 = 0, n2 = 0, r = AMK_EINTERNAL;

    *out = NULL;
    *outlen = 0;
    if (c == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    block = (size_t)EVP_CIPHER_get_block_size(c);
    if (len > INT_MAX - 2 * block || passlen > INT_MAX) {
        r = AMK_ETOOBIG;
        goto out;
    }
    if (!encrypt && (len == 0 || len % block != 0)) {
        r = AMK_EFORMAT;
        goto out;
    }
    /* OpenSSL's PEM_do_header: one round of MD5 over pass || salt. */
    if (EVP_BytesToKey(c, EVP_md5(), iv, (const unsigned char *)pass, (int)passlen, 1, key,
            NULL) <= 0) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    cap = len + block;
    if ((buf = amk_malloc(cap)) == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, encrypt) != 1 ||
        EVP_CipherUpdate(ctx, buf, &n1, in, (int)len) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (EVP_CipherFinal_ex(ctx, buf + n1, &n2) != 1) {
        /* Only a decryption can fail here: the PKCS#7 padding is wrong. */
        r = amk_ossl_error(encrypt ? AMK_ECRYPTO : AMK_EPASSPHRASE);
        goto out;
    }
    *out = buf;
    *outlen = (size_t)n1 + (size_t)n2;
    buf = NULL;
    r = AMK_OK;
out:
    amk_wipe(key, sizeof(key));
    amk_free_wiped(buf, cap);
    EVP_CIPHER_CTX_free(ctx);
    return r;
}
