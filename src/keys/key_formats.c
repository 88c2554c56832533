/*
 * The public entry points of include/amiko/key.h for the formats beyond
 * OpenSSH's own: saving as PEM or PKCS#8, RFC 4716 public keys and the
 * randomart picture. The formats themselves are in key_pem.c,
 * key_rfc4716.c and randomart.c. See amiko/key.h.
 */
#include <stdlib.h>
#include <string.h>

#include "keys/key.h"
#include "keys/keyfile.h"
#include "util/buf.h"

static int
write_format(const struct amk_key *k, enum amk_key_format format, const char *passphrase,
    struct amk_buf *text)
{
    switch (format) {
    case AMK_KEY_FORMAT_OPENSSH:
        return amk_openssh_write(k, passphrase, NULL, 0, NULL, text);
    case AMK_KEY_FORMAT_PEM:
        return amk_pem_write(k, 0, passphrase, text);
    case AMK_KEY_FORMAT_PKCS8:
        return amk_pem_write(k, 1, passphrase, text);
    case AMK_KEY_FORMAT_PPK:
        return amk_ppk_write(k, passphrase, NULL, text);
    }
    return AMK_EINVAL;
}

int
amk_key_save_format(const struct amk_key *k, enum amk_key_format format,
    const char *passphrase, char **out, size_t *outlen)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    amk_buf_init(&text);
    if ((r = write_format(k, format, passphrase, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, outlen);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_save_file_format(const struct amk_key *k, const char *path,
    enum amk_key_format format, const char *passphrase)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    amk_buf_init(&text);
    if ((r = write_format(k, format, passphrase, &text)) != AMK_OK)
        goto out;
    r = amk_key_file_write(path, amk_buf_ptr(&text), amk_buf_len(&text), 0600);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_public_rfc4716(const struct amk_key *k, char **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = amk_rfc4716_write(k, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, NULL);
out:
    amk_buf_release(&text);
    return r;
}

int
amk_key_randomart(const struct amk_key *k, enum amk_key_fp_hash hash, char **out)
{
    struct amk_buf text;
    int r = AMK_EINTERNAL;

    *out = NULL;
    amk_buf_init(&text);
    if ((r = amk_key_write_randomart(k, hash, &text)) != AMK_OK)
        goto out;
    r = amk_buf_to_cstring(&text, out, NULL);
out:
    amk_buf_release(&text);
    return r;
}
