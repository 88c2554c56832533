/*
 * PuTTY private key files, versions 2 and 3 (PuTTY User Manual, appendix
 * C "PPK file format"):
 *
 *   PuTTY-User-Key-File-3: ssh-ed25519
 *   Encryption: aes256-cbc                      (or "none")
 *   Comment: eddsa-key-20260101
 *   Public-Lines: 2                             (then that many base64 lines)
 *   Key-Derivation: Argon2id                    (v3, encrypted only: the
 *   Argon2-Memory: 8192                          Argon2 type and its
 *   Argon2-Passes: 13                            m, t, p and salt)
 *   Argon2-Parallelism: 1
 *   Argon2-Salt: 0123...
 *   Private-Lines: 1                            (then that many base64 lines)
 *   Private-MAC: <hex>
 *
 * Key material (C.4): v3 runs Argon2 over the passphrase for 80 bytes,
 * cipher key || IV || MAC key; an unencrypted v3 file has an empty MAC key.
 * v2 (C.6.2) takes the cipher key from SHA-1(uint32 0 || passphrase) ||
 * SHA-1(uint32 1 || passphrase), a zero IV, and the MAC key
 * SHA-1("putty-private-key-file-mac-key" || passphrase), the passphrase
 * being empty for an unencrypted file.
 *
 * The MAC (C.5; HMAC-SHA-256 in v3, HMAC-SHA-1 in v2) covers string
 * algorithm, string encryption, string comment, string public blob and
 * string private plaintext (padding included). It is checked in constant
 * time before any of the private data is parsed.
 *
 * The private blob (C.3): ssh-rsa mpint d, p, q, iqmp; ssh-dss mpint x;
 * ecdsa-sha2-* mpint scalar; ssh-ed25519 string of the 32-byte seed.
 *
 * amk_ppk_write() writes version 3 only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "crypto/argon2.h"
#include "crypto/hash.h"
#include "crypto/keyfile_cipher.h"
#include "keys/key.h"
#include "keys/key_impl.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

#define PPK_MAGIC "PuTTY-User-Key-File-"
#define PPK_CIPHER "aes256-cbc"
#define PPK_CIPHER_KEY_LEN 32
#define PPK_IV_LEN 16
#define PPK_V3_MAC_KEY_LEN 32
#define PPK_V3_KDF_LEN (PPK_CIPHER_KEY_LEN + PPK_IV_LEN + PPK_V3_MAC_KEY_LEN)
#define PPK_V2_MAC_KEY_PREFIX "putty-private-key-file-mac-key"
#define PPK_MAX_LINES 4096u          /* of base64 per blob: far above a 16384-bit RSA key */
#define PPK_SALT_MIN 8u              /* RFC 9106 §3.1: at least 8 bytes */
#define PPK_SALT_MAX 64u
#define PPK_ALG_MAX 64u
/* Highest Argon2 cost we run for a file: a hostile file must not hang us
 * or take all memory. PuTTY's defaults are 8192 KiB, about 100 ms of passes, 1 lane. */
#define PPK_ARGON2_MAX_MEMORY_KIB (1024u * 1024u)
#define PPK_ARGON2_MAX_PASSES 1024u
#define PPK_ARGON2_MAX_LANES 64u

struct ppk_file {
    int version;
    char alg[PPK_ALG_MAX + 1];
    int encrypted;
    const char *comment;
    size_t commentlen;
    struct amk_buf pub;          /* decoded public blob */
    struct amk_buf priv;         /* decoded private blob (encrypted or not) */
    enum amk_argon2_type kdf;
    uint32_t memory, passes, lanes;
    uint8_t salt[PPK_SALT_MAX];
    size_t saltlen;
    uint8_t mac[AMK_HASH_MAX_LEN];
    size_t maclen;
};

struct ppk_reader {
    const char *text;
    size_t len, pos;
};

