/**
 * @file amiko/key.h
 * @brief SSH keys: load, save, generate and fingerprint Ed25519, ECDSA
 * (P-256/384/521), RSA and DSA keys.
 *
 * A key is an opaque `struct amk_key`, public only or with its private
 * half. Private key material is wiped when the key is freed.
 *
 * Formats read: OpenSSH private keys ("openssh-key-v1", PROTOCOL.key),
 * plain or encrypted with bcrypt_pbkdf and aes128/192/256-ctr,
 * aes128/192/256-cbc, aes128/256-gcm@openssh.com or
 * chacha20-poly1305@openssh.com; PEM private keys (PKCS#1 RSA, SEC1 EC,
 * DSA), plain or with legacy encryption (Proc-Type/DEK-Info with
 * AES-128-CBC, AES-192-CBC, AES-256-CBC or DES-EDE3-CBC); PKCS#8, plain
 * ("PRIVATE KEY") or encrypted ("ENCRYPTED PRIVATE KEY"); PuTTY .ppk
 * versions 2 and 3, plain or aes256-cbc; OpenSSH public key lines
 * ("type base64 comment") and RFC 4716 public key files.
 * Formats written: OpenSSH private keys (plain, or with a passphrase:
 * bcrypt_pbkdf with 16 rounds and aes256-ctr, as ssh-keygen), PEM and
 * PKCS#8 (amk_key_save_format()), public key lines and RFC 4716.
 */
#ifndef AMIKO_KEY_H
#define AMIKO_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An SSH key (opaque). */
struct amk_key;

/** Key types for amk_key_create(). */
enum amk_key_type {
    AMK_KEY_ED25519 = 1,    /**< ssh-ed25519 (RFC 8709) */
    AMK_KEY_ECDSA_P256,     /**< ecdsa-sha2-nistp256 (RFC 5656) */
    AMK_KEY_ECDSA_P384,     /**< ecdsa-sha2-nistp384 */
    AMK_KEY_ECDSA_P521,     /**< ecdsa-sha2-nistp521 */
    AMK_KEY_RSA,            /**< ssh-rsa keys (signing with rsa-sha2-256/512, RFC 8332) */
    AMK_KEY_DSA             /**< ssh-dss, 1024 bits (legacy) */
};

/** Fingerprint hashes for amk_key_fingerprint(). */
enum amk_key_fp_hash {
    AMK_KEY_FP_SHA256 = 0,  /**< "SHA256:" + unpadded base64, ssh-keygen's default */
    AMK_KEY_FP_MD5 = 1      /**< "MD5:" + colon-separated hex (ssh-keygen -E md5) */
};

/** Longest passphrase amiko asks a callback for, including the NUL. */
#define AMK_KEY_PASSPHRASE_MAX 1024

/**
 * Supplies the passphrase of an encrypted key. The callback MUST write a
 * NUL-terminated passphrase of at most @p cap - 1 bytes into @p buf and
 * return AMK_OK, or return a negative AMK_E... code (AMK_EPASSPHRASE when
 * it has none), which the load call then returns. @p buf is wiped after use.
 */
typedef int (*amk_passphrase_fn)(void *user, char *buf, size_t cap);

/**
 * Generates a new key pair.
 * @param type  the key type
 * @param bits  RSA: 2048..16384, 0 for 3072; DSA: 1024 or 0; ignored otherwise
 * @param out   receives the key; free it with amk_key_free()
 * @return AMK_OK; AMK_EINVAL for a bit size out of range; AMK_ENOTSUP for
 *         an unknown type; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_create(enum amk_key_type type, unsigned bits, struct amk_key **out)
    AMK_MUST_CHECK;

/**
 * Loads a key from memory: an OpenSSH private key file, a PEM or PKCS#8
 * private key, a PuTTY .ppk file (v2 or v3), an OpenSSH public key line or
 * an RFC 4716 public key file (the format is recognised from the text). @p passphrase_fn (may be
 * NULL) is called only for an encrypted key.
 * @return AMK_OK;
 *   AMK_EPASSPHRASE when the key is encrypted and the passphrase is wrong
 *   or no callback was given (or the code the callback returned);
 *   AMK_EFORMAT for a malformed, truncated or corrupted file;
 *   AMK_ENOTSUP for an unknown format, key type, cipher or KDF;
 *   AMK_EKEY for invalid key material (bad point, RSA under 1024 bits,
 *   private half not matching the public one);
 *   AMK_ELIMIT for a KDF cost above what amiko accepts; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_load(const void *data, size_t len, amk_passphrase_fn passphrase_fn,
    void *user, struct amk_key **out) AMK_MUST_CHECK;

/**
 * As amk_key_load() from the file at @p path; in addition AMK_EIO when it
 * cannot be read and AMK_ETOOBIG when it is larger than 1 MiB.
 */
