/* see host_pattern.h */
#include <stdio.h>
#include <string.h>

#include <amiko/error.h>

#include "crypto/hash.h"
#include "keys/host_pattern.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/namelist.h"
#include "util/secure.h"

/* The largest valid TCP port (RFC 793 ports are 16 bits). */
#define HOST_PORT_MAX 65535u
/* Characters that would give a stored name another meaning in a
 * known_hosts line: list separator, wildcards, negation, brackets of the
 * port form, hash and comment and marker introducers. */
#define HOST_SPECIAL ",*?![]|#@"

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int
amk_host_lookup_name(const char *host, unsigned port, char *out, size_t cap)
{
    size_t len, i;
    int n;

    if (cap > 0)
        out[0] = '\0';
    if (host == NULL || port > HOST_PORT_MAX)
        return AMK_EINVAL;
    len = strnlen(host, AMK_HOST_NAME_MAX);
    if (len == 0 || len >= AMK_HOST_NAME_MAX)
        return AMK_EINVAL;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c == 0x7f || strchr(HOST_SPECIAL, (int)c) != NULL)
            return AMK_EINVAL;
    }
    /* sshd(8): "[host]:port" for a non-standard port. */
    if (port == 0 || port == AMK_HOST_DEFAULT_PORT)
        n = snprintf(out, cap, "%s", host);
    else
        n = snprintf(out, cap, "[%s]:%u", host, port);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return AMK_EINVAL;
    }
    for (i = 0; out[i] != '\0'; i++)
        out[i] = lower(out[i]);
    return AMK_OK;
}

int
amk_host_pattern_list_ok(const char *list, size_t len)
{
    size_t i = 0, start;

    while (i <= len) {
        start = i;
        while (i < len && list[i] != ',')
            i++;
        if (i - start > AMK_HOST_PATTERN_MAX)
            return 0;
        i++;
    }
    return 1;
}

enum amk_host_match
amk_host_pattern_list_match(const char *list, size_t len, const char *name)
{
    char sub[AMK_HOST_PATTERN_MAX + 1];
    size_t i = 0, n;
    int negated, positive = 0;

    while (i < len) {
        negated = list[i] == '!';
        if (negated)
            i++;
        for (n = 0; i < len && list[i] != ','; i++, n++) {
            if (n >= AMK_HOST_PATTERN_MAX)
                return AMK_HOST_MATCH_NONE;
            sub[n] = lower(list[i]);
        }
        sub[n] = '\0';
        if (i < len)
            i++;    /* the comma */
        if (amk_wildcard_match(sub, name)) {
            /* sshd(8): a negated match makes the line not apply. */
            if (negated)
                return AMK_HOST_MATCH_NEGATED;
            positive = 1;
        }
    }
    return positive ? AMK_HOST_MATCH_YES : AMK_HOST_MATCH_NONE;
}

/* Decodes @p len base64 characters into exactly AMK_HOST_HASH_LEN bytes. */
static int
decode_hash_part(const char *s, size_t len, uint8_t out[AMK_HOST_HASH_LEN])
{
    struct amk_buf b;
    int r = AMK_EINTERNAL;

    amk_buf_init(&b);
    if (len == 0 || len > 4 * AMK_HOST_HASH_LEN) {
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_base64_decode(s, len, &b)) != AMK_OK)
        goto out;
    if (amk_buf_len(&b) != AMK_HOST_HASH_LEN) {
        r = AMK_EFORMAT;
        goto out;
    }
    memcpy(out, amk_buf_ptr(&b), AMK_HOST_HASH_LEN);
    r = AMK_OK;
out:
    amk_buf_release(&b);
    return r;
}

int
amk_host_hash_parse(const char *field, size_t len, uint8_t salt[AMK_HOST_HASH_LEN],
    uint8_t hash[AMK_HOST_HASH_LEN])
{
    const char *p, *delim;
    size_t rest;
    int r = AMK_EINTERNAL;

    if (len < AMK_HOST_HASH_MAGIC_LEN ||
        memcmp(field, AMK_HOST_HASH_MAGIC, AMK_HOST_HASH_MAGIC_LEN) != 0)
        return (len > 0 && field[0] == AMK_HOST_HASH_DELIM) ? AMK_ENOTSUP : AMK_EFORMAT;
    p = field + AMK_HOST_HASH_MAGIC_LEN;
    rest = len - AMK_HOST_HASH_MAGIC_LEN;
    if ((delim = memchr(p, AMK_HOST_HASH_DELIM, rest)) == NULL)
        return AMK_EFORMAT;
    if ((r = decode_hash_part(p, (size_t)(delim - p), salt)) != AMK_OK)
        return r;
    rest -= (size_t)(delim - p) + 1;
    return decode_hash_part(delim + 1, rest, hash);
}

int
amk_host_hash_compute(const uint8_t salt[AMK_HOST_HASH_LEN], const char *name,
    uint8_t out[AMK_HOST_HASH_LEN])
{
    uint8_t mac[AMK_HASH_MAX_LEN];
    int r;

    if ((r = amk_hmac(AMK_HASH_SHA1, salt, AMK_HOST_HASH_LEN, name, strlen(name), mac)) != AMK_OK)
        return r;
    memcpy(out, mac, AMK_HOST_HASH_LEN);
    return AMK_OK;
}

int
amk_host_hash_write(const uint8_t salt[AMK_HOST_HASH_LEN], const char *name, struct amk_buf *out)
{
    uint8_t hash[AMK_HOST_HASH_LEN];
    size_t before = amk_buf_len(out);
    int r = AMK_EINTERNAL;

    if ((r = amk_host_hash_compute(salt, name, hash)) != AMK_OK ||
        (r = amk_buf_put(out, AMK_HOST_HASH_MAGIC, AMK_HOST_HASH_MAGIC_LEN)) != AMK_OK ||
        (r = amk_base64_encode(salt, AMK_HOST_HASH_LEN, 1, out)) != AMK_OK ||
        (r = amk_buf_put_u8(out, AMK_HOST_HASH_DELIM)) != AMK_OK ||
        (r = amk_base64_encode(hash, AMK_HOST_HASH_LEN, 1, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    if (r != AMK_OK && amk_buf_len(out) > before &&
        amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
        r = AMK_EINTERNAL;
    return r;
}
