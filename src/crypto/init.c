/* see amiko/common.h: amk_init */
#include <openssl/crypto.h>

#include <amiko/common.h>
#include <amiko/error.h>

#include "crypto/ossl.h"

int
amk_init(void)
{
    /* OpenSSL 3 initialises itself on first use; this only surfaces failure early. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
        return amk_ossl_error(AMK_ECRYPTO);
    return AMK_OK;
}

