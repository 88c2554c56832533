/*
 * OpenSSH private keys, "openssh-key-v1" (OpenSSH PROTOCOL.key):
 *
 *   "openssh-key-v1\0"
 *   string ciphername, string kdfname, string kdfoptions
 *   uint32 number of keys (1)
 *   string public key blob
 *   string encrypted private section [AEAD tag]
 *
 * The private section is uint32 checkint, uint32 checkint, then per key:
 * string type, the type's public and private fields, string comment; then
 * padding bytes 1, 2, 3, ... up to the cipher's block size. With the
 * "bcrypt" KDF, kdfoptions is string salt, uint32 rounds, and
 * bcrypt_pbkdf(passphrase, salt, rounds) gives the cipher key then IV.
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "crypto/bcrypt_pbkdf.h"
#include "crypto/keyfile_cipher.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "keys/key_impl.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

#define OPENSSH_MAGIC "openssh-key-v1"
#define OPENSSH_MAGIC_LEN (sizeof(OPENSSH_MAGIC))   /* includes the NUL */
#define OPENSSH_LINE_WIDTH 70                        /* as ssh-keygen writes */
#define ED25519_SECRET_LEN 64                        /* seed || public (RFC 8032 §5.1.5) */
#define KDF_MAX_LEN (AMK_KEYFILE_MAX_KEY_LEN + AMK_KEYFILE_MAX_IV_LEN)

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
amk_openssh_is_armored(const char *text, size_t len)
{
    size_t blen = strlen(AMK_OPENSSH_ARMOR_BEGIN), i = 0;

    while (i < len && is_space(text[i]))
        i++;
    return len - i >= blen && memcmp(text + i, AMK_OPENSSH_ARMOR_BEGIN, blen) == 0;
}

int
amk_openssh_unarmor(const char *text, size_t len, struct amk_buf *out)
{
    size_t blen = strlen(AMK_OPENSSH_ARMOR_BEGIN), elen = strlen(AMK_OPENSSH_ARMOR_END);
    size_t i = 0, start, end;

    while (i < len && is_space(text[i]))
        i++;
    if (len - i < blen || memcmp(text + i, AMK_OPENSSH_ARMOR_BEGIN, blen) != 0)
        return AMK_EFORMAT;
    start = i + blen;
    /* The end line: the first '-' after the begin line starts it. */
    for (end = start; end < len && text[end] != '-'; end++)
        ;
    if (len - end < elen || memcmp(text + end, AMK_OPENSSH_ARMOR_END, elen) != 0)
        return AMK_EFORMAT;
    for (i = end + elen; i < len; i++)
        if (!is_space(text[i]))
            return AMK_EFORMAT;
    return amk_base64_decode(text + start, end - start, out);
}

int
amk_key_get_passphrase(amk_passphrase_fn fn, void *user, char *buf, size_t cap)
{
    int r;

    if (fn == NULL)
        return AMK_EPASSPHRASE;
    buf[0] = '\0';
    if ((r = fn(user, buf, cap)) != AMK_OK)
        return r < 0 ? r : AMK_EPASSPHRASE;
    buf[cap - 1] = '\0';
    if (buf[0] == '\0')
        return AMK_EPASSPHRASE;
    return AMK_OK;
}

/* kdfoptions of "bcrypt": string salt, uint32 rounds (PROTOCOL.key). */
static int
parse_kdf_options(const uint8_t *p, size_t len, const uint8_t **salt, size_t *saltlen,
    uint32_t *rounds)
{
    struct amk_buf b;
    int r;

    amk_buf_view(&b, p, len);
    if ((r = amk_buf_get_string_direct(&b, salt, saltlen)) != AMK_OK ||
        (r = amk_buf_get_u32(&b, rounds)) != AMK_OK)
        return amk_key_format_err(r);
    if ((r = amk_buf_get_end(&b)) != AMK_OK)
        return r;
    if (*saltlen == 0 || *saltlen > AMK_BCRYPT_PBKDF_MAX_SALT || *rounds == 0)
        return AMK_EFORMAT;
    if (*rounds > AMK_OPENSSH_MAX_ROUNDS)
        return AMK_ELIMIT;
    return AMK_OK;
}

