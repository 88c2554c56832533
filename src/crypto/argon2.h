/*
 * Argon2 (RFC 9106), version 0x13, over Debian's libargon2: the key
 * derivation of PuTTY .ppk version 3 files (no secret, no associated data).
 */
#ifndef AMK_CRYPTO_ARGON2_H
#define AMK_CRYPTO_ARGON2_H

#include <stddef.h>
#include <stdint.h>

enum amk_argon2_type {
    AMK_ARGON2D = 0,    /* RFC 9106 §3.4 y = 0 */
    AMK_ARGON2I = 1,    /* y = 1 */
    AMK_ARGON2ID = 2    /* y = 2 */
};

/*
 * Derives @p outlen bytes. @p memory_kib is m (KiB), @p passes t,
 * @p lanes p. AMK_EINVAL for parameters Argon2 refuses (salt under 8
 * bytes, memory under 8 * lanes KiB, ...); AMK_ENOMEM; AMK_ECRYPTO.
 * Callers bound the work first: this runs whatever it is given.
 */
int amk_argon2(enum amk_argon2_type type, const void *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint32_t memory_kib, uint32_t passes, uint32_t lanes, uint8_t *out,
    size_t outlen) __attribute__((warn_unused_result));

#endif
