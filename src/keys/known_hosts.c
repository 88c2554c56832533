/*
 * OpenSSH known_hosts files (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT; hashed
 * names as OpenSSH hostfile.c writes them: "|1|" base64(salt) "|"
 * base64(HMAC-SHA1(salt, name)), a 20-byte salt). See amiko/known_hosts.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amiko/known_hosts.h>

#include "crypto/hash.h"
#include "crypto/rand.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/secure.h"

#define KH_HASH_MAGIC "|1|"
#define KH_SHA1_LEN 20                 /* salt and HMAC-SHA1 lengths */
#define KH_DEFAULT_PORT 22u
#define KH_FILE_MAX ((size_t)64 * 1024 * 1024)
#define KH_MAX_ENTRIES ((size_t)1 << 20)

enum kh_marker {
    KH_MARK_NONE = 0,
    KH_MARK_REVOKED,
    KH_MARK_CA
};

struct kh_entry {
    enum kh_marker marker;
    char *patterns;              /* comma list; NULL when hashed */
    int hashed;
    uint8_t salt[KH_SHA1_LEN];
    uint8_t hash[KH_SHA1_LEN];
    struct amk_key *key;
    size_t file;                 /* index into files */
    size_t line;
};

struct amk_known_hosts {
    struct kh_entry *entries;
    size_t nentries, cap;
    char **files;
    size_t nfiles;
    size_t skipped;
    struct amk_logger log;
};

int
amk_known_hosts_new(struct amk_known_hosts **out)
{
    struct amk_known_hosts *kh;

    *out = NULL;
    if ((kh = calloc(1, sizeof(*kh))) == NULL)
        return AMK_ENOMEM;
    amk_logger_init(&kh->log);
    *out = kh;
    return AMK_OK;
}

void
amk_known_hosts_free(struct amk_known_hosts *kh)
{
    if (kh == NULL)
        return;
    for (size_t i = 0; i < kh->nentries; i++) {
        free(kh->entries[i].patterns);
        amk_key_free(kh->entries[i].key);
    }
    free(kh->entries);
    for (size_t i = 0; i < kh->nfiles; i++)
        free(kh->files[i]);
    free(kh->files);
    free(kh);
}

void
amk_known_hosts_set_log(struct amk_known_hosts *kh, amk_log_fn fn, void *user,
    enum amk_log_level level)
{
    kh->log.fn = fn;
    kh->log.user = user;
    kh->log.level = (int)level;
}

size_t
amk_known_hosts_count(const struct amk_known_hosts *kh)
{
    return kh->nentries;
}

size_t
amk_known_hosts_skipped(const struct amk_known_hosts *kh)
{
    return kh->skipped;
}

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Next blank-separated token of [*pos, end): start and length. */
static int
next_token(const char *s, size_t end, size_t *pos, size_t *start, size_t *len)
{
    while (*pos < end && is_blank(s[*pos]))
        (*pos)++;
    *start = *pos;
    while (*pos < end && !is_blank(s[*pos]))
        (*pos)++;
    *len = *pos - *start;
    return *len > 0;
}

/* "|1|salt|hash" with 20-byte salt and hash. */
static int
parse_hashed(const char *s, size_t len, struct kh_entry *e)
{
    struct amk_buf salt, hash;
    const char *bar;
    size_t m = strlen(KH_HASH_MAGIC);
    int r = AMK_EFORMAT;

    amk_buf_init(&salt);
    amk_buf_init(&hash);
    if (len <= m || memcmp(s, KH_HASH_MAGIC, m) != 0)
        goto out;
    if ((bar = memchr(s + m, '|', len - m)) == NULL)
        goto out;
    if ((r = amk_base64_decode(s + m, (size_t)(bar - (s + m)), &salt)) != AMK_OK ||
        (r = amk_base64_decode(bar + 1, len - (size_t)(bar + 1 - s), &hash)) != AMK_OK)
        goto out;
    if (amk_buf_len(&salt) != KH_SHA1_LEN || amk_buf_len(&hash) != KH_SHA1_LEN) {
        r = AMK_EFORMAT;
        goto out;
    }
    memcpy(e->salt, amk_buf_ptr(&salt), KH_SHA1_LEN);
    memcpy(e->hash, amk_buf_ptr(&hash), KH_SHA1_LEN);
    e->hashed = 1;
    r = AMK_OK;
out:
    amk_buf_release(&salt);
    amk_buf_release(&hash);
    return r;
}

