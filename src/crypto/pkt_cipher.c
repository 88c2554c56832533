/*
 * see crypto/cipher.h: the cipher and MAC descriptor tables and the
 * dispatch to each construction's ops table (crypto/pkt_ops.h).
 */
#include <stdlib.h>
#include <string.h>

#include <amiko/error.h>

#include "crypto/cipher.h"
#include "crypto/pkt_ops.h"

/* Preferred first; the legacy CBC modes last (RFC 4344 §5 advises CTR over CBC). */
static const struct amk_pkt_alg CIPHERS[] = {
    { .info = { .name = "chacha20-poly1305@openssh.com", .key_len = 64, .iv_len = 0,
                .block_size = 8, .tag_len = 16, .legacy = 0 },
      .ops = &amk_pkt_ops_chachapoly, .evp_name = "ChaCha20" },
    { .info = { .name = "aes128-gcm@openssh.com", .key_len = 16, .iv_len = 12,
                .block_size = 16, .tag_len = 16, .legacy = 0 },
      .ops = &amk_pkt_ops_aesgcm, .evp_name = "AES-128-GCM" },
    { .info = { .name = "aes256-gcm@openssh.com", .key_len = 32, .iv_len = 12,
                .block_size = 16, .tag_len = 16, .legacy = 0 },
      .ops = &amk_pkt_ops_aesgcm, .evp_name = "AES-256-GCM" },
    { .info = { .name = "aes128-ctr", .key_len = 16, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 0 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-128-CTR" },
    { .info = { .name = "aes192-ctr", .key_len = 24, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 0 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-192-CTR" },
    { .info = { .name = "aes256-ctr", .key_len = 32, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 0 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-256-CTR" },
    { .info = { .name = "aes128-cbc", .key_len = 16, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 1 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-128-CBC" },
    { .info = { .name = "aes192-cbc", .key_len = 24, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 1 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-192-CBC" },
    { .info = { .name = "aes256-cbc", .key_len = 32, .iv_len = 16,
                .block_size = 16, .tag_len = 0, .legacy = 1 },
      .ops = &amk_pkt_ops_aes, .evp_name = "AES-256-CBC" },
};

/* RFC 6668 §2 key and MAC lengths; OpenSSH PROTOCOL §1.5 for the EtM forms. */
static const struct amk_mac_info MACS[] = {
    { .name = "hmac-sha2-256-etm@openssh.com", .hash = AMK_HASH_SHA256, .key_len = 32,
      .mac_len = 32, .etm = 1, .legacy = 0 },
    { .name = "hmac-sha2-512-etm@openssh.com", .hash = AMK_HASH_SHA512, .key_len = 64,
      .mac_len = 64, .etm = 1, .legacy = 0 },
    { .name = "hmac-sha2-256", .hash = AMK_HASH_SHA256, .key_len = 32,
      .mac_len = 32, .etm = 0, .legacy = 0 },
    { .name = "hmac-sha2-512", .hash = AMK_HASH_SHA512, .key_len = 64,
      .mac_len = 64, .etm = 0, .legacy = 0 },
    { .name = "hmac-sha1-etm@openssh.com", .hash = AMK_HASH_SHA1, .key_len = 20,
      .mac_len = 20, .etm = 1, .legacy = 1 },
    { .name = "hmac-sha1", .hash = AMK_HASH_SHA1, .key_len = 20,
      .mac_len = 20, .etm = 0, .legacy = 1 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The same order as the tables; test_cipher checks they agree. */
static const char CIPHER_NAMES[] =
    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
    "aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,aes192-cbc,aes256-cbc";
static const char MAC_NAMES[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1-etm@openssh.com,hmac-sha1";

struct amk_pkt_cipher {
    const struct amk_pkt_alg *alg;
    const struct amk_mac_info *mac;     /* NULL for AEAD */
    void *state;
    int encrypt;
    size_t block_size, tag_len, aad_len, length_bytes;
};

static const struct amk_pkt_alg *
alg_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NELEM(CIPHERS); i++) {
        if (strcmp(CIPHERS[i].info.name, name) == 0)
            return &CIPHERS[i];
    }
    return NULL;
}

const struct amk_cipher_info *
amk_cipher_info_find(const char *name)
{
    const struct amk_pkt_alg *alg = alg_find(name);

    return alg == NULL ? NULL : &alg->info;
}

const struct amk_mac_info *
amk_mac_info_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NELEM(MACS); i++) {
        if (strcmp(MACS[i].name, name) == 0)
            return &MACS[i];
    }
    return NULL;
}

const char *
amk_cipher_names(void)
{
    return CIPHER_NAMES;
}

const char *
amk_mac_names(void)
{
    return MAC_NAMES;
}

int
amk_pkt_cipher_new(struct amk_pkt_cipher **out, const char *cipher, const char *mac,
    int encrypt, const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
    struct amk_pkt_cipher *c = NULL;
    const struct amk_pkt_alg *alg;
    const struct amk_mac_info *mi = NULL;
    int aead, r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((alg = alg_find(cipher)) == NULL)
        return AMK_ENOTSUP;
    aead = alg->info.tag_len > 0;
    if (!aead && (mi = amk_mac_info_find(mac)) == NULL)
        return AMK_ENOTSUP;
    if (key == NULL || (alg->info.iv_len > 0 && iv == NULL) || (!aead && mac_key == NULL))
        return AMK_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    c->alg = alg;
    c->mac = mi;
    c->encrypt = encrypt != 0;
    c->block_size = alg->info.block_size;
    c->tag_len = aead ? alg->info.tag_len : mi->mac_len;
    /* AEAD and EtM leave packet_length out of the encryption (and padding). */
    c->aad_len = (aead || mi->etm) ? AMK_PKT_LENGTH_FIELD : 0;
    c->length_bytes = c->aad_len > 0 ? AMK_PKT_LENGTH_FIELD : alg->info.block_size;
    if ((r = alg->ops->create(&c->state, alg, mi, c->encrypt, key, iv, mac_key)) != AMK_OK)
        goto out;
    *out = c;
    c = NULL;
    r = AMK_OK;
out:
    amk_pkt_cipher_free(c);
    return r;
}

void
amk_pkt_cipher_free(struct amk_pkt_cipher *c)
{
    if (c == NULL)
        return;
    if (c->state != NULL)
        c->alg->ops->destroy(c->state);
    free(c);
}

size_t
amk_pkt_cipher_block_size(const struct amk_pkt_cipher *c)
{
    return c->block_size;
}

size_t
amk_pkt_cipher_tag_len(const struct amk_pkt_cipher *c)
{
    return c->tag_len;
}

size_t
amk_pkt_cipher_aad_len(const struct amk_pkt_cipher *c)
{
    return c->aad_len;
}

size_t
amk_pkt_cipher_length_bytes(const struct amk_pkt_cipher *c)
{
    return c->length_bytes;
}

/* RFC 4253 §6: the encrypted part is a whole number of blocks, at least one. */
static int
pkt_len_ok(const struct amk_pkt_cipher *c, size_t len)
{
    return len >= c->length_bytes && len >= c->aad_len + c->block_size &&
        len <= AMK_PKT_MAX_LEN && (len - c->aad_len) % c->block_size == 0;
}

int
amk_pkt_decrypt_length(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *head,
    uint32_t *packet_length)
{
    if (packet_length != NULL)
        *packet_length = 0;
    if (c == NULL || head == NULL || packet_length == NULL)
        return AMK_EINVAL;
    if (c->encrypt)
        return AMK_ESTATE;
    return c->alg->ops->decrypt_length(c->state, seq, head, packet_length);
}

int
amk_pkt_open(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
    const uint8_t *tag)
{
    if (c == NULL || pkt == NULL || tag == NULL)
        return AMK_EINVAL;
    if (c->encrypt)
        return AMK_ESTATE;
    if (!pkt_len_ok(c, len))
        return AMK_EPROTO;
    return c->alg->ops->open(c->state, seq, pkt, len, tag);
}

int
amk_pkt_seal(struct amk_pkt_cipher *c, uint32_t seq, uint8_t *pkt, size_t len, uint8_t *tag)
{
    if (c == NULL || pkt == NULL || tag == NULL)
        return AMK_EINVAL;
    if (!c->encrypt)
        return AMK_ESTATE;
    if (!pkt_len_ok(c, len))
        return AMK_EINVAL;
    return c->alg->ops->seal(c->state, seq, pkt, len, tag);
}
