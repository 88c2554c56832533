/*
 * Rewriting known_hosts files as ssh-keygen(1) does: hashing the host names
 * of a file (-H) and removing a host's entries (-R). Lines are judged by
 * the same parser as lookups (known_hosts.c); lines that stay are copied
 * byte for byte, and the file is replaced atomically only when something
 * changed. Finding a host's lines (-F) reads a file the same way.
 * See amiko/known_hosts.h.
 */
#include <stdlib.h>
#include <string.h>

#include <amiko/known_hosts.h>

#include "util/alloc.h"
#include "crypto/rand.h"
#include "keys/host_pattern.h"
#include "keys/known_hosts_impl.h"
#include "util/buf.h"
#include "util/secure.h"

/* ssh-keygen -H leaves names with wildcards or negation as they are. */
#define PATTERN_CHARS "*?!"

/* One line of a file: [start, start + len) without the newline (and
 * without a CR before it in @p parse_len); @p next is where the next starts. */
struct kh_line {
    const char *start;
    size_t len;         /* up to the newline */
    size_t parse_len;   /* without a trailing CR */
    size_t next;
};

static int
next_line(const char *data, size_t size, size_t pos, struct kh_line *l)
{
    const char *nl;

    if (pos >= size)
        return 0;
    nl = memchr(data + pos, '\n', size - pos);
    l->start = data + pos;
    l->len = (nl != NULL ? (size_t)(nl - data) : size) - pos;
    l->parse_len = l->len;
    if (l->parse_len > 0 && l->start[l->parse_len - 1] == '\r')
        l->parse_len--;
    l->next = nl != NULL ? pos + l->len + 1 : size;
    return 1;
}

/*
 * Parses @p l into @p scratch; @p e receives the entry it made, or NULL for
 * a blank, comment or unusable line.
 */
static int
judge_line(struct amk_known_hosts *scratch, const struct kh_line *l, size_t lineno,
    const struct amk_kh_entry **e)
{
    size_t before = scratch->count;
    int r;

    *e = NULL;
    if (l->parse_len > AMK_KNOWN_HOSTS_LINE_MAX || memchr(l->start, '\0', l->parse_len) != NULL)
        return AMK_OK;
    if ((r = amk_kh_parse_line(scratch, l->start, l->parse_len, 0, lineno)) != AMK_OK)
        return r;
    if (scratch->count > before)
        *e = &scratch->entries[scratch->count - 1];
    return AMK_OK;
}

/* A scratch set for judging lines: one source, no logger. */
static int
scratch_new(const char *path, struct amk_known_hosts **out)
{
    struct amk_known_hosts *kh = NULL;
    int r;

    *out = NULL;
    if ((r = amk_known_hosts_new(&kh)) != AMK_OK)
        return r;
    if ((kh->sources = amk_calloc(1, sizeof(*kh->sources))) == NULL ||
        (kh->sources[0] = amk_strdup(path)) == NULL) {
        amk_known_hosts_free(kh);
        return AMK_ENOMEM;
    }
    kh->nsources = 1;
    *out = kh;
    return AMK_OK;
}

/* Appends the line @p l as it was, with a newline. */
static int
copy_line(struct amk_buf *out, const struct kh_line *l)
{
    int r;

    if ((r = amk_buf_put(out, l->start, l->len)) != AMK_OK)
        return r;
    return amk_buf_put_u8(out, '\n');
}

/*
 * Appends one hashed line per name of the plain entry @p l: the hashed
 * name, then the line's text after its host field (key and comment).
 */
