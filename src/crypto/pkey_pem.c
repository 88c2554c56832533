/* see pkey_pem.h */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "crypto/pkey_impl.h"
#include "crypto/pkey_pem.h"
#include "util/secure.h"

#define PEM_MAX_LEN ((size_t)1024 * 1024)

static const char *const pem_labels[] = {
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
};

/* Finds @p needle in the first @p len bytes of @p hay. */
static const char *
find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

int
amk_pem_is_private_key(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    for (size_t l = 0; l < sizeof(pem_labels) / sizeof(pem_labels[0]); l++) {
        size_t n = strlen(pem_labels[l]);
        if (len - i >= n && memcmp(text + i, pem_labels[l], n) == 0)
            return 1;
    }
    return 0;
}

int
amk_pem_is_encrypted(const char *text, size_t len)
{
    /* PKCS#8 EncryptedPrivateKeyInfo, or RFC 1421 Proc-Type "4,ENCRYPTED". */
    return find(text, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL ||
        find(text, len, "Proc-Type: 4,ENCRYPTED") != NULL;
}

static int
bn_part(EVP_PKEY *pk, const char *name, struct amk_bytes *part, uint8_t **owned, size_t *ownedlen)
{
    int r;

    if ((r = amk_pkey_bn_param(pk, name, owned, ownedlen)) != AMK_OK)
        return r == AMK_ENOMEM ? r : AMK_EKEY;
    *part = (struct amk_bytes){ *owned, *ownedlen };
    return AMK_OK;
}

/* Components of a decoded EVP_PKEY, then amk_pkey_from_parts() checks them. */
static int
pkey_from_evp(EVP_PKEY *pk, struct amk_pkey **out)
{
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t *owned[AMK_PART_COUNT] = { NULL };
    size_t ownedlen[AMK_PART_COUNT] = { 0 };
    uint8_t raw[2][AMK_EC_MAX_POINT_LEN];
    size_t rawlen[2] = { sizeof(raw[0]), sizeof(raw[1]) };
    char group[32];
    enum amk_pkey_type type;
    int r = AMK_EINTERNAL;

    memset(parts, 0, sizeof(parts));
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_ED25519:
        type = AMK_PKEY_ED25519;
        if (EVP_PKEY_get_raw_public_key(pk, raw[0], &rawlen[0]) != 1 ||
            EVP_PKEY_get_raw_private_key(pk, raw[1], &rawlen[1]) != 1) {
            r = AMK_EKEY;
            goto out;
        }
        parts[AMK_PART_PUBLIC] = (struct amk_bytes){ raw[0], rawlen[0] };
        parts[AMK_PART_PRIVATE] = (struct amk_bytes){ raw[1], rawlen[1] };
        break;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                NULL) != 1) {
            r = AMK_EKEY;
            goto out;
        }
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            type = AMK_PKEY_ECDSA_P256;
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
            type = AMK_PKEY_ECDSA_P384;
        else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
            type = AMK_PKEY_ECDSA_P521;
        else {
            r = AMK_ENOTSUP;
            goto out;
        }
        if ((r = bn_part(pk, OSSL_PKEY_PARAM_PRIV_KEY, &parts[AMK_PART_PRIVATE],
                 &owned[AMK_PART_PRIVATE], &ownedlen[AMK_PART_PRIVATE])) != AMK_OK)
            goto out;
        /* The public point from the scalar, uncompressed whatever the file held. */
        if ((r = amk_ossl_ec_public_from_private(
                 type == AMK_PKEY_ECDSA_P256 ? AMK_EC_P256 :
                 type == AMK_PKEY_ECDSA_P384 ? AMK_EC_P384 : AMK_EC_P521,
                 parts[AMK_PART_PRIVATE].p, parts[AMK_PART_PRIVATE].len, raw[0], &rawlen[0])) !=
            AMK_OK)
            goto out;
        parts[AMK_PART_PUBLIC] = (struct amk_bytes){ raw[0], rawlen[0] };
        break;
    case EVP_PKEY_RSA: {
        static const struct {
            enum amk_pkey_part part;
            const char *name;
        } rsa[] = {
            { AMK_PART_RSA_N, OSSL_PKEY_PARAM_RSA_N }, { AMK_PART_RSA_E, OSSL_PKEY_PARAM_RSA_E },
            { AMK_PART_RSA_D, OSSL_PKEY_PARAM_RSA_D },
            { AMK_PART_RSA_P, OSSL_PKEY_PARAM_RSA_FACTOR1 },
            { AMK_PART_RSA_Q, OSSL_PKEY_PARAM_RSA_FACTOR2 },
            { AMK_PART_RSA_IQMP, OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
        };
        type = AMK_PKEY_RSA;
        for (size_t i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++)
            if ((r = bn_part(pk, rsa[i].name, &parts[rsa[i].part], &owned[rsa[i].part],
                     &ownedlen[rsa[i].part])) != AMK_OK)
                goto out;
        break;
    }
    case EVP_PKEY_DSA: {
        static const struct {
            enum amk_pkey_part part;
            const char *name;
        } dsa[] = {
            { AMK_PART_DSA_P, OSSL_PKEY_PARAM_FFC_P }, { AMK_PART_DSA_Q, OSSL_PKEY_PARAM_FFC_Q },
            { AMK_PART_DSA_G, OSSL_PKEY_PARAM_FFC_G }, { AMK_PART_DSA_Y, OSSL_PKEY_PARAM_PUB_KEY },
            { AMK_PART_DSA_X, OSSL_PKEY_PARAM_PRIV_KEY },
        };
        type = AMK_PKEY_DSA;
        for (size_t i = 0; i < sizeof(dsa) / sizeof(dsa[0]); i++)
            if ((r = bn_part(pk, dsa[i].name, &parts[dsa[i].part], &owned[dsa[i].part],
                     &ownedlen[dsa[i].part])) != AMK_OK)
                goto out;
        break;
    }
    default:
        r = AMK_ENOTSUP;
        goto out;
    }
    r = amk_pkey_from_parts(out, type, parts);
