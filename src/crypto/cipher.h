/*
 * Packet protection for the SSH binary packet protocol (RFC 4253 §6).
 *
 * One amk_pkt_cipher protects one direction of one key set. It hides
 * whether the mode is AEAD (chacha20-poly1305@openssh.com,
 * aes*-gcm@openssh.com) or a cipher plus a MAC (aes*-ctr, aes*-cbc with
 * hmac-*, encrypt-and-MAC or encrypt-then-MAC). The transport works on the
 * whole packet in place:
 *
 *   [uint32 packet_length][byte padding_length][payload][padding] [tag]
 *   \------------------ len = 4 + packet_length -----------------/ tag_len
 *
 * Sending: build the packet with padding so that (len - aad_len) is a
 * multiple of block_size, then amk_pkt_seal().
 * Receiving: once length_bytes bytes are in, amk_pkt_decrypt_length()
 * gives packet_length (check it before waiting for more); once the whole
 * packet and tag are in, amk_pkt_open() verifies the tag in constant time
 * and only then (for EtM and AEAD) decrypts; AES-GCM, which cannot check
 * first without a second pass, and encrypt-and-MAC, whose MAC covers the
 * plaintext, wipe what they decrypted when the tag is wrong.
 * The sequence number is the RFC 4253 §6.4 implicit counter (AES-GCM
 * ignores it: its nonce is its own invocation counter, RFC 5647 §7.1).
 */
#ifndef AMK_CRYPTO_CIPHER_H
#define AMK_CRYPTO_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

#define AMK_CIPHER_MAX_KEY_LEN 64     /* chacha20-poly1305 uses 64 */
#define AMK_CIPHER_MAX_IV_LEN 16
#define AMK_MAC_MAX_KEY_LEN 64
#define AMK_PKT_MAX_TAG_LEN 64

struct amk_cipher_info {
    const char *name;       /* SSH name, e.g. "aes128-gcm@openssh.com" */
    size_t key_len;         /* bytes of key from the KEX */
    size_t iv_len;          /* bytes of IV from the KEX (0 for chacha20-poly1305) */
    size_t block_size;      /* padding alignment (8 for stream modes) */
    size_t tag_len;         /* AEAD tag length; 0 when a MAC is needed */
    int legacy;             /* not offered unless asked for (CBC) */
};

struct amk_mac_info {
    const char *name;       /* e.g. "hmac-sha2-256-etm@openssh.com" */
    enum amk_hash_alg hash;
    size_t key_len;
    size_t mac_len;
    int etm;                /* encrypt-then-MAC: length sent in clear */
    int legacy;             /* SHA-1 */
};

/* Descriptors by SSH name; NULL when unknown. */
const struct amk_cipher_info *amk_cipher_info_find(const char *name);
const struct amk_mac_info *amk_mac_info_find(const char *name);

/* Every supported name, comma-separated, preferred first (legacy included). */
const char *amk_cipher_names(void);
const char *amk_mac_names(void);

struct amk_pkt_cipher;

/*
 * Creates the protection for one direction. @p mac is ignored (may be NULL)
 * for AEAD ciphers. @p key, @p iv and @p mac_key hold the lengths the
 * descriptors give. Returns AMK_OK, AMK_ENOTSUP, AMK_ENOMEM or AMK_ECRYPTO.
 */
int amk_pkt_cipher_new(struct amk_pkt_cipher **out, const char *cipher, const char *mac,
    int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
    __attribute__((warn_unused_result));
void amk_pkt_cipher_free(struct amk_pkt_cipher *c);   /* wipes keys; NULL is fine */

size_t amk_pkt_cipher_block_size(const struct amk_pkt_cipher *c);
size_t amk_pkt_cipher_tag_len(const struct amk_pkt_cipher *c);
/* 4 when packet_length is left out of the padding computation (EtM, AEAD), else 0. */
size_t amk_pkt_cipher_aad_len(const struct amk_pkt_cipher *c);
/* Bytes needed before amk_pkt_decrypt_length() can be called. */
size_t amk_pkt_cipher_length_bytes(const struct amk_pkt_cipher *c);

/*
 * Learns packet_length from the first length_bytes() bytes at @p head.
 * May decrypt those bytes in place (CBC/CTR without EtM); the transport
 * MUST then pass the same buffer to amk_pkt_open().
 * Not authenticated yet: the caller bounds-checks the value.
 */
int amk_pkt_decrypt_length(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *head,
    uint32_t *packet_length) __attribute__((warn_unused_result));

/*
 * Verifies @p tag over the @p len bytes at @p pkt and decrypts them in
 * place. AMK_EMAC when the tag is wrong; then nothing is usable (AEAD and
 * EtM check before decrypting; GCM and encrypt-and-MAC wipe what they
 * decrypted). AMK_EPROTO when (len - aad_len) is not a positive multiple
 * of block_size (RFC 4253 §6), AMK_ESTATE on a cipher made for sending,
 * AMK_ECRYPTO if the backend fails.
 */
int amk_pkt_open(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag) __attribute__((warn_unused_result));

/*
 * Encrypts the @p len bytes at @p pkt in place and writes the tag.
 * AMK_EINVAL when (len - aad_len) is not a positive multiple of
 * block_size, AMK_ESTATE on a cipher made for receiving.
 */
int amk_pkt_seal(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
    uint8_t *tag) __attribute__((warn_unused_result));

#endif