static int
hash_entry(const struct amk_kh_entry *e, const struct kh_line *l, struct amk_buf *out)
{
    char name[AMK_HOST_PATTERN_MAX + 1];
    uint8_t salt[AMK_HOST_HASH_LEN];
    const char *p = e->patterns, *comma;
    size_t i = 0, n, rest;
    int r = AMK_EINTERNAL;

    /* Skip blanks and the host field; the key text follows the blanks. */
    while (i < l->parse_len && (l->start[i] == ' ' || l->start[i] == '\t'))
        i++;
    while (i < l->parse_len && l->start[i] != ' ' && l->start[i] != '\t')
        i++;
    while (i < l->parse_len && (l->start[i] == ' ' || l->start[i] == '\t'))
        i++;
    rest = i;
    for (;;) {
        comma = strchr(p, ',');
        n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n > 0 && n < sizeof(name)) {
            /* Lower-cased, as ssh(1) looks names up. */
            for (size_t j = 0; j < n; j++)
                name[j] = (p[j] >= 'A' && p[j] <= 'Z') ? (char)(p[j] - 'A' + 'a') : p[j];
            name[n] = '\0';
            if ((r = amk_random_bytes(NULL, salt, sizeof(salt))) != AMK_OK ||
                (r = amk_host_hash_write(salt, name, out)) != AMK_OK ||
                (r = amk_buf_put_u8(out, ' ')) != AMK_OK ||
                (r = amk_buf_put(out, l->start + rest, l->parse_len - rest)) != AMK_OK ||
                (r = amk_buf_put_u8(out, '\n')) != AMK_OK)
                return r;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return AMK_OK;
}

int
amk_known_hosts_hash_file(const char *path, size_t *hashed)
{
    struct amk_known_hosts *scratch = NULL;
    const struct amk_kh_entry *e;
    struct amk_buf in, out;
    struct kh_line l;
    size_t pos = 0, lineno = 1, count = 0;
    int missing, r = AMK_EINTERNAL;

    if (hashed != NULL)
        *hashed = 0;
    if (path == NULL)
        return AMK_EINVAL;
    amk_buf_init(&in);
    amk_buf_init(&out);
    if ((r = amk_kh_file_read(path, &in, &missing)) != AMK_OK ||
        (r = scratch_new(path, &scratch)) != AMK_OK)
        goto out;
    for (; next_line((const char *)amk_buf_ptr(&in), amk_buf_len(&in), pos, &l);
         pos = l.next, lineno++) {
        if ((r = judge_line(scratch, &l, lineno, &e)) != AMK_OK)
            goto out;
        /* ssh-keygen -H: markers, hashed names and patterns stay as they are. */
        if (e == NULL || e->marker != AMK_KH_MARK_NONE || e->patterns == NULL ||
            strpbrk(e->patterns, PATTERN_CHARS) != NULL) {
            r = copy_line(&out, &l);
        } else {
            r = hash_entry(e, &l, &out);
            count++;
        }
        if (r != AMK_OK)
            goto out;
    }
    if (count > 0 &&
        (r = amk_kh_file_replace(path, (const char *)amk_buf_ptr(&out), amk_buf_len(&out))) !=
            AMK_OK)
        goto out;
    if (hashed != NULL)
        *hashed = count;
    r = AMK_OK;
out:
    amk_known_hosts_free(scratch);
    amk_buf_release(&in);
    amk_buf_release(&out);
    return r;
}

int
amk_known_hosts_remove(const char *path, const char *host, unsigned port, size_t *removed)
{
    char name[AMK_HOST_LOOKUP_MAX];
    struct amk_known_hosts *scratch = NULL;
    const struct amk_kh_entry *e;
    struct amk_buf in, out;
    struct kh_line l;
    size_t pos = 0, lineno = 1, count = 0;
    int applies, missing, r = AMK_EINTERNAL;

    if (removed != NULL)
        *removed = 0;
    if (path == NULL)
        return AMK_EINVAL;
    if ((r = amk_host_lookup_name(host, port, name, sizeof(name))) != AMK_OK)
        return r;
    amk_buf_init(&in);
    amk_buf_init(&out);
    if ((r = amk_kh_file_read(path, &in, &missing)) != AMK_OK ||
        (r = scratch_new(path, &scratch)) != AMK_OK)
        goto out;
    for (; next_line((const char *)amk_buf_ptr(&in), amk_buf_len(&in), pos, &l);
         pos = l.next, lineno++) {
        if ((r = judge_line(scratch, &l, lineno, &e)) != AMK_OK)
            goto out;
        applies = 0;
        /* ssh-keygen -R keeps @revoked and @cert-authority lines. */
        if (e != NULL && e->marker == AMK_KH_MARK_NONE &&
            (r = amk_kh_entry_applies(e, name, &applies)) != AMK_OK)
            goto out;
        if (applies)
            count++;
        else if ((r = copy_line(&out, &l)) != AMK_OK)
            goto out;
    }
    if (count > 0 &&
        (r = amk_kh_file_replace(path, (const char *)amk_buf_ptr(&out), amk_buf_len(&out))) !=
            AMK_OK)
        goto out;
    if (removed != NULL)
        *removed = count;
    r = AMK_OK;
out:
    amk_known_hosts_free(scratch);
    amk_buf_release(&in);
    amk_buf_release(&out);
    return r;
}

int
amk_known_hosts_find_file(const char *path, const char *host, unsigned port,
    amk_known_hosts_found_fn fn, void *user, size_t *found)
{
    char name[AMK_HOST_LOOKUP_MAX];
    struct amk_known_hosts *scratch = NULL;
    const struct amk_kh_entry *e;
    enum amk_known_hosts_marker marker;
    struct amk_buf in;
    struct kh_line l;
    size_t pos = 0, lineno = 1, count = 0;
    int applies, missing, r = AMK_EINTERNAL;

    if (found != NULL)
        *found = 0;
    if (path == NULL || fn == NULL)
        return AMK_EINVAL;
    if ((r = amk_host_lookup_name(host, port, name, sizeof(name))) != AMK_OK)
        return r;
    amk_buf_init(&in);
    if ((r = amk_kh_file_read(path, &in, &missing)) != AMK_OK ||
        (r = scratch_new(path, &scratch)) != AMK_OK)
        goto out;
    for (; next_line((const char *)amk_buf_ptr(&in), amk_buf_len(&in), pos, &l);
         pos = l.next, lineno++) {
        if ((r = judge_line(scratch, &l, lineno, &e)) != AMK_OK)
            goto out;
        applies = 0;
        /* ssh-keygen -F reports marker lines too, with their marker. */
        if (e != NULL && (r = amk_kh_entry_applies(e, name, &applies)) != AMK_OK)
            goto out;
        if (!applies)
            continue;
        marker = e->marker == AMK_KH_MARK_CA        ? AMK_KNOWN_HOSTS_MARK_CA
                 : e->marker == AMK_KH_MARK_REVOKED ? AMK_KNOWN_HOSTS_MARK_REVOKED
                                                    : AMK_KNOWN_HOSTS_MARK_NONE;
        count++;
        if ((r = fn(user, lineno, l.start, l.parse_len, marker)) != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    if (found != NULL)
        *found = count;
    amk_known_hosts_free(scratch);
    amk_buf_release(&in);
    return r;
}
