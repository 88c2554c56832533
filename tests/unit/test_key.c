/* Unit tests for src/keys/key.c and key_sig.c: key blobs and signature blobs. */
#include "key_test_util.h"

#include "keys/key.h"

struct gen_case {
    enum amk_pkey_type type;
    unsigned bits;
    const char *name;
};

static const struct gen_case gen_cases[] = {
    { AMK_PKEY_ED25519, 0, "ssh-ed25519" },
    { AMK_PKEY_ECDSA_P256, 0, "ecdsa-sha2-nistp256" },
    { AMK_PKEY_ECDSA_P384, 0, "ecdsa-sha2-nistp384" },
    { AMK_PKEY_ECDSA_P521, 0, "ecdsa-sha2-nistp521" },
    { AMK_PKEY_RSA, 2048, "ssh-rsa" },
    { AMK_PKEY_DSA, 1024, "ssh-dss" },
};

#define NGEN (sizeof(gen_cases) / sizeof(gen_cases[0]))

/* Generated once per run: RSA and DSA generation is slow. */
static struct amk_key *keys[NGEN];

static int
setup_keys(void **state)
{
    for (size_t i = 0; i < NGEN; i++)
        if (amk_key_generate(gen_cases[i].type, gen_cases[i].bits, &keys[i]) != AMK_OK)
            return -1;
    return 0;
}

static int
teardown_keys(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        amk_key_free(keys[i]);
        keys[i] = NULL;
    }
    return 0;
}

static struct amk_key *
key_of(enum amk_pkey_type type)
{
    for (size_t i = 0; i < NGEN; i++)
        if (gen_cases[i].type == type)
            return keys[i];
    fail();
    return NULL;
}

/* ---- public-key blobs ---- */

static void
test_amk_key_to_blob_round_trip_every_type(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *a = amk_buf_new(), *b = amk_buf_new();
        struct amk_key *k = NULL;

        assert_string_equal(amk_key_type_name(keys[i]), gen_cases[i].name);
        ASSERT_OK(amk_key_to_blob(keys[i], a));
        ASSERT_OK(amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
        assert_string_equal(amk_key_type_name(k), gen_cases[i].name);
        assert_false(amk_key_has_private(k));
        assert_true(amk_key_equal_public(k, keys[i]));
        ASSERT_OK(amk_key_to_blob(k, b));
        assert_int_equal(amk_buf_len(a), amk_buf_len(b));
        assert_memory_equal(amk_buf_ptr(a), amk_buf_ptr(b), amk_buf_len(a));
        amk_key_free(k);
        amk_buf_free(a);
        amk_buf_free(b);
    }
}

static void
test_amk_key_equal_public_differs_between_keys(void **state)
{
    struct amk_key *other = NULL;

    ASSERT_OK(amk_key_generate(AMK_PKEY_ED25519, 0, &other));
    assert_false(amk_key_equal_public(other, key_of(AMK_PKEY_ED25519)));
    assert_false(amk_key_equal_public(key_of(AMK_PKEY_ECDSA_P256), key_of(AMK_PKEY_ECDSA_P384)));
    assert_false(amk_key_equal_public(other, NULL));
    amk_key_free(other);
}