AMK_API int amk_key_load_file(const char *path, amk_passphrase_fn passphrase_fn, void *user,
    struct amk_key **out) AMK_MUST_CHECK;

/**
 * Loads only the public half of a key, without asking for a passphrase:
 * from an OpenSSH private key (its header holds the public key in the
 * clear, but not the comment), a .ppk key (its public blob and comment
 * are in the clear, also when encrypted), an unencrypted PEM or PKCS#8
 * key, a public key line or an RFC 4716 file. Errors as amk_key_load(); an
 * encrypted PEM or PKCS#8 key gives AMK_EPASSPHRASE.
 */
AMK_API int amk_key_load_public(const void *data, size_t len, struct amk_key **out)
    AMK_MUST_CHECK;

/** As amk_key_load_public() from a file; also AMK_EIO and AMK_ETOOBIG. */
AMK_API int amk_key_load_public_file(const char *path, struct amk_key **out) AMK_MUST_CHECK;

/**
 * Writes @p k (which MUST hold a private key) in the OpenSSH private key
 * format, with its comment. A NULL or empty @p passphrase writes it
 * unencrypted; otherwise it is encrypted with aes256-ctr under a key from
 * bcrypt_pbkdf (16 rounds, random 16-byte salt).
 * @param out    receives the NUL-terminated text; free it with free()
 * @param outlen receives its length (may be NULL)
 * @return AMK_OK; AMK_EKEY when @p k has no private half; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_save(const struct amk_key *k, const char *passphrase, char **out,
    size_t *outlen) AMK_MUST_CHECK;

/**
 * As amk_key_save() to the file at @p path, created with mode 0600 (an
 * existing file is replaced). AMK_EIO when it cannot be written.
 */
AMK_API int amk_key_save_file(const struct amk_key *k, const char *path, const char *passphrase)
    AMK_MUST_CHECK;

/**
 * The public key line "type base64 [comment]" of @p k, without a newline.
 * Control characters of the comment (a line break, ESC, ...) are written
 * as '?', so the line is one line and parses back to the same key.
 * @param out receives the NUL-terminated line; free it with free()
 * @return AMK_OK or AMK_ENOMEM.
 */
AMK_API int amk_key_public_line(const struct amk_key *k, char **out) AMK_MUST_CHECK;

/**
 * Writes the public key line and a newline to @p path (mode 0644), like
 * ssh-keygen's .pub file. AMK_OK, AMK_EIO or AMK_ENOMEM.
 */
AMK_API int amk_key_save_public_file(const struct amk_key *k, const char *path) AMK_MUST_CHECK;

