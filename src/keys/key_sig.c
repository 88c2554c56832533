/*
 * SSH signature blobs: string algorithm, string signature (RFC 4253 §6.6),
 * for ssh-ed25519 (RFC 8709 §6), ecdsa-sha2-* (RFC 5656 §3.1.2),
 * rsa-sha2-256/512 (RFC 8332 §3), ssh-rsa and ssh-dss (RFC 4253 §6.6).
 * See key.h.
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "keys/key.h"
#include "keys/key_impl.h"
#include "util/buf.h"
#include "util/secure.h"

/* Signature algorithms by key type; the first of a type is its default. */
static const struct {
    enum amk_pkey_type type;
    const char *name;
    enum amk_hash_alg hash;
} sig_algs[] = {
    { AMK_PKEY_ED25519, "ssh-ed25519", AMK_HASH_SHA512 },          /* RFC 8709 §6 */
    { AMK_PKEY_ECDSA_P256, "ecdsa-sha2-nistp256", AMK_HASH_SHA256 }, /* RFC 5656 §6.2.1 */
    { AMK_PKEY_ECDSA_P384, "ecdsa-sha2-nistp384", AMK_HASH_SHA384 },
    { AMK_PKEY_ECDSA_P521, "ecdsa-sha2-nistp521", AMK_HASH_SHA512 },
    { AMK_PKEY_RSA, "rsa-sha2-512", AMK_HASH_SHA512 },             /* RFC 8332 §3 */
    { AMK_PKEY_RSA, "rsa-sha2-256", AMK_HASH_SHA256 },
    { AMK_PKEY_RSA, "ssh-rsa", AMK_HASH_SHA1 },                    /* RFC 4253 §6.6 */
    { AMK_PKEY_DSA, "ssh-dss", AMK_HASH_SHA1 },
};

#define SIG_ALG_COUNT (sizeof(sig_algs) / sizeof(sig_algs[0]))
#define DSA_SIG_LEN 40      /* RFC 4253 §6.6: r and s, 160 bits each */
#define ED25519_SIG_LEN 64  /* RFC 8032 §5.1.6 */

int
amk_key_sig_hash(const struct amk_key *k, const char *sig_alg, const char **name,
    enum amk_hash_alg *hash)
{
    for (size_t i = 0; i < SIG_ALG_COUNT; i++) {
        if (sig_algs[i].type != k->info->type)
            continue;
        if (sig_alg != NULL && strcmp(sig_alg, sig_algs[i].name) != 0)
            continue;
        if (name != NULL)
            *name = sig_algs[i].name;
        if (hash != NULL)
            *hash = sig_algs[i].hash;
        return AMK_OK;
    }
    return AMK_ESIGNATURE;
}

int
amk_key_sig_alg_ok(const struct amk_key *k, const char *sig_alg)
{
    return sig_alg != NULL && amk_key_sig_hash(k, sig_alg, NULL, NULL) == AMK_OK;
}

/* RFC 5656 §3.1.2: the signature string holds mpint r, mpint s. */
static int
ecdsa_sig_encode(const uint8_t *rs, size_t rslen, struct amk_buf *out)
{
    size_t half = rslen / 2;
    int r;

    if (rslen == 0 || rslen % 2 != 0)
        return AMK_EINTERNAL;
    if ((r = amk_buf_put_mpint(out, rs, half)) != AMK_OK ||
        (r = amk_buf_put_mpint(out, rs + half, half)) != AMK_OK)
        return r;
    return AMK_OK;
}