/* Blobs of keys made by the real ssh-keygen parse and re-encode byte for byte. */
static void
test_amk_key_from_blob_ssh_keygen(void **state)
{
    static const struct {
        const char *args, *name;
    } kg[] = {
        { "-t ed25519", "ssh-ed25519" },
        { "-t ecdsa -b 256", "ecdsa-sha2-nistp256" },
        { "-t ecdsa -b 384", "ecdsa-sha2-nistp384" },
        { "-t ecdsa -b 521", "ecdsa-sha2-nistp521" },
        { "-t rsa -b 1024", "ssh-rsa" },
        { "-t rsa -b 3072", "ssh-rsa" },
        { "-t dsa", "ssh-dss" },
    };
    char *dir = ktu_mkdtemp();
    char path[4200];

    for (size_t i = 0; i < sizeof(kg) / sizeof(kg[0]); i++) {
        struct amk_buf *blob = amk_buf_new(), *again = amk_buf_new();
        struct amk_key *k = NULL;

        snprintf(path, sizeof(path), "%s/k%zu", dir, i);
        assert_int_equal(ktu_run(NULL, "ssh-keygen -q %s -N '' -C t -f %s", kg[i].args, path), 0);
        snprintf(path, sizeof(path), "%s/k%zu.pub", dir, i);
        ktu_pub_blob(path, blob);
        ASSERT_OK(amk_key_from_blob(amk_buf_ptr(blob), amk_buf_len(blob), &k));
        assert_string_equal(amk_key_type_name(k), kg[i].name);
        ASSERT_OK(amk_key_to_blob(k, again));
        assert_int_equal(amk_buf_len(blob), amk_buf_len(again));
        assert_memory_equal(amk_buf_ptr(blob), amk_buf_ptr(again), amk_buf_len(blob));
        amk_key_free(k);
        amk_buf_free(blob);
        amk_buf_free(again);
    }
    ktu_rmdir(dir);
}

static void
test_amk_key_from_blob_truncated(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *a = amk_buf_new();
        struct amk_key *k = NULL;

        ASSERT_OK(amk_key_to_blob(keys[i], a));
        /* Every proper prefix is malformed. */
        for (size_t n = 0; n < amk_buf_len(a); n++) {
            ASSERT_AMK(AMK_EFORMAT, amk_key_from_blob(amk_buf_ptr(a), n, &k));
            assert_null(k);
        }
        amk_buf_free(a);
    }
}

static void
test_amk_key_from_blob_trailing_data(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *a = amk_buf_new();
        struct amk_key *k = NULL;

        ASSERT_OK(amk_key_to_blob(keys[i], a));
        ASSERT_OK(amk_buf_put_u8(a, 0));
        ASSERT_AMK(AMK_EFORMAT, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
        assert_null(k);
        amk_buf_free(a);
    }
}

