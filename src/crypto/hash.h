/* Hashes and HMAC over them. */
#ifndef AMK_CRYPTO_HASH_H
#define AMK_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

enum amk_hash_alg {
    AMK_HASH_MD5 = 1,       /* fingerprints only */
    AMK_HASH_SHA1,
    AMK_HASH_SHA256,
    AMK_HASH_SHA384,
    AMK_HASH_SHA512
};

#define AMK_HASH_MAX_LEN 64

/* Digest length in bytes; 0 for an unknown algorithm. */
size_t amk_hash_len(enum amk_hash_alg alg);

/* One-shot digest into @p out (amk_hash_len(alg) bytes). */
int amk_hash(enum amk_hash_alg alg, const void *data, size_t len, uint8_t *out)
    __attribute__((warn_unused_result));

/* Incremental digest. */
struct amk_hash_ctx;
int amk_hash_new(struct amk_hash_ctx **out, enum amk_hash_alg alg)
    __attribute__((warn_unused_result));
int amk_hash_update(struct amk_hash_ctx *ctx, const void *data, size_t len)
    __attribute__((warn_unused_result));
/* Writes the digest; the context may then be freed or reused after amk_hash_reset(). */
int amk_hash_final(struct amk_hash_ctx *ctx, uint8_t *out)
    __attribute__((warn_unused_result));
int amk_hash_reset(struct amk_hash_ctx *ctx) __attribute__((warn_unused_result));
void amk_hash_free(struct amk_hash_ctx *ctx);

/* One-shot HMAC (RFC 2104) into @p out (amk_hash_len(alg) bytes). */
int amk_hmac(enum amk_hash_alg alg, const void *key, size_t keylen,
    const void *data, size_t len, uint8_t *out) __attribute__((warn_unused_result));

/* Incremental HMAC with a fixed key; amk_hmac_init starts each message. */
struct amk_hmac_ctx;
int amk_hmac_new(struct amk_hmac_ctx **out, enum amk_hash_alg alg, const void *key, size_t keylen)
    __attribute__((warn_unused_result));
int amk_hmac_init(struct amk_hmac_ctx *ctx) __attribute__((warn_unused_result));
int amk_hmac_update(struct amk_hmac_ctx *ctx, const void *data, size_t len)
    __attribute__((warn_unused_result));
int amk_hmac_final(struct amk_hmac_ctx *ctx, uint8_t *out) __attribute__((warn_unused_result));
void amk_hmac_free(struct amk_hmac_ctx *ctx);   /* wipes the key */

#endif
