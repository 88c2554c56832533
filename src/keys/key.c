/*
 * amk_key: an SSH key over the crypto layer's amk_pkey, and its public-key
 * blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4). Signature blobs are in
 * key_sig.c. See key.h.
 */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "keys/key.h"
#include "keys/key_impl.h"
#include "util/buf.h"
#include "util/secure.h"

/* RFC 4253 §6.6, RFC 5656 §6.1 (curve identifiers), RFC 8709 §4. */
static const struct amk_key_info key_infos[] = {
    { .type = AMK_PKEY_ED25519, .name = "ssh-ed25519", .curve = NULL, .field_len = 32 },
    { .type = AMK_PKEY_ECDSA_P256, .name = "ecdsa-sha2-nistp256", .curve = "nistp256",
      .field_len = 32 },
    { .type = AMK_PKEY_ECDSA_P384, .name = "ecdsa-sha2-nistp384", .curve = "nistp384",
      .field_len = 48 },
    { .type = AMK_PKEY_ECDSA_P521, .name = "ecdsa-sha2-nistp521", .curve = "nistp521",
      .field_len = 66 },
    { .type = AMK_PKEY_RSA, .name = "ssh-rsa", .curve = NULL, .field_len = 0 },
    { .type = AMK_PKEY_DSA, .name = "ssh-dss", .curve = NULL, .field_len = 0 },
};

#define KEY_INFO_COUNT (sizeof(key_infos) / sizeof(key_infos[0]))

const struct amk_key_info *
amk_key_info_by_type(enum amk_pkey_type type)
{
    for (size_t i = 0; i < KEY_INFO_COUNT; i++)
        if (key_infos[i].type == type)
            return &key_infos[i];
    return NULL;
}

const struct amk_key_info *
amk_key_info_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < KEY_INFO_COUNT; i++)
        if (strlen(key_infos[i].name) == len && memcmp(key_infos[i].name, name, len) == 0)
            return &key_infos[i];
    return NULL;
}

/* Bit length of a big-endian magnitude without leading zeros. */
size_t
amk_key_mag_bits(const uint8_t *p, size_t len)
{
    size_t bits;
    uint8_t top;

    while (len > 0 && p[0] == 0) {
        p++;
        len--;
    }
    if (len == 0)
        return 0;
    bits = (len - 1) * 8;
    for (top = p[0]; top != 0; top >>= 1)
        bits++;
    return bits;
}

/* Policy on top of the crypto layer: sizes SSH accepts. */
static int
key_check_size(const struct amk_pkey *pk)
{
    unsigned bits = amk_pkey_bits(pk);

    switch (amk_pkey_type(pk)) {
    case AMK_PKEY_RSA:
        /* The keys issue: refuse RSA keys under 1024 bits. */
        if (bits < AMK_KEY_RSA_MIN_BITS || bits > AMK_KEY_RSA_MAX_BITS)
            return AMK_EKEY;
        return AMK_OK;
    case AMK_PKEY_DSA:
        /* FIPS 186-2 as used by ssh-dss: 1024-bit p. */
        if (bits != AMK_KEY_DSA_BITS)
            return AMK_EKEY;
        return AMK_OK;
    default:
        return AMK_OK;
    }
}

int
amk_key_from_pkey(struct amk_pkey *pk, struct amk_key **out)
{
    struct amk_key *k = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (pk == NULL)
        return AMK_EINVAL;
    if (amk_key_info_by_type(amk_pkey_type(pk)) == NULL) {
        r = AMK_ENOTSUP;
        goto out;
    }
    if ((r = key_check_size(pk)) != AMK_OK)
        goto out;
    if ((k = amk_calloc(1, sizeof(*k))) == NULL) {
        r = AMK_ENOMEM;
        goto out;
    }
    k->info = amk_key_info_by_type(amk_pkey_type(pk));
    k->pk = pk;
    pk = NULL;
    *out = k;
    r = AMK_OK;
out:
    amk_pkey_free(pk);
    return r;
}

void
amk_key_free(struct amk_key *k)
{
    if (k == NULL)
        return;
    amk_pkey_free(k->pk);
    if (k->comment != NULL)
        amk_free_wiped(k->comment, strlen(k->comment));
    amk_free_wiped(k, sizeof(*k));
}

const char *
amk_key_type_name(const struct amk_key *k)
{
    return k->info->name;
}

const struct amk_pkey *
amk_key_pkey(const struct amk_key *k)
{
    return k->pk;
}

const struct amk_key_info *
amk_key_info(const struct amk_key *k)
{
    return k->info;
}

enum amk_pkey_type
amk_key_type(const struct amk_key *k)
{
    return k->info->type;
}

int
amk_key_has_private(const struct amk_key *k)
{
    return amk_pkey_has_private(k->pk);
}

