/*
 * authorized_keys inside the keys layer: the layouts behind the opaque
 * types of amiko/authorized_keys.h and the pieces tests and fuzzers reach
 * directly (option parsing, from= matching, expiry-time).
 */
#ifndef AMK_KEYS_AUTHORIZED_KEYS_H
#define AMK_KEYS_AUTHORIZED_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/authorized_keys.h>

#include "util/err.h"

/* Most entries of one list option (environment=, permitopen=, ...). */
#define AMK_AK_MAX_LIST 256
/* Bad lines whose reason is kept. */
#define AMK_AK_MAX_BAD_KEPT 64
#define AMK_AK_REASON_MAX 128

struct amk_key;

struct amk_ak_list {
    char **v;
    size_t n;
};

struct amk_authorized_key_opts {
    size_t line;
    int restricted;
    int cert_authority;
    int permit_pty;
    int permit_port_forwarding;
    int permit_agent_forwarding;
    int permit_x11_forwarding;
    int permit_user_rc;
    int no_touch_required;
    int verify_required;
    char *command;
    char *from;
    char *principals;
    char *tunnel;
    int64_t expiry;                 /* 0: none */
    struct amk_ak_list env;
    struct amk_ak_list permitopen;
    struct amk_ak_list permitlisten;
};

struct amk_ak_entry {
    struct amk_key *key;
    struct amk_authorized_key_opts opts;
};

struct amk_ak_bad {
    size_t line;
    char reason[AMK_AK_REASON_MAX];
};

struct amk_authorized_keys {
    struct amk_ak_entry *entries;
    size_t n;
    size_t cap;
    struct amk_ak_bad bad[AMK_AK_MAX_BAD_KEPT];
    size_t n_bad;                   /* all bad lines, kept or not */
    struct amk_error detail;
};

/* Sets the defaults of a line without options (everything permitted). */
void amk_ak_opts_init(struct amk_authorized_key_opts *o);
/* Frees what @p o holds (not @p o itself). */
void amk_ak_opts_release(struct amk_authorized_key_opts *o);

/*
 * Parses the options field of @p len bytes (no leading or trailing
 * blanks) into @p o (initialised by the caller). AMK_OK; AMK_EFORMAT with
 * @p why (AMK_AK_REASON_MAX bytes) saying what is wrong; AMK_ENOMEM.
 */
int amk_ak_parse_options(const char *s, size_t len, struct amk_authorized_key_opts *o,
    char *why) __attribute__((warn_unused_result));

/*
 * Parses one line (without its newline) into @p e. AMK_OK; AMK_ENOENT for
 * a blank or comment line; AMK_EFORMAT / AMK_ENOTSUP with @p why for a bad
 * one; AMK_ENOMEM.
 */
int amk_ak_parse_line(const char *line, size_t len, struct amk_ak_entry *e, char *why)
    __attribute__((warn_unused_result));

/*
 * sshd's expiry-time: YYYYMMDD[HHMM[SS]] in local time, or with a trailing
 * 'Z' in UTC. AMK_OK or AMK_EFORMAT.
 */
int amk_ak_parse_time(const char *s, size_t len, int64_t *out)
    __attribute__((warn_unused_result));

/*
 * from= matching: @p patterns is a comma-separated list of host name or
 * address patterns ('*', '?'), CIDR blocks ("10.0.0.0/8", "fe80::/10"),
 * each optionally negated with '!'. 1 when some pattern matches @p ip or
 * @p host (may be NULL) and no negated one does; 0 otherwise (also for a
 * NULL @p ip); -1 when the list is invalid.
 */
int amk_ak_from_match(const char *patterns, const char *ip, const char *host);

/* Whether a pattern list is valid for from= (lengths, CIDR syntax). */
int amk_ak_from_valid(const char *patterns);

#endif
