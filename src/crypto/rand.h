/*
 * Randomness. Everything random in amiko comes through here, so a test can
 * make a whole session deterministic by installing its own source.
 */
#ifndef AMK_CRYPTO_RAND_H
#define AMK_CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

/* A random source: fill must write @p len bytes and return AMK_OK, or fail. */
struct amk_rng {
    int (*fill)(void *user, uint8_t *out, size_t len);
    void *user;
};

/* Fills @p out from @p rng, or from OpenSSL's CSPRNG when @p rng is NULL.
 * Returns AMK_OK or AMK_ECRYPTO. */
int amk_random_bytes(const struct amk_rng *rng, void *out, size_t len)
    __attribute__((warn_unused_result));

/* A uniformly distributed value in [0, bound) (bound > 0). */
int amk_random_uniform(const struct amk_rng *rng, uint32_t bound, uint32_t *out)
    __attribute__((warn_unused_result));

#endif
