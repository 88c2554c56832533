/*
 * PEM and PKCS#8 private key files: the text armor (RFC 7468 §2-§3), the
 * legacy encryption headers of RFC 1421 §4.6 as OpenSSL writes them
 *
 *   -----BEGIN RSA PRIVATE KEY-----
 *   Proc-Type: 4,ENCRYPTED
 *   DEK-Info: AES-128-CBC,0F1E2D3C4B5A69788796A5B4C3D2E1F0
 *
 *   base64 of the encrypted DER
 *   -----END RSA PRIVATE KEY-----
 *
 * and the choice of DER structure by label. The DER itself is decoded in
 * crypto/pem.c. Labels read: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY"
 * (SEC1, optionally after an "EC PARAMETERS" block), "DSA PRIVATE KEY",
 * "PRIVATE KEY" (PKCS#8, RFC 7468 §10) and "ENCRYPTED PRIVATE KEY"
 * (RFC 7468 §11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "crypto/pem.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "keys/key_impl.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

#define PEM_DASHES "-----"
#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_LINE_WIDTH 64              /* RFC 7468 §2: generators wrap at 64 */
#define PEM_LABEL_MAX 64
#define PEM_DEK_CIPHER_MAX 32
#define PEM_WRITE_CIPHER "AES-128-CBC"  /* what ssh-keygen -m PEM uses */
#define PEM_IV_MAX 16

static const struct {
    const char *label;
    enum amk_der_kind kind;
    int encrypted;          /* the whole DER is an EncryptedPrivateKeyInfo */
} pem_labels[] = {
    { "RSA PRIVATE KEY", AMK_DER_RSA, 0 },
    { "EC PRIVATE KEY", AMK_DER_EC, 0 },
    { "DSA PRIVATE KEY", AMK_DER_DSA, 0 },
    { "PRIVATE KEY", AMK_DER_PKCS8, 0 },
    { "ENCRYPTED PRIVATE KEY", AMK_DER_PKCS8, 1 },
};

#define PEM_LABEL_COUNT (sizeof(pem_labels) / sizeof(pem_labels[0]))

/* A line of @p text from @p *pos without its terminator; 0 at the end. */
static int
next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *llen)
{
    size_t i = *pos;

    if (i >= len)
        return 0;
    while (i < len && text[i] != '\n')
        i++;
    *line = text + *pos;
    *llen = i - *pos;
    if (*llen > 0 && (*line)[*llen - 1] == '\r')
        (*llen)--;
    *pos = i < len ? i + 1 : i;
    return 1;
}

static int
is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* "-----<word> <label>-----": the label, or NULL. */
static const char *
armor_label(const char *line, size_t len, const char *word, size_t *labellen)
{
    size_t wlen = strlen(word), dlen = strlen(PEM_DASHES);

    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len < wlen + dlen || memcmp(line, word, wlen) != 0 ||
        memcmp(line + len - dlen, PEM_DASHES, dlen) != 0)
        return NULL;
    *labellen = len - wlen - dlen;
    return line + wlen;
}

/* Index into pem_labels of the key block's label, or -1. */
static int
find_label(const char *label, size_t len)
{
    for (size_t i = 0; i < PEM_LABEL_COUNT; i++)
        if (strlen(pem_labels[i].label) == len && memcmp(pem_labels[i].label, label, len) == 0)
            return (int)i;
    return -1;
}

/* Skips blank lines and an OpenSSL "EC PARAMETERS" block; *pos is left at
 * the key's BEGIN line. */
