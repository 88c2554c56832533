/*
 * OpenSSH known_hosts: parsing lines, looking up a host's key, and the
 * in-memory side of adding an entry. The format is sshd(8), "SSH_KNOWN_HOSTS
 * FILE FORMAT"; the answers follow ssh(1)'s host key check. Files are read
 * and appended in known_hosts_file.c. See amiko/known_hosts.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/known_hosts.h>

#include "util/alloc.h"
#include "crypto/rand.h"
#include "keys/host_pattern.h"
#include "keys/key.h"
#include "keys/known_hosts_impl.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/secure.h"

#define MARKER_CA "@cert-authority"
#define MARKER_REVOKED "@revoked"
#define MEMORY_SOURCE "(memory)"
/* How much of a bad field a warning quotes. */
#define QUOTE_MAX 64
#define WHY_MAX 256

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A field: the run of non-blank characters from *pos; *pos moves past it
 * and the blanks after it. */
static void
next_field(const char *p, size_t len, size_t *pos, const char **field, size_t *flen)
{
    size_t i = *pos;

    *field = p + i;
    while (i < len && !is_blank(p[i]))
        i++;
    *flen = i - *pos;
    while (i < len && is_blank(p[i]))
        i++;
    *pos = i;
}

/* Whether @p len bytes at @p s may be quoted in a log line as they are. */
static int
printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return len > 0 && len <= QUOTE_MAX;
}

/* Logs why a line is skipped and counts it. Returns AMK_OK: bad lines are
 * never fatal. */
