/*
 * Inside amk_pkey: one ops table per key family (pkey_ed25519.c,
 * pkey_ecdsa.c, pkey_rsa.c, pkey_dsa.c), dispatched from pkey.c, and the
 * EVP one-shot sign/verify they share. Only src/crypto/ includes this.
 */
#ifndef AMK_CRYPTO_PKEY_IMPL_H
#define AMK_CRYPTO_PKEY_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/pkey.h"

struct amk_pkey {
    enum amk_pkey_type type;
    const struct amk_pkey_ops *ops;
    EVP_PKEY *pk;
    int has_private;
};

struct amk_pkey_ops {
    /* The components a public key is made of, in the order given. */
    const enum amk_pkey_part *public_parts;
    size_t npublic_parts;
    /* Every component the type accepts, public and private. */
    const enum amk_pkey_part *all_parts;
    size_t nall_parts;

    int (*generate)(enum amk_pkey_type type, unsigned bits, EVP_PKEY **out);
    /* Builds and checks the key; sets *has_private. */
    int (*from_parts)(enum amk_pkey_type type, const struct amk_bytes parts[AMK_PART_COUNT],
        EVP_PKEY **out, int *has_private);
    /* Only called for parts in all_parts; private ones only with a private key. */
    int (*get_part)(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len);
    unsigned (*bits)(const struct amk_pkey *k);
    int (*sign)(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
        size_t len, uint8_t **sig, size_t *siglen);
    int (*verify)(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
        size_t len, const uint8_t *sig, size_t siglen);
};

extern const struct amk_pkey_ops amk_pkey_ed25519_ops;
extern const struct amk_pkey_ops amk_pkey_ecdsa_ops;
extern const struct amk_pkey_ops amk_pkey_rsa_ops;
extern const struct amk_pkey_ops amk_pkey_dsa_ops;

/* One-shot EVP_DigestSign with @p md (NULL for Ed25519); *sig is malloc'ed. */
int amk_pkey_evp_sign(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data, size_t len,
    uint8_t **sig, size_t *siglen) __attribute__((warn_unused_result));
/* One-shot EVP_DigestVerify: AMK_OK or AMK_ESIGNATURE. */
int amk_pkey_evp_verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data, size_t len,
    const uint8_t *sig, size_t siglen) __attribute__((warn_unused_result));

/* A BIGNUM parameter of @p pk (@p name from core_names.h) as an allocated magnitude. */
int amk_pkey_bn_param(EVP_PKEY *pk, const char *name, uint8_t **p, size_t *len)
    __attribute__((warn_unused_result));

#endif