static void
test_amk_key_from_blob_unknown_type(void **state)
{
    struct amk_buf *a = amk_buf_new();
    struct amk_key *k = NULL;
    static const uint8_t ed448[57] = { 1 };

    ASSERT_OK(amk_buf_put_cstring(a, "ssh-ed448"));
    ASSERT_OK(amk_buf_put_string(a, ed448, sizeof(ed448)));
    ASSERT_AMK(AMK_ENOTSUP, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    amk_buf_reset(a);
    ASSERT_OK(amk_buf_put_cstring(a, "ssh-ed25519-cert-v01@openssh.com"));
    ASSERT_AMK(AMK_ENOTSUP, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    assert_null(k);
    amk_buf_free(a);
}

/* Builds an ECDSA blob with the given name, curve id and point. */
static void
ecdsa_blob(struct amk_buf *out, const char *name, const char *curve, const uint8_t *q, size_t qlen)
{
    ASSERT_OK(amk_buf_put_cstring(out, name));
    ASSERT_OK(amk_buf_put_cstring(out, curve));
    ASSERT_OK(amk_buf_put_string(out, q, qlen));
}

/* The uncompressed point of @p k. */
static uint8_t *
ecdsa_point(struct amk_key *k, size_t *len)
{
    uint8_t *q = NULL;
    ASSERT_OK(amk_pkey_get_part(amk_key_pkey(k), AMK_PART_PUBLIC, &q, len));
    return q;
}

static void
test_amk_key_from_blob_ecdsa_wrong_curve_id(void **state)
{
    struct amk_buf *a = amk_buf_new();
    struct amk_key *k = NULL;
    size_t qlen;
    uint8_t *q = ecdsa_point(key_of(AMK_PKEY_ECDSA_P256), &qlen);

    /* RFC 5656 §3.1: the identifier must be the name's curve. */
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp384", q, qlen);
    ASSERT_AMK(AMK_EFORMAT, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    amk_buf_reset(a);
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp25", q, qlen);
    ASSERT_AMK(AMK_EFORMAT, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    amk_buf_reset(a);
    /* A P-256 point under the P-384 name has the wrong length. */
    ecdsa_blob(a, "ecdsa-sha2-nistp384", "nistp384", q, qlen);
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    assert_null(k);
    free(q);
    amk_buf_free(a);
}

static void
test_amk_key_from_blob_ecdsa_bad_point(void **state)
{
    struct amk_buf *a = amk_buf_new();
    struct amk_key *k = NULL;
    size_t qlen;
    uint8_t *q = ecdsa_point(key_of(AMK_PKEY_ECDSA_P256), &qlen);

    assert_int_equal(qlen, 65);
    /* Off the curve. */
    q[64] ^= 0x01;
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp256", q, qlen);
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    q[64] ^= 0x01;
    /* Compressed form (RFC 5656 §3.1 wants uncompressed). */
    amk_buf_reset(a);
    q[0] = 0x02;
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp256", q, 33);
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    /* Wrong prefix byte at the right length. */
    amk_buf_reset(a);
    q[0] = 0x05;
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp256", q, qlen);
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    /* The point at infinity. */
    amk_buf_reset(a);
    memset(q, 0, qlen);
    q[0] = 0x04;
    ecdsa_blob(a, "ecdsa-sha2-nistp256", "nistp256", q, qlen);
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    assert_null(k);
    free(q);
    amk_buf_free(a);
}

static void
test_amk_key_from_blob_ed25519_bad_length(void **state)
{
    static const uint8_t pk[33] = { 1 };
    struct amk_buf *a = amk_buf_new();
    struct amk_key *k = NULL;

    ASSERT_OK(amk_buf_put_cstring(a, "ssh-ed25519"));
    ASSERT_OK(amk_buf_put_string(a, pk, 31));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    amk_buf_reset(a);
    ASSERT_OK(amk_buf_put_cstring(a, "ssh-ed25519"));
    ASSERT_OK(amk_buf_put_string(a, pk, 33));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    assert_null(k);
    amk_buf_free(a);
}

static void
test_amk_key_from_blob_rsa_too_small(void **state)
{
    static const uint8_t e[3] = { 0x01, 0x00, 0x01 };
    uint8_t n[128];
    struct amk_buf *a = amk_buf_new();
    struct amk_key *k = NULL;

    /* 1016 bits and 768 bits: under the 1024-bit floor. */
    memset(n, 0xc5, sizeof(n));
    n[0] = 0x7f;
    n[sizeof(n) - 1] |= 1;
    ASSERT_OK(amk_buf_put_cstring(a, "ssh-rsa"));
    ASSERT_OK(amk_buf_put_mpint(a, e, sizeof(e)));
    ASSERT_OK(amk_buf_put_mpint(a, n + 1, sizeof(n) - 1));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    amk_buf_reset(a);
    ASSERT_OK(amk_buf_put_cstring(a, "ssh-rsa"));
    ASSERT_OK(amk_buf_put_mpint(a, e, sizeof(e)));
    ASSERT_OK(amk_buf_put_mpint(a, n, 96));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    /* A zero exponent. */
    amk_buf_reset(a);
    ASSERT_OK(amk_buf_put_cstring(a, "ssh-rsa"));
    ASSERT_OK(amk_buf_put_mpint(a, e, 0));
    ASSERT_OK(amk_buf_put_mpint(a, n, sizeof(n)));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(a), amk_buf_len(a), &k));
    assert_null(k);
    amk_buf_free(a);
}

static void
test_amk_key_from_blob_negative_mpint(void **state)
{
    struct amk_buf *a = amk_buf_new(), *b = amk_buf_new();
    struct amk_key *k = NULL;
    const uint8_t *p;
    size_t len;
    uint8_t *copy;

    /* ssh-rsa with e's mpint made negative (sign bit set, no 0x00 pad). */
    ASSERT_OK(amk_key_to_blob(key_of(AMK_PKEY_RSA), a));
    ASSERT_OK(amk_buf_get_string_direct(a, &p, &len));   /* name */
    ASSERT_OK(amk_buf_put_cstring(b, "ssh-rsa"));
    ASSERT_OK(amk_buf_put_u32(b, 3));
    ASSERT_OK(amk_buf_put(b, "\x81\x00\x01", 3));
    ASSERT_OK(amk_buf_skip_string(a));                  /* e */
    ASSERT_OK(amk_buf_putb(b, a));                      /* n */
    copy = malloc(amk_buf_len(b));
    memcpy(copy, amk_buf_ptr(b), amk_buf_len(b));
    ASSERT_AMK(AMK_EFORMAT, amk_key_from_blob(copy, amk_buf_len(b), &k));
    assert_null(k);
    free(copy);
    amk_buf_free(a);
    amk_buf_free(b);
}

static void
test_amk_key_from_blob_dsa_wrong_size(void **state)
{
    struct amk_buf *a = amk_buf_new(), *b = amk_buf_new();
    struct amk_key *k = NULL;
    const uint8_t *p;
    size_t len;

    /* ssh-dss with q replaced by a 1-byte value: the key is not valid. */
    ASSERT_OK(amk_key_to_blob(key_of(AMK_PKEY_DSA), a));
    ASSERT_OK(amk_buf_get_string_direct(a, &p, &len));
    ASSERT_OK(amk_buf_put_string(b, p, len));
    ASSERT_OK(amk_buf_get_string_direct(a, &p, &len));  /* p */
    ASSERT_OK(amk_buf_put_string(b, p, len));
    ASSERT_OK(amk_buf_skip_string(a));                  /* q */
    ASSERT_OK(amk_buf_put_mpint(b, (const uint8_t *)"\x05", 1));
    ASSERT_OK(amk_buf_putb(b, a));
    ASSERT_AMK(AMK_EKEY, amk_key_from_blob(amk_buf_ptr(b), amk_buf_len(b), &k));
    assert_null(k);
    amk_buf_free(a);
    amk_buf_free(b);
}

/* ---- signatures ---- */

static const uint8_t msg[] = "exchange hash H goes here";

static void
test_amk_key_sign_verify_round_trip_every_type(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *sig = amk_buf_new(), *blob = amk_buf_new();
        struct amk_key *pub = NULL;

        ASSERT_OK(amk_key_sign(keys[i], NULL, msg, sizeof(msg), sig));
        ASSERT_OK(amk_key_verify(keys[i], NULL, amk_buf_ptr(sig), amk_buf_len(sig), msg,
            sizeof(msg)));
        /* A public-only copy verifies too. */
        ASSERT_OK(amk_key_to_blob(keys[i], blob));
        ASSERT_OK(amk_key_from_blob(amk_buf_ptr(blob), amk_buf_len(blob), &pub));
        ASSERT_OK(amk_key_verify(pub, NULL, amk_buf_ptr(sig), amk_buf_len(sig), msg,
            sizeof(msg)));
        /* ... but cannot sign. */
        amk_buf_reset(sig);
        ASSERT_AMK(AMK_EKEY, amk_key_sign(pub, NULL, msg, sizeof(msg), sig));
        assert_int_equal(amk_buf_len(sig), 0);
        amk_key_free(pub);
        amk_buf_free(sig);
        amk_buf_free(blob);
    }
}

/* The blob's algorithm name and signature string. */
static void
sig_parts(const struct amk_buf *sig, char **alg, const uint8_t **s, size_t *slen)
{
    struct amk_buf v;

    amk_buf_view(&v, amk_buf_ptr(sig), amk_buf_len(sig));
    ASSERT_OK(amk_buf_get_cstring(&v, alg, NULL));
    ASSERT_OK(amk_buf_get_string_direct(&v, s, slen));
    ASSERT_OK(amk_buf_get_end(&v));
}

static void
test_amk_key_sign_blob_layout(void **state)
{
    static const struct {
        enum amk_pkey_type type;
        const char *alg;
        size_t slen;       /* 0: variable */
    } lay[] = {
        { AMK_PKEY_ED25519, "ssh-ed25519", 64 },
        { AMK_PKEY_DSA, "ssh-dss", 40 },
        { AMK_PKEY_RSA, "rsa-sha2-512", 256 },
        { AMK_PKEY_ECDSA_P256, "ecdsa-sha2-nistp256", 0 },
        { AMK_PKEY_ECDSA_P521, "ecdsa-sha2-nistp521", 0 },
    };

    for (size_t i = 0; i < sizeof(lay) / sizeof(lay[0]); i++) {
        struct amk_buf *sig = amk_buf_new();
        struct amk_buf inner;
        const uint8_t *s, *p;
        size_t slen, len;
        char *alg;

        ASSERT_OK(amk_key_sign(key_of(lay[i].type), NULL, msg, sizeof(msg), sig));
        sig_parts(sig, &alg, &s, &slen);
        assert_string_equal(alg, lay[i].alg);
        if (lay[i].slen != 0) {
            assert_int_equal(slen, lay[i].slen);
        } else {
            /* RFC 5656 §3.1.2: mpint r, mpint s, nothing else. */
            amk_buf_view(&inner, s, slen);
            ASSERT_OK(amk_buf_get_mpint_direct(&inner, &p, &len));
            assert_true(len > 0);
            ASSERT_OK(amk_buf_get_mpint_direct(&inner, &p, &len));
            assert_true(len > 0);
            ASSERT_OK(amk_buf_get_end(&inner));
        }
        free(alg);
        amk_buf_free(sig);
    }
}

static void
test_amk_key_sign_rsa_algorithms(void **state)
{
    static const char *algs[] = { "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa" };
    struct amk_key *rsa = key_of(AMK_PKEY_RSA);

    for (size_t i = 0; i < 3; i++) {
        struct amk_buf *sig = amk_buf_new();
        const uint8_t *s;
        size_t slen;
        char *alg;

        ASSERT_OK(amk_key_sign(rsa, algs[i], msg, sizeof(msg), sig));
        sig_parts(sig, &alg, &s, &slen);
        assert_string_equal(alg, algs[i]);
        ASSERT_OK(amk_key_verify(rsa, algs[i], amk_buf_ptr(sig), amk_buf_len(sig), msg,
            sizeof(msg)));
        /* Negotiated a different RSA algorithm: refused (RFC 8332 §3). */
        ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(rsa, algs[(i + 1) % 3], amk_buf_ptr(sig),
            amk_buf_len(sig), msg, sizeof(msg)));
        free(alg);
        amk_buf_free(sig);
    }
}

