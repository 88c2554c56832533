/**
 * @file amiko/authorized_keys.h
 * @brief OpenSSH authorized_keys files for servers: load them and check a
 * client's public key against them, with the options of the matching line.
 *
 * The format is sshd(8)'s "AUTHORIZED_KEYS FILE FORMAT": one key per line,
 * optionally preceded by comma-separated options, then the key type, the
 * base64 key and a comment. Blank lines and lines starting with '#' are
 * ignored. A line that cannot be used (unknown option, bad key, bad
 * option value) is skipped and recorded with its reason
 * (amk_authorized_keys_bad_line()); it never makes the whole file fail.
 *
 * Options understood: from=, command=, environment=, expiry-time=,
 * permitopen=, permitlisten=, principals=, tunnel=, cert-authority,
 * restrict, no-pty / pty, no-port-forwarding / port-forwarding,
 * no-agent-forwarding / agent-forwarding, no-X11-forwarding /
 * X11-forwarding, no-user-rc / user-rc, no-touch-required,
 * verify-required. Option names are case-insensitive; values are quoted
 * strings in which \" stands for a quote. Options apply in order, so
 * "restrict,pty" allows a pty and nothing else.
 *
 * Lines marked cert-authority hold a CA key: they never match a plain
 * key (certificates are not supported yet).
 *
 * amiko reads no clock here: the caller passes the current time.
 */
#ifndef AMIKO_AUTHORIZED_KEYS_H
#define AMIKO_AUTHORIZED_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct amk_key;

/** A parsed authorized_keys file (opaque). */
struct amk_authorized_keys;

/** The options of one authorized_keys line (opaque). */
struct amk_authorized_key_opts;

/** Largest file amk_authorized_keys_load_file() reads. */
#define AMK_AUTHORIZED_KEYS_MAX_FILE ((size_t)16 * 1024 * 1024)
/** Longest line; longer lines are skipped as bad. */
#define AMK_AUTHORIZED_KEYS_MAX_LINE ((size_t)64 * 1024)

/** What a line may allow; see amk_authorized_key_opts_permits(). */
enum amk_authorized_key_permit {
    AMK_AK_PERMIT_PTY = 1,              /**< a pseudo-terminal (no-pty) */
    AMK_AK_PERMIT_PORT_FORWARDING,      /**< TCP forwarding (no-port-forwarding) */
    AMK_AK_PERMIT_AGENT_FORWARDING,     /**< agent forwarding (no-agent-forwarding) */
    AMK_AK_PERMIT_X11_FORWARDING,       /**< X11 forwarding (no-X11-forwarding) */
    AMK_AK_PERMIT_USER_RC               /**< running ~/.ssh/rc (no-user-rc) */
};

/**
 * Parses authorized_keys text of @p len bytes.
 * @param out receives the object; free it with amk_authorized_keys_free()
 * @return AMK_OK (also when some lines were bad); AMK_EINVAL (NULL
 *   arguments); AMK_ETOOBIG (more than AMK_AUTHORIZED_KEYS_MAX_FILE bytes);
 *   AMK_ENOMEM.
 */
AMK_API int amk_authorized_keys_load(const void *data, size_t len,
    struct amk_authorized_keys **out) AMK_MUST_CHECK;

/**
 * As amk_authorized_keys_load() from the file at @p path; in addition
 * AMK_EIO when it cannot be read. (File ownership and modes, sshd's
 * StrictModes, are the caller's to check.)
 */
AMK_API int amk_authorized_keys_load_file(const char *path,
    struct amk_authorized_keys **out) AMK_MUST_CHECK;

/** Frees @p ak. NULL is fine. */
AMK_API void amk_authorized_keys_free(struct amk_authorized_keys *ak);

/** The number of usable key lines. */
AMK_API size_t amk_authorized_keys_count(const struct amk_authorized_keys *ak);

/** The number of lines skipped as bad. */
AMK_API size_t amk_authorized_keys_bad_count(const struct amk_authorized_keys *ak);

/**
 * The @p i-th bad line (0-based, at most the first 64 are kept): its line
 * number (1-based) in *@p line_no and the reason in *@p reason (valid
 * until @p ak is freed). AMK_OK or AMK_EINVAL when @p i is out of range.
 */
AMK_API int amk_authorized_keys_bad_line(const struct amk_authorized_keys *ak, size_t i,
    size_t *line_no, const char **reason) AMK_MUST_CHECK;

