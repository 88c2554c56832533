/*
 * Inside struct amk_known_hosts, shared by known_hosts.c (parsing and
 * lookup) and known_hosts_file.c (reading and appending files).
 */
#ifndef AMK_KEYS_KNOWN_HOSTS_IMPL_H
#define AMK_KEYS_KNOWN_HOSTS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/known_hosts.h>

#include "keys/host_pattern.h"
#include "util/log.h"

struct amk_buf;
struct amk_key_info;

/* sshd(8): the optional marker in front of the host names. */
enum amk_kh_marker {
    AMK_KH_MARK_NONE = 0,
    AMK_KH_MARK_CA,         /* @cert-authority */
    AMK_KH_MARK_REVOKED     /* @revoked */
};

struct amk_kh_entry {
    enum amk_kh_marker marker;
    char *patterns;                     /* owned, NUL-terminated; NULL when hashed */
    uint8_t salt[AMK_HOST_HASH_LEN];    /* hashed names only */
    uint8_t hash[AMK_HOST_HASH_LEN];
    const struct amk_key_info *info;    /* the key type */
    uint8_t *blob;                      /* owned: the key's canonical public blob */
    size_t bloblen;
    size_t source;                      /* index into sources */
    size_t line;                        /* from 1 */
};

struct amk_known_hosts {
    struct amk_kh_entry *entries;
    size_t count, cap;
    char **sources;                     /* owned file names */
    size_t nsources;
    size_t skipped;
    struct amk_logger log;
};

/*
 * Parses the known_hosts image @p data of @p len bytes named @p name into
 * @p kh, skipping (and logging) unusable lines. @p first_line numbers the
 * first line. On failure the entries added by this call are removed.
 */
int amk_kh_parse(struct amk_known_hosts *kh, const char *data, size_t len, const char *name,
    size_t first_line) __attribute__((warn_unused_result));

/*
 * Parses one line (without its newline) into an entry appended to @p kh.
 * Blank and comment lines add nothing; unusable lines are logged and
 * counted. Returns AMK_OK, also for a skipped line, or AMK_ENOMEM.
 */
int amk_kh_parse_line(struct amk_known_hosts *kh, const char *p, size_t len, size_t source,
    size_t line) __attribute__((warn_unused_result));

/* Sets @p applies to whether entry @p e is for the lookup name @p name
 * (see amk_host_lookup_name()): a pattern matches and no negation does,
 * or the hashed name is @p name's. */
int amk_kh_entry_applies(const struct amk_kh_entry *e, const char *name, int *applies)
    __attribute__((warn_unused_result));

/*
 * Reads the whole file at @p path into @p out. AMK_EIO, with @p missing
 * set, when it does not exist; AMK_EIO when it cannot be read; AMK_ETOOBIG
 * beyond AMK_KNOWN_HOSTS_FILE_MAX.
 */
int amk_kh_file_read(const char *path, struct amk_buf *out, int *missing)
    __attribute__((warn_unused_result));

/*
 * Replaces the file at @p path by @p len bytes at @p data atomically: a
 * temporary file in the same directory with the old file's mode, synced,
 * then renamed over it.
 */
int amk_kh_file_replace(const char *path, const char *data, size_t len)
    __attribute__((warn_unused_result));

/*
 * Appends @p len bytes (one complete line with its newline) to the file at
 * @p path as amk_known_hosts_add() describes. @p line receives the line
 * number the text starts on (a newline is written in front of it when the
 * file did not end with one).
 */
int amk_kh_file_append(const char *path, const char *text, size_t len, size_t *line)
    __attribute__((warn_unused_result));

#endif