/* Parses one line (without its newline) into @p e; AMK_OK with e->key
 * NULL for a blank or comment line. */
static int
parse_line(const char *s, size_t len, struct kh_entry *e)
{
    size_t pos = 0, start, tlen;
    int r = AMK_EINTERNAL;

    memset(e, 0, sizeof(*e));
    if (len > 0 && s[len - 1] == '\r')
        len--;
    while (pos < len && is_blank(s[pos]))
        pos++;
    if (pos == len || s[pos] == '#')
        return AMK_OK;
    if (memchr(s, '\0', len) != NULL)
        return AMK_EFORMAT;
    if (!next_token(s, len, &pos, &start, &tlen))
        return AMK_EFORMAT;
    if (s[start] == '@') {
        if (tlen == 8 && memcmp(s + start, "@revoked", 8) == 0)
            e->marker = KH_MARK_REVOKED;
        else if (tlen == 15 && memcmp(s + start, "@cert-authority", 15) == 0)
            e->marker = KH_MARK_CA;
        else
            return AMK_EFORMAT;
        if (!next_token(s, len, &pos, &start, &tlen))
            return AMK_EFORMAT;
    }
    if (s[start] == '|') {
        if ((r = parse_hashed(s + start, tlen, e)) != AMK_OK)
            return r;
    } else if ((e->patterns = strndup(s + start, tlen)) == NULL) {
        return AMK_ENOMEM;
    }
    /* The rest is a public key line: keytype base64 [comment]. */
    if ((r = amk_key_parse_public_line(s + pos, len - pos, &e->key)) != AMK_OK) {
        free(e->patterns);
        e->patterns = NULL;
        return r;
    }
    return AMK_OK;
}

static int
add_file_name(struct amk_known_hosts *kh, const char *name, size_t *idx)
{
    char **files;
    char *copy;

    if ((copy = strdup(name != NULL ? name : "(memory)")) == NULL)
        return AMK_ENOMEM;
    if ((files = realloc(kh->files, (kh->nfiles + 1) * sizeof(*files))) == NULL) {
        free(copy);
        return AMK_ENOMEM;
    }
    kh->files = files;
    kh->files[kh->nfiles] = copy;
    *idx = kh->nfiles++;
    return AMK_OK;
}

static int
add_entry(struct amk_known_hosts *kh, struct kh_entry *e)
{
    struct kh_entry *n;
    size_t cap;

    if (kh->nentries == kh->cap) {
        if (kh->cap >= KH_MAX_ENTRIES)
            return AMK_ELIMIT;
        cap = kh->cap == 0 ? 16 : kh->cap * 2;
        if ((n = realloc(kh->entries, cap * sizeof(*n))) == NULL)
            return AMK_ENOMEM;
        kh->entries = n;
        kh->cap = cap;
    }
    kh->entries[kh->nentries++] = *e;
    return AMK_OK;
}

