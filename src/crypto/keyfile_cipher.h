/*
 * One-shot ciphers for private key files (OpenSSH PROTOCOL.key): the
 * encrypted section is a single message under a key and IV derived from
 * the passphrase, not an SSH packet stream, so this sits beside cipher.h
 * rather than inside it. AEAD modes append or check a tag that follows the
 * ciphertext, as OpenSSH's cipher_crypt() does with sequence number 0 and
 * no additional data.
 */
#ifndef AMK_CRYPTO_KEYFILE_CIPHER_H
#define AMK_CRYPTO_KEYFILE_CIPHER_H

#include <stddef.h>
#include <stdint.h>

/* Bounds over every cipher below. */
#define AMK_KEYFILE_MAX_KEY_LEN 64
#define AMK_KEYFILE_MAX_IV_LEN 16
#define AMK_KEYFILE_MAX_TAG_LEN 16
#define AMK_KEYFILE_MAX_BLOCK 16

struct amk_keyfile_cipher {
    const char *name;       /* OpenSSH cipher name, e.g. "aes256-ctr"; "none" */
    size_t key_len;
    size_t iv_len;
    size_t block_size;      /* the plaintext is padded to a multiple of this */
    size_t tag_len;         /* AEAD tag after the ciphertext; 0 otherwise */
    int mode;               /* private to keyfile_cipher.c */
};

/* NULL when @p name is not supported. */
const struct amk_keyfile_cipher *amk_keyfile_cipher_find(const char *name);

/*
 * Encrypts (@p encrypt 1) or decrypts @p len bytes (a multiple of
 * block_size) from @p in to @p out (may be equal). For AEAD ciphers @p tag
 * receives the tag when encrypting and is checked, in constant time and
 * before anything is decrypted, when decrypting: AMK_EMAC on mismatch.
 * Returns AMK_OK, AMK_EINVAL, AMK_EMAC, AMK_ENOMEM or AMK_ECRYPTO.
 */
int amk_keyfile_crypt(const struct amk_keyfile_cipher *c, int encrypt, const uint8_t *key,
    const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
    __attribute__((warn_unused_result));

#endif