static int
bad_line(struct amk_known_hosts *kh, size_t source, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad_line(struct amk_known_hosts *kh, size_t source, size_t line, const char *fmt, ...)
{
    char why[WHY_MAX];
    va_list ap;

    kh->skipped++;
    if (!amk_log_enabled(&kh->log, AMK_LOG_WARN))
        return AMK_OK;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    amk_log(&kh->log, AMK_LOG_WARN, "known_hosts %s:%zu: %s; line skipped",
        kh->sources[source], line, why);
    return AMK_OK;
}

static void
entry_release(struct amk_kh_entry *e)
{
    amk_free(e->patterns);
    amk_free(e->blob);
    memset(e, 0, sizeof(*e));
}

/* The index of the source called @p name, added if new. */
static int
source_index(struct amk_known_hosts *kh, const char *name, size_t *index)
{
    char **grown;
    char *copy;

    for (size_t i = 0; i < kh->nsources; i++) {
        if (strcmp(kh->sources[i], name) == 0) {
            *index = i;
            return AMK_OK;
        }
    }
    if ((copy = amk_strdup(name)) == NULL)
        return AMK_ENOMEM;
    if ((grown = amk_realloc(kh->sources, (kh->nsources + 1) * sizeof(*grown))) == NULL) {
        amk_free(copy);
        return AMK_ENOMEM;
    }
    kh->sources = grown;
    kh->sources[kh->nsources] = copy;
    *index = kh->nsources++;
    return AMK_OK;
}

/* Appends @p e (taking its allocations) to the entries. */
static int
entry_push(struct amk_known_hosts *kh, struct amk_kh_entry *e)
{
    struct amk_kh_entry *grown;
    size_t cap;

    if (kh->count == kh->cap) {
        cap = kh->cap == 0 ? 16 : kh->cap * 2;
        if (cap > SIZE_MAX / sizeof(*grown))
            return AMK_ENOMEM;
        if ((grown = amk_realloc(kh->entries, cap * sizeof(*grown))) == NULL)
            return AMK_ENOMEM;
        kh->entries = grown;
        kh->cap = cap;
    }
    kh->entries[kh->count++] = *e;
    memset(e, 0, sizeof(*e));
    return AMK_OK;
}

/*
 * Decodes the key fields "type base64" of a line into @p e: the type must be
 * known and equal the type inside the blob, and the blob a valid key.
 * Returns AMK_OK, AMK_ENOMEM, or another code with @p why describing it.
 */
static int
parse_key(const char *type, size_t tlen, const char *b64, size_t blen, struct amk_kh_entry *e,
    char why[WHY_MAX])
{
    struct amk_buf blob, view, canon;
    struct amk_key *k = NULL;
    const uint8_t *name;
    size_t namelen;
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    amk_buf_init(&canon);
    if ((e->info = amk_key_info_by_name(type, tlen)) == NULL) {
        if (printable(type, tlen))
            snprintf(why, WHY_MAX, "unknown key type \"%.*s\"", (int)tlen, type);
        else
            snprintf(why, WHY_MAX, "unknown key type");
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((r = amk_base64_decode(b64, blen, &blob)) != AMK_OK) {
        snprintf(why, WHY_MAX, "bad base64 in the %s key", e->info->name);
        goto out;
    }
    /* The type field must be the type the blob names (RFC 4253 §6.6). */
    amk_buf_view(&view, amk_buf_ptr(&blob), amk_buf_len(&blob));
    if (amk_buf_get_string_direct(&view, &name, &namelen) != AMK_OK) {
        snprintf(why, WHY_MAX, "malformed %s key blob", e->info->name);
        r = AMK_EFORMAT;
        goto out;
    }
    if (namelen != tlen || memcmp(name, type, tlen) != 0) {
        snprintf(why, WHY_MAX, "key type %s does not match the key blob's", e->info->name);
        r = AMK_EFORMAT;
        goto out;
    }
    if ((r = amk_key_from_blob(amk_buf_ptr(&blob), amk_buf_len(&blob), &k)) != AMK_OK) {
        snprintf(why, WHY_MAX, "invalid %s key (%s)", e->info->name, amk_strerror(r));
        goto out;
    }
    /* Keep the canonical encoding: equal keys then have equal blobs. */
    if ((r = amk_key_to_blob(k, &canon)) != AMK_OK)
        goto out;
    if ((e->blob = amk_malloc(amk_buf_len(&canon))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    memcpy(e->blob, amk_buf_ptr(&canon), amk_buf_len(&canon));
    e->bloblen = amk_buf_len(&canon);
    r = AMK_OK;
out:
    amk_key_free(k);
    amk_buf_release(&blob);
    amk_buf_release(&canon);
    return r;
}

/* see known_hosts_impl.h */
int
amk_kh_parse_line(struct amk_known_hosts *kh, const char *p, size_t len, size_t source,
    size_t line)
{
    struct amk_kh_entry e;
    const char *marker, *hosts, *type, *b64;
    size_t pos = 0, mlen, hlen, tlen, blen;
    char why[WHY_MAX];
    int r = AMK_EINTERNAL;

    memset(&e, 0, sizeof(e));
    e.source = source;
    e.line = line;
    while (pos < len && is_blank(p[pos]))
        pos++;
    /* sshd(8): blank lines and lines starting with '#' are comments. */
    if (pos == len || p[pos] == '#') {
        r = AMK_OK;
        goto out;
    }
    if (p[pos] == '@') {
        next_field(p, len, &pos, &marker, &mlen);
        if (mlen == strlen(MARKER_CA) && memcmp(marker, MARKER_CA, mlen) == 0) {
            e.marker = AMK_KH_MARK_CA;
        } else if (mlen == strlen(MARKER_REVOKED) && memcmp(marker, MARKER_REVOKED, mlen) == 0) {
            e.marker = AMK_KH_MARK_REVOKED;
        } else {
            r = bad_line(kh, source, line, "unknown marker");
            goto out;
        }
        if (pos < len && p[pos] == '@') {
            r = bad_line(kh, source, line, "more than one marker");
            goto out;
        }
    }
    next_field(p, len, &pos, &hosts, &hlen);
    next_field(p, len, &pos, &type, &tlen);
    next_field(p, len, &pos, &b64, &blen);
    /* Whatever follows the key is its comment. */
    if (hlen == 0 || tlen == 0 || blen == 0) {
        r = bad_line(kh, source, line, "missing %s",
            hlen == 0 ? "host names" : tlen == 0 ? "key type" : "key");
        goto out;
    }
    if (hosts[0] == AMK_HOST_HASH_DELIM) {
        r = amk_host_hash_parse(hosts, hlen, e.salt, e.hash);
        /* Out of memory is not a bad line: skipping it would make a known
         * host look unknown. */
        if (r == AMK_ENOMEM)
            goto out;
        if (r != AMK_OK) {
            r = bad_line(kh, source, line, "%s hashed host name",
                r == AMK_ENOTSUP ? "unsupported" : "malformed");
            goto out;
        }
    } else {
        if (!amk_host_pattern_list_ok(hosts, hlen)) {
            r = bad_line(kh, source, line, "host pattern longer than %u bytes",
                AMK_HOST_PATTERN_MAX);
            goto out;
        }
        if ((e.patterns = amk_strndup(hosts, hlen)) == NULL) {
            r = AMK_ENOMEM;
            goto out;
        }
    }
    if ((r = parse_key(type, tlen, b64, blen, &e, why)) != AMK_OK) {
        /* Out of memory or a failing crypto backend is not a bad line:
         * skipping it would make a known host look unknown. */
        if (r != AMK_ENOMEM && r != AMK_ECRYPTO)
            r = bad_line(kh, source, line, "%s", why);
        goto out;
    }
    r = entry_push(kh, &e);
out:
    entry_release(&e);
    return r;
}

int
amk_kh_parse(struct amk_known_hosts *kh, const char *data, size_t len, const char *name,
    size_t first_line)
{
    size_t count = kh->count, nsources = kh->nsources, skipped = kh->skipped;
    size_t pos = 0, line = first_line, end, llen, source;
    const char *nl;
    int r = AMK_EINTERNAL;

    if (len > AMK_KNOWN_HOSTS_FILE_MAX)
        return AMK_ETOOBIG;
    if ((r = source_index(kh, name, &source)) != AMK_OK)
        goto out;
    while (pos < len) {
        nl = memchr(data + pos, '\n', len - pos);
        end = nl != NULL ? (size_t)(nl - data) : len;
        llen = end - pos;
        if (llen > 0 && data[pos + llen - 1] == '\r')
            llen--;
        if (llen > AMK_KNOWN_HOSTS_LINE_MAX)
            r = bad_line(kh, source, line, "line longer than %d bytes", AMK_KNOWN_HOSTS_LINE_MAX);
        else if (memchr(data + pos, '\0', llen) != NULL)
            r = bad_line(kh, source, line, "NUL byte in line");
        else
            r = amk_kh_parse_line(kh, data + pos, llen, source, line);
        if (r != AMK_OK)
            goto out;
        pos = nl != NULL ? end + 1 : len;
        line++;
    }
    r = AMK_OK;
out:
    if (r != AMK_OK) {
        while (kh->count > count)
            entry_release(&kh->entries[--kh->count]);
        while (kh->nsources > nsources)
            amk_free(kh->sources[--kh->nsources]);
        kh->skipped = skipped;
    }
    return r;
}

int
amk_known_hosts_new(struct amk_known_hosts **out)
{
    struct amk_known_hosts *kh;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if ((kh = amk_calloc(1, sizeof(*kh))) == NULL)
        return AMK_ENOMEM;
    amk_logger_init(&kh->log);
    *out = kh;
    return AMK_OK;
}

void
amk_known_hosts_set_log(struct amk_known_hosts *kh, amk_log_fn fn, void *user)
{
    if (kh == NULL)
        return;
    kh->log.fn = fn;
    kh->log.user = user;
    kh->log.level = AMK_LOG_WARN;
}

int
amk_known_hosts_load_mem(struct amk_known_hosts *kh, const void *data, size_t len,
    const char *name)
{
    if (kh == NULL || (data == NULL && len > 0))
        return AMK_EINVAL;
    return amk_kh_parse(kh, data, len, name != NULL ? name : MEMORY_SOURCE, 1);
}

int
amk_kh_entry_applies(const struct amk_kh_entry *e, const char *name, int *applies)
{
    uint8_t hash[AMK_HOST_HASH_LEN];
    int r;

    *applies = 0;
    if (e->patterns != NULL) {
        *applies = amk_host_pattern_list_match(e->patterns, strlen(e->patterns), name) ==
            AMK_HOST_MATCH_YES;
        return AMK_OK;
    }
    if ((r = amk_host_hash_compute(e->salt, name, hash)) != AMK_OK)
        return r;
    *applies = amk_ct_equal(hash, e->hash, AMK_HOST_HASH_LEN);
    return AMK_OK;
}

int
amk_known_hosts_check(const struct amk_known_hosts *kh, const char *host, unsigned port,
    const struct amk_key *key, enum amk_known_hosts_status *status, const char **file,
    size_t *line, unsigned *flags)
{
    char name[AMK_HOST_LOOKUP_MAX];
    const struct amk_kh_entry *e, *ok = NULL, *revoked = NULL, *same = NULL, *other = NULL;
    const struct amk_kh_entry *about = NULL;
    const struct amk_key_info *info;
    struct amk_buf blob;
    unsigned fl = 0;
    int applies, holds, r = AMK_EINTERNAL;

    if (file != NULL)
        *file = NULL;
    if (line != NULL)
        *line = 0;
    if (flags != NULL)
        *flags = 0;
    if (status != NULL)
        *status = AMK_KNOWN_HOSTS_UNKNOWN;
    if (kh == NULL || host == NULL || key == NULL || status == NULL)
        return AMK_EINVAL;
    if ((r = amk_host_lookup_name(host, port, name, sizeof(name))) != AMK_OK)
        return r;
    amk_buf_init(&blob);
    if ((r = amk_key_to_blob(key, &blob)) != AMK_OK)
        goto out;
    info = amk_key_info(key);
    for (size_t i = 0; i < kh->count; i++) {
        e = &kh->entries[i];
        if ((r = amk_kh_entry_applies(e, name, &applies)) != AMK_OK)
            goto out;
        if (!applies)
            continue;
        holds = e->bloblen == amk_buf_len(&blob) &&
            memcmp(e->blob, amk_buf_ptr(&blob), e->bloblen) == 0;
        switch (e->marker) {
        case AMK_KH_MARK_REVOKED:
            if (holds && revoked == NULL)
                revoked = e;
            break;
        case AMK_KH_MARK_CA:
            break;  /* for host certificates only */
        case AMK_KH_MARK_NONE:
            if (holds) {
                if (ok == NULL)
                    ok = e;
            } else if (e->info == info) {
                fl |= AMK_KNOWN_HOSTS_F_DIFFERENT_KEY;
                if (same == NULL)
                    same = e;
            } else {
                fl |= AMK_KNOWN_HOSTS_F_OTHER_TYPES;
                if (other == NULL)
                    other = e;
            }
            break;
        }
    }
    /* ssh(1): a revoked key is refused whatever else the files say; any
     * applying key that is not the presented one means the key changed. */
    if (revoked != NULL) {
        *status = AMK_KNOWN_HOSTS_REVOKED;
        about = revoked;
    } else if (ok != NULL) {
        *status = AMK_KNOWN_HOSTS_OK;
        about = ok;
    } else if (same != NULL || other != NULL) {
        *status = AMK_KNOWN_HOSTS_CHANGED;
        about = same != NULL ? same : other;
    }
    if (about != NULL && file != NULL)
        *file = kh->sources[about->source];
    if (about != NULL && line != NULL)
        *line = about->line;
    if (flags != NULL)
        *flags = fl;
    r = AMK_OK;
out:
    amk_buf_release(&blob);
    return r;
}

/* Appends the entry for @p name (a lookup name) and @p key to @p text:
 * "name type base64" or "|1|salt|hash type base64", without a newline. */
static int
entry_text(const char *name, const struct amk_key *key, unsigned flags, struct amk_buf *text)
{
    uint8_t salt[AMK_HOST_HASH_LEN];
    struct amk_buf blob;
    const char *type = amk_key_type_name(key);
    int r = AMK_EINTERNAL;

    amk_buf_init(&blob);
    if ((flags & AMK_KNOWN_HOSTS_ADD_HASH) != 0) {
        if ((r = amk_random_bytes(NULL, salt, sizeof(salt))) != AMK_OK ||
            (r = amk_host_hash_write(salt, name, text)) != AMK_OK)
            goto out;
    } else if ((r = amk_buf_put(text, name, strlen(name))) != AMK_OK) {
        goto out;
    }
    if ((r = amk_key_to_blob(key, &blob)) != AMK_OK ||
        (r = amk_buf_put_u8(text, ' ')) != AMK_OK ||
        (r = amk_buf_put(text, type, strlen(type))) != AMK_OK ||
        (r = amk_buf_put_u8(text, ' ')) != AMK_OK ||
        (r = amk_base64_encode(amk_buf_ptr(&blob), amk_buf_len(&blob), 1, text)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_buf_release(&blob);
    return r;
}

int
amk_known_hosts_line(const char *host, unsigned port, const struct amk_key *key,
    unsigned flags, char **out)
{
    char name[AMK_HOST_LOOKUP_MAX];
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    if (out == NULL)
        return AMK_EINVAL;
    *out = NULL;
    if (host == NULL || key == NULL || (flags & ~AMK_KNOWN_HOSTS_ADD_HASH) != 0)
        return AMK_EINVAL;
    if ((r = amk_host_lookup_name(host, port, name, sizeof(name))) != AMK_OK)
        return r;
    amk_buf_init(&text);
    if ((r = entry_text(name, key, flags, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, NULL);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_known_hosts_add(struct amk_known_hosts *kh, const char *path, const char *host,
    unsigned port, const struct amk_key *key, unsigned flags)
{
    char name[AMK_HOST_LOOKUP_MAX];
    struct amk_buf text;
    size_t line = 0;
    int r = AMK_EINTERNAL;

    if (kh == NULL || path == NULL || host == NULL || key == NULL ||
        (flags & ~AMK_KNOWN_HOSTS_ADD_HASH) != 0)
        return AMK_EINVAL;
    if ((r = amk_host_lookup_name(host, port, name, sizeof(name))) != AMK_OK)
        return r;
    amk_buf_init(&text);
    if ((r = entry_text(name, key, flags, &text)) != AMK_OK ||
        (r = amk_buf_put_u8(&text, '\n')) != AMK_OK)
        goto out;
    if ((r = amk_kh_file_append(path, (const char *)amk_buf_ptr(&text), amk_buf_len(&text),
             &line)) != AMK_OK)
        goto out;
    /* The entry now exists in the file: keep it here too. */
    r = amk_kh_parse(kh, (const char *)amk_buf_ptr(&text), amk_buf_len(&text), path, line);
out:
    amk_buf_release(&text);
    return r;
}

size_t
amk_known_hosts_count(const struct amk_known_hosts *kh)
{
    return kh != NULL ? kh->count : 0;
}

size_t
amk_known_hosts_skipped(const struct amk_known_hosts *kh)
{
    return kh != NULL ? kh->skipped : 0;
}

void
amk_known_hosts_free(struct amk_known_hosts *kh)
{
    if (kh == NULL)
        return;
    for (size_t i = 0; i < kh->count; i++)
        entry_release(&kh->entries[i]);
    amk_free(kh->entries);
    for (size_t i = 0; i < kh->nsources; i++)
        amk_free(kh->sources[i]);
    amk_free(kh->sources);
    amk_free(kh);
}
