/*
 * Scanning a log for secrets (issue 9, "Secrets"): used by
 * test_secrets_log.c (amiko's client against sshd) and
 * test_serve_secrets_log.c (amiko's client against `amiko serve`, both
 * logs). Each check fails the running cmocka test with what it found.
 */
#ifndef AMK_TESTS_SECRETS_SCAN_H
#define AMK_TESTS_SECRETS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/log.h>

/* A log callback (amk_client_set_log and the like) that appends
 * "LEVEL: message\n" to the struct amk_buf given as @p buf; aborts when it
 * cannot, as a lost line could hide a secret. */
void secrets_log_to_buf(void *buf, enum amk_log_level level, const char *msg);

/* Fails when @p text contains @p needle (named @p what in the message). */
void secrets_must_not_contain(const char *text, const char *needle, const char *what);

/* Fails when @p text holds any 12-byte run of @p secret: raw, as hex (both
 * cases) or as base64 (the three alignments). */
void secrets_must_not_contain_bytes(const char *text, size_t textlen, const uint8_t *secret,
    size_t len, const char *what);

/* Fails on a run of 24+ base64 or hex characters (a 16-byte key in base64,
 * 12 bytes in hex) in @p text that is not
 * part of one of the @p nallowed strings of @p allowed: session keys, KEX
 * secrets and signatures would show up as such runs. */
void secrets_no_unexplained_runs(const char *text, const char *const *allowed,
    size_t nallowed);

/* Fails when @p text holds the private part of the key in file @p path
 * (12-byte runs, as above) or the first 24 characters of any line of the
 * file's base64 body. */
void secrets_check_key_not_logged(const char *text, const char *path);

/*
 * Public material a log may name, for secrets_no_unexplained_runs(): the
 * text of @p known_hosts, the text of each of the @p npub .pub files, and
 * the SHA-256 fingerprint of every key in @p known_hosts and the .pub
 * files. Up to @p cap strings into @p allowed (free each); their number
 * in *@p n.
 */
void secrets_allowed_runs(const char *known_hosts, const char *const *pub_files, size_t npub,
    char **allowed, size_t cap, size_t *n);

#endif
