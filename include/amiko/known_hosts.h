/**
 * @file amiko/known_hosts.h
 * @brief OpenSSH known_hosts files: checking a server's host key and
 * remembering new ones (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
 *
 * Lines are `[marker] patterns keytype base64 [comment]`. Patterns are a
 * comma-separated list of host names or addresses with `*` and `?`
 * wildcards and `!` negation, `[host]:port` for ports other than 22, or
 * one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. The
 * markers are `@revoked` (the key is refused for any host it matches) and
 * `@cert-authority` (parsed and kept; certificates are not checked yet).
 * Comments and blank lines are ignored; lines that cannot be parsed are
 * skipped with a warning naming the file and line, never fatal.
 */
#ifndef AMIKO_KNOWN_HOSTS_H
#define AMIKO_KNOWN_HOSTS_H

#include <stddef.h>

#include "common.h"
#include "error.h"
#include "key.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The entries of one or more known_hosts files (opaque). */
struct amk_known_hosts;

/** A new, empty set. AMK_OK or AMK_ENOMEM. */
AMK_API int amk_known_hosts_new(struct amk_known_hosts **out) AMK_MUST_CHECK;

/** Frees @p kh. NULL is fine. */
AMK_API void amk_known_hosts_free(struct amk_known_hosts *kh);

/**
 * Where warnings about skipped lines go (default: dropped). Messages above
 * @p level are dropped.
 */
AMK_API void amk_known_hosts_set_log(struct amk_known_hosts *kh, amk_log_fn fn, void *user,
    enum amk_log_level level);

/**
 * Adds the entries of the file at @p path. A file that does not exist adds
 * nothing and is AMK_OK. Bad lines are skipped (see
 * amk_known_hosts_skipped()).
 * @return AMK_OK; AMK_EIO when the file exists but cannot be read;
 *         AMK_ETOOBIG for a file over 64 MiB; AMK_ENOMEM.
 */
AMK_API int amk_known_hosts_load_file(struct amk_known_hosts *kh, const char *path)
    AMK_MUST_CHECK;

/**
 * Adds the entries of @p len bytes of text; @p name (may be NULL) names it
 * in warnings and in amk_known_hosts_check() results. AMK_OK or AMK_ENOMEM.
 */
AMK_API int amk_known_hosts_load(struct amk_known_hosts *kh, const char *text, size_t len,
    const char *name) AMK_MUST_CHECK;

/** Number of entries (host/key lines) loaded so far. */
AMK_API size_t amk_known_hosts_count(const struct amk_known_hosts *kh);

/** Number of lines skipped as unparseable so far. */
AMK_API size_t amk_known_hosts_skipped(const struct amk_known_hosts *kh);

/**
 * Checks the host key @p key presented by @p host on @p port (0 or 22 for
 * the default port; @p host as the user gave it, name or address).
 * @param file receives (may be NULL) the file name of the entry the answer
 *             rests on (the old key for AMK_EHOSTKEY_CHANGED), valid while
 *             @p kh lives; NULL for AMK_EHOSTKEY_UNKNOWN
 * @param line receives (may be NULL) its line number, from 1; 0 if none
 * @return AMK_OK: an entry for the host holds this key;
 *   AMK_EHOSTKEY_REVOKED: an `@revoked` line holds this key (this wins);
 *   AMK_EHOSTKEY_CHANGED: the host is known with a different key of the
 *   same type and none matches;
 *   AMK_EHOSTKEY_UNKNOWN: no entry for the host and this key type;
 *   AMK_EINVAL for an empty host name; AMK_ENOMEM.
 */
AMK_API int amk_known_hosts_check(const struct amk_known_hosts *kh, const char *host,
    unsigned port, const struct amk_key *key, const char **file, size_t *line) AMK_MUST_CHECK;

/**
 * The known_hosts line for @p host, @p port and @p key, without a newline:
 * `host keytype base64`, `[host]:port ...` for other ports, or with
 * @p hash non-zero the hashed form with a random salt.
 * @param out receives the NUL-terminated line; free it with free()
 * @return AMK_OK, AMK_EINVAL, AMK_ENOMEM or AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_line(const char *host, unsigned port, const struct amk_key *key,
    int hash, char **out) AMK_MUST_CHECK;

/**
 * Appends the line of amk_known_hosts_line() and a newline to the file at
 * @p path (created with mode 0600 if missing) in one write, after a newline
 * if the file does not end with one. AMK_OK, AMK_EIO, AMK_EINVAL,
 * AMK_ENOMEM or AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_append(const char *path, const char *host, unsigned port,
    const struct amk_key *key, int hash) AMK_MUST_CHECK;

/**
 * Hashes the host names of the file at @p path in place, as
 * `ssh-keygen -H`: each entry with plain names becomes one hashed line
 * per name; entries with wildcards or negation, markers, comments,
 * already hashed and unparseable lines are kept as they are. The file is
 * replaced atomically (same mode) only when something changed.
 * @param hashed receives (may be NULL) the number of entries hashed
 * @return AMK_OK; AMK_EIO (also when the file does not exist);
 *         AMK_ETOOBIG; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_hash_file(const char *path, size_t *hashed) AMK_MUST_CHECK;

/**
 * Removes every entry for @p host on @p port (plain or hashed; `@revoked`
 * and `@cert-authority` lines are kept) from the file at @p path, as
 * `ssh-keygen -R`, replacing it atomically when something changed.
 * @param removed receives (may be NULL) the number of lines removed
 * @return AMK_OK; AMK_EINVAL for an empty host; AMK_EIO; AMK_ETOOBIG; AMK_ENOMEM.
 */
AMK_API int amk_known_hosts_remove(const char *path, const char *host, unsigned port,
    size_t *removed) AMK_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
