/* Argon2 over libargon2. See argon2.h. */
#include <argon2.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "crypto/argon2.h"

int
amk_argon2(enum amk_argon2_type type, const void *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint32_t memory_kib, uint32_t passes, uint32_t lanes, uint8_t *out,
    size_t outlen)
{
    argon2_type t;
    int rc;

    switch (type) {
    case AMK_ARGON2D: t = Argon2_d; break;
    case AMK_ARGON2I: t = Argon2_i; break;
    case AMK_ARGON2ID: t = Argon2_id; break;
    default: return AMK_EINVAL;
    }
    if (passlen > UINT32_MAX || saltlen > UINT32_MAX || outlen > UINT32_MAX)
        return AMK_EINVAL;
    rc = argon2_hash(passes, memory_kib, lanes, pass, passlen, salt, saltlen, out, outlen,
        NULL, 0, t, ARGON2_VERSION_13);
    switch (rc) {
    case ARGON2_OK:
        return AMK_OK;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
        return AMK_ENOMEM;
    case ARGON2_THREAD_FAIL:
    case ARGON2_INCORRECT_TYPE:
        return amk_ossl_error(AMK_ECRYPTO);
    default:
        return AMK_EINVAL;
    }
}
