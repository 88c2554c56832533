/*
 * Host names as known_hosts stores them (sshd(8) SSH_KNOWN_HOSTS FILE
 * FORMAT): the lookup name ("host" or "[host]:port"), comma-separated
 * pattern lists with '*', '?' and '!' negation, and hashed names
 * "|1|base64(salt)|base64(HMAC-SHA1(salt, name))".
 */
#ifndef AMK_KEYS_HOST_PATTERN_H
#define AMK_KEYS_HOST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct amk_buf;

/* The SSH default port: a name on it is stored without brackets. */
#define AMK_HOST_DEFAULT_PORT 22u
/* Longest host name we look up or store, and longest lookup name
 * ("[" host "]:" port), including the NUL. */
#define AMK_HOST_NAME_MAX 1025u
#define AMK_HOST_LOOKUP_MAX (AMK_HOST_NAME_MAX + 8u)
/* Longest single pattern of a list (as OpenSSH's match_pattern_list). */
#define AMK_HOST_PATTERN_MAX 1023u
/* Hashed names: "|1|", then a 20-byte salt and a 20-byte HMAC-SHA1. */
#define AMK_HOST_HASH_MAGIC "|1|"
#define AMK_HOST_HASH_MAGIC_LEN 3u
#define AMK_HOST_HASH_DELIM '|'
#define AMK_HOST_HASH_LEN 20u

/* Results of amk_host_pattern_list_match(). */
enum amk_host_match {
    AMK_HOST_MATCH_NEGATED = -1,    /* a '!' pattern matched: the list does not apply */
    AMK_HOST_MATCH_NONE = 0,
    AMK_HOST_MATCH_YES = 1
};

/*
 * The name known_hosts stores for @p host on @p port, lower-cased: the host
 * itself for port 0 or 22, else "[host]:port". @p out has @p cap bytes.
 * AMK_EINVAL for an empty or over-long host, a port above 65535, or a host
 * with characters that would change the meaning of a known_hosts line
 * (blanks, controls, and any of ",*?![]|#@").
 */
int amk_host_lookup_name(const char *host, unsigned port, char *out, size_t cap)
    __attribute__((warn_unused_result));

/*
 * Matches the lower-case @p name against the comma-separated pattern list
 * of @p len bytes at @p list. Patterns are compared case-insensitively,
 * '*' matches any run of characters and '?' any one character; a pattern
 * starting with '!' negates. Any matching negated pattern makes the result
 * AMK_HOST_MATCH_NEGATED whatever else matched. A pattern longer than
 * AMK_HOST_PATTERN_MAX makes the whole list match nothing.
 */
enum amk_host_match amk_host_pattern_list_match(const char *list, size_t len, const char *name);

/* Whether every pattern in the list has at most AMK_HOST_PATTERN_MAX bytes. */
int amk_host_pattern_list_ok(const char *list, size_t len);

/*
 * Splits a hashed host field "|1|salt|hash" of @p len bytes; both parts
 * MUST decode to AMK_HOST_HASH_LEN bytes. AMK_EFORMAT otherwise,
 * AMK_ENOTSUP for a different magic ("|2|...").
 */
int amk_host_hash_parse(const char *field, size_t len, uint8_t salt[AMK_HOST_HASH_LEN],
    uint8_t hash[AMK_HOST_HASH_LEN]) __attribute__((warn_unused_result));

/* HMAC-SHA1 keyed with @p salt over the lookup name @p name. */
int amk_host_hash_compute(const uint8_t salt[AMK_HOST_HASH_LEN], const char *name,
    uint8_t out[AMK_HOST_HASH_LEN]) __attribute__((warn_unused_result));

/* Appends "|1|base64(salt)|base64(hash of name)" to @p out. */
int amk_host_hash_write(const uint8_t salt[AMK_HOST_HASH_LEN], const char *name,
    struct amk_buf *out) __attribute__((warn_unused_result));

#endif
