/*
 * RFC 4251 §5 name-lists: comma-separated names, and the operations the
 * transport needs on them (validation, negotiation, OpenSSH-style edits).
 * Lists here are NUL-terminated C strings that have passed validation.
 */
#ifndef AMK_UTIL_NAMELIST_H
#define AMK_UTIL_NAMELIST_H

#include <stddef.h>

#include <amiko/error.h>

/* RFC 4251 §6: algorithm names are at most 64 characters. */
#define AMK_NAME_MAX 64
/* The longest name-list we accept from a peer. */
#define AMK_NAMELIST_MAX 16384

struct amk_buf;

/*
 * Checks @p len bytes at @p s: names of 1..AMK_NAME_MAX printable US-ASCII
 * characters (no comma, space or control), separated by single commas.
 * The empty list is valid. Returns AMK_OK or AMK_EFORMAT / AMK_ETOOBIG.
 */
int amk_namelist_validate(const char *s, size_t len);

/* Reads a name-list from @p b into an allocated, validated C string. A
 * single trailing comma ("a,b,") is dropped rather than refused, as
 * OpenSSH does (libssh 0.10 sends one); other empty names are AMK_EFORMAT. */
int amk_buf_get_namelist(struct amk_buf *b, char **out);

/* Whether @p list contains exactly @p name. */
int amk_namelist_contains(const char *list, const char *name);

/* The number of names in @p list. */
size_t amk_namelist_count(const char *list);

/*
 * RFC 4253 §7.1 negotiation: the first name in @p client that also appears
 * in @p server, copied to @p out (AMK_NAME_MAX + 1 bytes).
 * AMK_ENOMATCH when there is none.
 */
int amk_namelist_match(const char *client, const char *server, char out[AMK_NAME_MAX + 1]);

/*
 * Applies an OpenSSH-style algorithm specification (ssh_config(5)
 * "Ciphers" and friends) to @p defaults, checking against @p supported:
 *   "a,b"   exactly these (each must be supported)
 *   "+a,b"  defaults with a,b appended (wildcards match supported names)
 *   "-a*"   defaults without the names the patterns match
 *   "^a,b"  a,b placed first, then the rest of the defaults
 * Wildcards '*' and '?' are allowed in patterns. Unknown names are
 * AMK_ENOTSUP; a result with no names is AMK_EINVAL. On success *@p out
 * is an allocated list the caller frees.
 */
int amk_namelist_apply(const char *defaults, const char *supported, const char *spec, char **out);

/* Shell-style match of @p name against @p pattern with '*' and '?'. */
int amk_wildcard_match(const char *pattern, const char *name);

#endif
