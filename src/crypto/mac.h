/*
 * Internal to src/crypto: the SSH packet MAC, RFC 4253 §6.4:
 *   mac = MAC(key, sequence_number || data)
 * where data is the unencrypted packet (encrypt-and-MAC) or, for the
 * -etm@openssh.com forms (OpenSSH PROTOCOL §1.5), packet_length in clear
 * followed by the ciphertext. Either way the caller passes the bytes.
 */
#ifndef AMK_CRYPTO_MAC_H
#define AMK_CRYPTO_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/cipher.h"

struct amk_pkt_mac;

/* @p key holds info->key_len bytes. AMK_OK, AMK_ENOMEM, AMK_ENOTSUP or AMK_ECRYPTO. */
int amk_pkt_mac_new(struct amk_pkt_mac **out, const struct amk_mac_info *info, const uint8_t *key)
    __attribute__((warn_unused_result));
void amk_pkt_mac_free(struct amk_pkt_mac *m);   /* wipes the key; NULL is fine */

/* Writes info->mac_len bytes of MAC(key, seq || data) to @p out. */
int amk_pkt_mac_compute(struct amk_pkt_mac *m, uint32_t seq, const uint8_t *data, size_t len,
    uint8_t *out) __attribute__((warn_unused_result));

/* AMK_OK when @p tag (info->mac_len bytes) is right, AMK_EMAC otherwise; constant time. */
int amk_pkt_mac_verify(struct amk_pkt_mac *m, uint32_t seq, const uint8_t *data, size_t len,
    const uint8_t *tag) __attribute__((warn_unused_result));

#endif
