/*
 * PEM private keys through OpenSSL's decoders and encoders: PKCS#1 RSA
 * (RFC 8017 App. A.1.2), SEC1 EC (RFC 5915), OpenSSL's DSA form, legacy
 * encryption with Proc-Type/DEK-Info (RFC 1421 §4.6.1.1, AES-128/256-CBC
 * and DES-EDE3-CBC), and PKCS#8 (RFC 5208, RFC 5958) plain or encrypted
 * (PBES2, RFC 8018). Keys cross into the keys layer as amk_pkey.
 */
#ifndef AMK_CRYPTO_PKEY_PEM_H
#define AMK_CRYPTO_PKEY_PEM_H

#include <stddef.h>

#include "crypto/pkey.h"

enum amk_pem_format {
    AMK_PEM_TRADITIONAL = 1,   /* "BEGIN RSA/EC/DSA PRIVATE KEY", as ssh-keygen -m PEM */
    AMK_PEM_PKCS8              /* "BEGIN [ENCRYPTED] PRIVATE KEY", as ssh-keygen -m PKCS8 */
};

/* Whether @p text holds a PEM private key we may decode (any of the above). */
int amk_pem_is_private_key(const char *text, size_t len);

/* Whether that key is encrypted (needs a passphrase). */
int amk_pem_is_encrypted(const char *text, size_t len);

/*
 * Decodes a PEM private key. @p passphrase is used only when the key is
 * encrypted (NULL then: AMK_EPASSPHRASE). AMK_EPASSPHRASE for a wrong
 * passphrase, AMK_EFORMAT for a malformed file, AMK_ENOTSUP for a key type
 * SSH has not (or an unknown curve), AMK_EKEY for invalid key material.
 */
int amk_pkey_from_pem(const char *text, size_t len, const char *passphrase,
    struct amk_pkey **out) __attribute__((warn_unused_result));

/*
 * Encodes the private key @p k as PEM text (allocated, NUL-terminated; free
 * with amk_free_wiped(*out, *outlen + 1)). With a non-empty @p passphrase
 * the traditional form is encrypted with AES-128-CBC (as ssh-keygen) and
 * PKCS#8 with PBES2/AES-256-CBC. Ed25519 has no traditional form:
 * AMK_ENOTSUP. AMK_EKEY without a private half.
 */
int amk_pkey_to_pem(const struct amk_pkey *k, enum amk_pem_format fmt, const char *passphrase,
    char **out, size_t *outlen) __attribute__((warn_unused_result));

#endif
