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
 * Appends @p len bytes (one complete line with its newline) to the file at
 * @p path as amk_known_hosts_add() describes. @p line receives the line
 * number the text starts on (a newline is written in front of it when the
 * file did not end with one).
 */
int amk_kh_file_append(const char *path, const char *text, size_t len, size_t *line)
    __attribute__((warn_unused_result));

#endif
