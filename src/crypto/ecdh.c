/*
 * Ephemeral ECDH on the NIST curves P-256, P-384 and P-521 for the
 * ecdh-sha2-nistp* key exchanges (RFC 5656 §4). see crypto/kex.h
 */
#include "crypto/kex.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/alloc.h"
#include "util/secure.h"

struct amk_ecdh {
    enum amk_ec_curve curve;
    EVP_PKEY *pk;                        /* the key pair */
    uint8_t pub[AMK_EC_MAX_POINT_LEN];   /* our point, uncompressed */
    size_t publen;
};

int
amk_ecdh_new_from_private(struct amk_ecdh **out, enum amk_ec_curve curve,
    const uint8_t *priv, size_t privlen)
{
    struct amk_ecdh *e = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (amk_ec_field_len(curve) == 0)
        return AMK_EINVAL;
    if ((e = amk_calloc(1, sizeof(*e))) == NULL)
        return AMK_ENOMEM;
    e->curve = curve;
    if ((r = amk_ossl_ec_public_from_private(curve, priv, privlen, e->pub, &e->publen)) != AMK_OK ||
        (r = amk_ossl_ec_pkey(curve, e->pub, e->publen, priv, privlen, &e->pk)) != AMK_OK)
        goto out;
    *out = e;
    e = NULL;
    r = AMK_OK;
out:
    amk_ecdh_free(e);
    return r;
}

int
amk_ecdh_new(struct amk_ecdh **out, enum amk_ec_curve curve, const struct amk_rng *rng)
{
    uint8_t d[AMK_EC_MAX_FIELD_LEN];
    size_t flen = amk_ec_field_len(curve);
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (flen == 0)
        return AMK_EINVAL;
    if ((r = amk_ossl_ec_random_scalar(curve, rng, d, flen)) != AMK_OK ||
        (r = amk_ecdh_new_from_private(out, curve, d, flen)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(d, sizeof(d));
    return r;
}

void
amk_ecdh_public(const struct amk_ecdh *e, const uint8_t **pub, size_t *len)
{
    *pub = e->pub;
    *len = e->publen;
}

int
amk_ecdh_shared(struct amk_ecdh *e, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t *secret_len)
{
    uint8_t buf[AMK_EC_MAX_FIELD_LEN];
    size_t flen = amk_ec_field_len(e->curve), len = sizeof(buf);
    EVP_PKEY *peerkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int r = AMK_EINTERNAL;

    *secret_len = 0;
    /* RFC 5656 §4: the peer's point MUST be validated (SEC1 3.2.2.1). */
    if ((r = amk_ossl_ec_point_check(e->curve, peer, peer_len)) != AMK_OK ||
        (r = amk_ossl_ec_pkey(e->curve, peer, peer_len, NULL, 0, &peerkey)) != AMK_OK)
        goto out;
    if ((ctx = EVP_PKEY_CTX_new(e->pk, NULL)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peerkey) != 1) {
        r = AMK_EKEY;
        goto out;
    }
    /* SEC1 3.3.1: the x coordinate as a field-length octet string. */
    if (EVP_PKEY_derive(ctx, buf, &len) != 1 || len != flen) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    memcpy(secret, buf, flen);
    *secret_len = flen;
    r = AMK_OK;
out:
    amk_wipe(buf, sizeof(buf));
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peerkey);
    return r;
}

void
amk_ecdh_free(struct amk_ecdh *e)
{
    if (e == NULL)
        return;
    EVP_PKEY_free(e->pk);
    amk_free_wiped(e, sizeof(*e));
}
