/*
 * Blowfish (Schneier, "Description of a New Variable-Length Key, 64-Bit
 * Block Cipher", FSE 1993) and the expensive key schedule of eksblowfish
 * (Provos and Mazières, "A Future-Adaptable Password Scheme", 1999), for
 * bcrypt_pbkdf only. Not for encrypting data.
 */
#ifndef AMK_CRYPTO_BLOWFISH_H
#define AMK_CRYPTO_BLOWFISH_H

#include <stddef.h>
#include <stdint.h>

#define AMK_BLOWFISH_ROUNDS 16

struct amk_blowfish {
    uint32_t p[AMK_BLOWFISH_ROUNDS + 2];
    uint32_t s[4][256];
};

/* Loads the initial P-array and S-boxes (hexadecimal digits of pi). */
void amk_blowfish_init(struct amk_blowfish *bf);

/* Blowfish's key schedule on an initialised state; @p keylen 1..72. */
void amk_blowfish_expand0(struct amk_blowfish *bf, const uint8_t *key, size_t keylen);

/* eksblowfish ExpandKey(state, salt, key): as expand0, but the blocks
 * encrypted are XORed with the cycled @p salt first. */
void amk_blowfish_expand(struct amk_blowfish *bf, const uint8_t *salt, size_t saltlen,
    const uint8_t *key, size_t keylen);

/* One 64-bit block as two big-endian halves. */
void amk_blowfish_encrypt(const struct amk_blowfish *bf, uint32_t *l, uint32_t *r);
void amk_blowfish_decrypt(const struct amk_blowfish *bf, uint32_t *l, uint32_t *r);

/* Reads the next 32-bit big-endian word of @p data, cycling at @p len. */
uint32_t amk_blowfish_stream_word(const uint8_t *data, size_t len, size_t *pos);

#endif
