/* Ed25519 keys and pure Ed25519 signatures (RFC 8032 §5.1, RFC 8709). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "util/alloc.h"
#include "crypto/pkey_impl.h"
#include "util/secure.h"

#define AMK_ED25519_KEY_LEN 32
#define AMK_ED25519_SIG_LEN 64

static const enum amk_pkey_part amk_ed25519_public_parts[] = { AMK_PART_PUBLIC };
static const enum amk_pkey_part amk_ed25519_all_parts[] = { AMK_PART_PUBLIC, AMK_PART_PRIVATE };

static int
amk_ed25519_generate(enum amk_pkey_type type, unsigned bits, EVP_PKEY **out)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return *out != NULL ? AMK_OK : amk_ossl_error(AMK_ECRYPTO);
}

static int
amk_ed25519_from_parts(enum amk_pkey_type type, const struct amk_bytes parts[AMK_PART_COUNT],
    EVP_PKEY **out, int *has_private)
{
    const struct amk_bytes *pub = &parts[AMK_PART_PUBLIC], *seed = &parts[AMK_PART_PRIVATE];
    uint8_t derived[AMK_ED25519_KEY_LEN];
    size_t len = sizeof(derived);
    EVP_PKEY *pk = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    /* RFC 8032 §5.1.5: a 32-byte public key; the private key is a 32-byte seed. */
    if (pub->len != AMK_ED25519_KEY_LEN ||
        (seed->len != 0 && seed->len != AMK_ED25519_KEY_LEN))
        return AMK_EKEY;
    if (seed->len == 0) {
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->p, pub->len);
        /* Any 32 bytes import (the point is checked when verifying), so a
         * failure here is OpenSSL's, not the key's. */
        r = pk != NULL ? AMK_OK : amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    if ((pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed->p, seed->len)) == NULL) {
        r = amk_ossl_error(AMK_ECRYPTO);    /* any 32-byte seed is a key */
        goto out;
    }
    if (EVP_PKEY_get_raw_public_key(pk, derived, &len) != 1 || len != sizeof(derived)) {
        r = amk_ossl_error(AMK_ECRYPTO);
        goto out;
    }
    /* The public key must be the one the seed derives. */
    if (memcmp(derived, pub->p, sizeof(derived)) != 0) {
        r = AMK_EKEY;
        goto out;
    }
    *has_private = 1;
    r = AMK_OK;
out:
    if (r == AMK_OK) {
        *out = pk;
        pk = NULL;
    }
    EVP_PKEY_free(pk);
    return r;
}

static int
amk_ed25519_get_part(const struct amk_pkey *k, enum amk_pkey_part part, uint8_t **p, size_t *len)
{
    uint8_t *buf = NULL;
    size_t n = AMK_ED25519_KEY_LEN;
    int ok;

    if ((buf = amk_malloc(n)) == NULL)
        return AMK_ENOMEM;
    if (part == AMK_PART_PUBLIC)
        ok = EVP_PKEY_get_raw_public_key(k->pk, buf, &n);
    else
        ok = EVP_PKEY_get_raw_private_key(k->pk, buf, &n);
    if (ok != 1 || n != AMK_ED25519_KEY_LEN) {
        amk_free_wiped(buf, AMK_ED25519_KEY_LEN);
        return amk_ossl_error(AMK_ECRYPTO);
    }
    *p = buf;
    *len = n;
    return AMK_OK;
}

static unsigned
amk_ed25519_bits(const struct amk_pkey *k)
{
    return 256;
}

static int
amk_ed25519_sign(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
    int r;

    /* Pure Ed25519: no pre-hash, no digest argument (RFC 8032 §5.1.6). */
    if ((r = amk_pkey_evp_sign(k->pk, NULL, data, len, sig, siglen)) != AMK_OK)
        return r;
    if (*siglen != AMK_ED25519_SIG_LEN) {
        amk_free(*sig);
        *sig = NULL;
        *siglen = 0;
        return amk_ossl_error(AMK_ECRYPTO);
    }
    return AMK_OK;
}

static int
amk_ed25519_verify(const struct amk_pkey *k, enum amk_hash_alg hash, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
    if (siglen != AMK_ED25519_SIG_LEN)
        return AMK_ESIGNATURE;
    return amk_pkey_evp_verify(k->pk, NULL, data, len, sig, siglen);
}

const struct amk_pkey_ops amk_pkey_ed25519_ops = {
    .public_parts = amk_ed25519_public_parts,
    .npublic_parts = sizeof(amk_ed25519_public_parts) / sizeof(amk_ed25519_public_parts[0]),
    .all_parts = amk_ed25519_all_parts,
    .nall_parts = sizeof(amk_ed25519_all_parts) / sizeof(amk_ed25519_all_parts[0]),
    .generate = amk_ed25519_generate,
    .from_parts = amk_ed25519_from_parts,
    .get_part = amk_ed25519_get_part,
    .bits = amk_ed25519_bits,
    .sign = amk_ed25519_sign,
    .verify = amk_ed25519_verify,
};
