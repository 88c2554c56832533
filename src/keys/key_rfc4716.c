/*
 * The SSH public key file format of RFC 4716 (what `ssh-keygen -e` writes
 * and `ssh-keygen -i` reads):
 *
 *   ---- BEGIN SSH2 PUBLIC KEY ----
 *   Comment: "256-bit ED25519, converted by me@host from OpenSSH"
 *   x-private-header: a value that goes on \
 *   over two lines
 *   AAAAC3NzaC1lZDI1NTE5AAAAIB...
 *   ---- END SSH2 PUBLIC KEY ----
 *
 * Headers come first, "Tag: value", a value continued on the next line
 * when a line ends in a backslash (§3.3). Only "Comment" means anything
 * to us (§3.3.2); others are skipped. The body is the base64 public-key
 * blob (§3.4).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"

#define RFC4716_BEGIN "---- BEGIN SSH2 PUBLIC KEY ----"
#define RFC4716_END "---- END SSH2 PUBLIC KEY ----"
#define RFC4716_LINE_MAX 72          /* §3: lines are at most 72 8-bit bytes */
#define RFC4716_TAG_MAX 64           /* §3.3: header-tag at most 64 bytes */
#define RFC4716_VALUE_MAX 1024       /* §3.3: header-value at most 1024 bytes */
#define RFC4716_WRAP 70              /* line width we write, as ssh-keygen -e */

/* One line of @p text from @p *pos: [start, start + len) without the
 * terminator (CR, LF or CRLF, §3). 0 at the end of the text. */
static int
next_line(const char *text, size_t tlen, size_t *pos, const char **line, size_t *len)
{
    size_t i = *pos, start = *pos;

    if (i >= tlen)
        return 0;
    while (i < tlen && text[i] != '\r' && text[i] != '\n')
        i++;
    *line = text + start;
    *len = i - start;
    if (i < tlen && text[i] == '\r')
        i++;
    if (i < tlen && text[i] == '\n')
        i++;
    *pos = i;
    return 1;
}

static int
is_blank_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    return 1;
}

int
amk_rfc4716_is_armored(const char *text, size_t len)
{
    size_t blen = strlen(RFC4716_BEGIN), i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    return len - i >= blen && memcmp(text + i, RFC4716_BEGIN, blen) == 0;
}

/* The header tag @p tag (of @p taglen) is "Comment", case-insensitively (§3.3). */
static int
is_comment_tag(const char *tag, size_t taglen)
{
    return taglen == 7 && strncasecmp(tag, "Comment", 7) == 0;
}

/* §3.3: header-tag is printable US-ASCII without ':' or space. */
static int
valid_tag(const char *tag, size_t len)
{
    if (len == 0 || len > RFC4716_TAG_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (tag[i] <= ' ' || tag[i] > '~' || tag[i] == ':')
            return 0;
    return 1;
}

int
amk_rfc4716_parse(const char *text, size_t len, struct amk_key **out)
{
    struct amk_buf body, value, blob;
    struct amk_key *k = NULL;
    const char *line, *colon;
    size_t pos = 0, llen, taglen = 0;
    char tag[RFC4716_TAG_MAX + 1];
    char *comment = NULL;
    int in_header = 0, headers_done = 0, ended = 0, r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&body);
    amk_buf_init(&value);
    amk_buf_init(&blob);
    /* Leading blank lines, then the begin marker. */
    do {
        if (!next_line(text, len, &pos, &line, &llen)) {
            r = AMK_EFORMAT;
            goto out;
        }
    } while (is_blank_line(line, llen));
    if (llen != strlen(RFC4716_BEGIN) || memcmp(line, RFC4716_BEGIN, llen) != 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    while (next_line(text, len, &pos, &line, &llen)) {
        if (memchr(line, '\0', llen) != NULL || llen > RFC4716_LINE_MAX) {
            r = AMK_EFORMAT;
            goto out;
        }
        if (in_header) {
            /* A continuation line of the header being read (§3.3). */
            int more = llen > 0 && line[llen - 1] == '\\';
            if ((r = amk_buf_put(&value, line, more ? llen - 1 : llen)) != AMK_OK)
                goto out;
            if (amk_buf_len(&value) > RFC4716_VALUE_MAX) {
                r = AMK_EFORMAT;
                goto out;
            }
            if (more)
                continue;
            in_header = 0;
        } else if (llen == strlen(RFC4716_END) && memcmp(line, RFC4716_END, llen) == 0) {
            ended = 1;
            break;
        } else if (!headers_done && (colon = memchr(line, ':', llen)) != NULL) {
            /* "Tag: value"; the colon is followed by one space (§3.3). */
            taglen = (size_t)(colon - line);
            if (!valid_tag(line, taglen) || (size_t)(colon - line) + 1 >= llen ||
                colon[1] != ' ') {
                r = AMK_EFORMAT;
                goto out;
            }
            memcpy(tag, line, taglen);
            tag[taglen] = '\0';
            amk_buf_reset(&value);
            {
                const char *v = colon + 2;
                size_t vlen = llen - taglen - 2;
                int more = vlen > 0 && v[vlen - 1] == '\\';
                if ((r = amk_buf_put(&value, v, more ? vlen - 1 : vlen)) != AMK_OK)
                    goto out;
                if (more) {
                    in_header = 1;
                    continue;
                }
            }
        } else {
            headers_done = 1;
            if ((r = amk_buf_put(&body, line, llen)) != AMK_OK)
                goto out;
            continue;
        }
        /* A complete header: keep the comment, without its quotes (§3.3.2). */
        if (is_comment_tag(tag, taglen)) {
            const char *v = (const char *)amk_buf_ptr(&value);
            size_t vlen = amk_buf_len(&value);
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            amk_free(comment);
            if ((comment = amk_strndup(v == NULL ? "" : v, vlen)) == NULL) {
                r = AMK_ENOMEM;
                goto out;
            }
        }
    }
    if (!ended || in_header) {
        r = AMK_EFORMAT;
        goto out;
    }
    /* Only blank lines may follow the end marker. */
    while (next_line(text, len, &pos, &line, &llen)) {
        if (!is_blank_line(line, llen)) {
            r = AMK_EFORMAT;
            goto out;
        }
    }
    if (amk_buf_len(&body) == 0) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_base64_decode((const char *)amk_buf_ptr(&body), amk_buf_len(&body), &blob)) !=
            AMK_OK ||
        (r = amk_key_from_blob(amk_buf_ptr(&blob), amk_buf_len(&blob), &k)) != AMK_OK)
        goto out;
    if (comment != NULL && (r = amk_key_set_comment(k, comment)) != AMK_OK)
        goto out;
    *out = k;
    k = NULL;
    r = AMK_OK;