int
amk_ppk_is_ppk(const char *text, size_t len)
{
    size_t mlen = strlen(PPK_MAGIC);

    return len >= mlen && memcmp(text, PPK_MAGIC, mlen) == 0;
}

/* The next line, ended by LF, CRLF or CR (C.2 tolerates all three). */
static int
next_line(struct ppk_reader *rd, const char **line, size_t *len)
{
    size_t i = rd->pos;

    if (i >= rd->len)
        return 0;
    while (i < rd->len && rd->text[i] != '\n' && rd->text[i] != '\r')
        i++;
    *line = rd->text + rd->pos;
    *len = i - rd->pos;
    if (i < rd->len && rd->text[i] == '\r') {
        i++;
        if (i < rd->len && rd->text[i] == '\n')
            i++;
    } else if (i < rd->len) {
        i++;    /* LF */
    }
    rd->pos = i;
    return 1;
}

/* Reads "<name>: <value>"; AMK_EFORMAT when the next line is not that header. */
static int
get_header(struct ppk_reader *rd, const char *name, const char **value, size_t *vlen)
{
    const char *line;
    size_t len, nlen = strlen(name);

    if (!next_line(rd, &line, &len))
        return AMK_EFORMAT;
    if (len < nlen + 2 || memcmp(line, name, nlen) != 0 || line[nlen] != ':' ||
        line[nlen + 1] != ' ' || memchr(line, '\0', len) != NULL)
        return AMK_EFORMAT;
    *value = line + nlen + 2;
    *vlen = len - nlen - 2;
    return AMK_OK;
}

/* A decimal number in [1, @p max] (no sign, no leading zeros); above
 * @p max is AMK_ELIMIT. */
static int
parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
        return AMK_EFORMAT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return AMK_EFORMAT;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0)
        return AMK_EFORMAT;
    if (v > max)
        return AMK_ELIMIT;
    *out = (uint32_t)v;
    return AMK_OK;
}

static int
get_uint_header(struct ppk_reader *rd, const char *name, uint32_t max, uint32_t *out)
{
    const char *v;
    size_t vlen;
    int r;

    if ((r = get_header(rd, name, &v, &vlen)) != AMK_OK)
        return r;
    return parse_uint(v, vlen, max, out);
}

/* "<name>-Lines: n" and n lines of base64, decoded into @p out. */
static int
get_blob(struct ppk_reader *rd, const char *header, struct amk_buf *out)
{
    const char *line;
    size_t len;
    uint32_t n;
    int r;

    if ((r = get_uint_header(rd, header, PPK_MAX_LINES, &n)) != AMK_OK)
        return r == AMK_ELIMIT ? AMK_EFORMAT : r;
    for (uint32_t i = 0; i < n; i++) {
        if (!next_line(rd, &line, &len))
            return AMK_EFORMAT;
        /* A line of base64 is a whole number of quanta, or the last one. */
        if (len == 0 || (len % 4 != 0))
            return AMK_EFORMAT;
        if ((r = amk_base64_decode(line, len, out)) != AMK_OK)
            return r;
    }
    return AMK_OK;
}

static int
hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
parse_hex(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    if (len % 2 != 0 || len / 2 > cap)
        return AMK_EFORMAT;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return AMK_EFORMAT;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return AMK_OK;
}