int
amk_known_hosts_load(struct amk_known_hosts *kh, const char *text, size_t len, const char *name)
{
    struct kh_entry e;
    size_t file, pos = 0, lineno = 0, end;
    const char *nl;
    int r = AMK_EINTERNAL;

    if (text == NULL && len > 0)
        return AMK_EINVAL;
    if ((r = add_file_name(kh, name, &file)) != AMK_OK)
        return r;
    while (pos < len) {
        nl = memchr(text + pos, '\n', len - pos);
        end = nl != NULL ? (size_t)(nl - text) : len;
        lineno++;
        r = parse_line(text + pos, end - pos, &e);
        if (r == AMK_ENOMEM)
            return r;
        if (r != AMK_OK) {
            /* The issue: bad lines are skipped with a warning, never fatal. */
            kh->skipped++;
            amk_log(&kh->log, AMK_LOG_WARN, "%s:%zu: skipping bad known_hosts line (%s)",
                kh->files[file], lineno, amk_strerror(r));
        } else if (e.key != NULL) {
            e.file = file;
            e.line = lineno;
            if ((r = add_entry(kh, &e)) != AMK_OK) {
                free(e.patterns);
                amk_key_free(e.key);
                return r;
            }
        }
        pos = end + 1;
    }
    return AMK_OK;
}

int
amk_known_hosts_load_file(struct amk_known_hosts *kh, const char *path)
{
    struct amk_buf text;
    char chunk[8192];
    ssize_t n;
    int fd, r = AMK_EINTERNAL;

    amk_buf_init(&text);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? AMK_OK : AMK_EIO;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = AMK_EIO;
            goto out;
        }
        if (n == 0)
            break;
        if (amk_buf_len(&text) + (size_t)n > KH_FILE_MAX) {
            r = AMK_ETOOBIG;
            goto out;
        }
        if ((r = amk_buf_put(&text, chunk, (size_t)n)) != AMK_OK)
            goto out;
    }
    r = amk_known_hosts_load(kh, (const char *)amk_buf_ptr(&text), amk_buf_len(&text), path);
out:
    close(fd);
    amk_buf_release(&text);
    return r;
}

