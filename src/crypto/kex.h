/*
 * Key agreement primitives for the SSH key exchanges: X25519 (RFC 7748,
 * RFC 8731), ECDH on NIST curves (RFC 5656) and finite-field
 * Diffie-Hellman (RFC 4253 §8, RFC 3526 groups, RFC 4419 group exchange).
 * Numbers cross this interface as unsigned big-endian magnitudes.
 */
#ifndef AMK_CRYPTO_KEX_H
#define AMK_CRYPTO_KEX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/rand.h"

#define AMK_X25519_LEN 32

/* A fresh key pair; the private key comes from @p rng (NULL: system). */
int amk_x25519_keypair(const struct amk_rng *rng, uint8_t priv[AMK_X25519_LEN],
    uint8_t pub[AMK_X25519_LEN]) __attribute__((warn_unused_result));

/* pub = X25519(priv, 9). */
int amk_x25519_public(const uint8_t priv[AMK_X25519_LEN], uint8_t pub[AMK_X25519_LEN])
    __attribute__((warn_unused_result));

/* The shared secret. AMK_EKEY when it is all zeros (RFC 7748 §6.1, RFC 8731 §3). */
int amk_x25519_shared(const uint8_t priv[AMK_X25519_LEN], const uint8_t peer[AMK_X25519_LEN],
    uint8_t shared[AMK_X25519_LEN]) __attribute__((warn_unused_result));

enum amk_ec_curve {
    AMK_EC_P256 = 1,
    AMK_EC_P384,
    AMK_EC_P521
};

/* Field size in bytes (32, 48, 66); 0 for an unknown curve. */
size_t amk_ec_field_len(enum amk_ec_curve curve);

struct amk_ecdh;

/* Generates an ephemeral key pair on @p curve. */
int amk_ecdh_new(struct amk_ecdh **out, enum amk_ec_curve curve, const struct amk_rng *rng)
    __attribute__((warn_unused_result));
/* The public point, SEC1 uncompressed (0x04 || x || y); valid while @p e lives. */
void amk_ecdh_public(const struct amk_ecdh *e, const uint8_t **pub, size_t *len);
/*
 * The shared secret (the x coordinate, field_len bytes, written to @p secret
 * which must hold amk_ec_field_len() bytes) with @p peer, an
 * uncompressed point that is validated to lie on the curve and not be the
 * point at infinity (RFC 5656 §4, SEC1 3.2.2.1). AMK_EKEY when invalid.
 */
int amk_ecdh_shared(struct amk_ecdh *e, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t *secret_len) __attribute__((warn_unused_result));
void amk_ecdh_free(struct amk_ecdh *e);
/*
 * Test hook: an ECDH key from a known private scalar (big-endian, at most
 * the field length, 1 <= d < n, else AMK_EKEY), for known-answer tests.
 */
int amk_ecdh_new_from_private(struct amk_ecdh **out, enum amk_ec_curve curve,
    const uint8_t *priv, size_t privlen) __attribute__((warn_unused_result));

struct amk_dh;

/* Bounds on group sizes we accept (RFC 4419 §3 and RFC 8270: at least 2048 bits). */
#define AMK_DH_MIN_BITS 2048
#define AMK_DH_MAX_BITS 8192

/* A well-known group: 14 (2048-bit), 16 (4096) or 18 (8192), RFC 3526. */
int amk_dh_new_group(struct amk_dh **out, int group) __attribute__((warn_unused_result));
/*
 * A group given by the peer (group exchange): @p p odd, between
 * AMK_DH_MIN_BITS and AMK_DH_MAX_BITS bits; 1 < g < p-1.
 */
int amk_dh_new_custom(struct amk_dh **out, const uint8_t *p, size_t plen,
    const uint8_t *g, size_t glen) __attribute__((warn_unused_result));
size_t amk_dh_bits(const struct amk_dh *dh);
/* The group's p and g as magnitudes; valid while @p dh lives. */
void amk_dh_group(const struct amk_dh *dh, const uint8_t **p, size_t *plen,
    const uint8_t **g, size_t *glen);
/*
 * Generates the private exponent (2 * @p security_bits bits, at least 256,
 * bounded by the group) and public value e = g^x mod p.
 */
int amk_dh_generate(struct amk_dh *dh, size_t security_bits, const struct amk_rng *rng)
    __attribute__((warn_unused_result));
/* The public value as a magnitude; valid while @p dh lives. */
void amk_dh_public(const struct amk_dh *dh, const uint8_t **pub, size_t *len);
/*
 * The shared secret K = f^x mod p as a magnitude without leading zeros,
 * into @p secret (capacity @p cap, at least amk_dh_bits()/8 + 1).
 * AMK_EKEY unless 1 < f < p-1 (RFC 4253 §8), and when K is 1 or p-1
 * (f in a subgroup of order 1 or 2). AMK_ESTATE before amk_dh_generate(),
 * AMK_EINVAL when @p cap is below the byte length of p.
 */
int amk_dh_shared(struct amk_dh *dh, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t cap, size_t *secret_len) __attribute__((warn_unused_result));
void amk_dh_free(struct amk_dh *dh);
/*
 * Test hook: sets the private exponent to @p x (a magnitude, 1 < x and
 * fewer bits than p, else AMK_EINVAL) and recomputes the public value,
 * in place of amk_dh_generate().
 */
int amk_dh_set_private(struct amk_dh *dh, const uint8_t *x, size_t xlen)
    __attribute__((warn_unused_result));

#endif
