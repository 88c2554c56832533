/**
 * @file amiko/known_hosts.h
 * @brief OpenSSH known_hosts files: load, check a server's host key, add.
 *
 * The format is OpenSSH's (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): one
 * entry per line, `[marker] hostnames keytype base64-key [comment]`.
 * Host names are comma-separated patterns with `*` and `?` wildcards and
 * `!` negation, `[host]:port` for a port other than 22, or one hashed name
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. Markers are
 * `@cert-authority` and `@revoked`. Blank lines and lines starting with `#`
 * are ignored.
 *
 * A line that cannot be used (bad base64, unknown key type, a type field
 * that disagrees with the key blob, missing fields, over-long line, ...) is
 * skipped with a warning naming the file and line, sent to the log
 * callback (amk_known_hosts_set_log()); it never makes a load fail.
 *
 * A `struct amk_known_hosts` holds the entries of any number of loaded
 * files and is used by one thread at a time.
 */
#ifndef AMIKO_KNOWN_HOSTS_H
#define AMIKO_KNOWN_HOSTS_H

#include <stddef.h>

#include "common.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

struct amk_key;

/** A set of known_hosts entries (opaque). */
struct amk_known_hosts;

/** Longest line read; longer lines are skipped with a warning. */
#define AMK_KNOWN_HOSTS_LINE_MAX 16384
/** Largest file (or memory image) loaded; larger ones are AMK_ETOOBIG. */
#define AMK_KNOWN_HOSTS_FILE_MAX (16 * 1024 * 1024)

/** The answer of amk_known_hosts_check(). */
enum amk_known_hosts_status {
    /** An entry for the host holds the presented key. */
    AMK_KNOWN_HOSTS_OK = 0,
    /** No entry (without marker) applies to the host. */
    AMK_KNOWN_HOSTS_UNKNOWN = 1,
    /**
     * Entries apply to the host but none holds the presented key. As in
     * OpenSSH's ssh(1), this is the answer also when the host is known only
     * with keys of other types; the flags say which case it is.
     */
    AMK_KNOWN_HOSTS_CHANGED = 2,
    /** A `@revoked` line that applies to the host holds the presented key. */
    AMK_KNOWN_HOSTS_REVOKED = 3
};

/** Flag of amk_known_hosts_check(): the host has an entry with a key of
 *  the presented key's type (same curve for ECDSA) that is a different key. */
#define AMK_KNOWN_HOSTS_F_DIFFERENT_KEY 0x1u
/** Flag of amk_known_hosts_check(): the host has entries with keys of
 *  other types than the presented key's. */
#define AMK_KNOWN_HOSTS_F_OTHER_TYPES 0x2u

/** Flag of amk_known_hosts_add() and amk_known_hosts_line(): hash the host name. */
#define AMK_KNOWN_HOSTS_ADD_HASH 0x1u

/**
 * Creates an empty set.
 * @param out receives the set; free it with amk_known_hosts_free()
 * @return AMK_OK or AMK_ENOMEM.
 */
AMK_API int amk_known_hosts_new(struct amk_known_hosts **out) AMK_MUST_CHECK;

/**
 * Sets the callback that receives warnings about skipped lines (and
 * nothing else). Without one, they are dropped. @p fn may be NULL.
 */
AMK_API void amk_known_hosts_set_log(struct amk_known_hosts *kh, amk_log_fn fn, void *user);

/**
 * Adds the entries of the known_hosts file at @p path to @p kh. A file
 * that does not exist adds nothing and is not an error (as ssh(1)).
 * Unusable lines are skipped with a warning.
 * @return AMK_OK;
 *   AMK_EINVAL when @p kh or @p path is NULL;
 *   AMK_EIO when the file exists but cannot be read;
 *   AMK_ETOOBIG when it is larger than AMK_KNOWN_HOSTS_FILE_MAX;
 *   AMK_ENOMEM. On failure @p kh is unchanged.
 */