unsigned
amk_key_bits(const struct amk_key *k)
{
    return amk_pkey_bits(k->pk);
}

const char *
amk_key_comment(const struct amk_key *k)
{
    return k->comment != NULL ? k->comment : "";
}

int
amk_key_set_comment(struct amk_key *k, const char *comment)
{
    char *copy = NULL;

    if (comment != NULL && (copy = amk_strdup(comment)) == NULL)
        return AMK_ENOMEM;
    if (k->comment != NULL)
        amk_free_wiped(k->comment, strlen(k->comment));
    k->comment = copy;
    return AMK_OK;
}

int
amk_key_equal_public(const struct amk_key *a, const struct amk_key *b)
{
    if (a == NULL || b == NULL || a->info != b->info)
        return 0;
    return amk_pkey_equal_public(a->pk, b->pk);
}

int
amk_key_public_copy(const struct amk_key *k, struct amk_key **out)
{
    struct amk_pkey *pk = NULL;
    struct amk_key *copy = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if ((r = amk_pkey_public_copy(k->pk, &pk)) != AMK_OK)
        goto out;
    r = amk_key_from_pkey(pk, &copy);
    pk = NULL;
    if (r != AMK_OK)
        goto out;
    if ((r = amk_key_set_comment(copy, k->comment)) != AMK_OK)
        goto out;
    *out = copy;
    copy = NULL;
    r = AMK_OK;
out:
    amk_key_free(copy);
    return r;
}

int
amk_key_generate(enum amk_pkey_type type, unsigned bits, struct amk_key **out)
{
    struct amk_pkey *pk = NULL;
    int r = AMK_EINTERNAL;

    *out = NULL;
    if (amk_key_info_by_type(type) == NULL)
        return AMK_ENOTSUP;
    if (type == AMK_PKEY_RSA && bits != 0 &&
        (bits < AMK_KEY_RSA_GEN_MIN_BITS || bits > AMK_KEY_RSA_MAX_BITS))
        return AMK_EINVAL;
    if (type == AMK_PKEY_DSA && bits != 0 && bits != AMK_KEY_DSA_BITS)
        return AMK_EINVAL;
    if ((r = amk_pkey_generate(&pk, type, bits)) != AMK_OK)
        return r;
    return amk_key_from_pkey(pk, out);
}

/* Parse errors of wire fields all mean a malformed blob (key.h). */
int
amk_key_format_err(int r)
{
    if (r == AMK_ETRUNCATED || r == AMK_ETOOBIG || r == AMK_ELIMIT)
        return AMK_EFORMAT;
    return r;
}

/*
 * Reads the public fields that follow the type name of a key of type
 * @p info from @p b into @p parts (views into @p b's storage).
 */
int
amk_key_read_public_parts(const struct amk_key_info *info, struct amk_buf *b,
    struct amk_bytes parts[AMK_PART_COUNT])
{
    const uint8_t *p;
    size_t len;
    int r = AMK_EINTERNAL;

