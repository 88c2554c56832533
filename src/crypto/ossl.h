/*
 * Helpers shared by the asymmetric primitives (x25519.c, ecdh.c, dh.c and
 * the pkey_*.c files): randomness for private keys, big-number conversion
 * between OpenSSL BIGNUMs and big-endian magnitudes, NIST curve points and
 * DER (r, s) signature values. Only files under src/crypto/ include this.
 */
#ifndef AMK_CRYPTO_OSSL_H
#define AMK_CRYPTO_OSSL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/kex.h"
#include "crypto/rand.h"

/* Largest field on a supported curve (P-521) and its uncompressed point. */
#define AMK_EC_MAX_FIELD_LEN 66
#define AMK_EC_MAX_POINT_LEN (1 + 2 * AMK_EC_MAX_FIELD_LEN)
/* SEC1 2.3.3: the leading octet of an uncompressed point. */
#define AMK_EC_POINT_UNCOMPRESSED 0x04

/*
 * The code for a failed OpenSSL call: AMK_ENOMEM when OpenSSL's error
 * queue says an allocation failed, else @p code (usually AMK_ECRYPTO).
 * Empties the queue.
 */
int amk_ossl_error(int code) __attribute__((warn_unused_result));

/* Private-key bytes from @p rng, or from OpenSSL's private DRBG when NULL. */
int amk_ossl_random(const struct amk_rng *rng, uint8_t *out, size_t len)
    __attribute__((warn_unused_result));

/* A new BIGNUM holding the magnitude @p p (@p len may be 0: zero). */
int amk_ossl_bn_from(const uint8_t *p, size_t len, BIGNUM **out)
    __attribute__((warn_unused_result));
/*
 * The same for a secret: the BIGNUM is flagged secure, so OpenSSL keeps it
 * (and OSSL_PARAM copies made from it) in memory it clears when freed.
 */
int amk_ossl_bn_from_secret(const uint8_t *p, size_t len, BIGNUM **out)
    __attribute__((warn_unused_result));
/* An allocated magnitude of @p bn (at least one byte). Free with amk_free_wiped. */
int amk_ossl_bn_export(const BIGNUM *bn, uint8_t **out, size_t *len)
    __attribute__((warn_unused_result));

/* The curve's OpenSSL group name ("P-256", ...) and NID; NULL / 0 if unknown. */
const char *amk_ossl_curve_name(enum amk_ec_curve curve);
int amk_ossl_curve_nid(enum amk_ec_curve curve);

/*
 * Checks @p pt is an uncompressed point on @p curve and not the point at
 * infinity (SEC1 3.2.2.1, RFC 5656 §4). AMK_EKEY when it is not.
 */
int amk_ossl_ec_point_check(enum amk_ec_curve curve, const uint8_t *pt, size_t len)
    __attribute__((warn_unused_result));

/*
 * The uncompressed public point d*G for the scalar @p priv, written to @p pub
 * (1 + 2 * field length bytes). AMK_EKEY unless 1 <= d < n.
 */
int amk_ossl_ec_public_from_private(enum amk_ec_curve curve, const uint8_t *priv,
    size_t privlen, uint8_t *pub, size_t *publen) __attribute__((warn_unused_result));

/*
 * An EVP_PKEY for @p curve from a checked public point and, when @p privlen
 * is not 0, the private scalar (which the caller has checked belongs to it).
 */
int amk_ossl_ec_pkey(enum amk_ec_curve curve, const uint8_t *pub, size_t publen,
    const uint8_t *priv, size_t privlen, EVP_PKEY **out) __attribute__((warn_unused_result));

/* A scalar in [1, n) for @p curve from @p rng, as field-length bytes. */
int amk_ossl_ec_random_scalar(enum amk_ec_curve curve, const struct amk_rng *rng,
    uint8_t *out, size_t len) __attribute__((warn_unused_result));

/*
 * DER SEQUENCE { INTEGER r, INTEGER s } (X9.62 / RFC 3279) to r || s, each
 * padded to @p width bytes, and back (*@p der freed with OPENSSL_free).
 * der_to_raw fails with AMK_ECRYPTO;
 * raw_to_der is used on untrusted signatures and fails with AMK_ESIGNATURE.
 */
int amk_ossl_sig_der_to_raw(const uint8_t *der, size_t derlen, size_t width, uint8_t *raw)
    __attribute__((warn_unused_result));
int amk_ossl_sig_raw_to_der(const uint8_t *raw, size_t width, uint8_t **der, size_t *derlen)
    __attribute__((warn_unused_result));

/* EVP digest for an amk hash, NULL for one this layer does not sign with. */
const EVP_MD *amk_ossl_md(enum amk_hash_alg alg);

#endif