out:
    for (size_t i = 0; i < AMK_PART_COUNT; i++)
        if (owned[i] != NULL)
            amk_free_wiped(owned[i], ownedlen[i]);
    amk_wipe(raw, sizeof(raw));
    return r;
}

int
amk_pkey_from_pem(const char *text, size_t len, const char *passphrase, struct amk_pkey **out)
{
    OSSL_DECODER_CTX *dctx = NULL;
    EVP_PKEY *pk = NULL;
    const unsigned char *p = (const unsigned char *)text;
    size_t left = len;
    int encrypted, r = AMK_EINTERNAL;

    *out = NULL;
    if (!amk_pem_is_private_key(text, len))
        return AMK_EFORMAT;
    if (len > PEM_MAX_LEN)
        return AMK_ETOOBIG;
    encrypted = amk_pem_is_encrypted(text, len);
    if (encrypted && (passphrase == NULL || passphrase[0] == '\0'))
        return AMK_EPASSPHRASE;
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    if (dctx == NULL) {
        r = AMK_ECRYPTO;
        goto out;
    }
    if (encrypted && OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)passphrase,
                         strlen(passphrase)) != 1) {
        r = AMK_ECRYPTO;
        goto out;
    }
    if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || pk == NULL) {
        /* A decoder cannot tell a wrong key from a corrupt file; for an
         * encrypted file the passphrase is the likely cause. */
        r = encrypted ? AMK_EPASSPHRASE : AMK_EFORMAT;
        goto out;
    }
    r = pkey_from_evp(pk, out);
out:
    ERR_clear_error();
    EVP_PKEY_free(pk);
    OSSL_DECODER_CTX_free(dctx);
    return r;
}

int
amk_pkey_to_pem(const struct amk_pkey *k, enum amk_pem_format fmt, const char *passphrase,
    char **out, size_t *outlen)
{
    OSSL_ENCODER_CTX *ectx = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    char *text = NULL;
    int encrypt = passphrase != NULL && passphrase[0] != '\0';
    const char *structure;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (!amk_pkey_has_private(k))
        return AMK_EKEY;
    if (fmt == AMK_PEM_TRADITIONAL) {
        if (k->type == AMK_PKEY_ED25519)
            return AMK_ENOTSUP;
        structure = "type-specific";
    } else if (fmt == AMK_PEM_PKCS8) {
        structure = encrypt ? "EncryptedPrivateKeyInfo" : "PrivateKeyInfo";
    } else {
        return AMK_EINVAL;
    }
    ectx = OSSL_ENCODER_CTX_new_for_pkey(k->pk, EVP_PKEY_KEYPAIR, "PEM", structure, NULL);
    if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0) {
        r = AMK_ECRYPTO;
        goto out;
    }
    if (encrypt &&
        (OSSL_ENCODER_CTX_set_cipher(ectx, fmt == AMK_PEM_PKCS8 ? "AES-256-CBC" : "AES-128-CBC",
             NULL) != 1 ||
         OSSL_ENCODER_CTX_set_passphrase(ectx, (const unsigned char *)passphrase,
             strlen(passphrase)) != 1)) {
        r = AMK_ECRYPTO;
        goto out;
    }
    if (OSSL_ENCODER_to_data(ectx, &data, &len) != 1) {
        r = AMK_ECRYPTO;
        goto out;
    }
    if ((text = malloc(len + 1)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    *out = text;
    if (outlen != NULL)
        *outlen = len;
    r = AMK_OK;
out:
    ERR_clear_error();
    if (data != NULL) {
        amk_wipe(data, len);
        OPENSSL_free(data);
    }
    OSSL_ENCODER_CTX_free(ectx);
    return r;
}