/* Glob match of @p s against @p p ('*', '?'), ignoring ASCII case. */
static int
glob_match(const char *s, size_t slen, const char *p, size_t plen)
{
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;

    while (si < slen) {
        if (pi < plen && (p[pi] == '?' ||
            tolower((unsigned char)p[pi]) == tolower((unsigned char)s[si])) && p[pi] != '*') {
            si++;
            pi++;
        } else if (pi < plen && p[pi] == '*') {
            star_p = pi++;
            star_s = si;
        } else if (star_p != (size_t)-1) {
            pi = star_p + 1;
            si = ++star_s;
        } else {
            return 0;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

/* sshd(8): a comma list matches when some pattern matches and no negated
 * ("!") pattern does. */
static int
patterns_match(const char *list, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = list, *comma;
    int positive = 0;

    for (;;) {
        size_t plen;
        int neg = 0;

        comma = strchr(p, ',');
        plen = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (plen > 0 && p[0] == '!') {
            neg = 1;
            p++;
            plen--;
        }
        if (plen > 0 && glob_match(name, nlen, p, plen)) {
            if (neg)
                return 0;
            positive = 1;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return positive;
}

static int
hashed_match(const struct kh_entry *e, const char *name, int *match)
{
    uint8_t mac[KH_SHA1_LEN];
    int r;

    *match = 0;
    if ((r = amk_hmac(AMK_HASH_SHA1, e->salt, sizeof(e->salt), name, strlen(name), mac)) != AMK_OK)
        return r;
    *match = amk_ct_equal(mac, e->hash, sizeof(mac));
    return AMK_OK;
}

/* The name looked up: "host", or "[host]:port" off port 22; lower case. */
static int
lookup_name(const char *host, unsigned port, char **out)
{
    char *s = NULL;

    *out = NULL;
    if (host == NULL || host[0] == '\0' || port > 65535)
        return AMK_EINVAL;
    if (port == 0 || port == KH_DEFAULT_PORT) {
        if ((s = strdup(host)) == NULL)
            return AMK_ENOMEM;
    } else if (asprintf(&s, "[%s]:%u", host, port) < 0) {
        return AMK_ENOMEM;
    }
    for (char *c = s; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    *out = s;
    return AMK_OK;
}

int
amk_known_hosts_check(const struct amk_known_hosts *kh, const char *host, unsigned port,
    const struct amk_key *key, const char **file, size_t *line)
{
    const struct kh_entry *found = NULL, *changed = NULL, *revoked = NULL;
    char *name = NULL;
    int r = AMK_EINTERNAL, match;

    if (file != NULL)
        *file = NULL;
    if (line != NULL)
        *line = 0;
    if ((r = lookup_name(host, port, &name)) != AMK_OK)
        return r;
    for (size_t i = 0; i < kh->nentries; i++) {
        const struct kh_entry *e = &kh->entries[i];

        /* sshd(8): a revoked key is refused whatever host it is for. */
        if (e->marker == KH_MARK_REVOKED) {
            if (revoked == NULL && amk_key_equal_public(e->key, key))
                revoked = e;
            continue;
        }
        if (e->marker == KH_MARK_CA)
            continue;   /* host certificates are not checked yet */
        if (e->hashed) {
            if ((r = hashed_match(e, name, &match)) != AMK_OK)
                goto out;
        } else {
            match = patterns_match(e->patterns, name);
        }
        if (!match)
            continue;
        if (amk_key_equal_public(e->key, key)) {
            if (found == NULL)
                found = e;
        } else if (changed == NULL &&
                   strcmp(amk_key_type_name(e->key), amk_key_type_name(key)) == 0) {
            changed = e;
        }
    }
    if (revoked != NULL) {
        found = revoked;
        r = AMK_EHOSTKEY_REVOKED;
    } else if (found != NULL) {
        r = AMK_OK;
    } else if (changed != NULL) {
        found = changed;
        r = AMK_EHOSTKEY_CHANGED;
    } else {
        r = AMK_EHOSTKEY_UNKNOWN;
    }
    if (found != NULL) {
        if (file != NULL)
            *file = kh->files[found->file];
        if (line != NULL)
            *line = found->line;
    }
out:
    free(name);
    return r;
}

/* Appends the host field of a new line: plain or hashed. */
static int
write_host_field(const char *name, int hash, struct amk_buf *out)
{
    uint8_t salt[KH_SHA1_LEN], mac[KH_SHA1_LEN];
    int r;

    if (!hash)
        return amk_buf_put(out, name, strlen(name));
    if ((r = amk_random_bytes(NULL, salt, sizeof(salt))) != AMK_OK ||
        (r = amk_hmac(AMK_HASH_SHA1, salt, sizeof(salt), name, strlen(name), mac)) != AMK_OK ||
        (r = amk_buf_put(out, KH_HASH_MAGIC, strlen(KH_HASH_MAGIC))) != AMK_OK ||
        (r = amk_base64_encode(salt, sizeof(salt), 1, out)) != AMK_OK ||
        (r = amk_buf_put_u8(out, '|')) != AMK_OK ||
        (r = amk_base64_encode(mac, sizeof(mac), 1, out)) != AMK_OK)
        return r;
    return AMK_OK;
}

/* "host keytype base64" without the key's comment. */
static int
build_line(const char *host, unsigned port, const struct amk_key *key, int hash,
    struct amk_buf *out)
{
    struct amk_key *pub = NULL;
    char *name = NULL;
    int r = AMK_EINTERNAL;

    if ((r = lookup_name(host, port, &name)) != AMK_OK)
        goto out;
    if (strpbrk(name, " \t\r\n,#") != NULL || name[0] == '@' || name[0] == '|' ||
        name[0] == '!') {
        r = AMK_EINVAL;
        goto out;
    }
    if ((r = amk_key_public_copy(key, &pub)) != AMK_OK ||
        (r = amk_key_set_comment(pub, NULL)) != AMK_OK)
        goto out;
    if ((r = write_host_field(name, hash, out)) != AMK_OK ||
        (r = amk_buf_put_u8(out, ' ')) != AMK_OK ||
        (r = amk_key_write_public_line(pub, out)) != AMK_OK)
        goto out;
    r = AMK_OK;
out:
    amk_key_free(pub);
    free(name);
    return r;
}

int
amk_known_hosts_line(const char *host, unsigned port, const struct amk_key *key, int hash,
    char **out)
{
    struct amk_buf line;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&line);
    if ((r = build_line(host, port, key, hash, &line)) != AMK_OK ||
        (r = amk_buf_put_u8(&line, '\0')) != AMK_OK)
        goto out;
    if ((*out = strdup((const char *)amk_buf_ptr(&line))) == NULL)
        r = AMK_ENOMEM;
out:
    amk_buf_release(&line);
    return r;
}

int
amk_known_hosts_append(const char *path, const char *host, unsigned port,
    const struct amk_key *key, int hash)
{
    struct amk_buf line;
    struct stat st;
    char last = '\n';
    ssize_t n;
    int fd = -1, r = AMK_EINTERNAL;

    amk_buf_init(&line);
    if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        r = AMK_EIO;
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        r = AMK_EIO;
        goto out;
    }
    if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1) {
        r = AMK_EIO;
        goto out;
    }
    if (last != '\n' && (r = amk_buf_put_u8(&line, '\n')) != AMK_OK)
        goto out;
    if ((r = build_line(host, port, key, hash, &line)) != AMK_OK ||
        (r = amk_buf_put_u8(&line, '\n')) != AMK_OK)
        goto out;
    /* One write on an O_APPEND descriptor: other appenders cannot interleave. */
    do {
        n = write(fd, amk_buf_ptr(&line), amk_buf_len(&line));
    } while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != amk_buf_len(&line)) {
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    if (fd >= 0 && close(fd) != 0 && r == AMK_OK)
        r = AMK_EIO;
    amk_buf_release(&line);
    return r;
}

/* Reads the whole file at @p path into @p out (AMK_EIO when missing). */
static int
read_all(const char *path, struct amk_buf *out, mode_t *mode)
{
    char chunk[8192];
    struct stat st;
    ssize_t n;
    int fd, r = AMK_EINTERNAL;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return AMK_EIO;
    if (fstat(fd, &st) != 0) {
        r = AMK_EIO;
        goto out;
    }
    *mode = st.st_mode & 07777;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = AMK_EIO;
            goto out;
        }
        if (n == 0)
            break;
        if (amk_buf_len(out) + (size_t)n > KH_FILE_MAX) {
            r = AMK_ETOOBIG;
            goto out;
        }
        if ((r = amk_buf_put(out, chunk, (size_t)n)) != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    close(fd);
    return r;
}

/* Replaces @p path by @p data through a temporary file and rename(2). */
static int
replace_file(const char *path, const struct amk_buf *data, mode_t mode)
{
    char *tmp = NULL;
    size_t off = 0;
    ssize_t n;
    int fd = -1, r = AMK_EINTERNAL;

    if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
        tmp = NULL;
        return AMK_ENOMEM;
    }
    if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, mode) != 0) {
        r = AMK_EIO;
        goto out;
    }
    while (off < amk_buf_len(data)) {
        n = write(fd, amk_buf_ptr(data) + off, amk_buf_len(data) - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = AMK_EIO;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        r = AMK_EIO;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        r = AMK_EIO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    if (fd >= 0)
        close(fd);
    if (r != AMK_OK)
        unlink(tmp);
    free(tmp);
    return r;
}

/* The key part of a parsed line: from the key type to the end. */
static const char *
key_part(const char *s, size_t len, size_t *keylen)
{
    size_t pos = 0, start, tlen;

    if (!next_token(s, len, &pos, &start, &tlen))
        return NULL;
    if (s[start] == '@' && !next_token(s, len, &pos, &start, &tlen))
        return NULL;
    while (pos < len && is_blank(s[pos]))
        pos++;
    *keylen = len - pos;
    return s + pos;
}

enum kh_edit {
    KH_EDIT_HASH,
    KH_EDIT_REMOVE
};

/*
 * Rewrites a known_hosts file line by line. HASH: each plain entry (no
 * marker, no wildcard or negation) becomes one hashed line per name, as
 * ssh-keygen -H. REMOVE: entries for @p name are dropped, as ssh-keygen -R.
 * Everything else (comments, markers, bad lines) is kept as it was.
 */
static int
edit_file(const char *path, enum kh_edit edit, const char *name, size_t *changed)
{
    struct amk_buf in, out;
    struct kh_entry e;
    mode_t mode = 0600;
    size_t pos = 0, end, keylen;
    const char *text, *nl, *keyp;
    int r = AMK_EINTERNAL, match;

    *changed = 0;
    amk_buf_init(&in);
    amk_buf_init(&out);
    if ((r = read_all(path, &in, &mode)) != AMK_OK)
        goto out;
    text = (const char *)amk_buf_ptr(&in);
    while (pos < amk_buf_len(&in)) {
        int keep = 1;

        nl = memchr(text + pos, '\n', amk_buf_len(&in) - pos);
        end = nl != NULL ? (size_t)(nl - text) : amk_buf_len(&in);
        r = parse_line(text + pos, end - pos, &e);
        if (r == AMK_ENOMEM)
            goto out;
        if (r == AMK_OK && e.key != NULL && e.marker == KH_MARK_NONE) {
            if (edit == KH_EDIT_REMOVE) {
                if (e.hashed) {
                    if ((r = hashed_match(&e, name, &match)) != AMK_OK) {
                        free(e.patterns);
                        amk_key_free(e.key);
                        goto out;
                    }
                } else {
                    match = patterns_match(e.patterns, name);
                }
                keep = !match;
            } else if (!e.hashed && strpbrk(e.patterns, "*?!") == NULL &&
                       (keyp = key_part(text + pos, end - pos, &keylen)) != NULL) {
                /* One hashed line per name of the list. */
                char *names = e.patterns, *save = NULL;
                for (char *h = strtok_r(names, ",", &save); h != NULL;
                     h = strtok_r(NULL, ",", &save)) {
                    for (char *c = h; *c != '\0'; c++)
                        *c = (char)tolower((unsigned char)*c);
                    if ((r = write_host_field(h, 1, &out)) != AMK_OK ||
                        (r = amk_buf_put_u8(&out, ' ')) != AMK_OK ||
                        (r = amk_buf_put(&out, keyp, keylen)) != AMK_OK ||
                        (r = amk_buf_put_u8(&out, '\n')) != AMK_OK) {
                        free(e.patterns);
                        amk_key_free(e.key);
                        goto out;
                    }
                }
                keep = 0;
            }
        }
        free(e.patterns);
        amk_key_free(e.key);
        if (!keep)
            (*changed)++;
        if (keep && ((r = amk_buf_put(&out, text + pos, end - pos)) != AMK_OK ||
            (nl != NULL && (r = amk_buf_put_u8(&out, '\n')) != AMK_OK)))
            goto out;
        pos = end + 1;
    }
    r = *changed > 0 ? replace_file(path, &out, mode) : AMK_OK;
out:
    amk_buf_release(&in);
    amk_buf_release(&out);
    return r;
}

int
amk_known_hosts_hash_file(const char *path, size_t *hashed)
{
    size_t n;
    int r = edit_file(path, KH_EDIT_HASH, NULL, &n);

    if (hashed != NULL)
        *hashed = r == AMK_OK ? n : 0;
    return r;
}

int
amk_known_hosts_remove(const char *path, const char *host, unsigned port, size_t *removed)
{
    char *name = NULL;
    size_t n = 0;
    int r;

    if (removed != NULL)
        *removed = 0;
    if ((r = lookup_name(host, port, &name)) != AMK_OK)
        return r;
    r = edit_file(path, KH_EDIT_REMOVE, name, &n);
    if (removed != NULL && r == AMK_OK)
        *removed = n;
    free(name);
    return r;
}