static void
test_amk_key_sign_wrong_algorithm_for_key(void **state)
{
    struct amk_buf *sig = amk_buf_new();

    ASSERT_AMK(AMK_EINVAL, amk_key_sign(key_of(AMK_PKEY_ED25519), "ssh-rsa", msg, sizeof(msg), sig));
    ASSERT_AMK(AMK_EINVAL, amk_key_sign(key_of(AMK_PKEY_ECDSA_P256), "ecdsa-sha2-nistp384", msg,
        sizeof(msg), sig));
    ASSERT_AMK(AMK_EINVAL, amk_key_sign(key_of(AMK_PKEY_RSA), "rsa-sha2-384", msg, sizeof(msg), sig));
    assert_int_equal(amk_buf_len(sig), 0);
    amk_buf_free(sig);
}

static void
test_amk_key_sig_alg_ok_table(void **state)
{
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_ED25519), "ssh-ed25519"));
    assert_false(amk_key_sig_alg_ok(key_of(AMK_PKEY_ED25519), "ssh-rsa"));
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_ECDSA_P384), "ecdsa-sha2-nistp384"));
    assert_false(amk_key_sig_alg_ok(key_of(AMK_PKEY_ECDSA_P384), "ecdsa-sha2-nistp256"));
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_RSA), "rsa-sha2-256"));
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_RSA), "rsa-sha2-512"));
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_RSA), "ssh-rsa"));
    assert_false(amk_key_sig_alg_ok(key_of(AMK_PKEY_RSA), "ssh-dss"));
    assert_true(amk_key_sig_alg_ok(key_of(AMK_PKEY_DSA), "ssh-dss"));
    assert_false(amk_key_sig_alg_ok(key_of(AMK_PKEY_DSA), NULL));
}

