/*
 * Key file formats inside the keys layer: OpenSSH private keys
 * (key_openssh.c), public key lines and fingerprints (key_public.c).
 * The public entry points are in include/amiko/key.h (key_file.c).
 */
#ifndef AMK_KEYS_KEYFILE_H
#define AMK_KEYS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/key.h>

#include "crypto/rand.h"

struct amk_buf;
struct amk_key;

#define AMK_OPENSSH_ARMOR_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define AMK_OPENSSH_ARMOR_END "-----END OPENSSH PRIVATE KEY-----"
/* ssh-keygen's defaults for a new encrypted key (ssh-keygen(1) -a, -Z). */
#define AMK_OPENSSH_DEFAULT_CIPHER "aes256-ctr"
#define AMK_OPENSSH_DEFAULT_ROUNDS 16u
/* Highest bcrypt cost we run for a file: a hostile file must not hang us. */
#define AMK_OPENSSH_MAX_ROUNDS 4096u
#define AMK_OPENSSH_SALT_LEN 16u

/* Asks @p fn (may be NULL) for a passphrase into @p buf; AMK_EPASSPHRASE
 * when there is none or it is empty, or the callback's own error code. */
int amk_key_get_passphrase(amk_passphrase_fn fn, void *user, char *buf, size_t cap)
    __attribute__((warn_unused_result));

/* Whether @p text starts (after whitespace) with the OpenSSH armor. */
int amk_openssh_is_armored(const char *text, size_t len);

/* Strips the PEM-like armor and decodes the base64 inside into @p out. */
int amk_openssh_unarmor(const char *text, size_t len, struct amk_buf *out)
    __attribute__((warn_unused_result));

/*
 * Checks the openssh-key-v1 container @p blob and decrypts its private
 * section into @p priv (check integers first). Asks @p fn for a passphrase
 * when encrypted. @p pubblob (may be NULL) receives a copy of the public
 * key blob of the header. Errors as amk_key_load().
 */
int amk_openssh_decrypt(const uint8_t *blob, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_buf *priv, struct amk_buf *pubblob) __attribute__((warn_unused_result));

/* Parses the openssh-key-v1 container @p blob (after unarmoring). */
int amk_openssh_parse(const uint8_t *blob, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out) __attribute__((warn_unused_result));

/* The public key in the clear header of the container (no passphrase needed). */
int amk_openssh_public(const uint8_t *blob, size_t len, struct amk_key **out)
    __attribute__((warn_unused_result));

/*
 * Appends @p k as an armored OpenSSH private key to @p out. With a
 * non-empty @p passphrase, encrypts with @p cipher (NULL: aes256-ctr) and
 * bcrypt_pbkdf of @p rounds (0: 16); salt and check integer from @p rng
 * (NULL: the system CSPRNG).
 */
int amk_openssh_write(const struct amk_key *k, const char *passphrase, const char *cipher,
    unsigned rounds, const struct amk_rng *rng, struct amk_buf *out)
    __attribute__((warn_unused_result));

/* Parses a public key line "type base64 [comment]". */
int amk_key_parse_public_line(const char *line, size_t len, struct amk_key **out)
    __attribute__((warn_unused_result));

/* Appends "type base64[ comment]" to @p out (no newline, no NUL). */
int amk_key_write_public_line(const struct amk_key *k, struct amk_buf *out)
    __attribute__((warn_unused_result));

/* Appends the fingerprint text to @p out (no NUL). */
int amk_key_write_fingerprint(const struct amk_key *k, enum amk_key_fp_hash hash,
    struct amk_buf *out) __attribute__((warn_unused_result));

/* ---- Other formats (key_rfc4716.c, key_pem.c, key_ppk.c, randomart.c). ---- */

/* Writes @p len bytes to a new file at @p path with @p mode, replacing an
 * old one only once the new one is complete (key_file.c). */
int amk_key_file_write(const char *path, const void *data, size_t len, unsigned mode)
    __attribute__((warn_unused_result));

/* Whether @p text starts (after blank lines) with RFC 4716's begin line. */
int amk_rfc4716_is_armored(const char *text, size_t len);
/* Parses an RFC 4716 public key file; its Comment header becomes the comment. */
int amk_rfc4716_parse(const char *text, size_t len, struct amk_key **out)
    __attribute__((warn_unused_result));
/* Appends @p k's public key as an RFC 4716 file (lines end in LF). */
int amk_rfc4716_write(const struct amk_key *k, struct amk_buf *out)
    __attribute__((warn_unused_result));

/* Whether @p text starts with a PEM line "-----BEGIN <label>-----" that
 * key_pem.c reads (RSA/EC/DSA PRIVATE KEY, PRIVATE KEY, ENCRYPTED PRIVATE KEY). */
int amk_pem_is_armored(const char *text, size_t len);
/* Parses a PEM or PKCS#8 private key; errors as amk_key_load(). */
int amk_pem_parse(const char *text, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out) __attribute__((warn_unused_result));
/* Appends @p k as PEM (@p pkcs8 0: PKCS#1, SEC1 or DSA, with legacy
 * encryption; Ed25519 always PKCS#8) or PKCS#8 (encrypted with PBES2). */
int amk_pem_write(const struct amk_key *k, int pkcs8, const char *passphrase,
    struct amk_buf *out) __attribute__((warn_unused_result));

/* Whether @p text starts with "PuTTY-User-Key-File-". */
int amk_ppk_is_ppk(const char *text, size_t len);
/* Appends @p k as a PuTTY .ppk version 3 file; with a non-empty
 * @p passphrase encrypted (Argon2id, aes256-cbc), the salt from @p rng
 * (NULL: the system CSPRNG). AMK_EKEY without a private half. */
int amk_ppk_write(const struct amk_key *k, const char *passphrase, const struct amk_rng *rng,
    struct amk_buf *out) __attribute__((warn_unused_result));
/* Parses a PuTTY .ppk file (versions 2 and 3); errors as amk_key_load(). */
int amk_ppk_parse(const char *text, size_t len, amk_passphrase_fn fn, void *user,
    struct amk_key **out) __attribute__((warn_unused_result));
/* The public key and comment of a .ppk file, without the passphrase (the
 * MAC is not checked). */
int amk_ppk_public(const char *text, size_t len, struct amk_key **out)
    __attribute__((warn_unused_result));

/* Appends the randomart picture (no final newline) as ssh-keygen -lv. */
int amk_key_write_randomart(const struct amk_key *k, enum amk_key_fp_hash hash,
    struct amk_buf *out) __attribute__((warn_unused_result));

#endif
