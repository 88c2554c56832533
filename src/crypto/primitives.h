/*
 * Internal to src/crypto and its tests: one-shot raw primitives, so the
 * known-answer vectors of RFC 8439, NIST SP 800-38A and the GCM paper can
 * be run, and the SSH packet constructions can be checked against an
 * independent composition. Each call fetches and allocates: the packet
 * path does not use these.
 */
#ifndef AMK_CRYPTO_PRIMITIVES_H
#define AMK_CRYPTO_PRIMITIVES_H

#include <stddef.h>
#include <stdint.h>

#define AMK_CHACHA20_KEY_LEN 32
#define AMK_CHACHA20_STATE_IV_LEN 16
#define AMK_POLY1305_KEY_LEN 32
#define AMK_POLY1305_TAG_LEN 16
#define AMK_AES_BLOCK_LEN 16
#define AMK_GCM_IV_LEN 12
#define AMK_GCM_TAG_LEN 16

/*
 * ChaCha20 keystream XOR. @p state_iv is ChaCha state words 12..15 as
 * little-endian bytes: RFC 8439 §2.3 puts a 32-bit block counter then a
 * 96-bit nonce there; the original 64-bit-nonce form an 8-byte counter
 * then an 8-byte nonce. @p in and @p out may be equal.
 */
int amk_chacha20_xor(const uint8_t key[AMK_CHACHA20_KEY_LEN],
    const uint8_t state_iv[AMK_CHACHA20_STATE_IV_LEN], const uint8_t *in, uint8_t *out, size_t len)
    __attribute__((warn_unused_result));

/* Poly1305 (RFC 8439 §2.5) of @p len bytes under a one-time key. */
int amk_poly1305(const uint8_t key[AMK_POLY1305_KEY_LEN], const uint8_t *msg, size_t len,
    uint8_t tag[AMK_POLY1305_TAG_LEN]) __attribute__((warn_unused_result));

/* AES-CTR (SP 800-38A §6.5) with a 128-bit big-endian counter block; keylen 16, 24 or 32. */
int amk_aes_ctr_xor(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_AES_BLOCK_LEN],
    const uint8_t *in, uint8_t *out, size_t len) __attribute__((warn_unused_result));

/* AES-CBC (SP 800-38A §6.2) without padding; @p len a multiple of 16. */
int amk_aes_cbc(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_AES_BLOCK_LEN],
    int encrypt, const uint8_t *in, uint8_t *out, size_t len) __attribute__((warn_unused_result));

/* AES-GCM (SP 800-38D) with a 96-bit IV and a 128-bit tag. */
int amk_aes_gcm_seal(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_GCM_IV_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t tag[AMK_GCM_TAG_LEN]) __attribute__((warn_unused_result));
/* AMK_EMAC when the tag is wrong; @p out is then wiped. */
int amk_aes_gcm_open(const uint8_t *key, size_t keylen, const uint8_t iv[AMK_GCM_IV_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    const uint8_t tag[AMK_GCM_TAG_LEN]) __attribute__((warn_unused_result));

#endif