/**
 * Checks @p key (its public half) for a client connecting from
 * @p client_ip (a numeric IPv4 or IPv6 address, or NULL when unknown: then
 * lines with from= never match) whose host name is @p client_host (may be
 * NULL; only used by from= patterns, as sshd with UseDNS), at @p now
 * (seconds since the Unix epoch). The first line whose key equals @p key,
 * that is not a cert-authority line, whose from= allows the client and
 * whose expiry-time has not passed, matches.
 * @param opts receives that line's options (valid until @p ak is freed;
 *   amk_authorized_key_opts_dup() makes a copy that lives on); may be NULL
 * @return AMK_OK on a match; AMK_EAUTH when none matches (the detail,
 *   e.g. "from= does not allow 10.0.0.1" or "key expired", is in
 *   amk_authorized_keys_last_error()); AMK_EINVAL for NULL arguments.
 */
AMK_API int amk_authorized_keys_check(struct amk_authorized_keys *ak, const struct amk_key *key,
    const char *client_ip, const char *client_host, int64_t now,
    const struct amk_authorized_key_opts **opts) AMK_MUST_CHECK;

/** Why the last check failed ("" after a match). */
AMK_API const char *amk_authorized_keys_last_error(const struct amk_authorized_keys *ak);

/** The line number (1-based) of the line @p o came from. */
AMK_API size_t amk_authorized_key_opts_line(const struct amk_authorized_key_opts *o);

/** 1 when the line allows @p what, else 0. */
AMK_API int amk_authorized_key_opts_permits(const struct amk_authorized_key_opts *o,
    enum amk_authorized_key_permit what);

/** The forced command (command=), or NULL. */
AMK_API const char *amk_authorized_key_opts_command(const struct amk_authorized_key_opts *o);

/** The number of environment= entries; each is "NAME=value". */
AMK_API size_t amk_authorized_key_opts_env_count(const struct amk_authorized_key_opts *o);
/** The @p i-th environment= entry, or NULL when out of range. */
AMK_API const char *amk_authorized_key_opts_env(const struct amk_authorized_key_opts *o,
    size_t i);

/** The number of permitopen= entries ("host:port"). */
AMK_API size_t amk_authorized_key_opts_permitopen_count(const struct amk_authorized_key_opts *o);
/** The @p i-th permitopen= entry, or NULL. */
AMK_API const char *amk_authorized_key_opts_permitopen(const struct amk_authorized_key_opts *o,
    size_t i);

/** The number of permitlisten= entries ("[host:]port"). */
AMK_API size_t amk_authorized_key_opts_permitlisten_count(
    const struct amk_authorized_key_opts *o);
/** The @p i-th permitlisten= entry, or NULL. */
AMK_API const char *amk_authorized_key_opts_permitlisten(const struct amk_authorized_key_opts *o,
    size_t i);

/** principals= (comma-separated), or NULL. */
AMK_API const char *amk_authorized_key_opts_principals(const struct amk_authorized_key_opts *o);

/** from= (the pattern list as written), or NULL. */
AMK_API const char *amk_authorized_key_opts_from(const struct amk_authorized_key_opts *o);

/** tunnel= (the device number as written), or NULL. */
AMK_API const char *amk_authorized_key_opts_tunnel(const struct amk_authorized_key_opts *o);

/** expiry-time= as seconds since the Unix epoch, or 0 when none. */
AMK_API int64_t amk_authorized_key_opts_expiry(const struct amk_authorized_key_opts *o);

/** 1 for a cert-authority line. */
AMK_API int amk_authorized_key_opts_cert_authority(const struct amk_authorized_key_opts *o);

/** 1 when restrict was given. */
AMK_API int amk_authorized_key_opts_restricted(const struct amk_authorized_key_opts *o);

/**
 * A copy of @p o that does not depend on the file object.
 * @return AMK_OK; AMK_EINVAL; AMK_ENOMEM.
 */
AMK_API int amk_authorized_key_opts_dup(const struct amk_authorized_key_opts *o,
    struct amk_authorized_key_opts **out) AMK_MUST_CHECK;

/** Frees a copy made by amk_authorized_key_opts_dup(). NULL is fine. */
AMK_API void amk_authorized_key_opts_free(struct amk_authorized_key_opts *o);

#ifdef __cplusplus
}
#endif
#endif