/* Reads the text of the file into @p f (C.2). */
static int
parse_text(const char *text, size_t len, struct ppk_file *f)
{
    struct ppk_reader rd = { .text = text, .len = len, .pos = 0 };
    const char *line, *v;
    size_t llen, vlen, mlen = strlen(PPK_MAGIC);
    int r;

    if (!next_line(&rd, &line, &llen) || llen < mlen + 3 || memcmp(line, PPK_MAGIC, mlen) != 0)
        return AMK_EFORMAT;
    /* "PuTTY-User-Key-File-<version>: <algorithm>" */
    if (line[mlen + 1] != ':' || line[mlen + 2] != ' ')
        return AMK_EFORMAT;
    if (line[mlen] == '2')
        f->version = 2;
    else if (line[mlen] == '3')
        f->version = 3;
    else
        return AMK_ENOTSUP;     /* version 1 was never released (C.6.1); 4+ is the future */
    vlen = llen - mlen - 3;
    if (vlen == 0 || vlen > PPK_ALG_MAX || memchr(line + mlen + 3, '\0', vlen) != NULL)
        return AMK_EFORMAT;
    memcpy(f->alg, line + mlen + 3, vlen);
    f->alg[vlen] = '\0';

    if ((r = get_header(&rd, "Encryption", &v, &vlen)) != AMK_OK)
        return r;
    if (vlen == 4 && memcmp(v, "none", 4) == 0)
        f->encrypted = 0;
    else if (vlen == strlen(PPK_CIPHER) && memcmp(v, PPK_CIPHER, vlen) == 0)
        f->encrypted = 1;
    else
        return AMK_ENOTSUP;
    /* The comment may be empty: "Comment: " */
    if (!next_line(&rd, &line, &llen) || llen < 8 || memcmp(line, "Comment:", 8) != 0 ||
        (llen > 8 && line[8] != ' ') || memchr(line, '\0', llen) != NULL)
        return AMK_EFORMAT;
    f->comment = llen > 9 ? line + 9 : line + llen;
    f->commentlen = llen > 9 ? llen - 9 : 0;
    if ((r = get_blob(&rd, "Public-Lines", &f->pub)) != AMK_OK)
        return r;
    if (f->version == 3 && f->encrypted) {
        if ((r = get_header(&rd, "Key-Derivation", &v, &vlen)) != AMK_OK)
            return r;
        if (vlen == 8 && memcmp(v, "Argon2id", 8) == 0)
            f->kdf = AMK_ARGON2ID;
        else if (vlen == 7 && memcmp(v, "Argon2i", 7) == 0)
            f->kdf = AMK_ARGON2I;
        else if (vlen == 7 && memcmp(v, "Argon2d", 7) == 0)
            f->kdf = AMK_ARGON2D;
        else
            return AMK_ENOTSUP;
        if ((r = get_uint_header(&rd, "Argon2-Memory", PPK_ARGON2_MAX_MEMORY_KIB,
                 &f->memory)) != AMK_OK ||
            (r = get_uint_header(&rd, "Argon2-Passes", PPK_ARGON2_MAX_PASSES, &f->passes)) !=
                AMK_OK ||
            (r = get_uint_header(&rd, "Argon2-Parallelism", PPK_ARGON2_MAX_LANES,
                 &f->lanes)) != AMK_OK ||
            (r = get_header(&rd, "Argon2-Salt", &v, &vlen)) != AMK_OK ||
            (r = parse_hex(v, vlen, f->salt, sizeof(f->salt), &f->saltlen)) != AMK_OK)
            return r;
        /* RFC 9106 §3.1: m >= 8p KiB, salt at least 8 bytes. */
        if (f->saltlen < PPK_SALT_MIN || f->memory < 8 * f->lanes)
            return AMK_EFORMAT;
    }
    if ((r = get_blob(&rd, "Private-Lines", &f->priv)) != AMK_OK ||
        (r = get_header(&rd, "Private-MAC", &v, &vlen)) != AMK_OK ||
        (r = parse_hex(v, vlen, f->mac, sizeof(f->mac), &f->maclen)) != AMK_OK)
        return r;
    if (f->maclen != amk_hash_len(f->version == 3 ? AMK_HASH_SHA256 : AMK_HASH_SHA1))
        return AMK_EFORMAT;
    while (next_line(&rd, &line, &llen))
        if (llen != 0)
            return AMK_EFORMAT;
    return AMK_OK;
}