int
amk_openssh_decrypt(const uint8_t *blob, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_buf *priv, struct amk_buf *pubblob)
{
    const struct amk_keyfile_cipher *cipher;
    struct amk_buf b;
    const uint8_t *cname, *kdfname, *kdfopts, *pub, *enc, *tag = NULL, *salt = NULL;
    size_t cnamelen, kdfnamelen, kdfoptslen, publen, enclen, saltlen = 0;
    uint32_t nkeys, rounds = 0, check1, check2;
    char name[64];
    char *pass = NULL;
    uint8_t kdfout[KDF_MAX_LEN];
    uint8_t *plain = NULL;
    int encrypted, r = AMK_EINTERNAL;

    amk_buf_view(&b, blob, len);
    if (len < OPENSSH_MAGIC_LEN || memcmp(blob, OPENSSH_MAGIC, OPENSSH_MAGIC_LEN) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_buf_consume(&b, OPENSSH_MAGIC_LEN)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &cname, &cnamelen)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &kdfname, &kdfnamelen)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &kdfopts, &kdfoptslen)) != AMK_OK ||
        (r = amk_buf_get_u32(&b, &nkeys)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &pub, &publen)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &enc, &enclen)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    /* PROTOCOL.key allows several keys; OpenSSH writes and reads one. */
    if (nkeys != 1) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if (cnamelen >= sizeof(name) || memchr(cname, '\0', cnamelen) != NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    memcpy(name, cname, cnamelen);
    name[cnamelen] = '\0';
    if ((cipher = amk_keyfile_cipher_find(name)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    encrypted = strcmp(name, "none") != 0;
    if (!encrypted) {
        if (kdfnamelen != 4 || memcmp(kdfname, "none", 4) != 0 || kdfoptslen != 0) {
            r = AMK_EFORMAT;
            goto out;
        }
    } else {
        if (kdfnamelen != 6 || memcmp(kdfname, "bcrypt", 6) != 0) {
            r = kdfnamelen == 4 && memcmp(kdfname, "none", 4) == 0 ? AMK_EFORMAT : AMK_ENOTSUP;
            goto out;
        }
        if ((r = parse_kdf_options(kdfopts, kdfoptslen, &salt, &saltlen, &rounds)) != AMK_OK)
            goto out;
    }
    /* The tag of an AEAD cipher follows the string, then nothing. */
    if (cipher->tag_len > 0) {
        if (amk_buf_len(&b) != cipher->tag_len) {
            r = AMK_EFORMAT;
            goto out;
        }
        tag = amk_buf_ptr(&b);
    } else if ((r = amk_buf_get_end(&b)) != AMK_OK) {
        goto out;
    }
    if (enclen < cipher->block_size || enclen % cipher->block_size != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((plain = amk_malloc(enclen)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (encrypted) {
        if ((pass = amk_calloc(1, AMK_KEY_PASSPHRASE_MAX)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = amk_key_get_passphrase(fn, user, pass, AMK_KEY_PASSPHRASE_MAX)) != AMK_OK)
            goto out;
        if ((r = amk_bcrypt_pbkdf(pass, strlen(pass), salt, saltlen, kdfout,
                 cipher->key_len + cipher->iv_len, rounds)) != AMK_OK)
            goto out;
        r = amk_keyfile_crypt(cipher, 0, kdfout, kdfout + cipher->key_len, enc, enclen, plain,
            (uint8_t *)(uintptr_t)tag);
        if (r == AMK_EMAC)
            r = AMK_EPASSPHRASE;   /* a wrong key fails the tag */
        if (r != AMK_OK)
            goto out;
    } else {
        memcpy(plain, enc, enclen);
    }
    /* PROTOCOL.key: the two check integers match when decryption worked. */
    if (enclen < 8) {
        r = AMK_EFORMAT;
        goto out;
    }
    check1 = (uint32_t)plain[0] << 24 | (uint32_t)plain[1] << 16 | (uint32_t)plain[2] << 8 | plain[3];
    check2 = (uint32_t)plain[4] << 24 | (uint32_t)plain[5] << 16 | (uint32_t)plain[6] << 8 | plain[7];
    if (check1 != check2) {
        r = encrypted ? AMK_EPASSPHRASE : AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_buf_put(priv, plain + 8, enclen - 8)) != AMK_OK)
        goto out;
    if (pubblob != NULL && (r = amk_buf_put(pubblob, pub, publen)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(kdfout, sizeof(kdfout));
    if (pass != NULL)
        amk_free_wiped(pass, AMK_KEY_PASSPHRASE_MAX);
    if (plain != NULL)
        amk_free_wiped(plain, enclen);
    return r;
}

int
amk_openssh_public(const uint8_t *blob, size_t len, struct amk_key **out)
{
    struct amk_buf b;
    const uint8_t *pub;
    size_t publen;
    uint32_t nkeys;
    int r;

    *out = NULL;
    amk_buf_view(&b, blob, len);
    if (len < OPENSSH_MAGIC_LEN || memcmp(blob, OPENSSH_MAGIC, OPENSSH_MAGIC_LEN) != 0)
        return AMK_EFORMAT;
    if ((r = amk_buf_consume(&b, OPENSSH_MAGIC_LEN)) != AMK_OK ||
        (r = amk_buf_skip_string(&b)) != AMK_OK ||
        (r = amk_buf_skip_string(&b)) != AMK_OK ||
        (r = amk_buf_skip_string(&b)) != AMK_OK ||
        (r = amk_buf_get_u32(&b, &nkeys)) != AMK_OK ||
        (r = amk_buf_get_string_direct(&b, &pub, &publen)) != AMK_OK)
        return amk_key_format_err(r);
    if (nkeys != 1)
        return AMK_ENOTSUP;
    return amk_key_from_blob(pub, publen, out);
}

/* Reads one key entry after its type name (PROTOCOL.key; OpenSSH sshkey.c
 * private serialisation order). */
static int
parse_private_fields(const struct amk_key_info *info, struct amk_buf *b, struct amk_pkey **pk)
{
    struct amk_bytes parts[AMK_PART_COUNT];
    const uint8_t *p, *sk;
    size_t len, sklen;
    int r = AMK_EINTERNAL;

    memset(parts, 0, sizeof(parts));
    switch (info->type) {
    case AMK_PKEY_ED25519:
        /* string public (32), string secret (64: seed || public) */
        if ((r = amk_key_read_public_parts(info, b, parts)) != AMK_OK)
            return r;
        if ((r = amk_buf_get_string_direct(b, &sk, &sklen)) != AMK_OK)
            return amk_key_format_err(r);
        if (sklen != ED25519_SECRET_LEN ||
            memcmp(sk + AMK_KEY_ED25519_LEN, parts[AMK_PART_PUBLIC].p, AMK_KEY_ED25519_LEN) != 0)
            return AMK_EKEY;
        parts[AMK_PART_PRIVATE] = (struct amk_bytes){ sk, AMK_KEY_ED25519_LEN };
        break;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        /* string curve, string Q, mpint d */
        if ((r = amk_key_read_public_parts(info, b, parts)) != AMK_OK)
            return r;
        if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        if (len == 0)
            return AMK_EKEY;
        parts[AMK_PART_PRIVATE] = (struct amk_bytes){ p, len };
        break;
    case AMK_PKEY_RSA: {
        /* mpint n, e, d, iqmp, p, q */
        static const enum amk_pkey_part order[] = { AMK_PART_RSA_N, AMK_PART_RSA_E,
            AMK_PART_RSA_D, AMK_PART_RSA_IQMP, AMK_PART_RSA_P, AMK_PART_RSA_Q };
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
                return amk_key_format_err(r);
            if (len == 0)
                return AMK_EKEY;
            parts[order[i]] = (struct amk_bytes){ p, len };
        }
        if (amk_key_mag_bits(parts[AMK_PART_RSA_N].p, parts[AMK_PART_RSA_N].len) <
            AMK_KEY_RSA_MIN_BITS)
            return AMK_EKEY;
        break;
    }
    case AMK_PKEY_DSA:
        /* mpint p, q, g, y, x */
        if ((r = amk_key_read_public_parts(info, b, parts)) != AMK_OK)
            return r;
        if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        if (len == 0)
            return AMK_EKEY;
        parts[AMK_PART_DSA_X] = (struct amk_bytes){ p, len };
        break;
    default:
        return AMK_ENOTSUP;
    }
    return amk_pkey_from_parts(pk, info->type, parts);
}

/* Parses the decrypted private section (after the check integers). */
static int
parse_private_section(struct amk_buf *b, struct amk_key **out)
{
    const struct amk_key_info *info;
    struct amk_pkey *pk = NULL;
    struct amk_key *k = NULL;
    const uint8_t *name;
    size_t namelen, i, padlen;
    char *comment = NULL;
    uint8_t pad;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if ((r = amk_buf_get_string_direct(b, &name, &namelen)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    if ((info = amk_key_info_by_name((const char *)name, namelen)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((r = parse_private_fields(info, b, &pk)) != AMK_OK)
        goto out;
    r = amk_key_from_pkey(pk, &k);
    pk = NULL;
    if (r != AMK_OK)
        goto out;
    if ((r = amk_buf_get_cstring(b, &comment, NULL)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    if ((r = amk_key_set_comment(k, comment[0] != '\0' ? comment : NULL)) != AMK_OK)
        goto out;
    /* Padding: 1, 2, 3, ... (PROTOCOL.key), shorter than a block. */
    padlen = amk_buf_len(b);
    if (padlen >= AMK_KEYFILE_MAX_BLOCK) {
        r = AMK_EFORMAT;
        goto out;
    }
    for (i = 0; i < padlen; i++) {
        if ((r = amk_buf_get_u8(b, &pad)) != AMK_OK)
            goto out;
        if (pad != (uint8_t)(i + 1)) {
            r = AMK_EFORMAT;
            goto out;
        }
    }
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    amk_pkey_free(pk);
    amk_key_free(k);
    amk_free(comment);
    return r;
}

int
amk_openssh_parse(const uint8_t *blob, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out)
{
    struct amk_buf priv, pubblob;
    struct amk_key *k = NULL, *pub = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&priv);
    amk_buf_init(&pubblob);
    if ((r = amk_openssh_decrypt(blob, len, fn, user, &priv, &pubblob)) != AMK_OK)
        goto out;
    if ((r = parse_private_section(&priv, &k)) != AMK_OK)
        goto out;
    /* The clear public key must be the private key's. */
    if ((r = amk_key_from_blob(amk_buf_ptr(&pubblob), amk_buf_len(&pubblob), &pub)) != AMK_OK)
        goto out;
    if (!amk_key_equal_public(k, pub)) {
        r = AMK_EFORMAT;
        goto out;
    }
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    amk_key_free(k);
    amk_key_free(pub);
    amk_buf_release(&priv);
    amk_buf_release(&pubblob);
    return r;
}

/* Appends the private fields of @p k after its public ones. */
static int
write_private_fields(const struct amk_key *k, struct amk_buf *out)
{
    static const enum amk_pkey_part rsa[] = { AMK_PART_RSA_N, AMK_PART_RSA_E,
        AMK_PART_RSA_D, AMK_PART_RSA_IQMP, AMK_PART_RSA_P, AMK_PART_RSA_Q };
    uint8_t *p = NULL, *pub = NULL, *sk = NULL;
    size_t len = 0, publen = 0;
    int r = AMK_EINTERNAL;

    if ((r = amk_buf_put_cstring(out, k->info->name)) != AMK_OK)
        goto out;
    switch (k->info->type) {
    case AMK_PKEY_ED25519:
        if ((r = amk_pkey_get_part(k->pk, AMK_PART_PUBLIC, &pub, &publen)) != AMK_OK ||
            (r = amk_pkey_get_part(k->pk, AMK_PART_PRIVATE, &p, &len)) != AMK_OK)
            goto out;
        if (len != AMK_KEY_ED25519_LEN || publen != AMK_KEY_ED25519_LEN) {
            r = AMK_EINTERNAL;
            goto out;
        }
        if ((sk = amk_malloc(ED25519_SECRET_LEN)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        memcpy(sk, p, AMK_KEY_ED25519_LEN);
        memcpy(sk + AMK_KEY_ED25519_LEN, pub, AMK_KEY_ED25519_LEN);
        if ((r = amk_buf_put_string(out, pub, publen)) != AMK_OK ||
            (r = amk_buf_put_string(out, sk, ED25519_SECRET_LEN)) != AMK_OK)
            goto out;
        break;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        if ((r = amk_key_write_public_parts(k, out)) != AMK_OK ||
            (r = amk_pkey_get_part(k->pk, AMK_PART_PRIVATE, &p, &len)) != AMK_OK ||
            (r = amk_buf_put_mpint(out, p, len)) != AMK_OK)
            goto out;
        break;
    case AMK_PKEY_RSA:
        for (size_t i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++) {
            if ((r = amk_pkey_get_part(k->pk, rsa[i], &p, &len)) != AMK_OK)
                goto out;
            r = amk_buf_put_mpint(out, p, len);
            amk_free_wiped(p, len);
            p = NULL;
            if (r != AMK_OK)
                goto out;
        }
        break;
    case AMK_PKEY_DSA:
        if ((r = amk_key_write_public_parts(k, out)) != AMK_OK ||
            (r = amk_pkey_get_part(k->pk, AMK_PART_DSA_X, &p, &len)) != AMK_OK ||
            (r = amk_buf_put_mpint(out, p, len)) != AMK_OK)
            goto out;
        break;
    }
    r = AMK_OK;
out:
    amk_free_wiped(p, len);
    amk_free_wiped(pub, publen);
    amk_free_wiped(sk, ED25519_SECRET_LEN);
    return r;
}

/* Base64 in lines of OPENSSH_LINE_WIDTH between the armor lines. */
static int
armor(const struct amk_buf *bin, struct amk_buf *out)
{
    struct amk_buf *b64 = NULL;
    size_t i, n;
    int r = AMK_EINTERNAL;

    if ((b64 = amk_buf_new()) == NULL)
        return AMK_ENOMEM;
    if ((r = amk_base64_encode(amk_buf_ptr(bin), amk_buf_len(bin), 1, b64)) != AMK_OK)
        goto out;
    if ((r = amk_buf_put(out, AMK_OPENSSH_ARMOR_BEGIN "\n",
             strlen(AMK_OPENSSH_ARMOR_BEGIN) + 1)) != AMK_OK)
        goto out;
    for (i = 0; i < amk_buf_len(b64); i += n) {
        n = amk_buf_len(b64) - i;
        if (n > OPENSSH_LINE_WIDTH)
            n = OPENSSH_LINE_WIDTH;
        if ((r = amk_buf_put(out, amk_buf_ptr(b64) + i, n)) != AMK_OK ||
            (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
            goto out;
    }
    if ((r = amk_buf_put(out, AMK_OPENSSH_ARMOR_END "\n", strlen(AMK_OPENSSH_ARMOR_END) + 1)) !=
        AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_free(b64);
    return r;
}

int
amk_openssh_write(const struct amk_key *k, const char *passphrase, const char *cipher_name,
    unsigned rounds, const struct amk_rng *rng, struct amk_buf *out)
{
    const struct amk_keyfile_cipher *cipher;
    struct amk_buf *bin = NULL, *priv = NULL, *pub = NULL, *kdfopts = NULL;
    uint8_t salt[AMK_OPENSSH_SALT_LEN], kdfout[KDF_MAX_LEN], tag[AMK_KEYFILE_MAX_TAG_LEN];
    uint8_t *dp;
    uint32_t check;
    size_t before = amk_buf_len(out);
    int encrypted = passphrase != NULL && passphrase[0] != '\0';
    int r = AMK_EINTERNAL;

    if (!amk_pkey_has_private(k->pk))
        return AMK_EKEY;
    cipher = amk_keyfile_cipher_find(!encrypted ? "none" :
        cipher_name != NULL ? cipher_name : AMK_OPENSSH_DEFAULT_CIPHER);
    if (cipher == NULL)
        return AMK_ENOTSUP;
    if (rounds == 0)
        rounds = AMK_OPENSSH_DEFAULT_ROUNDS;
    if ((bin = amk_buf_new()) == NULL || (priv = amk_buf_new()) == NULL ||
        (pub = amk_buf_new()) == NULL || (kdfopts = amk_buf_new()) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if ((r = amk_key_to_blob(k, pub)) != AMK_OK)
        goto out;
    /* Private section: check integers, the key, comment, padding. */
    if ((r = amk_random_bytes(rng, &check, sizeof(check))) != AMK_OK ||
        (r = amk_buf_put_u32(priv, check)) != AMK_OK ||
        (r = amk_buf_put_u32(priv, check)) != AMK_OK ||
        (r = write_private_fields(k, priv)) != AMK_OK ||
        (r = amk_buf_put_cstring(priv, amk_key_comment(k))) != AMK_OK)
        goto out;
    for (uint8_t pad = 1; amk_buf_len(priv) % cipher->block_size != 0; pad++)
        if ((r = amk_buf_put_u8(priv, pad)) != AMK_OK)
            goto out;
    if (encrypted) {
        if ((r = amk_random_bytes(rng, salt, sizeof(salt))) != AMK_OK ||
            (r = amk_buf_put_string(kdfopts, salt, sizeof(salt))) != AMK_OK ||
            (r = amk_buf_put_u32(kdfopts, rounds)) != AMK_OK)
            goto out;
        if ((r = amk_bcrypt_pbkdf(passphrase, strlen(passphrase), salt, sizeof(salt), kdfout,
                 cipher->key_len + cipher->iv_len, rounds)) != AMK_OK)
            goto out;
        if ((dp = amk_buf_mutable_ptr(priv)) == NULL) {
            r = AMK_EINTERNAL;
            goto out;
        }
        if ((r = amk_keyfile_crypt(cipher, 1, kdfout, kdfout + cipher->key_len, dp,
                 amk_buf_len(priv), dp, tag)) != AMK_OK)
            goto out;
    }
    if ((r = amk_buf_put(bin, OPENSSH_MAGIC, OPENSSH_MAGIC_LEN)) != AMK_OK ||
        (r = amk_buf_put_cstring(bin, cipher->name)) != AMK_OK ||
        (r = amk_buf_put_cstring(bin, encrypted ? "bcrypt" : "none")) != AMK_OK ||
        (r = amk_buf_put_stringb(bin, kdfopts)) != AMK_OK ||
        (r = amk_buf_put_u32(bin, 1)) != AMK_OK ||
        (r = amk_buf_put_stringb(bin, pub)) != AMK_OK ||
        (r = amk_buf_put_stringb(bin, priv)) != AMK_OK)
        goto out;
    if (cipher->tag_len > 0 && (r = amk_buf_put(bin, tag, cipher->tag_len)) != AMK_OK)
        goto out;
    if ((r = armor(bin, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_wipe(kdfout, sizeof(kdfout));
    amk_wipe(&check, sizeof(check));
    amk_buf_free(bin);
    amk_buf_free(priv);
    amk_buf_free(pub);
    amk_buf_free(kdfopts);
    return r;
}