/* A valid signature blob from one key presented for another type. */
static void
test_amk_key_verify_wrong_algorithm_blob(void **state)
{
    struct amk_buf *sig = amk_buf_new(), *forged = amk_buf_new();
    const uint8_t *s;
    size_t slen;
    char *alg;

    ASSERT_OK(amk_key_sign(key_of(AMK_PKEY_ED25519), NULL, msg, sizeof(msg), sig));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_RSA), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ECDSA_P256), NULL,
        amk_buf_ptr(sig), amk_buf_len(sig), msg, sizeof(msg)));
    /* The right key, but the caller negotiated another algorithm. */
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ED25519), "ssh-rsa",
        amk_buf_ptr(sig), amk_buf_len(sig), msg, sizeof(msg)));
    /* The same bytes relabelled with another name. */
    sig_parts(sig, &alg, &s, &slen);
    ASSERT_OK(amk_buf_put_cstring(forged, "ecdsa-sha2-nistp256"));
    ASSERT_OK(amk_buf_put_string(forged, s, slen));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ED25519), NULL,
        amk_buf_ptr(forged), amk_buf_len(forged), msg, sizeof(msg)));
    /* An ECDSA P-256 signature labelled as P-384 for a P-256 key. */
    amk_buf_reset(sig);
    amk_buf_reset(forged);
    free(alg);
    ASSERT_OK(amk_key_sign(key_of(AMK_PKEY_ECDSA_P256), NULL, msg, sizeof(msg), sig));
    sig_parts(sig, &alg, &s, &slen);
    ASSERT_OK(amk_buf_put_cstring(forged, "ecdsa-sha2-nistp384"));
    ASSERT_OK(amk_buf_put_string(forged, s, slen));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ECDSA_P256), NULL,
        amk_buf_ptr(forged), amk_buf_len(forged), msg, sizeof(msg)));
    /* An RSA SHA-256 signature relabelled as rsa-sha2-512. */
    amk_buf_reset(sig);
    amk_buf_reset(forged);
    free(alg);
    ASSERT_OK(amk_key_sign(key_of(AMK_PKEY_RSA), "rsa-sha2-256", msg, sizeof(msg), sig));
    sig_parts(sig, &alg, &s, &slen);
    ASSERT_OK(amk_buf_put_cstring(forged, "rsa-sha2-512"));
    ASSERT_OK(amk_buf_put_string(forged, s, slen));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_RSA), NULL, amk_buf_ptr(forged),
        amk_buf_len(forged), msg, sizeof(msg)));
    free(alg);
    amk_buf_free(sig);
    amk_buf_free(forged);
}

