/*
 * Asymmetric keys and signatures: Ed25519 (RFC 8032), ECDSA on P-256/384/521
 * (FIPS 186-4, RFC 5656), RSA PKCS#1 v1.5 with SHA-1/256/512 (RFC 8017,
 * RFC 8332) and legacy DSA (FIPS 186-2, 1024-bit with SHA-1).
 *
 * Components cross this interface as unsigned big-endian magnitudes, so the
 * keys layer can encode them in any file or wire format. Signatures are
 * raw: Ed25519 64 bytes; RSA the modulus length; ECDSA r || s, each padded
 * to the field length; DSA r || s, 20 bytes each (the SSH ssh-dss form).
 */
#ifndef AMK_CRYPTO_PKEY_H
#define AMK_CRYPTO_PKEY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "crypto/kex.h"
#include "crypto/rand.h"

enum amk_pkey_type {
    AMK_PKEY_ED25519 = 1,
    AMK_PKEY_ECDSA_P256,
    AMK_PKEY_ECDSA_P384,
    AMK_PKEY_ECDSA_P521,
    AMK_PKEY_RSA,
    AMK_PKEY_DSA
};

/* Components; which apply depends on the type. */
enum amk_pkey_part {
    AMK_PART_PUBLIC = 0,  /* Ed25519: 32-byte public key; ECDSA: uncompressed point */
    AMK_PART_PRIVATE,     /* Ed25519: 32-byte seed; ECDSA: scalar */
    AMK_PART_RSA_N,
    AMK_PART_RSA_E,
    AMK_PART_RSA_D,
    AMK_PART_RSA_P,
    AMK_PART_RSA_Q,
    AMK_PART_RSA_IQMP,    /* q^-1 mod p */
    AMK_PART_DSA_P,
    AMK_PART_DSA_Q,
    AMK_PART_DSA_G,
    AMK_PART_DSA_Y,
    AMK_PART_DSA_X,
    AMK_PART_COUNT
};

struct amk_bytes {
    const uint8_t *p;
    size_t len;           /* 0: absent */
};

struct amk_pkey;

/*
 * Generates a key. @p bits: RSA 1024..16384 (0 = 3072), DSA 1024 only
 * (0 = 1024), ignored for the others.
 */
int amk_pkey_generate(struct amk_pkey **out, enum amk_pkey_type type, unsigned bits)
    __attribute__((warn_unused_result));

/*
 * Builds a key from components indexed by enum amk_pkey_part (absent parts
 * have len 0). Public parts are required; when private parts are given the
 * key is private, and they are checked to belong to the public ones
 * (Ed25519 and ECDSA: public derived from private and compared; RSA:
 * n = p*q; DSA: y = g^x). ECDSA points are checked to lie on the curve.
 * AMK_EKEY for inconsistent or invalid components.
 */
int amk_pkey_from_parts(struct amk_pkey **out, enum amk_pkey_type type,
    const struct amk_bytes parts[AMK_PART_COUNT]) __attribute__((warn_unused_result));

/* One component as an allocated magnitude; free it with amk_free_wiped(p, len).
 * The ECDSA scalar comes padded to the field length (32, 48, 66 bytes).
 * AMK_EINVAL when the part does not apply or the key lacks it. */
int amk_pkey_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
    __attribute__((warn_unused_result));

enum amk_pkey_type amk_pkey_type(const struct amk_pkey *k);
int amk_pkey_has_private(const struct amk_pkey *k);
unsigned amk_pkey_bits(const struct amk_pkey *k);
/* 1 when both hold the same public key. */
int amk_pkey_equal_public(const struct amk_pkey *a, const struct amk_pkey *b);
/* A new key holding only the public half. */
int amk_pkey_public_copy(const struct amk_pkey *k, struct amk_pkey **out)
    __attribute__((warn_unused_result));
void amk_pkey_free(struct amk_pkey *k);   /* wipes private material; NULL is fine */

/*
 * Signs @p data. @p hash selects the digest for RSA (SHA1, SHA256, SHA512);
 * ECDSA uses its curve's hash (SHA-256/384/512), DSA SHA-1, Ed25519 none,
 * and @p hash is ignored for them. *@p sig is allocated; free() it.
 * AMK_EINVAL for a key without its private half or another RSA hash.
 */
int amk_pkey_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen) __attribute__((warn_unused_result));

/* AMK_OK when @p sig is a valid signature of @p data, else AMK_ESIGNATURE
 * (also for a signature of the wrong length). AMK_EINVAL for an RSA hash
 * other than SHA1, SHA256, SHA512. RSA signatures shorter than the modulus
 * (leading zeros dropped by the signer) are accepted, as OpenSSH does. */
int amk_pkey_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen) __attribute__((warn_unused_result));

#endif