/**
 * The fingerprint of @p k's public key blob as `ssh-keygen -l` prints it,
 * e.g. "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" or
 * "MD5:d4:1d:8c:...".
 * @param out receives the NUL-terminated text; free it with free()
 * @return AMK_OK; AMK_EINVAL for an unknown @p hash; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_fingerprint(const struct amk_key *k, enum amk_key_fp_hash hash, char **out)
    AMK_MUST_CHECK;

/** Private key file formats for amk_key_save_format(). */
enum amk_key_format {
    AMK_KEY_FORMAT_OPENSSH = 0, /**< openssh-key-v1, as amk_key_save() */
    /**
     * PEM as `ssh-keygen -m PEM`: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE
     * KEY" (SEC1), "DSA PRIVATE KEY"; with a passphrase, legacy
     * Proc-Type/DEK-Info encryption with AES-128-CBC. Ed25519 has no such
     * form and is written as PKCS#8.
     */
    AMK_KEY_FORMAT_PEM = 1,
    /**
     * PKCS#8 "PRIVATE KEY" (RFC 5208, RFC 8410 for Ed25519); with a
     * passphrase "ENCRYPTED PRIVATE KEY" (RFC 5958) with PBES2: PBKDF2
     * (HMAC-SHA-256) and AES-256-CBC (RFC 8018).
     */
    AMK_KEY_FORMAT_PKCS8 = 2,
    /**
     * PuTTY .ppk version 3 (PuTTY 0.75 and later), with the comment; with
     * a passphrase aes256-cbc under Argon2id (8192 KiB, 13 passes, 1 lane,
     * random 16-byte salt) and HMAC-SHA-256.
     */
    AMK_KEY_FORMAT_PPK = 3
};

/**
 * As amk_key_save() in @p format. A NULL or empty @p passphrase writes the
 * key unencrypted.
 * @return AMK_OK; AMK_EINVAL for an unknown @p format; AMK_EKEY when @p k
 *         has no private half; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_save_format(const struct amk_key *k, enum amk_key_format format,
    const char *passphrase, char **out, size_t *outlen) AMK_MUST_CHECK;

/**
 * As amk_key_save_format() to the file at @p path, created with mode 0600
 * (an existing file is replaced). AMK_EIO when it cannot be written.
 */
AMK_API int amk_key_save_file_format(const struct amk_key *k, const char *path,
    enum amk_key_format format, const char *passphrase) AMK_MUST_CHECK;

/**
 * The public key as an RFC 4716 file, as `ssh-keygen -e` writes it: begin
 * line, a Comment header when the key has a comment, the base64 blob in
 * lines of 70 characters, end line; every line ends in LF.
 * @param out receives the NUL-terminated text; free it with free()
 * @return AMK_OK; AMK_EINVAL when the comment holds a line break or is
 *         longer than 1022 bytes (RFC 4716 §3.3 limits a header value,
 *         quotes included, to 1024); AMK_ENOMEM.
 */
AMK_API int amk_key_public_rfc4716(const struct amk_key *k, char **out) AMK_MUST_CHECK;

/**
 * The randomart picture of the fingerprint, byte for byte as `ssh-keygen
 * -lv` draws it: 11 lines of 19 characters separated by LF, with no LF
 * after the last.
 * @param out receives the NUL-terminated text; free it with free()
 * @return AMK_OK; AMK_EINVAL for an unknown @p hash; AMK_ENOMEM; AMK_ECRYPTO.
 */
AMK_API int amk_key_randomart(const struct amk_key *k, enum amk_key_fp_hash hash, char **out)
    AMK_MUST_CHECK;

/**
 * The key type as ssh-keygen labels it in `-l` output and randomart
 * titles: "ED25519", "ECDSA", "RSA" or "DSA".
 */
AMK_API const char *amk_key_type_label(const struct amk_key *k);

/** The key type name, e.g. "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa". */
AMK_API const char *amk_key_type_name(const struct amk_key *k);

/** The size in bits (RSA/DSA modulus, ECDSA curve, 256 for Ed25519). */
AMK_API unsigned amk_key_bits(const struct amk_key *k);

/** 1 when @p k holds a private key, else 0. */
AMK_API int amk_key_has_private(const struct amk_key *k);

/** The comment ("" when none). Valid until the key is changed or freed. */
AMK_API const char *amk_key_comment(const struct amk_key *k);

/** Replaces the comment with a copy of @p comment (NULL clears it). AMK_OK or AMK_ENOMEM. */
AMK_API int amk_key_set_comment(struct amk_key *k, const char *comment) AMK_MUST_CHECK;

/** 1 when @p a and @p b hold the same public key, else 0. */
AMK_API int amk_key_equal_public(const struct amk_key *a, const struct amk_key *b);

/** Frees @p k, wiping private material. NULL is fine. */
AMK_API void amk_key_free(struct amk_key *k);

#ifdef __cplusplus
}
#endif
#endif
