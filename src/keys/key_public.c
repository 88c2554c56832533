/*
 * OpenSSH public key lines ("type base64 comment", sshd(8) AUTHORIZED_KEYS
 * FILE FORMAT without options) and fingerprints as ssh-keygen -l prints
 * them: "SHA256:" + unpadded base64 of SHA-256 of the key blob, or "MD5:"
 * + colon-separated lower-case hex of its MD5 (RFC 4716 §4).
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "crypto/hash.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secure.h"

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_eol(char c)
{
    return c == '\r' || c == '\n';
}

int
amk_key_parse_public_line(const char *line, size_t len, struct amk_key **out)
{
    struct amk_buf blob;
    struct amk_buf view;
    struct amk_key *k = NULL;
    const uint8_t *name;
    size_t i = 0, tstart, tlen, bstart, blen, cstart, clen, namelen;
    char *comment = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&blob);
    while (i < len && (is_blank(line[i]) || is_eol(line[i])))
        i++;
    tstart = i;
    while (i < len && !is_blank(line[i]) && !is_eol(line[i]))
        i++;
    tlen = i - tstart;
    while (i < len && is_blank(line[i]))
        i++;
    bstart = i;
    while (i < len && !is_blank(line[i]) && !is_eol(line[i]))
        i++;
    blen = i - bstart;
    while (i < len && is_blank(line[i]))
        i++;
    /* The comment runs to the end of the line, trailing blanks dropped. */
    cstart = i;
    while (i < len && !is_eol(line[i]))
        i++;
    clen = i - cstart;
    while (clen > 0 && is_blank(line[cstart + clen - 1]))
        clen--;
    while (i < len && is_eol(line[i]))
        i++;
    if (i != len || tlen == 0 || blen == 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if (amk_key_info_by_name(line + tstart, tlen) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((r = amk_base64_decode(line + bstart, blen, &blob)) != AMK_OK)
        goto out;
    /* The type in front must be the type inside the blob. */
    amk_buf_view(&view, amk_buf_ptr(&blob), amk_buf_len(&blob));
    if ((r = amk_buf_get_string_direct(&view, &name, &namelen)) != AMK_OK) {
        r = amk_key_format_err(r);
        goto out;
    }
    if (namelen != tlen || memcmp(name, line + tstart, tlen) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_key_from_blob(amk_buf_ptr(&blob), amk_buf_len(&blob), &k)) != AMK_OK)
        goto out;
    if (clen > 0) {
        if (memchr(line + cstart, '\0', clen) != NULL) {
            r = AMK_EFORMAT;
            goto out;
        }
        if ((comment = amk_strndup(line + cstart, clen)) == NULL) {
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
    amk_buf_release(&blob);
    return r;
}

int
amk_key_write_public_line(const struct amk_key *k, struct amk_buf *out)
{
    struct amk_buf blob;
    const char *comment = amk_key_comment(k);
    size_t before = amk_buf_len(out);
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    if ((r = amk_key_to_blob(k, &blob)) != AMK_OK ||
        (r = amk_buf_put(out, amk_key_type_name(k), strlen(amk_key_type_name(k)))) != AMK_OK ||
        (r = amk_buf_put_u8(out, ' ')) != AMK_OK ||
        (r = amk_base64_encode(amk_buf_ptr(&blob), amk_buf_len(&blob), 1, out)) != AMK_OK)
        goto out;
    if (comment[0] != '\0' && (r = amk_buf_put_u8(out, ' ')) != AMK_OK)
        goto out;
    /* A comment comes from anywhere (a private key file's binary field, a
     * caller): its control characters (a CR or LF would end the line, ESC
     * would reach a terminal) are written as '?', so the line is always
     * one line that parses back to the same key. */
    for (const char *c = comment; *c != '\0'; c++) {
        uint8_t ch = (uint8_t)*c;
        if ((r = amk_buf_put_u8(out, (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : ch)) !=
            AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_buf_release(&blob);
    return r;
}

int
amk_key_write_fingerprint(const struct amk_key *k, enum amk_key_fp_hash hash, struct amk_buf *out)
{
    static const char hexdigits[] = "0123456789abcdef";
    struct amk_buf blob;
    uint8_t digest[AMK_HASH_MAX_LEN];
    size_t before = amk_buf_len(out), dlen;
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    if (hash != AMK_KEY_FP_SHA256 && hash != AMK_KEY_FP_MD5) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((r = amk_key_to_blob(k, &blob)) != AMK_OK)
        goto out;
    if (hash == AMK_KEY_FP_SHA256) {
        dlen = amk_hash_len(AMK_HASH_SHA256);
        if ((r = amk_hash(AMK_HASH_SHA256, amk_buf_ptr(&blob), amk_buf_len(&blob), digest)) !=
                AMK_OK ||
            (r = amk_buf_put(out, "SHA256:", 7)) != AMK_OK ||
            (r = amk_base64_encode(digest, dlen, 0, out)) != AMK_OK)
            goto out;
    } else {
        dlen = amk_hash_len(AMK_HASH_MD5);
        if ((r = amk_hash(AMK_HASH_MD5, amk_buf_ptr(&blob), amk_buf_len(&blob), digest)) !=
                AMK_OK ||
            (r = amk_buf_put(out, "MD5", 3)) != AMK_OK)
            goto out;
        for (size_t i = 0; i < dlen; i++) {
            char hx[3] = { ':', hexdigits[digest[i] >> 4], hexdigits[digest[i] & 15] };
            if ((r = amk_buf_put(out, hx, sizeof(hx))) != AMK_OK)
                goto out;
        }
    }
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_buf_release(&blob);
    return r;
}