/* v2 key material (C.6.2): cipher key and MAC key; the IV is zero. */
static int
derive_v2(const char *pass, size_t passlen, uint8_t key[PPK_CIPHER_KEY_LEN],
    uint8_t mackey[AMK_HASH_MAX_LEN])
{
    struct amk_hash_ctx *h = NULL;
    uint8_t digest[2 * AMK_HASH_MAX_LEN];
    size_t dlen = amk_hash_len(AMK_HASH_SHA1);
    int r = AMK_EINTERNAL;

    if ((r = amk_hash_new(&h, AMK_HASH_SHA1)) != AMK_OK)
        goto out;
    for (uint8_t seq = 0; seq < 2; seq++) {
        const uint8_t be[4] = { 0, 0, 0, seq };
        if ((r = amk_hash_reset(h)) != AMK_OK ||
            (r = amk_hash_update(h, be, sizeof(be))) != AMK_OK ||
            (r = amk_hash_update(h, pass, passlen)) != AMK_OK ||
            (r = amk_hash_final(h, digest + seq * dlen)) != AMK_OK)
            goto out;
    }
    memcpy(key, digest, PPK_CIPHER_KEY_LEN);
    if ((r = amk_hash_reset(h)) != AMK_OK ||
        (r = amk_hash_update(h, PPK_V2_MAC_KEY_PREFIX, strlen(PPK_V2_MAC_KEY_PREFIX))) !=
            AMK_OK ||
        (r = amk_hash_update(h, pass, passlen)) != AMK_OK ||
        (r = amk_hash_final(h, mackey)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_wipe(digest, sizeof(digest));
    amk_hash_free(h);
    return r;
}

/* The MAC of C.5 over the file's fields and the private plaintext. */
static int
compute_mac(const struct ppk_file *f, const uint8_t *mackey, size_t mackeylen,
    const uint8_t *plain, size_t plainlen, uint8_t *mac)
{
    struct amk_buf data;
    int r = AMK_EINTERNAL;

    amk_buf_init(&data);
    if ((r = amk_buf_put_cstring(&data, f->alg)) != AMK_OK ||
        (r = amk_buf_put_cstring(&data, f->encrypted ? PPK_CIPHER : "none")) != AMK_OK ||
        (r = amk_buf_put_string(&data, f->comment, f->commentlen)) != AMK_OK ||
        (r = amk_buf_put_string(&data, amk_buf_ptr(&f->pub), amk_buf_len(&f->pub))) != AMK_OK ||
        (r = amk_buf_put_string(&data, plain, plainlen)) != AMK_OK)
        goto out;
    r = amk_hmac(f->version == 3 ? AMK_HASH_SHA256 : AMK_HASH_SHA1, mackey, mackeylen,
        amk_buf_ptr(&data), amk_buf_len(&data), mac);
out:
    amk_buf_release(&data);
    return r;
}

/* Builds the key from the verified public blob and private plaintext. */
static int
build_key(const struct ppk_file *f, const uint8_t *plain, size_t plainlen, struct amk_key **out)
{
    const struct amk_key_info *info;
    struct amk_bytes parts[AMK_PART_COUNT];
    struct amk_buf pub, priv;
    struct amk_pkey *pk = NULL;
    struct amk_key *k = NULL;
    const uint8_t *name;
    size_t namelen;
    char *comment = NULL;
    int r = AMK_EINTERNAL;

    memset(parts, 0, sizeof(parts));
    if ((info = amk_key_info_by_name(f->alg, strlen(f->alg))) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    /* The public blob: its type must be the file's, then the public fields. */
    amk_buf_view(&pub, amk_buf_ptr(&f->pub), amk_buf_len(&f->pub));
    if ((r = amk_buf_get_string_direct(&pub, &name, &namelen)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    if (namelen != strlen(f->alg) || memcmp(name, f->alg, namelen) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_key_read_public_parts(info, &pub, parts)) != AMK_OK ||
        (r = amk_buf_get_end(&pub)) != AMK_OK)
        goto out;
    amk_buf_view(&priv, plain, plainlen);
    switch (info->type) {
    case AMK_PKEY_RSA:
        r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_RSA_D].p, &parts[AMK_PART_RSA_D].len);
        if (r == AMK_OK)
            r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_RSA_P].p,
                &parts[AMK_PART_RSA_P].len);
        if (r == AMK_OK)
            r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_RSA_Q].p,
                &parts[AMK_PART_RSA_Q].len);
        if (r == AMK_OK)
            r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_RSA_IQMP].p,
                &parts[AMK_PART_RSA_IQMP].len);
        break;
    case AMK_PKEY_DSA:
        r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_DSA_X].p, &parts[AMK_PART_DSA_X].len);
        break;
    case AMK_PKEY_ED25519:
        r = amk_buf_get_string_direct(&priv, &parts[AMK_PART_PRIVATE].p,
            &parts[AMK_PART_PRIVATE].len);
        if (r == AMK_OK && parts[AMK_PART_PRIVATE].len != AMK_KEY_ED25519_LEN)
            r = AMK_EFORMAT;
        break;
    default:
        r = amk_buf_get_mpint_direct(&priv, &parts[AMK_PART_PRIVATE].p,
            &parts[AMK_PART_PRIVATE].len);
        break;
    }
    if (r != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    /* What follows is cipher padding: less than a block, none when plain. */
    if (amk_buf_len(&priv) >= (f->encrypted ? (size_t)PPK_IV_LEN : 1u)) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_pkey_from_parts(&pk, info->type, parts)) != AMK_OK)
        goto out;
    if (!amk_pkey_has_private(pk)) {
        r = AMK_EKEY;
        goto out;
    }
    r = amk_key_from_pkey(pk, &k);
    pk = NULL;
    if (r != AMK_OK)
        goto out;
    if (f->commentlen > 0) {
        if ((comment = amk_strndup(f->comment, f->commentlen)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = amk_key_set_comment(k, comment)) != AMK_OK)
            goto out;
    }
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    amk_free(comment);
    amk_pkey_free(pk);
    amk_key_free(k);
    return r;
}