/* Decodes mpint r, mpint s into r || s, each padded to @p field_len. */
static int
ecdsa_sig_decode(const uint8_t *sig, size_t siglen, size_t field_len, uint8_t *rs)
{
    struct amk_buf b;
    const uint8_t *p;
    size_t len;
    int r;

    amk_buf_view(&b, sig, siglen);
    for (int i = 0; i < 2; i++) {
        if ((r = amk_buf_get_mpint_direct(&b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        /* r and s lie in [1, n-1]: longer than the field cannot verify. */
        if (len == 0 || len > field_len)
            return AMK_ESIGNATURE;
        memset(rs + i * field_len, 0, field_len - len);
        memcpy(rs + i * field_len + field_len - len, p, len);
    }
    return amk_buf_get_end(&b);
}

int
amk_key_sign(const struct amk_key *k, const char *sig_alg, const uint8_t *data,
    size_t len, struct amk_buf *out)
{
    struct amk_buf *inner = NULL;
    const char *name;
    enum amk_hash_alg hash;
    uint8_t *sig = NULL;
    size_t siglen = 0, before = amk_buf_len(out);
    int r = AMK_EINTERNAL;

    if ((r = amk_key_sig_hash(k, sig_alg, &name, &hash)) != AMK_OK) {
        r = AMK_EINVAL;
        goto out;
    }
    if (!amk_pkey_has_private(k->pk)) {
        r = AMK_EKEY;
        goto out;
    }
    if ((r = amk_pkey_sign(k->pk, hash, data, len, &sig, &siglen)) != AMK_OK)
        goto out;
    if ((r = amk_buf_put_cstring(out, name)) != AMK_OK)
        goto out;
    switch (k->info->type) {
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        if ((inner = amk_buf_new()) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = ecdsa_sig_encode(sig, siglen, inner)) != AMK_OK ||
            (r = amk_buf_put_stringb(out, inner)) != AMK_OK)
            goto out;
        break;
    default:
        if ((r = amk_buf_put_string(out, sig, siglen)) != AMK_OK)
            goto out;
        break;
    }
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_buf_free(inner);
    amk_free(sig);
    return r;
}

int
amk_key_verify(const struct amk_key *k, const char *sig_alg, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t len)
{
    struct amk_buf b;
    const uint8_t *alg, *s;
    size_t alglen, slen, want = 0;
    char name[32];
    enum amk_hash_alg hash;
    uint8_t *raw = NULL;
    int r = AMK_EINTERNAL;

    amk_buf_view(&b, sig, siglen);
    if ((r = amk_buf_get_string_direct(&b, &alg, &alglen)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &s, &slen)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    if ((r = amk_buf_get_end(&b)) != AMK_OK)
        goto out;
    /* The blob's algorithm must fit the key and, when the caller
     * negotiated one (RFC 4253 §7.1, RFC 8332 §3), be that one. */
    if (alglen >= sizeof(name) || memchr(alg, '\0', alglen) != NULL) {
        r = AMK_ESIGNATURE;
        goto out;
    }
    memcpy(name, alg, alglen);
    name[alglen] = '\0';
    if (sig_alg != NULL && strcmp(sig_alg, name) != 0) {
        r = AMK_ESIGNATURE;
        goto out;
    }
    if ((r = amk_key_sig_hash(k, name, NULL, &hash)) != AMK_OK)
        goto out;

    switch (k->info->type) {
    case AMK_PKEY_ED25519:
        if (slen != ED25519_SIG_LEN) {
            r = AMK_EFORMAT;
            goto out;
        }
        r = amk_pkey_verify(k->pk, hash, data, len, s, slen);
        goto out;
    case AMK_PKEY_DSA:
        if (slen != DSA_SIG_LEN) {
            r = AMK_EFORMAT;
            goto out;
        }
        r = amk_pkey_verify(k->pk, hash, data, len, s, slen);
        goto out;
    case AMK_PKEY_RSA:
        /* RFC 8017 §8.2.2 wants the modulus length; like OpenSSH, accept a
         * shorter signature whose leading zero bytes were dropped. */
        want = (amk_pkey_bits(k->pk) + 7) / 8;
        if (slen == 0 || slen > want) {
            r = AMK_EFORMAT;
            goto out;
        }
        if ((raw = amk_calloc(1, want)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        memcpy(raw + want - slen, s, slen);
        r = amk_pkey_verify(k->pk, hash, data, len, raw, want);
        goto out;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        want = 2 * k->info->field_len;
        if ((raw = amk_calloc(1, want)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = ecdsa_sig_decode(s, slen, k->info->field_len, raw)) != AMK_OK)
            goto out;
        r = amk_pkey_verify(k->pk, hash, data, len, raw, want);
        goto out;
    }
    r = AMK_ENOTSUP;
out:
    amk_free(raw);
    return r;
}