AMK_API int amk_known_hosts_load_file(struct amk_known_hosts *kh, const char *path)
    AMK_MUST_CHECK;

/**
 * Adds the entries of a known_hosts image of @p len bytes at @p data.
 * @p name (may be NULL: "(memory)") is the file name used in warnings and
 * reported by amk_known_hosts_check().
 * @return AMK_OK; AMK_EINVAL for a NULL @p kh, or NULL @p data with a
 *   non-zero @p len; AMK_ETOOBIG when @p len is larger than
 *   AMK_KNOWN_HOSTS_FILE_MAX; AMK_ENOMEM. On failure @p kh is unchanged.
 */
AMK_API int amk_known_hosts_load_mem(struct amk_known_hosts *kh, const void *data, size_t len,
    const char *name) AMK_MUST_CHECK;

/**
 * Checks the host key @p key presented by @p host on @p port, as ssh(1)
 * does. @p host is looked up lower-cased, as `[host]:port` when @p port is
 * neither 0 nor 22. Entries whose patterns match it apply, unless one of
 * their `!` patterns matches too. The answer, in order of precedence:
 *   - AMK_KNOWN_HOSTS_REVOKED: an applying `@revoked` line holds @p key;
 *   - AMK_KNOWN_HOSTS_OK: an applying entry holds @p key;
 *   - AMK_KNOWN_HOSTS_CHANGED: applying entries hold other keys only;
 *   - AMK_KNOWN_HOSTS_UNKNOWN: no entry applies.
 * `@cert-authority` lines are kept but not used for plain keys.
 *
 * @param status receives the answer
 * @param file   if not NULL, receives the file name of the entry the answer
 *               is about (the matching, revoked or old entry; for CHANGED
 *               the first entry of the same key type if there is one, else
 *               the first applying entry), or NULL for UNKNOWN. Valid until
 *               @p kh is freed.
 * @param line   if not NULL, receives that entry's line number (from 1), or 0
 * @param flags  if not NULL, receives AMK_KNOWN_HOSTS_F_* bits
 * @return AMK_OK (whatever the answer);
 *   AMK_EINVAL for NULL arguments, a port above 65535, or a host name that
 *   is empty, longer than 1024 bytes, or has blanks, control characters or
 *   any of `,*?![]|#@`; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_check(const struct amk_known_hosts *kh, const char *host,
    unsigned port, const struct amk_key *key, enum amk_known_hosts_status *status,
    const char **file, size_t *line, unsigned *flags) AMK_MUST_CHECK;

/**
 * Appends an entry for @p host on @p port with @p key to the file at
 * @p path and adds it to @p kh. The name is stored lower-cased, as
 * `[host]:port` when @p port is neither 0 nor 22, and hashed with a random
 * 20-byte salt when @p flags has AMK_KNOWN_HOSTS_ADD_HASH. The line is
 * appended with a single write to the file opened for appending, so
 * concurrent writers do not interleave within it; a missing file is
 * created with mode 0600 and a missing parent directory (one level, like
 * ~/.ssh) with mode 0700. If the file does not end with a newline, one is
 * written first.
 * @return AMK_OK;
 *   AMK_EINVAL for NULL arguments, unknown @p flags, or a host or port
 *   amk_known_hosts_check() refuses;
 *   AMK_EIO when the directory or file cannot be created or written;
 *   AMK_ETOOBIG when the file is larger than AMK_KNOWN_HOSTS_FILE_MAX;
 *   AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_add(struct amk_known_hosts *kh, const char *path, const char *host,
    unsigned port, const struct amk_key *key, unsigned flags) AMK_MUST_CHECK;

/**
 * The known_hosts line amk_known_hosts_add() would append, without the
 * newline: `name keytype base64`, the name lower-cased and as
 * `[host]:port` when @p port is neither 0 nor 22, hashed with a random salt
 * when @p flags has AMK_KNOWN_HOSTS_ADD_HASH (as ssh-keyscan(1) -H prints).
 * @param out receives the NUL-terminated line; free it with free()
 * @return AMK_OK; AMK_EINVAL as for amk_known_hosts_add(); AMK_ENOMEM;
 *   AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_line(const char *host, unsigned port, const struct amk_key *key,
    unsigned flags, char **out) AMK_MUST_CHECK;

/**
 * Hashes the host names of the known_hosts file at @p path in place, as
 * `ssh-keygen -H`: each entry with plain names becomes one line per name,
 * `|1|salt|hash` of the lower-cased name followed by the rest of the
 * original line. Lines with markers, hashed names, wildcards or negation,
 * comments and unusable lines are kept byte for byte. The file is replaced
 * atomically (a temporary file with the same mode, renamed over it), and
 * only when something was hashed.
 * @param hashed receives (may be NULL) the number of entries hashed
 * @return AMK_OK; AMK_EINVAL for a NULL @p path; AMK_EIO when the file does
 *   not exist or cannot be read or replaced; AMK_ETOOBIG; AMK_ENOMEM;
 *   AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_hash_file(const char *path, size_t *hashed) AMK_MUST_CHECK;

/**
 * Removes the entries for @p host on @p port (named by a plain name, a
 * matching pattern, or a hashed name) from the known_hosts file at
 * @p path, as `ssh-keygen -R`; `@revoked` and `@cert-authority` lines
 * stay. A whole line goes even when it lists other names too. Other lines
 * are kept byte for byte; the file is replaced atomically, and only when
 * something was removed.
 * @param removed receives (may be NULL) the number of lines removed
 * @return AMK_OK; AMK_EINVAL for a NULL @p path or a host or port that
 *   amk_known_hosts_check() refuses; AMK_EIO when the file does not exist
 *   or cannot be read or replaced; AMK_ETOOBIG; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_known_hosts_remove(const char *path, const char *host, unsigned port,
    size_t *removed) AMK_MUST_CHECK;

/** Marker of a line reported by amk_known_hosts_find_file(). */
enum amk_known_hosts_marker {
    AMK_KNOWN_HOSTS_MARK_NONE = 0,
    AMK_KNOWN_HOSTS_MARK_CA = 1,        /**< `@cert-authority` */
    AMK_KNOWN_HOSTS_MARK_REVOKED = 2    /**< `@revoked` */
};