static void
test_amk_key_verify_bit_flips(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *sig = amk_buf_new();
        uint8_t *copy;
        uint8_t data[sizeof(msg)];
        size_t len;

        ASSERT_OK(amk_key_sign(keys[i], NULL, msg, sizeof(msg), sig));
        len = amk_buf_len(sig);
        copy = malloc(len);
        /* Flip a bit of each of the last 8 bytes (the signature value). */
        for (size_t j = len - 8; j < len; j++) {
            memcpy(copy, amk_buf_ptr(sig), len);
            copy[j] ^= 0x10;
            int r = amk_key_verify(keys[i], NULL, copy, len, msg, sizeof(msg));
            assert_true(r == AMK_ESIGNATURE || r == AMK_EFORMAT);
        }
        /* Flip a bit of the data. */
        memcpy(data, msg, sizeof(msg));
        data[3] ^= 1;
        ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(keys[i], NULL, amk_buf_ptr(sig), len, data,
            sizeof(data)));
        free(copy);
        amk_buf_free(sig);
    }
}

static void
test_amk_key_verify_malformed_blob(void **state)
{
    for (size_t i = 0; i < NGEN; i++) {
        struct amk_buf *sig = amk_buf_new();

        ASSERT_OK(amk_key_sign(keys[i], NULL, msg, sizeof(msg), sig));
        for (size_t n = 0; n < amk_buf_len(sig); n++)
            ASSERT_AMK(AMK_EFORMAT, amk_key_verify(keys[i], NULL, amk_buf_ptr(sig), n, msg,
                sizeof(msg)));
        ASSERT_OK(amk_buf_put_u8(sig, 0));
        ASSERT_AMK(AMK_EFORMAT, amk_key_verify(keys[i], NULL, amk_buf_ptr(sig), amk_buf_len(sig),
            msg, sizeof(msg)));
        amk_buf_free(sig);
    }
}

