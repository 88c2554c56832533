/*
 * SSH keys inside the library: the public-key blob of RFC 4253 §6.6
 * (and RFC 5656 §3.1, RFC 8709 §4), and SSH signature blobs
 * (string algorithm, string signature) for every key type.
 *
 * This is the contract the transport uses to verify host-key signatures
 * and the server uses to sign. Key files, fingerprints and known_hosts
 * build on it (see the keys issue).
 */
#ifndef AMK_KEYS_KEY_H
#define AMK_KEYS_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <amiko/key.h>

#include "crypto/pkey.h"

struct amk_buf;
struct amk_key;

/* The key's type name in blobs: "ssh-ed25519", "ecdsa-sha2-nistp256",
 * "ssh-rsa", "ssh-dss". */
const char *amk_key_type_name(const struct amk_key *k);

/* The underlying crypto key (owned by @p k). */
const struct amk_pkey *amk_key_pkey(const struct amk_key *k);

/* Wraps @p pk (ownership passes to the key, also on failure). */
int amk_key_from_pkey(struct amk_pkey *pk, struct amk_key **out)
    __attribute__((warn_unused_result));

/* Parses a public-key blob (the contents of the string, not the string).
 * AMK_EFORMAT for a malformed blob, AMK_ENOTSUP for an unknown type,
 * AMK_EKEY for invalid key material. Trailing data is AMK_EFORMAT. */
int amk_key_from_blob(const uint8_t *blob, size_t len, struct amk_key **out)
    __attribute__((warn_unused_result));

/* Appends the public-key blob of @p k to @p out (not length-prefixed). */
int amk_key_to_blob(const struct amk_key *k, struct amk_buf *out)
    __attribute__((warn_unused_result));

/*
 * Whether @p sig_alg is a signature algorithm for @p k's type:
 * "ssh-ed25519"; "ecdsa-sha2-nistp256/384/521" for the matching curve;
 * "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa" for RSA; "ssh-dss" for DSA.
 */
int amk_key_sig_alg_ok(const struct amk_key *k, const char *sig_alg);

/*
 * Signs @p data with @p sig_alg (NULL: the type's default; RSA defaults to
 * rsa-sha2-512) and appends the signature blob (string alg, string sig;
 * for ECDSA the sig is mpint r, mpint s) to @p out, not length-prefixed.
 */
int amk_key_sign(const struct amk_key *k, const char *sig_alg, const uint8_t *data,
    size_t len, struct amk_buf *out) __attribute__((warn_unused_result));

/*
 * Verifies the signature blob @p sig over @p data. When @p sig_alg is not
 * NULL the blob's algorithm must equal it (the negotiated host-key
 * algorithm). AMK_OK, AMK_ESIGNATURE, or AMK_EFORMAT for a malformed blob.
 */
int amk_key_verify(const struct amk_key *k, const char *sig_alg, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t len) __attribute__((warn_unused_result));

/* Generates a key (see amk_pkey_generate for @p bits). */
int amk_key_generate(enum amk_pkey_type type, unsigned bits, struct amk_key **out)
    __attribute__((warn_unused_result));

int amk_key_equal_public(const struct amk_key *a, const struct amk_key *b);
void amk_key_free(struct amk_key *k);   /* wipes private material; NULL is fine */

/* ---- Additions beyond the transport contract (keys layer and files). ---- */

/* RSA keys under this size are refused (keys issue); generation starts at 2048. */
#define AMK_KEY_RSA_MIN_BITS 1024u
#define AMK_KEY_RSA_GEN_MIN_BITS 2048u
#define AMK_KEY_RSA_MAX_BITS 16384u
#define AMK_KEY_DSA_BITS 1024u
#define AMK_KEY_DSA_Q_BITS 160u
#define AMK_KEY_ED25519_LEN 32u

/* What each SSH key type is called and how it is encoded. */
struct amk_key_info {
    enum amk_pkey_type type;
    const char *name;        /* key type name in blobs */
    const char *curve;       /* ECDSA: RFC 5656 §6.1 curve identifier; else NULL */
    size_t field_len;        /* ECDSA: bytes of a field element; Ed25519: 32 */
};

/* NULL when unknown. @p name need not be NUL-terminated. */
const struct amk_key_info *amk_key_info_by_name(const char *name, size_t len);
const struct amk_key_info *amk_key_info_by_type(enum amk_pkey_type type);
const struct amk_key_info *amk_key_info(const struct amk_key *k);

enum amk_pkey_type amk_key_type(const struct amk_key *k);
int amk_key_has_private(const struct amk_key *k);
unsigned amk_key_bits(const struct amk_key *k);
/* The comment ("" when none); set copies it (NULL clears). */
const char *amk_key_comment(const struct amk_key *k);
int amk_key_set_comment(struct amk_key *k, const char *comment)
    __attribute__((warn_unused_result));
/* A new key with only the public half (and the comment). */
int amk_key_public_copy(const struct amk_key *k, struct amk_key **out)
    __attribute__((warn_unused_result));

/* Reads the public fields that follow the type name in a blob or a key
 * file entry; @p parts receives views into @p b. */
int amk_key_read_public_parts(const struct amk_key_info *info, struct amk_buf *b,
    struct amk_bytes parts[AMK_PART_COUNT]) __attribute__((warn_unused_result));
/* Appends the public fields that follow the type name. */
int amk_key_write_public_parts(const struct amk_key *k, struct amk_buf *out)
    __attribute__((warn_unused_result));
/* Maps wire-field errors (truncated, too big) to AMK_EFORMAT. */
int amk_key_format_err(int r);
/* Bit length of a big-endian magnitude. */
size_t amk_key_mag_bits(const uint8_t *p, size_t len);

/* The hash a signature algorithm uses with @p k's type (sig_alg NULL: the
 * default); AMK_ESIGNATURE when @p sig_alg does not fit the key. */
int amk_key_sig_hash(const struct amk_key *k, const char *sig_alg, const char **name,
    enum amk_hash_alg *hash) __attribute__((warn_unused_result));

#endif
