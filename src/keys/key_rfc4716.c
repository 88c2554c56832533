/*
 * The SSH public key file format of RFC 4716: "---- BEGIN SSH2 PUBLIC KEY
 * ----", header lines "Tag: value" (continued with a trailing backslash,
 * §3.3), the base64 key blob (§3.4, lines of at most 72 bytes), and the end
 * line. Read and written; the "Comment" header becomes the key's comment.
 */
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"

#define RFC4716_BEGIN "---- BEGIN SSH2 PUBLIC KEY ----"
#define RFC4716_END "---- END SSH2 PUBLIC KEY ----"
#define RFC4716_LINE_MAX 72         /* RFC 4716 §3: octets per line, without the line end */
#define RFC4716_B64_WIDTH 70        /* as ssh-keygen -e writes */
#define RFC4716_TAG_MAX 64          /* RFC 4716 §3.3 */
#define RFC4716_HEADER_MAX 1024     /* RFC 4716 §3.3: a header value */

struct text_line {
    const char *p;
    size_t len;
};

/* The next line of @p text from *@p pos, without CR/LF; 0 at the end. */
static int
next_line(const char *text, size_t len, size_t *pos, struct text_line *l)
{
    size_t start = *pos, end;

    if (start >= len)
        return 0;
    for (end = start; end < len && text[end] != '\n'; end++)
        ;
    *pos = end < len ? end + 1 : end;
    if (end > start && text[end - 1] == '\r')
        end--;
    l->p = text + start;
    l->len = end - start;
    return 1;
}

int
amk_rfc4716_is_public_key(const char *text, size_t len)
{
    size_t i = 0, n = strlen(RFC4716_BEGIN);

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    return len - i >= n && memcmp(text + i, RFC4716_BEGIN, n) == 0;
}

int
amk_rfc4716_parse(const char *text, size_t len, struct amk_key **out)
{
    struct amk_buf blob, header, body;
    struct text_line l;
    struct amk_key *k = NULL;
    size_t pos = 0;
    char *comment = NULL;
    int in_header = 1, continued = 0, ended = 0, r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&blob);
    amk_buf_init(&header);
    amk_buf_init(&body);
    while (pos < len && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' ||
           text[pos] == '\n'))
        pos++;
    if (!next_line(text, len, &pos, &l) || l.len != strlen(RFC4716_BEGIN) ||
        memcmp(l.p, RFC4716_BEGIN, l.len) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    while (next_line(text, len, &pos, &l)) {
        if (l.len > RFC4716_LINE_MAX) {
            r = AMK_EFORMAT;   /* §3: lines MUST NOT exceed 72 bytes */
            goto out;
        }
        if (l.len == strlen(RFC4716_END) && memcmp(l.p, RFC4716_END, l.len) == 0) {
            ended = 1;
            break;
        }
        if (in_header && (continued || memchr(l.p, ':', l.len) != NULL)) {
            /* §3.3: a header, possibly continued by a final backslash. */
            int cont = l.len > 0 && l.p[l.len - 1] == '\\';
            if ((r = amk_buf_put(&header, l.p, l.len - (size_t)cont)) != AMK_OK)
                goto out;
            if (amk_buf_len(&header) > RFC4716_TAG_MAX + 2 + RFC4716_HEADER_MAX) {
                r = AMK_EFORMAT;
                goto out;
            }
            continued = cont;
            if (!cont) {
                const char *h = (const char *)amk_buf_ptr(&header);
                size_t hl = amk_buf_len(&header);
                const char *colon = memchr(h, ':', hl);
                size_t tl = (size_t)(colon - h);
                if (tl == 0 || tl > RFC4716_TAG_MAX || hl < tl + 2 || colon[1] != ' ') {
                    r = AMK_EFORMAT;
                    goto out;
                }
                /* §3.3.2: the Comment header (tags are case-insensitive). */
                if (tl == 7 && strncasecmp(h, "Comment", 7) == 0) {
                    const char *v = colon + 2;
                    size_t vl = hl - tl - 2;
                    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                        v++;
                        vl -= 2;
                    }
                    free(comment);
                    if (memchr(v, '\0', vl) != NULL) {
                        comment = NULL;
                        r = AMK_EFORMAT;
                        goto out;
                    }
                    if ((comment = strndup(v, vl)) == NULL) {
                        r = AMK_ENOMEM;
                        goto out;
                    }
                }
                amk_buf_reset(&header);
            }
            continue;
        }
        if (continued) {
            r = AMK_EFORMAT;
            goto out;
        }
        in_header = 0;
        /* Lines need not hold whole base64 quanta: decode the body at once. */
        if ((r = amk_buf_put(&body, l.p, l.len)) != AMK_OK)
            goto out;
    }
    if (!ended || continued || amk_buf_len(&body) == 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_base64_decode((const char *)amk_buf_ptr(&body), amk_buf_len(&body), &blob)) !=
        AMK_OK)
        goto out;
    /* Nothing but blank space after the end line. */
    for (; pos < len; pos++)
        if (text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\r' && text[pos] != '\n') {
            r = AMK_EFORMAT;
            goto out;
        }
    if ((r = amk_key_from_blob(amk_buf_ptr(&blob), amk_buf_len(&blob), &k)) != AMK_OK)
        goto out;
    if (comment != NULL && comment[0] != '\0' && (r = amk_key_set_comment(k, comment)) != AMK_OK)
        goto out;
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    free(comment);
    amk_key_free(k);
    amk_buf_release(&blob);
    amk_buf_release(&header);
    amk_buf_release(&body);
    return r;
}