static void
test_amk_key_verify_wrong_fixed_lengths(void **state)
{
    static const uint8_t zeros[80];
    struct amk_buf *sig = amk_buf_new();

    ASSERT_OK(amk_buf_put_cstring(sig, "ssh-ed25519"));
    ASSERT_OK(amk_buf_put_string(sig, zeros, 63));
    ASSERT_AMK(AMK_EFORMAT, amk_key_verify(key_of(AMK_PKEY_ED25519), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_reset(sig);
    ASSERT_OK(amk_buf_put_cstring(sig, "ssh-dss"));
    ASSERT_OK(amk_buf_put_string(sig, zeros, 41));
    ASSERT_AMK(AMK_EFORMAT, amk_key_verify(key_of(AMK_PKEY_DSA), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_reset(sig);
    /* RSA: longer than the modulus. */
    ASSERT_OK(amk_buf_put_cstring(sig, "rsa-sha2-256"));
    ASSERT_OK(amk_buf_put_u32(sig, 257));
    for (int i = 0; i < 257; i++)
        ASSERT_OK(amk_buf_put_u8(sig, 0x11));
    ASSERT_AMK(AMK_EFORMAT, amk_key_verify(key_of(AMK_PKEY_RSA), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_free(sig);
}

static void
test_amk_key_verify_ecdsa_hostile_integers(void **state)
{
    static const uint8_t big[67] = { 0x7f, 1, 2, 3 };
    struct amk_buf *sig = amk_buf_new(), *inner = amk_buf_new();

    /* r = 0 */
    ASSERT_OK(amk_buf_put_mpint(inner, big, 0));
    ASSERT_OK(amk_buf_put_mpint(inner, big, 32));
    ASSERT_OK(amk_buf_put_cstring(sig, "ecdsa-sha2-nistp256"));
    ASSERT_OK(amk_buf_put_stringb(sig, inner));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ECDSA_P256), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    /* r longer than the field */
    amk_buf_reset(sig);
    amk_buf_reset(inner);
    ASSERT_OK(amk_buf_put_mpint(inner, big, 33));
    ASSERT_OK(amk_buf_put_mpint(inner, big, 32));
    ASSERT_OK(amk_buf_put_cstring(sig, "ecdsa-sha2-nistp256"));
    ASSERT_OK(amk_buf_put_stringb(sig, inner));
    ASSERT_AMK(AMK_ESIGNATURE, amk_key_verify(key_of(AMK_PKEY_ECDSA_P256), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    /* trailing data after s */
    amk_buf_reset(sig);
    amk_buf_reset(inner);
    ASSERT_OK(amk_buf_put_mpint(inner, big, 32));
    ASSERT_OK(amk_buf_put_mpint(inner, big, 32));
    ASSERT_OK(amk_buf_put_u8(inner, 0));
    ASSERT_OK(amk_buf_put_cstring(sig, "ecdsa-sha2-nistp256"));
    ASSERT_OK(amk_buf_put_stringb(sig, inner));
    ASSERT_AMK(AMK_EFORMAT, amk_key_verify(key_of(AMK_PKEY_ECDSA_P256), NULL, amk_buf_ptr(sig),
        amk_buf_len(sig), msg, sizeof(msg)));
    amk_buf_free(sig);
    amk_buf_free(inner);
}

static void
test_amk_key_generate_bad_sizes(void **state)
{
    struct amk_key *k = NULL;

    ASSERT_AMK(AMK_EINVAL, amk_key_generate(AMK_PKEY_RSA, 1024, &k));
    ASSERT_AMK(AMK_EINVAL, amk_key_generate(AMK_PKEY_RSA, 16385, &k));
    ASSERT_AMK(AMK_EINVAL, amk_key_generate(AMK_PKEY_DSA, 2048, &k));
    ASSERT_AMK(AMK_ENOTSUP, amk_key_generate((enum amk_pkey_type)99, 0, &k));
    assert_null(k);
}

static void
test_amk_key_public_copy_drops_private(void **state)
{
    struct amk_key *pub = NULL;
    struct amk_key *k = key_of(AMK_PKEY_ED25519);

    ASSERT_OK(amk_key_set_comment(k, "me@host"));
    ASSERT_OK(amk_key_public_copy(k, &pub));
    assert_true(amk_key_has_private(k));
    assert_false(amk_key_has_private(pub));
    assert_true(amk_key_equal_public(k, pub));
    assert_string_equal(amk_key_comment(pub), "me@host");
    ASSERT_OK(amk_key_set_comment(k, NULL));
    assert_string_equal(amk_key_comment(k), "");
    amk_key_free(pub);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_key_to_blob_round_trip_every_type),
        cmocka_unit_test(test_amk_key_equal_public_differs_between_keys),
        cmocka_unit_test(test_amk_key_from_blob_ssh_keygen),
        cmocka_unit_test(test_amk_key_from_blob_truncated),
        cmocka_unit_test(test_amk_key_from_blob_trailing_data),
        cmocka_unit_test(test_amk_key_from_blob_unknown_type),
        cmocka_unit_test(test_amk_key_from_blob_ecdsa_wrong_curve_id),
        cmocka_unit_test(test_amk_key_from_blob_ecdsa_bad_point),
        cmocka_unit_test(test_amk_key_from_blob_ed25519_bad_length),
        cmocka_unit_test(test_amk_key_from_blob_rsa_too_small),
        cmocka_unit_test(test_amk_key_from_blob_negative_mpint),
        cmocka_unit_test(test_amk_key_from_blob_dsa_wrong_size),
        cmocka_unit_test(test_amk_key_sign_verify_round_trip_every_type),
        cmocka_unit_test(test_amk_key_sign_blob_layout),
        cmocka_unit_test(test_amk_key_sign_rsa_algorithms),
        cmocka_unit_test(test_amk_key_sign_wrong_algorithm_for_key),
        cmocka_unit_test(test_amk_key_sig_alg_ok_table),
        cmocka_unit_test(test_amk_key_verify_wrong_algorithm_blob),
        cmocka_unit_test(test_amk_key_verify_bit_flips),
        cmocka_unit_test(test_amk_key_verify_malformed_blob),
        cmocka_unit_test(test_amk_key_verify_wrong_fixed_lengths),
        cmocka_unit_test(test_amk_key_verify_ecdsa_hostile_integers),
        cmocka_unit_test(test_amk_key_generate_bad_sizes),
        cmocka_unit_test(test_amk_key_public_copy_drops_private),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
