/*
 * The DER structures inside PEM and PKCS#8 private key files, decoded and
 * encoded with OpenSSL so that the keys layer (src/keys/key_pem.c) can do
 * the text armor and never sees OpenSSL:
 *   - PKCS#1 RSAPrivateKey (RFC 8017 A.1.2);
 *   - SEC1 ECPrivateKey (RFC 5915 §3) on P-256, P-384, P-521;
 *   - OpenSSL's DSA private key, SEQUENCE { 0, p, q, g, y, x };
 *   - PKCS#8 PrivateKeyInfo (RFC 5208 §5; RFC 8410 §7 for Ed25519) and
 *     EncryptedPrivateKeyInfo (RFC 5208 §6, PBES2 of RFC 8018 §6.2);
 *   - the legacy PEM encryption of "Proc-Type: 4,ENCRYPTED" files
 *     (RFC 1421 §4.6.1 headers; key = OpenSSL's EVP_BytesToKey with MD5,
 *     one iteration, the first 8 bytes of the IV as salt).
 * Results are allocated: free them with amk_free_wiped(p, len).
 */
#ifndef AMK_CRYPTO_PEM_H
#define AMK_CRYPTO_PEM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/pkey.h"

enum amk_der_kind {
    AMK_DER_RSA = 1,    /* PKCS#1 RSAPrivateKey */
    AMK_DER_EC,         /* SEC1 ECPrivateKey with a named curve */
    AMK_DER_DSA,        /* DSA private key */
    AMK_DER_PKCS8       /* PKCS#8 PrivateKeyInfo of any of the above or Ed25519 */
};

/* Highest PBKDF2 / PKCS#12 PBE iteration count we run for a file. */
#define AMK_PKCS8_MAX_ITER 10000000u
/* Iterations of PBKDF2 we use when encrypting. */
#define AMK_PKCS8_ITER 100000u

/*
 * Decodes a private key of @p kind. The DER MUST fill @p len exactly.
 * AMK_EFORMAT for bad DER or a key of another type than @p kind says;
 * AMK_ENOTSUP for a key type or curve SSH does not use; AMK_EKEY for
 * invalid key material (amk_pkey_from_parts checks).
 */
int amk_der_private_decode(enum amk_der_kind kind, const uint8_t *der, size_t len,
    struct amk_pkey **out) __attribute__((warn_unused_result));

/*
 * Encodes the private key @p k as @p kind (AMK_DER_RSA/EC/DSA must match
 * its type; Ed25519 only as AMK_DER_PKCS8). AMK_EINVAL for a mismatch or a
 * public key.
 */
int amk_der_private_encode(const struct amk_pkey *k, enum amk_der_kind kind, uint8_t **der,
    size_t *len) __attribute__((warn_unused_result));

/*
 * Decrypts an EncryptedPrivateKeyInfo into the DER of a PrivateKeyInfo.
 * AMK_EFORMAT when @p der is not one; AMK_ELIMIT for an iteration count
 * over AMK_PKCS8_MAX_ITER; AMK_EPASSPHRASE when decryption fails (wrong
 * passphrase, or ciphertext that does not decrypt; the two cannot be told
 * apart); AMK_ENOTSUP for an unknown algorithm.
 */
int amk_der_pkcs8_decrypt(const uint8_t *der, size_t len, const char *pass, size_t passlen,
    uint8_t **plain, size_t *plainlen) __attribute__((warn_unused_result));

/* Encrypts a PrivateKeyInfo into an EncryptedPrivateKeyInfo: PBES2 with
 * PBKDF2-HMAC-SHA256 (AMK_PKCS8_ITER) and AES-256-CBC. */
int amk_der_pkcs8_encrypt(const uint8_t *der, size_t len, const char *pass, size_t passlen,
    uint8_t **enc, size_t *enclen) __attribute__((warn_unused_result));

/*
 * The IV length of a DEK-Info cipher ("AES-128-CBC", "AES-192-CBC",
 * "AES-256-CBC", "DES-EDE3-CBC"), or 0 when unsupported.
 */
size_t amk_pem_legacy_iv_len(const char *cipher);

/*
 * Legacy PEM encryption with @p cipher and @p iv (amk_pem_legacy_iv_len
 * bytes): CBC with PKCS#7 padding. Decrypting, AMK_EPASSPHRASE when the
 * padding is wrong and AMK_EFORMAT when @p len is not a whole number of
 * blocks. AMK_ENOTSUP for an unknown cipher.
 */
int amk_pem_legacy_crypt(const char *cipher, int encrypt, const uint8_t *iv,
    const char *pass, size_t passlen, const uint8_t *in, size_t len, uint8_t **out,
    size_t *outlen) __attribute__((warn_unused_result));

#endif