static int
skip_to_key(const char *text, size_t len, size_t *pos)
{
    const char *line, *label;
    size_t p = *pos, start, llen, lablen;
    int in_params = 0;

    for (;;) {
        start = p;
        if (!next_line(text, len, &p, &line, &llen))
            return AMK_EFORMAT;
        if (in_params) {
            if ((label = armor_label(line, llen, PEM_END, &lablen)) != NULL)
                in_params = 0;
            continue;
        }
        if (is_blank(line, llen))
            continue;
        if ((label = armor_label(line, llen, PEM_BEGIN, &lablen)) == NULL)
            return AMK_EFORMAT;
        if (lablen == 13 && memcmp(label, "EC PARAMETERS", 13) == 0) {
            in_params = 1;
            continue;
        }
        *pos = start;
        return AMK_OK;
    }
}

int
amk_pem_is_armored(const char *text, size_t len)
{
    const char *line, *label;
    size_t pos = 0, llen, lablen;

    if (skip_to_key(text, len, &pos) != AMK_OK || !next_line(text, len, &pos, &line, &llen) ||
        (label = armor_label(line, llen, PEM_BEGIN, &lablen)) == NULL)
        return 0;
    return find_label(label, lablen) >= 0;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * "DEK-Info: <cipher>,<hex IV>" (RFC 1421 §4.6.1.3 as OpenSSL uses it):
 * @p cipher receives the name, @p iv the IV of the length that cipher needs.
 */
static int
parse_dek_info(const char *v, size_t len, char cipher[PEM_DEK_CIPHER_MAX], uint8_t *iv)
{
    const char *comma = memchr(v, ',', len);
    size_t clen, ivlen, hexlen;

    if (comma == NULL || (clen = (size_t)(comma - v)) == 0 || clen >= PEM_DEK_CIPHER_MAX)
        return AMK_EFORMAT;
    memcpy(cipher, v, clen);
    cipher[clen] = '\0';
    if ((ivlen = amk_pem_legacy_iv_len(cipher)) == 0 || ivlen > PEM_IV_MAX)
        return AMK_ENOTSUP;
    hexlen = len - clen - 1;
    while (hexlen > 0 && (comma[hexlen] == ' ' || comma[hexlen] == '\t'))
        hexlen--;
    if (hexlen != 2 * ivlen)
        return AMK_EFORMAT;
    for (size_t i = 0; i < ivlen; i++) {
        int hi = hex_value(comma[1 + 2 * i]), lo = hex_value(comma[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return AMK_EFORMAT;
        iv[i] = (uint8_t)(hi << 4 | lo);
    }
    return AMK_OK;
}

/* The value of header @p name in @p line, or NULL. */
static const char *
header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);

    if (len < nlen + 1 || memcmp(line, name, nlen) != 0 || line[nlen] != ':')
        return NULL;
    line += nlen + 1;
    len -= nlen + 1;
    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    *vlen = len;
    return line;
}

int
amk_pem_parse(const char *text, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out)
{
    struct amk_buf body, der;
    struct amk_pkey *pk = NULL;
    const char *line, *label, *v;
    size_t pos = 0, llen, lablen, vlen, plainlen = 0;
    char cipher[PEM_DEK_CIPHER_MAX] = "";
    uint8_t iv[PEM_IV_MAX];
    uint8_t *plain = NULL;
    char *pass = NULL;
    int idx, proc_encrypted = 0, in_headers = 1, ended = 0, r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&body);
    amk_buf_init(&der);
    if ((r = skip_to_key(text, len, &pos)) != AMK_OK)
        goto out;
    if (!next_line(text, len, &pos, &line, &llen) ||
        (label = armor_label(line, llen, PEM_BEGIN, &lablen)) == NULL ||
        (idx = find_label(label, lablen)) < 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    while (next_line(text, len, &pos, &line, &llen)) {
        const char *endlabel;
        size_t endlen;

        if (memchr(line, '\0', llen) != NULL) {
            r = AMK_EFORMAT;
            goto out;
        }
        if ((endlabel = armor_label(line, llen, PEM_END, &endlen)) != NULL) {
            /* RFC 7468 §2: the END label matches the BEGIN label. */
            if (endlen != lablen || memcmp(endlabel, label, lablen) != 0) {
                r = AMK_EFORMAT;
                goto out;
            }
            ended = 1;
            break;
        }
        if (in_headers && memchr(line, ':', llen) != NULL) {
            /* RFC 1421 §4.6.1.1 Proc-Type: 4,ENCRYPTED; §4.6.1.3 DEK-Info. */
            if ((v = header_value(line, llen, "Proc-Type", &vlen)) != NULL) {
                if (vlen < 11 || memcmp(v, "4,ENCRYPTED", 11) != 0 ||
                    !is_blank(v + 11, vlen - 11)) {
                    r = AMK_EFORMAT;
                    goto out;
                }
                proc_encrypted = 1;
            } else if ((v = header_value(line, llen, "DEK-Info", &vlen)) != NULL) {
                if ((r = parse_dek_info(v, vlen, cipher, iv)) != AMK_OK)
                    goto out;
            }
            continue;
        }
        in_headers = 0;
        if ((r = amk_buf_put(&body, line, llen)) != AMK_OK)
            goto out;
    }
    while (ended && next_line(text, len, &pos, &line, &llen)) {
        if (!is_blank(line, llen)) {
            r = AMK_EFORMAT;
            goto out;
        }
    }
    if (!ended || amk_buf_len(&body) == 0 || proc_encrypted != (cipher[0] != '\0') ||
        (proc_encrypted && pem_labels[idx].kind == AMK_DER_PKCS8)) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_base64_decode((const char *)amk_buf_ptr(&body), amk_buf_len(&body), &der)) !=
        AMK_OK)
        goto out;
    if (proc_encrypted || pem_labels[idx].encrypted) {
        if ((pass = amk_calloc(1, AMK_KEY_PASSPHRASE_MAX)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
        if ((r = amk_key_get_passphrase(fn, user, pass, AMK_KEY_PASSPHRASE_MAX)) != AMK_OK)
            goto out;
        if (proc_encrypted)
            r = amk_pem_legacy_crypt(cipher, 0, iv, pass, strlen(pass), amk_buf_ptr(&der),
                amk_buf_len(&der), &plain, &plainlen);
        else
            r = amk_der_pkcs8_decrypt(amk_buf_ptr(&der), amk_buf_len(&der), pass, strlen(pass),
                &plain, &plainlen);
        if (r != AMK_OK)
            goto out;
        r = amk_der_private_decode(pem_labels[idx].kind, plain, plainlen, &pk);
        /* After a legacy decryption, garbage means the passphrase was wrong
         * (the padding check lets one wrong key in 256 through). */
        if (proc_encrypted && r == AMK_EFORMAT)
            r = AMK_EPASSPHRASE;
    } else {
        r = amk_der_private_decode(pem_labels[idx].kind, amk_buf_ptr(&der), amk_buf_len(&der),
            &pk);
    }
    if (r != AMK_OK)
        goto out;
    r = amk_key_from_pkey(pk, out);
    pk = NULL;
out:
    amk_pkey_free(pk);
    amk_free_wiped(plain, plainlen);
    amk_free_wiped(pass, AMK_KEY_PASSPHRASE_MAX);
    amk_wipe(iv, sizeof(iv));
    amk_buf_release(&body);
    amk_buf_release(&der);
    return r;
}

/* Appends "-----BEGIN label-----", the headers, base64 of @p der in lines
 * of 64, and "-----END label-----". */
static int
put_armor(const char *label, const char *headers, const uint8_t *der, size_t len,
    struct amk_buf *out)
{
    struct amk_buf b64;
    size_t n;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b64);
    if ((r = amk_base64_encode(der, len, 1, &b64)) != AMK_OK ||
        (r = amk_buf_put(out, PEM_BEGIN, strlen(PEM_BEGIN))) != AMK_OK ||
        (r = amk_buf_put(out, label, strlen(label))) != AMK_OK ||
        (r = amk_buf_put(out, PEM_DASHES "\n", strlen(PEM_DASHES) + 1)) != AMK_OK ||
        (r = amk_buf_put(out, headers, strlen(headers))) != AMK_OK)
        goto out;
    for (size_t i = 0; i < amk_buf_len(&b64); i += n) {
        n = amk_buf_len(&b64) - i;
        if (n > PEM_LINE_WIDTH)
            n = PEM_LINE_WIDTH;
        if ((r = amk_buf_put(out, amk_buf_ptr(&b64) + i, n)) != AMK_OK ||
            (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
            goto out;
    }
    if ((r = amk_buf_put(out, PEM_END, strlen(PEM_END))) != AMK_OK ||
        (r = amk_buf_put(out, label, strlen(label))) != AMK_OK ||
        (r = amk_buf_put(out, PEM_DASHES "\n", strlen(PEM_DASHES) + 1)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_release(&b64);
    return r;
}

int
amk_pem_write(const struct amk_key *k, int pkcs8, const char *passphrase, struct amk_buf *out)
{
    static const char hexdigits[] = "0123456789ABCDEF";
    const struct amk_pkey *pk = amk_key_pkey(k);
    enum amk_der_kind kind;
    const char *label;
    uint8_t *der = NULL, *enc = NULL;
    size_t derlen = 0, enclen = 0, before = amk_buf_len(out);
    uint8_t iv[PEM_IV_MAX];
    char headers[128];
    int encrypt = passphrase != NULL && passphrase[0] != '\0', r = AMK_EINTERNAL;

    headers[0] = '\0';
    if (!amk_key_has_private(k)) {
        r = AMK_EKEY;
        goto out;
    }
    switch (amk_key_type(k)) {
    case AMK_PKEY_RSA: kind = AMK_DER_RSA; label = "RSA PRIVATE KEY"; break;
    case AMK_PKEY_DSA: kind = AMK_DER_DSA; label = "DSA PRIVATE KEY"; break;
    case AMK_PKEY_ED25519: kind = AMK_DER_PKCS8; label = "PRIVATE KEY"; break;
    default: kind = AMK_DER_EC; label = "EC PRIVATE KEY"; break;
    }
    /* Ed25519 has no traditional form: PEM means PKCS#8 for it (RFC 8410 §7). */
    if (pkcs8 || kind == AMK_DER_PKCS8) {
        kind = AMK_DER_PKCS8;
        label = encrypt ? "ENCRYPTED PRIVATE KEY" : "PRIVATE KEY";
    }
    if ((r = amk_der_private_encode(pk, kind, &der, &derlen)) != AMK_OK)
        goto out;
    if (encrypt && kind == AMK_DER_PKCS8) {
        if ((r = amk_der_pkcs8_encrypt(der, derlen, passphrase, strlen(passphrase), &enc,
                 &enclen)) != AMK_OK)
            goto out;
    } else if (encrypt) {
        size_t ivlen = amk_pem_legacy_iv_len(PEM_WRITE_CIPHER), n;
        if ((r = amk_random_bytes(NULL, iv, ivlen)) != AMK_OK ||
            (r = amk_pem_legacy_crypt(PEM_WRITE_CIPHER, 1, iv, passphrase, strlen(passphrase),
                 der, derlen, &enc, &enclen)) != AMK_OK)
            goto out;
        n = (size_t)snprintf(headers, sizeof(headers),
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: %s,", PEM_WRITE_CIPHER);
        for (size_t i = 0; i < ivlen; i++) {
            headers[n++] = hexdigits[iv[i] >> 4];
            headers[n++] = hexdigits[iv[i] & 15];
        }
        headers[n++] = '\n';
        headers[n++] = '\n';
        headers[n] = '\0';
    }
    if (enc != NULL)
        r = put_armor(label, headers, enc, enclen, out);
    else
        r = put_armor(label, headers, der, derlen, out);
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_wipe(iv, sizeof(iv));
    amk_free_wiped(der, derlen);
    amk_free_wiped(enc, enclen);
    return r;
}