out:
    amk_free(comment);
    amk_key_free(k);
    amk_buf_release(&body);
    amk_buf_release(&value);
    amk_buf_release(&blob);
    return r;
}

/* Appends "Comment: "..."" wrapped to RFC4716_WRAP columns with '\'. */
static int
put_comment(const char *comment, struct amk_buf *out)
{
    struct amk_buf line;
    size_t i = 0, n, clen = strlen(comment);
    int r = AMK_EINTERNAL;

    amk_buf_init(&line);
    if ((r = amk_buf_put(&line, "Comment: \"", 10)) != AMK_OK ||
        (r = amk_buf_put(&line, comment, clen)) != AMK_OK ||
        (r = amk_buf_put_u8(&line, '"')) != AMK_OK)
        goto out;
    /* Each written line holds at most RFC4716_WRAP - 1 bytes and a '\'. */
    clen = amk_buf_len(&line);
    while (clen - i > RFC4716_WRAP) {
        n = RFC4716_WRAP - 1;
        if ((r = amk_buf_put(out, amk_buf_ptr(&line) + i, n)) != AMK_OK ||
            (r = amk_buf_put(out, "\\\n", 2)) != AMK_OK)
            goto out;
        i += n;
    }
    if ((r = amk_buf_put(out, amk_buf_ptr(&line) + i, clen - i)) != AMK_OK ||
        (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_release(&line);
    return r;
}

int
amk_rfc4716_write(const struct amk_key *k, struct amk_buf *out)
{
    struct amk_buf blob, b64;
    size_t before = amk_buf_len(out), n;
    const char *comment = amk_key_comment(k);
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    amk_buf_init(&b64);
    /* A line break cannot be written; a value over 1024 bytes with its
     * quotes (§3.3; found by fuzz_key_rfc4716: a file whose unquoted
     * comment was 1023 bytes) would be refused when read back. */
    if (strchr(comment, '\n') != NULL || strchr(comment, '\r') != NULL ||
        strlen(comment) + 2 > RFC4716_VALUE_MAX) {
        r = AMK_EINVAL;
        goto out;
    }
    if ((r = amk_key_to_blob(k, &blob)) != AMK_OK ||
        (r = amk_base64_encode(amk_buf_ptr(&blob), amk_buf_len(&blob), 1, &b64)) != AMK_OK ||
        (r = amk_buf_put(out, RFC4716_BEGIN "\n", strlen(RFC4716_BEGIN) + 1)) != AMK_OK)
        goto out;
    if (comment[0] != '\0' && (r = put_comment(comment, out)) != AMK_OK)
        goto out;
    for (size_t i = 0; i < amk_buf_len(&b64); i += n) {
        n = amk_buf_len(&b64) - i;
        if (n > RFC4716_WRAP)
            n = RFC4716_WRAP;
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
    return r;
}