int
amk_rfc4716_write(const struct amk_key *k, struct amk_buf *out)
{
    struct amk_buf blob, b64, hdr;
    const char *comment = amk_key_comment(k);
    size_t before = amk_buf_len(out), i, n;
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    amk_buf_init(&b64);
    amk_buf_init(&hdr);
    if ((r = amk_buf_put(out, RFC4716_BEGIN "\n", strlen(RFC4716_BEGIN) + 1)) != AMK_OK)
        goto out;
    if (comment[0] != '\0') {
        /* Comment: "..." split into lines of 72 bytes, each but the last
         * ending in a backslash (§3.3). */
        if ((r = amk_buf_put(&hdr, "Comment: \"", 10)) != AMK_OK ||
            (r = amk_buf_put(&hdr, comment, strlen(comment))) != AMK_OK ||
            (r = amk_buf_put_u8(&hdr, '"')) != AMK_OK)
            goto out;
        for (i = 0; i < amk_buf_len(&hdr); i += n) {
            n = amk_buf_len(&hdr) - i;
            if (n > RFC4716_LINE_MAX) {
                n = RFC4716_LINE_MAX - 1;
                if ((r = amk_buf_put(out, amk_buf_ptr(&hdr) + i, n)) != AMK_OK ||
                    (r = amk_buf_put(out, "\\\n", 2)) != AMK_OK)
                    goto out;
            } else if ((r = amk_buf_put(out, amk_buf_ptr(&hdr) + i, n)) != AMK_OK ||
                       (r = amk_buf_put_u8(out, '\n')) != AMK_OK) {
                goto out;
            }
        }
    }
    if ((r = amk_key_to_blob(k, &blob)) != AMK_OK ||
        (r = amk_base64_encode(amk_buf_ptr(&blob), amk_buf_len(&blob), 1, &b64)) != AMK_OK)
        goto out;
    for (i = 0; i < amk_buf_len(&b64); i += n) {
        n = amk_buf_len(&b64) - i;
        if (n > RFC4716_B64_WIDTH)
            n = RFC4716_B64_WIDTH;
        if ((r = amk_buf_put(out, amk_buf_ptr(&b64) + i, n)) != AMK_OK ||
            (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
            goto out;
    }
    if ((r = amk_buf_put(out, RFC4716_END "\n", strlen(RFC4716_END) + 1)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    amk_buf_release(&blob);
    amk_buf_release(&b64);
    amk_buf_release(&hdr);
    return r;
}
