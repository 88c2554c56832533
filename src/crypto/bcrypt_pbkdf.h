/*
 * bcrypt_pbkdf: OpenBSD's password-based key derivation used by OpenSSH
 * private key files (PROTOCOL.key, kdfname "bcrypt"), as defined by
 * OpenBSD bcrypt_pbkdf(3): PBKDF2 with SHA-512 pre-hashing and the
 * eksblowfish-based bcrypt_hash as the PRF, with its output bytes
 * interleaved across blocks.
 */
#ifndef AMK_CRYPTO_BCRYPT_PBKDF_H
#define AMK_CRYPTO_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/* Output size of one bcrypt_hash block. */
#define AMK_BCRYPT_HASH_LEN 32
/* Largest key bcrypt_pbkdf(3) derives: 32 blocks of 32 bytes. */
#define AMK_BCRYPT_PBKDF_MAX_KEY (AMK_BCRYPT_HASH_LEN * AMK_BCRYPT_HASH_LEN)
/* Largest salt accepted (as OpenBSD). */
#define AMK_BCRYPT_PBKDF_MAX_SALT ((size_t)1 << 20)

/*
 * Derives @p keylen bytes into @p key. @p rounds >= 1; @p passlen, @p saltlen
 * and @p keylen non-zero; @p keylen at most AMK_BCRYPT_PBKDF_MAX_KEY.
 * Returns AMK_OK, AMK_EINVAL for parameters out of range, AMK_ECRYPTO.
 */
int amk_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
    uint8_t *key, size_t keylen, unsigned rounds) __attribute__((warn_unused_result));

#endif