    switch (info->type) {
    case AMK_PKEY_ED25519:
        /* RFC 8709 §4: string key (32 octets) */
        if ((r = amk_buf_get_string_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        if (len != AMK_KEY_ED25519_LEN)
            return AMK_EKEY;
        parts[AMK_PART_PUBLIC] = (struct amk_bytes){ p, len };
        return AMK_OK;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        /* RFC 5656 §3.1: string identifier, string Q. The identifier must
         * name the curve of the key type. */
        if ((r = amk_buf_get_string_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        if (len != strlen(info->curve) || memcmp(p, info->curve, len) != 0)
            return AMK_EFORMAT;
        if ((r = amk_buf_get_string_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        /* SEC1 §2.3.3 uncompressed point: 0x04 || X || Y (RFC 5656 §3.1). */
        if (len != 1 + 2 * info->field_len || p[0] != 0x04)
            return AMK_EKEY;
        parts[AMK_PART_PUBLIC] = (struct amk_bytes){ p, len };
        return AMK_OK;
    case AMK_PKEY_RSA:
        /* RFC 4253 §6.6: mpint e, mpint n */
        if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        parts[AMK_PART_RSA_E] = (struct amk_bytes){ p, len };
        if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
            return amk_key_format_err(r);
        parts[AMK_PART_RSA_N] = (struct amk_bytes){ p, len };
        if (parts[AMK_PART_RSA_E].len == 0 || parts[AMK_PART_RSA_N].len == 0)
            return AMK_EKEY;
        if (amk_key_mag_bits(parts[AMK_PART_RSA_N].p, parts[AMK_PART_RSA_N].len) <
            AMK_KEY_RSA_MIN_BITS)
            return AMK_EKEY;
        return AMK_OK;
    case AMK_PKEY_DSA:
        /* RFC 4253 §6.6: mpint p, q, g, y */
        for (int i = AMK_PART_DSA_P; i <= AMK_PART_DSA_Y; i++) {
            if ((r = amk_buf_get_mpint_direct(b, &p, &len)) != AMK_OK)
                return amk_key_format_err(r);
            if (len == 0)
                return AMK_EKEY;
            parts[i] = (struct amk_bytes){ p, len };
        }
        /* FIPS 186-2 (ssh-dss signs with SHA-1): 1024-bit p, 160-bit q. */
        if (amk_key_mag_bits(parts[AMK_PART_DSA_P].p, parts[AMK_PART_DSA_P].len) !=
                AMK_KEY_DSA_BITS ||
            amk_key_mag_bits(parts[AMK_PART_DSA_Q].p, parts[AMK_PART_DSA_Q].len) !=
                AMK_KEY_DSA_Q_BITS)
            return AMK_EKEY;
        return AMK_OK;
    }
    return AMK_ENOTSUP;
}

int
amk_key_from_blob(const uint8_t *blob, size_t len, struct amk_key **out)
{
    struct amk_bytes parts[AMK_PART_COUNT];
    struct amk_pkey *pk = NULL;
    const struct amk_key_info *info;
    struct amk_buf b;
    const uint8_t *name;
    size_t namelen;
    int r = AMK_EINTERNAL;

    *out = NULL;
    memset(parts, 0, sizeof(parts));
    amk_buf_view(&b, blob, len);
    if ((r = amk_buf_get_string_direct(&b, &name, &namelen)) != AMK_OK)
        return amk_key_format_err(r);
    if ((info = amk_key_info_by_name((const char *)name, namelen)) == NULL)
        return AMK_ENOTSUP;
    if ((r = amk_key_read_public_parts(info, &b, parts)) != AMK_OK)
        return r;
    if ((r = amk_buf_get_end(&b)) != AMK_OK)
        return r;
    if ((r = amk_pkey_from_parts(&pk, info->type, parts)) != AMK_OK)
        return r;
    return amk_key_from_pkey(pk, out);
}

/* Appends the public fields after the type name (shared with key files). */
int
amk_key_write_public_parts(const struct amk_key *k, struct amk_buf *out)
{
    static const enum amk_pkey_part rsa[] = { AMK_PART_RSA_E, AMK_PART_RSA_N };
    static const enum amk_pkey_part dsa[] = { AMK_PART_DSA_P, AMK_PART_DSA_Q,
        AMK_PART_DSA_G, AMK_PART_DSA_Y };
    const enum amk_pkey_part *list = NULL;
    size_t n = 0, len = 0;
    uint8_t *p = NULL;
    int r = AMK_EINTERNAL;

    switch (k->info->type) {
    case AMK_PKEY_ED25519:
        if ((r = amk_pkey_get_part(k->pk, AMK_PART_PUBLIC, &p, &len)) != AMK_OK)
            goto out;
        r = amk_buf_put_string(out, p, len);
        goto out;
    case AMK_PKEY_ECDSA_P256:
    case AMK_PKEY_ECDSA_P384:
    case AMK_PKEY_ECDSA_P521:
        if ((r = amk_pkey_get_part(k->pk, AMK_PART_PUBLIC, &p, &len)) != AMK_OK)
            goto out;
        if ((r = amk_buf_put_cstring(out, k->info->curve)) != AMK_OK ||
            (r = amk_buf_put_string(out, p, len)) != AMK_OK)
            goto out;
        goto out;
    case AMK_PKEY_RSA:
        list = rsa;
        n = 2;
        break;
    case AMK_PKEY_DSA:
        list = dsa;
        n = 4;
        break;
    }
    for (size_t i = 0; i < n; i++) {
        if ((r = amk_pkey_get_part(k->pk, list[i], &p, &len)) != AMK_OK)
            goto out;
        r = amk_buf_put_mpint(out, p, len);
        amk_free_wiped(p, len);
        p = NULL;
        if (r != AMK_OK)
            goto out;
    }
    r = AMK_OK;
out:
    amk_free_wiped(p, len);
    return r;
}

int
amk_key_to_blob(const struct amk_key *k, struct amk_buf *out)
{
    size_t before = amk_buf_len(out);
    int r;

    if ((r = amk_buf_put_cstring(out, k->info->name)) != AMK_OK ||
        (r = amk_key_write_public_parts(k, out)) != AMK_OK) {
        /* Leave @p out as it was. */
        if (amk_buf_len(out) > before && amk_buf_consume_end(out, amk_buf_len(out) - before) != AMK_OK)
            return AMK_EINTERNAL;
        return r;
    }
    return AMK_OK;
}
