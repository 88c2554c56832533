/* see bcrypt_pbkdf.h; written from OpenBSD bcrypt_pbkdf(3) */
#include <string.h>

#include <openssl/evp.h>

#include <amiko/error.h>

#include "crypto/ossl.h"
#include "crypto/bcrypt_pbkdf.h"
#include "crypto/blowfish.h"
#include "util/secure.h"

#define SHA512_LEN 64
#define BCRYPT_WORDS (AMK_BCRYPT_HASH_LEN / 4)
/* bcrypt_pbkdf(3): the 64 rounds of eksblowfish key expansion and of
 * encryption in bcrypt_hash. */
#define BCRYPT_HASH_ROUNDS 64

static const uint8_t bcrypt_magic[AMK_BCRYPT_HASH_LEN] = "OxychromaticBlowfishSwatDynamite";

static int
sha512(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[SHA512_LEN])
{
    EVP_MD_CTX *ctx = NULL;
    int r = amk_ossl_error(AMK_ECRYPTO);

    if ((ctx = EVP_MD_CTX_new()) == NULL)
        return AMK_ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, alen) != 1 ||
        (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        goto out;
    r = AMK_OK;
out:
    EVP_MD_CTX_free(ctx);
    return r;
}

/*
 * bcrypt_hash(sha2pass, sha2salt): eksblowfish keyed by both, then the
 * magic string encrypted 64 times in ECB; words are output little-endian.
 */
static void
bcrypt_hash(struct amk_blowfish *bf, const uint8_t sha2pass[SHA512_LEN],
    const uint8_t sha2salt[SHA512_LEN], uint8_t out[AMK_BCRYPT_HASH_LEN])
{
    uint32_t cdata[BCRYPT_WORDS];
    size_t pos = 0;

    amk_blowfish_init(bf);
    amk_blowfish_expand(bf, sha2salt, SHA512_LEN, sha2pass, SHA512_LEN);
    for (int i = 0; i < BCRYPT_HASH_ROUNDS; i++) {
        amk_blowfish_expand0(bf, sha2salt, SHA512_LEN);
        amk_blowfish_expand0(bf, sha2pass, SHA512_LEN);
    }
    for (int i = 0; i < BCRYPT_WORDS; i++)
        cdata[i] = amk_blowfish_stream_word(bcrypt_magic, sizeof(bcrypt_magic), &pos);
    for (int i = 0; i < BCRYPT_HASH_ROUNDS; i++)
        for (int j = 0; j < BCRYPT_WORDS; j += 2)
            amk_blowfish_encrypt(bf, &cdata[j], &cdata[j + 1]);
    for (int i = 0; i < BCRYPT_WORDS; i++) {
        out[4 * i + 0] = (uint8_t)cdata[i];
        out[4 * i + 1] = (uint8_t)(cdata[i] >> 8);
        out[4 * i + 2] = (uint8_t)(cdata[i] >> 16);
        out[4 * i + 3] = (uint8_t)(cdata[i] >> 24);
    }
    amk_wipe(cdata, sizeof(cdata));
}

int
amk_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
    uint8_t *key, size_t keylen, unsigned rounds)
{
    struct amk_blowfish bf;
    uint8_t sha2pass[SHA512_LEN], sha2salt[SHA512_LEN];
    uint8_t out[AMK_BCRYPT_HASH_LEN], tmp[AMK_BCRYPT_HASH_LEN];
    uint8_t countbuf[4];
    size_t stride, amt, done = 0, i;
    uint32_t count;
    int r = AMK_EINTERNAL;

    if (rounds < 1 || passlen == 0 || saltlen == 0 || keylen == 0 ||
        keylen > AMK_BCRYPT_PBKDF_MAX_KEY || saltlen > AMK_BCRYPT_PBKDF_MAX_SALT)
        return AMK_EINVAL;
    /* Each block's bytes land every stride-th byte of the key. */
    stride = (keylen + sizeof(out) - 1) / sizeof(out);
    amt = (keylen + stride - 1) / stride;

    if ((r = sha512(pass, passlen, NULL, 0, sha2pass)) != AMK_OK)
        goto out;
    for (count = 1; done < keylen; count++) {
        countbuf[0] = (uint8_t)(count >> 24);
        countbuf[1] = (uint8_t)(count >> 16);
        countbuf[2] = (uint8_t)(count >> 8);
        countbuf[3] = (uint8_t)count;
        if ((r = sha512(salt, saltlen, countbuf, sizeof(countbuf), sha2salt)) != AMK_OK)
            goto out;
        bcrypt_hash(&bf, sha2pass, sha2salt, tmp);
        memcpy(out, tmp, sizeof(out));
        for (unsigned n = 1; n < rounds; n++) {
            if ((r = sha512(tmp, sizeof(tmp), NULL, 0, sha2salt)) != AMK_OK)
                goto out;
            bcrypt_hash(&bf, sha2pass, sha2salt, tmp);
            for (i = 0; i < sizeof(out); i++)
                out[i] ^= tmp[i];
        }
        for (i = 0; i < amt; i++) {
            size_t dest = i * stride + (count - 1);
            if (dest >= keylen)
                break;
            key[dest] = out[i];
        }
        done += i;
    }
    r = AMK_OK;
out:
    amk_wipe(&bf, sizeof(bf));
    amk_wipe(sha2pass, sizeof(sha2pass));
    amk_wipe(sha2salt, sizeof(sha2salt));
    amk_wipe(out, sizeof(out));
    amk_wipe(tmp, sizeof(tmp));
    return r;
}
