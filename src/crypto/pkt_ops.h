/*
 * Internal to src/crypto: the ops table behind struct amk_pkt_cipher.
 * Each packet construction (cipher_chachapoly.c, cipher_aesgcm.c,
 * cipher_aes.c) fills one table; pkt_cipher.c holds the descriptors and
 * dispatches. The dispatcher has already checked the arguments: the
 * direction matches, pointers are non-NULL, len >= length_bytes,
 * len >= 4, (len - aad_len) is a positive multiple of block_size and
 * len <= AMK_PKT_MAX_LEN.
 */
#ifndef AMK_CRYPTO_PKT_OPS_H
#define AMK_CRYPTO_PKT_OPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/cipher.h"

/* Largest len accepted by seal/open: EVP takes int lengths. */
#define AMK_PKT_MAX_LEN ((size_t)INT_MAX - 64)

/* Bytes of the uint32 packet_length field (RFC 4253 §6). */
#define AMK_PKT_LENGTH_FIELD 4

struct amk_pkt_alg;

struct amk_pkt_ops {
    int (*create)(void **state, const struct amk_pkt_alg *alg, const struct amk_mac_info *mac,
        int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key);
    void (*destroy)(void *state);   /* wipes keys; NULL is fine */
    int (*decrypt_length)(void *state, uint32_t seq, uint8_t *head, uint32_t *packet_length);
    int (*open)(void *state, uint32_t seq, uint8_t *pkt, size_t len, const uint8_t *tag);
    int (*seal)(void *state, uint32_t seq, uint8_t *pkt, size_t len, uint8_t *tag);
};

/* A cipher descriptor with its implementation. */
struct amk_pkt_alg {
    struct amk_cipher_info info;
    const struct amk_pkt_ops *ops;
    const char *evp_name;           /* OpenSSL cipher to fetch */
};

extern const struct amk_pkt_ops amk_pkt_ops_chachapoly;
extern const struct amk_pkt_ops amk_pkt_ops_aesgcm;
extern const struct amk_pkt_ops amk_pkt_ops_aes;

static inline uint32_t
amk_pkt_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
amk_pkt_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