/**
 * Receives one line found by amk_known_hosts_find_file(): its number
 * (from 1), its text of @p len bytes (without the newline and a CR before
 * it; not NUL-terminated) and its marker. Returning anything but AMK_OK
 * stops the search, which returns that value.
 */
typedef int (*amk_known_hosts_found_fn)(void *user, size_t line, const char *text, size_t len,
    enum amk_known_hosts_marker marker);

/**
 * Finds the lines of the known_hosts file at @p path that are for @p host
 * on @p port (by a plain name, a matching pattern, or a hashed name),
 * markers included, as `ssh-keygen -F`, and passes each to @p fn in file
 * order. The file is not changed.
 * @param found receives (may be NULL) the number of lines found
 * @return AMK_OK (also when nothing is found); AMK_EINVAL for a NULL
 *   @p path or @p fn, or a host or port amk_known_hosts_check() refuses;
 *   AMK_EIO when the file does not exist or cannot be read; AMK_ETOOBIG;
 *   AMK_ENOMEM; AMK_ECRYPTO; or what @p fn returned.
 */
AMK_API int amk_known_hosts_find_file(const char *path, const char *host, unsigned port,
    amk_known_hosts_found_fn fn, void *user, size_t *found) AMK_MUST_CHECK;

/** The number of entries loaded or added, markers included. */
AMK_API size_t amk_known_hosts_count(const struct amk_known_hosts *kh);

/** The number of lines skipped as unusable by all loads so far. */
AMK_API size_t amk_known_hosts_skipped(const struct amk_known_hosts *kh);

/** Frees @p kh. NULL is fine. */
AMK_API void amk_known_hosts_free(struct amk_known_hosts *kh);

#ifdef __cplusplus
}
#endif
#endif
