/*
 * The public key API of include/amiko/key.h: format detection, files,
 * and text results. Formats themselves are in key_openssh.c and
 * key_public.c. See amiko/key.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"
#include "util/secure.h"

/* Key files are small; refuse anything larger than this. */
#define KEY_FILE_MAX ((size_t)1024 * 1024)

int
amk_key_create(enum amk_key_type type, unsigned bits, struct amk_key **out)
{
    /* enum amk_key_type has the values of enum amk_pkey_type. */
    switch (type) {
    case AMK_KEY_ED25519: return amk_key_generate(AMK_PKEY_ED25519, bits, out);
    case AMK_KEY_ECDSA_P256: return amk_key_generate(AMK_PKEY_ECDSA_P256, bits, out);
    case AMK_KEY_ECDSA_P384: return amk_key_generate(AMK_PKEY_ECDSA_P384, bits, out);
    case AMK_KEY_ECDSA_P521: return amk_key_generate(AMK_PKEY_ECDSA_P521, bits, out);
    case AMK_KEY_RSA: return amk_key_generate(AMK_PKEY_RSA, bits, out);
    case AMK_KEY_DSA: return amk_key_generate(AMK_PKEY_DSA, bits, out);
    }
    *out = NULL;
    return AMK_ENOTSUP;
}

int
amk_key_load(const void *data, size_t len, amk_passphrase_fn passphrase_fn, void *user,
    struct amk_key **out)
{
    struct amk_buf bin;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (data == NULL && len > 0)
        return AMK_EINVAL;
    amk_buf_init(&bin);
    if (amk_openssh_is_armored(data, len)) {
        if ((r = amk_openssh_unarmor(data, len, &bin)) != AMK_OK)
            goto out;
        r = amk_openssh_parse(amk_buf_ptr(&bin), amk_buf_len(&bin), passphrase_fn, user, out);
        goto out;
    }
    if (amk_pem_is_armored(data, len)) {
        r = amk_pem_parse(data, len, passphrase_fn, user, out);
        goto out;
    }
    if (amk_ppk_is_ppk(data, len)) {
        r = amk_ppk_parse(data, len, passphrase_fn, user, out);
        goto out;
    }
    if (amk_rfc4716_is_armored(data, len)) {
        r = amk_rfc4716_parse(data, len, out);
        goto out;
    }
    r = amk_key_parse_public_line(data, len, out);
out:
    amk_buf_release(&bin);
    return r;
}

int
amk_key_load_public(const void *data, size_t len, struct amk_key **out)
{
    struct amk_buf bin;
    struct amk_key *k = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (data == NULL && len > 0)
        return AMK_EINVAL;
    amk_buf_init(&bin);
    if (amk_openssh_is_armored(data, len)) {
        /* PROTOCOL.key: the public key is stored unencrypted. */
        if ((r = amk_openssh_unarmor(data, len, &bin)) != AMK_OK)
            goto out;
        r = amk_openssh_public(amk_buf_ptr(&bin), amk_buf_len(&bin), out);
        goto out;
    }
    if (amk_ppk_is_ppk(data, len)) {
        /* PuTTY's .ppk keeps the public blob in the clear, also when encrypted. */
        r = amk_ppk_public(data, len, out);
        goto out;
    }
    /* Other formats: load (a PEM key only when unencrypted), keep the public half. */
    if ((r = amk_key_load(data, len, NULL, NULL, &k)) != AMK_OK)
        goto out;
    r = amk_key_public_copy(k, out);
out:
    amk_key_free(k);
    amk_buf_release(&bin);
    return r;
}

static int
read_file(const char *path, struct amk_buf *out)
{
    uint8_t chunk[4096];
    ssize_t n;
    int fd = -1, r = AMK_EINTERNAL;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return AMK_EIO;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = AMK_EIO;
            goto out;
        }
        if (n == 0)
            break;
        if (amk_buf_len(out) + (size_t)n > KEY_FILE_MAX) {
            r = AMK_ETOOBIG;
            goto out;
        }
        if ((r = amk_buf_put(out, chunk, (size_t)n)) != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    amk_wipe(chunk, sizeof(chunk));
    close(fd);
    return r;
}

int
amk_key_load_file(const char *path, amk_passphrase_fn passphrase_fn, void *user,
    struct amk_key **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = read_file(path, &text)) != AMK_OK)
        goto out;
    r = amk_key_load(amk_buf_ptr(&text), amk_buf_len(&text), passphrase_fn, user, out);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_load_public_file(const char *path, struct amk_key **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = read_file(path, &text)) != AMK_OK)
        goto out;
    r = amk_key_load_public(amk_buf_ptr(&text), amk_buf_len(&text), out);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_save(const struct amk_key *k, const char *passphrase, char **out, size_t *outlen)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    amk_buf_init(&text);
    if ((r = amk_openssh_write(k, passphrase, NULL, 0, NULL, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, outlen);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_file_write(const char *path, const void *data, size_t len, unsigned mode)
{
    const uint8_t *p = data;
    char *tmp = NULL;
    ssize_t n;
    size_t off = 0;
    int fd = -1, r = AMK_EINTERNAL;

    if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
        tmp = NULL;
        r = AMK_ENOMEM;
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        r = AMK_EIO;
        goto out;
    }
    if (fchmod(fd, (mode_t)mode) != 0) {
        r = AMK_EIO;
        goto out;
    }
    while (off < len) {
        n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = AMK_EIO;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        r = AMK_EIO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        r = AMK_EIO;
        goto out;
    }
    r = AMK_OK;
out:
    if (fd >= 0)
        close(fd);
    if (r != AMK_OK && tmp != NULL)
        unlink(tmp);
    amk_free(tmp);
    return r;
}

int
amk_key_save_file(const struct amk_key *k, const char *path, const char *passphrase)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    amk_buf_init(&text);
    if ((r = amk_openssh_write(k, passphrase, NULL, 0, NULL, &text)) != AMK_OK)
        goto out;
    r = amk_key_file_write(path, amk_buf_ptr(&text), amk_buf_len(&text), 0600);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_public_line(const struct amk_key *k, char **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = amk_key_write_public_line(k, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, NULL);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_save_public_file(const struct amk_key *k, const char *path)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    amk_buf_init(&text);
    if ((r = amk_key_write_public_line(k, &text)) != AMK_OK ||
        (r = amk_buf_put_u8(&text, '\n')) != AMK_OK)
        goto out;
    r = amk_key_file_write(path, amk_buf_ptr(&text), amk_buf_len(&text), 0644);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_fingerprint(const struct amk_key *k, enum amk_key_fp_hash hash, char **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = amk_key_write_fingerprint(k, hash, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, NULL);
out:
    amk_buf_release(&text);
    return r;
}
