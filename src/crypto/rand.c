/* see crypto/rand.h */
#include "crypto/rand.h"
#include "crypto/ossl.h"

#include <limits.h>

#include <openssl/rand.h>

#include <amiko/error.h>

int
amk_random_bytes(const struct amk_rng *rng, void *out, size_t len)
{
    uint8_t *p = out;

    if (len == 0)
        return AMK_OK;
    if (out == NULL)
        return AMK_EINVAL;
    if (rng != NULL && rng->fill != NULL)
        return rng->fill(rng->user, p, len);
    /* RAND_bytes takes an int length: feed large requests in pieces. */
    while (len > 0) {
        size_t n = len > INT_MAX ? INT_MAX : len;
        if (RAND_bytes(p, (int)n) != 1)
            return amk_ossl_error(AMK_ECRYPTO);
        p += n;
        len -= n;
    }
    return AMK_OK;
}

int
amk_random_uniform(const struct amk_rng *rng, uint32_t bound, uint32_t *out)
{
    uint32_t min, x;
    uint8_t b[4];
    int r;

    if (out == NULL || bound == 0)
        return AMK_EINVAL;
    *out = 0;
    /*
     * Rejection sampling: 2^32 mod bound values at the bottom of the range
     * would make the low residues more likely, so draw again when one comes
     * up. (2^32 - bound) % bound == 2^32 % bound, computed in 32 bits.
     */
    min = (uint32_t)(0u - bound) % bound;
    for (;;) {
        if ((r = amk_random_bytes(rng, b, sizeof(b))) != AMK_OK)
            return r;
        x = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (x >= min)
            break;
    }
    *out = x % bound;
    return AMK_OK;
}
