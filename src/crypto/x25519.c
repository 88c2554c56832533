/*
 * X25519 (RFC 7748 §5) for curve25519-sha256 (RFC 8731), on OpenSSL's raw
 * X25519 keys. see crypto/kex.h
 */
#include "crypto/kex.h"

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/secure.h"

int
amk_x25519_public(const uint8_t priv[AMK_X25519_LEN], uint8_t pub[AMK_X25519_LEN])
{
    EVP_PKEY *pk = NULL;
    size_t len = AMK_X25519_LEN;
    int r = AMK_EINTERNAL;

    if ((pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AMK_X25519_LEN)) == NULL) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != AMK_X25519_LEN) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    r = AMK_OK;
out:
    EVP_PKEY_free(pk);
    return r;
}

int
amk_x25519_keypair(const struct amk_rng *rng, uint8_t priv[AMK_X25519_LEN],
    uint8_t pub[AMK_X25519_LEN])
{
    int r;

    /* RFC 7748 §6.1: 32 random bytes; clamping happens inside X25519. */
    if ((r = amk_ossl_random(rng, priv, AMK_X25519_LEN)) != AMK_OK ||
        (r = amk_x25519_public(priv, pub)) != AMK_OK)
        amk_wipe(priv, AMK_X25519_LEN);
    return r;
}

int
amk_x25519_shared(const uint8_t priv[AMK_X25519_LEN], const uint8_t peer[AMK_X25519_LEN],
    uint8_t shared[AMK_X25519_LEN])
{
    static const uint8_t zero[AMK_X25519_LEN];
    EVP_PKEY *pk = NULL, *peerkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t len = AMK_X25519_LEN;
    int r = AMK_EINTERNAL;

    amk_wipe(shared, AMK_X25519_LEN);
    if ((pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AMK_X25519_LEN)) == NULL ||
        (peerkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
            AMK_X25519_LEN)) == NULL ||
        (ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peerkey) != 1) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    /*
     * OpenSSL refuses to return the all-zero value, which is the only way
     * derivation can fail once the keys are set: a low-order peer point.
     */
    if (EVP_PKEY_derive(ctx, shared, &len) != 1) {
        r = AMK_EKEY;
        goto out;
    }
    /* RFC 7748 §6.1, RFC 8731 §3: abort on an all-zero shared secret. */
    if (len != AMK_X25519_LEN || amk_ct_equal(shared, zero, AMK_X25519_LEN)) {
        r = AMK_EKEY;
        goto out;
    }
    r = AMK_OK;
out:
    if (r != AMK_OK)
        amk_wipe(shared, AMK_X25519_LEN);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peerkey);
    EVP_PKEY_free(pk);
    return r;
}
