/* see util/namelist.h */
#include "util/namelist.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"

int
amk_namelist_validate(const char *s, size_t len)
{
    size_t namelen = 0;

    if (len > AMK_NAMELIST_MAX)
        return AMK_ETOOBIG;
    if (len == 0)
        return AMK_OK;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ',') {
            if (namelen == 0)
                return AMK_EFORMAT;     /* empty name */
            namelen = 0;
            continue;
        }
        if (c <= 0x20 || c >= 0x7f)
            return AMK_EFORMAT;         /* control, space, NUL or non-ASCII */
        if (++namelen > AMK_NAME_MAX)
            return AMK_EFORMAT;
    }
    return namelen == 0 ? AMK_EFORMAT : AMK_OK;   /* trailing comma */
}

int
amk_buf_get_namelist(struct amk_buf *b, char **out)
{
    struct amk_buf peek = *b;
    const uint8_t *p;
    size_t len;
    int r;

    *out = NULL;
    if ((r = amk_buf_get_string_direct(&peek, &p, &len)) != AMK_OK)
        return r;
    if ((r = amk_namelist_validate((const char *)p, len)) == AMK_OK)
        return amk_buf_get_cstring(b, out, NULL);
    /* One comma at the very end is forgiven and dropped: libssh 0.10.6
     * ends its default cipher lists with one, and OpenSSH ignores it.
     * Anything else empty (",", "a,,", "a,,b", ",a") stays an error. */
    if (r != AMK_EFORMAT || len < 2 || p[len - 1] != ',' ||
        amk_namelist_validate((const char *)p, len - 1) != AMK_OK)
        return r;
    if ((r = amk_buf_get_cstring(b, out, NULL)) != AMK_OK)
        return r;
    (*out)[len - 1] = '\0';
    return AMK_OK;
}

/* Iterates names: sets start and len to the next name after pos. */
static int
next_name(const char *list, size_t *pos, const char **start, size_t *len)
{
    const char *p = list + *pos;
    const char *comma;

    if (*p == '\0')
        return 0;
    comma = strchr(p, ',');
    *start = p;
    *len = comma ? (size_t)(comma - p) : strlen(p);
    *pos += *len + (comma ? 1 : 0);
    return 1;
}

static int
list_contains_n(const char *list, const char *name, size_t namelen)
{
    size_t pos = 0, len;
    const char *start;

    while (next_name(list, &pos, &start, &len)) {
        if (len == namelen && memcmp(start, name, len) == 0)
            return 1;
    }
    return 0;
}

int
amk_namelist_contains(const char *list, const char *name)
{
    return list != NULL && name != NULL && list_contains_n(list, name, strlen(name));
}

size_t
amk_namelist_count(const char *list)
{
    size_t pos = 0, len, n = 0;
    const char *start;

    while (list != NULL && next_name(list, &pos, &start, &len))
        n++;
    return n;
}

int
amk_namelist_match(const char *client, const char *server, char out[AMK_NAME_MAX + 1])
{
    size_t pos = 0, len;
    const char *start;

    out[0] = '\0';
    while (next_name(client, &pos, &start, &len)) {
        if (len <= AMK_NAME_MAX && list_contains_n(server, start, len)) {
            memcpy(out, start, len);
            out[len] = '\0';
            return AMK_OK;
        }
    }
    return AMK_ENOMATCH;
}

int
amk_wildcard_match(const char *pattern, const char *name)
{
    const char *star = NULL, *resume = NULL;

    /* Iterative glob with single-star backtracking: linear, no recursion. */
    while (*name != '\0') {
        if (*pattern == '*') {
            star = pattern++;
            resume = name;
        } else if (*pattern == '?' || *pattern == *name) {
            pattern++;
            name++;
        } else if (star != NULL) {
            pattern = star + 1;
            name = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* Appends name (len bytes) to the list being built in out. */
static void
append_name(char *out, const char *name, size_t len)
{
    size_t n = strlen(out);

    if (n > 0)
        out[n++] = ',';
    memcpy(out + n, name, len);
    out[n + len] = '\0';
}

/* Whether name matches any of the comma-separated patterns. */
static int
matches_any(const char *patterns, const char *name, size_t namelen)
{
    char nbuf[AMK_NAME_MAX + 1], pbuf[AMK_NAME_MAX + 1];
    size_t pos = 0, len;
    const char *start;

    if (namelen > AMK_NAME_MAX)
        return 0;
    memcpy(nbuf, name, namelen);
    nbuf[namelen] = '\0';
    while (next_name(patterns, &pos, &start, &len)) {
        if (len > AMK_NAME_MAX)
            continue;
        memcpy(pbuf, start, len);
        pbuf[len] = '\0';
        if (amk_wildcard_match(pbuf, nbuf))
            return 1;
    }
    return 0;
}

int
amk_namelist_apply(const char *defaults, const char *supported, const char *spec, char **out)
{
    size_t pos, len, cap;
    const char *start, *list;
    char *res;
    char op;

    *out = NULL;
    if (spec == NULL || *spec == '\0')
        spec = defaults;
    op = (*spec == '+' || *spec == '-' || *spec == '^') ? *spec : 0;
    list = op ? spec + 1 : spec;
    if (amk_namelist_validate(list, strlen(list)) != AMK_OK)
        return AMK_EINVAL;
    cap = strlen(defaults) + strlen(supported) + strlen(list) + 3;
    if ((res = amk_calloc(1, cap)) == NULL)
        return AMK_ENOMEM;

    if (op == 0) {
        /* An explicit list: every name must be supported; no wildcards. */
        pos = 0;
        while (next_name(list, &pos, &start, &len)) {
            if (!list_contains_n(supported, start, len)) {
                amk_free(res);
                return AMK_ENOTSUP;
            }
            if (!list_contains_n(res, start, len))
                append_name(res, start, len);
        }
    } else if (op == '+' || op == '^') {
        /* Names from the patterns, in supported order, that match. */
        char *added = amk_calloc(1, cap);
        if (added == NULL) {
            amk_free(res);
            return AMK_ENOMEM;
        }
        pos = 0;
        while (next_name(supported, &pos, &start, &len)) {
            if (matches_any(list, start, len))
                append_name(added, start, len);
        }
        if (added[0] == '\0') {
            amk_free(added);
            amk_free(res);
            return AMK_ENOTSUP;
        }
        if (op == '^') {
            memcpy(res, added, strlen(added) + 1);
        }
        pos = 0;
        while (next_name(defaults, &pos, &start, &len)) {
            if (!list_contains_n(res, start, len))
                append_name(res, start, len);
        }
        if (op == '+') {
            pos = 0;
            while (next_name(added, &pos, &start, &len)) {
                if (!list_contains_n(res, start, len))
                    append_name(res, start, len);
            }
        }
        amk_free(added);
    } else {
        pos = 0;
        while (next_name(defaults, &pos, &start, &len)) {
            if (!matches_any(list, start, len))
                append_name(res, start, len);
        }
    }
    if (res[0] == '\0') {
        amk_free(res);
        return AMK_EINVAL;
    }
    *out = res;
    return AMK_OK;
}