int
amk_ppk_parse(const char *text, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out)
{
    const struct amk_keyfile_cipher *cipher = amk_keyfile_cipher_find(PPK_CIPHER);
    struct ppk_file f;
    uint8_t kdf[PPK_V3_KDF_LEN], mackey[AMK_HASH_MAX_LEN], mac[AMK_HASH_MAX_LEN];
    uint8_t zero_iv[PPK_IV_LEN] = { 0 };
    const uint8_t *key = NULL, *iv = NULL;
    size_t mackeylen = 0, plainlen = 0;
    uint8_t *plain = NULL;
    char *pass = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    memset(&f, 0, sizeof(f));
    amk_buf_init(&f.pub);
    amk_buf_init(&f.priv);
    memset(kdf, 0, sizeof(kdf));
    memset(mackey, 0, sizeof(mackey));
    if (cipher == NULL || cipher->key_len != PPK_CIPHER_KEY_LEN ||
        cipher->iv_len != PPK_IV_LEN) {
        r = AMK_EINTERNAL;
        goto out;
    }
    if ((r = parse_text(text, len, &f)) != AMK_OK)
        goto out;
    plainlen = amk_buf_len(&f.priv);
    if (f.encrypted && (plainlen == 0 || plainlen % PPK_IV_LEN != 0)) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((plain = amk_malloc(plainlen + 1)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (f.encrypted) {
        if ((pass = amk_calloc(1, AMK_KEY_PASSPHRASE_MAX)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = amk_key_get_passphrase(fn, user, pass, AMK_KEY_PASSPHRASE_MAX)) != AMK_OK)
            goto out;
    }
    if (f.version == 3) {
        if (f.encrypted) {
            if ((r = amk_argon2(f.kdf, pass, strlen(pass), f.salt, f.saltlen, f.memory, f.passes,
                     f.lanes, kdf, sizeof(kdf))) != AMK_OK) {
                r = r == AMK_EINVAL ? AMK_EFORMAT : r;
                goto out;
            }
            key = kdf;
            iv = kdf + PPK_CIPHER_KEY_LEN;
            memcpy(mackey, kdf + PPK_CIPHER_KEY_LEN + PPK_IV_LEN, PPK_V3_MAC_KEY_LEN);
            mackeylen = PPK_V3_MAC_KEY_LEN;
        }
    } else {
        if ((r = derive_v2(f.encrypted ? pass : "", f.encrypted ? strlen(pass) : 0, kdf,
                 mackey)) != AMK_OK)
            goto out;
        key = kdf;
        iv = zero_iv;
        mackeylen = amk_hash_len(AMK_HASH_SHA1);
    }
    if (f.encrypted) {
        if ((r = amk_keyfile_crypt(cipher, 0, key, iv, amk_buf_ptr(&f.priv), plainlen, plain,
                 NULL)) != AMK_OK)
            goto out;
    } else if (plainlen > 0) {
        memcpy(plain, amk_buf_ptr(&f.priv), plainlen);
    }
    /* C.5: nothing in the private blob is trusted before the MAC checks out. */
    if ((r = compute_mac(&f, mackey, mackeylen, plain, plainlen, mac)) != AMK_OK)
        goto out;
    if (!amk_ct_equal(mac, f.mac, f.maclen)) {
        r = f.encrypted ? AMK_EPASSPHRASE : AMK_EFORMAT;
        goto out;
    }
    r = build_key(&f, plain, plainlen, out);
out:
    amk_wipe(kdf, sizeof(kdf));
    amk_wipe(mackey, sizeof(mackey));
    amk_wipe(mac, sizeof(mac));
    amk_free_wiped(plain, plainlen + 1);
    amk_free_wiped(pass, AMK_KEY_PASSPHRASE_MAX);
    amk_buf_release(&f.pub);
    amk_buf_release(&f.priv);
    return r;
}

int
amk_ppk_public(const char *text, size_t len, struct amk_key **out)
{
    struct ppk_file f;
    struct amk_key *k = NULL;
    char *comment = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    memset(&f, 0, sizeof(f));
    amk_buf_init(&f.pub);
    amk_buf_init(&f.priv);
    if ((r = parse_text(text, len, &f)) != AMK_OK)
        goto out;
    /* C.2: the public blob and the comment are stored in the clear. They are
     * covered by the MAC, which needs the passphrase, so they are as
     * trustworthy as a .pub file. */
    if ((r = amk_key_from_blob(amk_buf_ptr(&f.pub), amk_buf_len(&f.pub), &k)) != AMK_OK)
        goto out;
    if (strcmp(amk_key_type_name(k), f.alg) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if (f.commentlen > 0) {
        if ((comment = amk_strndup(f.comment, f.commentlen)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = amk_key_set_comment(k, comment)) != AMK_OK)
            goto out;
    }
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    amk_free(comment);
    amk_key_free(k);
    amk_buf_release(&f.pub);
    amk_buf_release(&f.priv);
    return r;
}

/* ---- Writing version 3 ---- */

/* Argon2id cost of the files we write: PuTTY's default memory and lanes,
 * passes for about 100 ms on a current machine (PuTTY calibrates these). */
#define PPK_WRITE_MEMORY_KIB 8192u
#define PPK_WRITE_PASSES 13u
#define PPK_WRITE_LANES 1u
#define PPK_WRITE_SALT_LEN 16u
#define PPK_LINE_WIDTH 64

/* The private blob of C.3 for @p k. */
static int
private_blob(const struct amk_key *k, struct amk_buf *out)
{
    static const enum amk_pkey_part rsa[] = { AMK_PART_RSA_D, AMK_PART_RSA_P, AMK_PART_RSA_Q,
        AMK_PART_RSA_IQMP };
    static const enum amk_pkey_part dsa[] = { AMK_PART_DSA_X };
    static const enum amk_pkey_part ec[] = { AMK_PART_PRIVATE };
    const struct amk_pkey *pk = amk_key_pkey(k);
    const enum amk_pkey_part *parts = ec;
    size_t nparts = 1, len = 0;
    uint8_t *p = NULL;
    int r = AMK_EINTERNAL;

    if (amk_key_type(k) == AMK_PKEY_RSA) {
        parts = rsa;
        nparts = 4;
    } else if (amk_key_type(k) == AMK_PKEY_DSA) {
        parts = dsa;
    }
    for (size_t i = 0; i < nparts; i++) {
        if ((r = amk_pkey_get_part(pk, parts[i], &p, &len)) != AMK_OK)
            goto out;
        if (amk_key_type(k) == AMK_PKEY_ED25519)
            r = amk_buf_put_string(out, p, len);    /* the 32-byte seed */
        else
            r = amk_buf_put_mpint(out, p, len);
        amk_free_wiped(p, len);
        p = NULL;
        if (r != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    amk_free_wiped(p, len);
    return r;
}

/* "<header>-Lines: n" and the base64 of @p blob in lines of 64. */
static int
put_lines(struct amk_buf *out, const char *header, const uint8_t *blob, size_t len)
{
    struct amk_buf b64;
    char line[64];
    size_t n, count;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b64);
    if ((r = amk_base64_encode(blob, len, 1, &b64)) != AMK_OK)
        goto out;
    count = (amk_buf_len(&b64) + PPK_LINE_WIDTH - 1) / PPK_LINE_WIDTH;
    n = (size_t)snprintf(line, sizeof(line), "%s: %zu\n", header, count);
    if ((r = amk_buf_put(out, line, n)) != AMK_OK)
        goto out;
    for (size_t i = 0; i < amk_buf_len(&b64); i += n) {
        n = amk_buf_len(&b64) - i;
        if (n > PPK_LINE_WIDTH)
            n = PPK_LINE_WIDTH;
        if ((r = amk_buf_put(out, amk_buf_ptr(&b64) + i, n)) != AMK_OK ||
            (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    amk_buf_release(&b64);
    return r;
}

static int
put_hex_line(struct amk_buf *out, const char *header, const uint8_t *p, size_t len)
{
    static const char hexdigits[] = "0123456789abcdef";
    int r;

    if ((r = amk_buf_put(out, header, strlen(header))) != AMK_OK)
        return r;
    for (size_t i = 0; i < len; i++) {
        char hx[2] = { hexdigits[p[i] >> 4], hexdigits[p[i] & 15] };
        if ((r = amk_buf_put(out, hx, 2)) != AMK_OK)
            return r;
    }
    return amk_buf_put_u8(out, '\n');
}

int
amk_ppk_write(const struct amk_key *k, const char *passphrase, const struct amk_rng *rng,
    struct amk_buf *out)
{
    const struct amk_keyfile_cipher *cipher = amk_keyfile_cipher_find(PPK_CIPHER);
    struct ppk_file f;
    struct amk_buf priv;
    uint8_t kdf[PPK_V3_KDF_LEN], mac[AMK_HASH_MAX_LEN], pad[AMK_HASH_MAX_LEN];
    const char *comment = amk_key_comment(k);
    size_t before = amk_buf_len(out), padlen;
    uint8_t *enc = NULL;
    char line[128];
    int encrypt = passphrase != NULL && passphrase[0] != '\0', n, r = AMK_EINTERNAL;

    memset(&f, 0, sizeof(f));
    amk_buf_init(&f.pub);
    amk_buf_init(&priv);
    memset(kdf, 0, sizeof(kdf));
    if (!amk_key_has_private(k)) {
        r = AMK_EKEY;
        goto out;
    }
    if (cipher == NULL || strchr(comment, '\n') != NULL || strchr(comment, '\r') != NULL) {
        r = cipher == NULL ? AMK_EINTERNAL : AMK_EINVAL;
        goto out;
    }
    f.version = 3;
    f.encrypted = encrypt;
    snprintf(f.alg, sizeof(f.alg), "%s", amk_key_type_name(k));
    f.comment = comment;
    f.commentlen = strlen(comment);
    if ((r = amk_key_to_blob(k, &f.pub)) != AMK_OK || (r = private_blob(k, &priv)) != AMK_OK)
        goto out;
    if (encrypt) {
        /* Pad to the cipher block with SHA-1 of the blob, as PuTTY does. */
        padlen = PPK_IV_LEN - amk_buf_len(&priv) % PPK_IV_LEN;
        if (padlen == PPK_IV_LEN)
            padlen = 0;
        if ((r = amk_hash(AMK_HASH_SHA1, amk_buf_ptr(&priv), amk_buf_len(&priv), pad)) !=
                AMK_OK ||
            (r = amk_buf_put(&priv, pad, padlen)) != AMK_OK)
            goto out;
        f.kdf = AMK_ARGON2ID;
        f.memory = PPK_WRITE_MEMORY_KIB;
        f.passes = PPK_WRITE_PASSES;
        f.lanes = PPK_WRITE_LANES;
        f.saltlen = PPK_WRITE_SALT_LEN;
        if ((r = amk_random_bytes(rng, f.salt, f.saltlen)) != AMK_OK ||
            (r = amk_argon2(f.kdf, passphrase, strlen(passphrase), f.salt, f.saltlen, f.memory,
                 f.passes, f.lanes, kdf, sizeof(kdf))) != AMK_OK)
            goto out;
    }
    /* C.5: the MAC is over the plaintext (padding included). */
    if ((r = compute_mac(&f, kdf + PPK_CIPHER_KEY_LEN + PPK_IV_LEN,
             encrypt ? PPK_V3_MAC_KEY_LEN : 0, amk_buf_ptr(&priv), amk_buf_len(&priv), mac)) !=
        AMK_OK)
        goto out;
    if ((enc = amk_malloc(amk_buf_len(&priv) + 1)) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    if (encrypt) {
        if ((r = amk_keyfile_crypt(cipher, 1, kdf, kdf + PPK_CIPHER_KEY_LEN, amk_buf_ptr(&priv),
                 amk_buf_len(&priv), enc, NULL)) != AMK_OK)
            goto out;
    } else if (amk_buf_len(&priv) > 0) {
        memcpy(enc, amk_buf_ptr(&priv), amk_buf_len(&priv));
    }
    n = snprintf(line, sizeof(line), "%s3: %s\nEncryption: %s\nComment: ", PPK_MAGIC, f.alg,
        encrypt ? PPK_CIPHER : "none");
    if ((r = amk_buf_put(out, line, (size_t)n)) != AMK_OK ||
        (r = amk_buf_put(out, comment, f.commentlen)) != AMK_OK ||
        (r = amk_buf_put_u8(out, '\n')) != AMK_OK ||
        (r = put_lines(out, "Public-Lines", amk_buf_ptr(&f.pub), amk_buf_len(&f.pub))) != AMK_OK)
        goto out;
    if (encrypt) {
        n = snprintf(line, sizeof(line), "Key-Derivation: Argon2id\nArgon2-Memory: %u\n"
            "Argon2-Passes: %u\nArgon2-Parallelism: %u\n", (unsigned)f.memory,
            (unsigned)f.passes, (unsigned)f.lanes);
        if ((r = amk_buf_put(out, line, (size_t)n)) != AMK_OK ||
            (r = put_hex_line(out, "Argon2-Salt: ", f.salt, f.saltlen)) != AMK_OK)
            goto out;
    }
    if ((r = put_lines(out, "Private-Lines", enc, amk_buf_len(&priv))) != AMK_OK ||
        (r = put_hex_line(out, "Private-MAC: ", mac, amk_hash_len(AMK_HASH_SHA256))) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_wipe(kdf, sizeof(kdf));
    amk_wipe(pad, sizeof(pad));
    amk_free_wiped(enc, amk_buf_len(&priv) + 1);
    amk_buf_release(&priv);
    amk_buf_release(&f.pub);
    return r;
}
