/* Unit tests for src/crypto/dh.c. */
#include "test_helper.h"

#include <openssl/bn.h>

#include "crypto/kex.h"

/*
 * Fixed private exponents for the known-answer tests (arbitrary 256-bit
 * values). The expected e, f and K are computed in the test itself with
 * OpenSSL's BN_mod_exp over OpenSSL's own copy of the RFC 3526 primes,
 * independently of dh.c's constants and its constant-time path.
 */
#define X_HEX "3f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
#define Y_HEX "0badc0ffee0ddf00d15ea5e5ca1ab1e5eed5b0a710ad5a1ad5e1f1e5c0de5afe"

static BIGNUM *
rfc3526_prime(int group)
{
    switch (group) {
    case 14: return BN_get_rfc3526_prime_2048(NULL);
    case 16: return BN_get_rfc3526_prime_4096(NULL);
    case 18: return BN_get_rfc3526_prime_8192(NULL);
    }
    return NULL;
}

static uint8_t *
bn_bytes(const BIGNUM *b, size_t *len)
{
    uint8_t *p = malloc((size_t)BN_num_bytes(b) + 1);

    assert_non_null(p);
    *len = (size_t)BN_bn2bin(b, p);
    return p;
}

static BIGNUM *
bn_hex(const char *hex)
{
    BIGNUM *b = NULL;

    assert_true(BN_hex2bn(&b, hex) > 0);
    return b;
}

static void
test_amk_dh_new_group_matches_rfc3526(void **state)
{
    static const int groups[] = { 14, 16, 18 };
    static const size_t bits[] = { 2048, 4096, 8192 };

    for (size_t i = 0; i < 3; i++) {
        struct amk_dh *dh;
        const uint8_t *p, *g;
        size_t plen, glen, wlen;
        BIGNUM *want = rfc3526_prime(groups[i]);
        uint8_t *w = bn_bytes(want, &wlen);

        ASSERT_OK(amk_dh_new_group(&dh, groups[i]));
        assert_int_equal(amk_dh_bits(dh), bits[i]);
        amk_dh_group(dh, &p, &plen, &g, &glen);
        assert_int_equal(plen, wlen);
        assert_memory_equal(p, w, wlen);
        assert_int_equal(glen, 1);
        assert_int_equal(g[0], 2);
        amk_dh_free(dh);
        free(w);
        BN_free(want);
    }
}

static void
test_amk_dh_new_group_unknown(void **state)
{
    struct amk_dh *dh = (struct amk_dh *)1;

    ASSERT_AMK(AMK_ENOTSUP, amk_dh_new_group(&dh, 1));
    assert_null(dh);
    ASSERT_AMK(AMK_ENOTSUP, amk_dh_new_group(&dh, 15));
    ASSERT_AMK(AMK_ENOTSUP, amk_dh_new_group(&dh, 0));
    amk_dh_free(NULL);
}

static void
test_amk_dh_shared_known_answer(void **state)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = rfc3526_prime(14), *g = BN_new(), *x = bn_hex(X_HEX), *y = bn_hex(Y_HEX);
    BIGNUM *e = BN_new(), *f = BN_new(), *k = BN_new();
    uint8_t *xb, *eb, *fb, *kb, secret[257];
    const uint8_t *pub;
    size_t xlen, elen, flen, klen, publen, slen;
    struct amk_dh *dh;

    assert_non_null(ctx);
    assert_true(BN_set_word(g, 2));
    assert_true(BN_mod_exp(e, g, x, p, ctx));    /* e = g^x mod p */
    assert_true(BN_mod_exp(f, g, y, p, ctx));    /* f = g^y mod p */
    assert_true(BN_mod_exp(k, f, x, p, ctx));    /* K = f^x mod p */
    xb = bn_bytes(x, &xlen);
    eb = bn_bytes(e, &elen);
    fb = bn_bytes(f, &flen);
    kb = bn_bytes(k, &klen);

    ASSERT_OK(amk_dh_new_group(&dh, 14));
    ASSERT_OK(amk_dh_set_private(dh, xb, xlen));
    amk_dh_public(dh, &pub, &publen);
    assert_int_equal(publen, elen);
    assert_memory_equal(pub, eb, elen);
    ASSERT_OK(amk_dh_shared(dh, fb, flen, secret, sizeof(secret), &slen));
    assert_int_equal(slen, klen);
    assert_memory_equal(secret, kb, klen);
    assert_true(secret[0] != 0);    /* a magnitude without leading zeros */
    amk_dh_free(dh);

    free(xb); free(eb); free(fb); free(kb);
    BN_free(p); BN_free(g); BN_free(x); BN_free(y);
    BN_free(e); BN_free(f); BN_free(k);
    BN_CTX_free(ctx);
}

static void
test_amk_dh_generate_roundtrip(void **state)
{
    static const int groups[] = { 14, 16, 18 };
    static const size_t security[] = { 112, 128, 256 };

    for (size_t i = 0; i < 3; i++) {
        struct amk_dh *a, *b;
        const uint8_t *apub, *bpub;
        size_t alen, blen, k1len, k2len;
        uint8_t k1[1025], k2[1025];

        ASSERT_OK(amk_dh_new_group(&a, groups[i]));
        ASSERT_OK(amk_dh_new_group(&b, groups[i]));
        ASSERT_OK(amk_dh_generate(a, security[i], NULL));
        ASSERT_OK(amk_dh_generate(b, security[i], NULL));
        amk_dh_public(a, &apub, &alen);
        amk_dh_public(b, &bpub, &blen);
        ASSERT_OK(amk_dh_shared(a, bpub, blen, k1, sizeof(k1), &k1len));
        ASSERT_OK(amk_dh_shared(b, apub, alen, k2, sizeof(k2), &k2len));
        assert_int_equal(k1len, k2len);
        assert_memory_equal(k1, k2, k1len);
        amk_dh_free(a);
        amk_dh_free(b);
    }
}

/* A source that repeats one byte. */
static int
const_fill(void *user, uint8_t *out, size_t len)
{
    memset(out, *(uint8_t *)user, len);
    return AMK_OK;
}

static int
failing_fill(void *user, uint8_t *out, size_t len)
{
    return AMK_ECRYPTO;
}

/* amk_dh_generate with an all-ones source gives the all-ones exponent of
 * the expected length: 2 * security bits, at least 256. */
static void
check_exponent_bits(size_t security, size_t want_bits)
{
    uint8_t ones = 0xff, x[64];
    struct amk_rng rng = { .fill = const_fill, .user = &ones };
    struct amk_dh *gen, *ref;
    const uint8_t *p1, *p2;
    size_t l1, l2;

    assert_true(want_bits % 8 == 0 && want_bits / 8 <= sizeof(x));
    memset(x, 0xff, want_bits / 8);
    ASSERT_OK(amk_dh_new_group(&gen, 14));
    ASSERT_OK(amk_dh_new_group(&ref, 14));
    ASSERT_OK(amk_dh_generate(gen, security, &rng));
    ASSERT_OK(amk_dh_set_private(ref, x, want_bits / 8));
    amk_dh_public(gen, &p1, &l1);
    amk_dh_public(ref, &p2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(p1, p2, l1);
    amk_dh_free(gen);
    amk_dh_free(ref);
}

static void
test_amk_dh_generate_exponent_length(void **state)
{
    check_exponent_bits(0, 256);
    check_exponent_bits(112, 256);
    check_exponent_bits(128, 256);
    check_exponent_bits(192, 384);
    check_exponent_bits(256, 512);
}

static void
test_amk_dh_generate_failures(void **state)
{
    uint8_t zero = 0;
    struct amk_rng bad = { .fill = failing_fill, .user = NULL };
    struct amk_rng zeros = { .fill = const_fill, .user = &zero };
    struct amk_dh *dh;

    ASSERT_OK(amk_dh_new_group(&dh, 14));
    ASSERT_AMK(AMK_ECRYPTO, amk_dh_generate(dh, 128, &bad));
    ASSERT_AMK(AMK_ECRYPTO, amk_dh_generate(dh, 128, &zeros));    /* x = 0 every time */
    ASSERT_AMK(AMK_EINVAL, amk_dh_generate(dh, 100000, NULL));
    amk_dh_free(dh);
}

/* f values that RFC 4253 §8 forbids: each gives AMK_EKEY and no secret. */
static void
test_amk_dh_shared_range(void **state)
{
    BIGNUM *p = rfc3526_prime(14), *v = BN_new();
    struct amk_dh *dh;
    uint8_t secret[257], *b;
    size_t len, slen;
    static const char *small[] = { "0", "1" };

    ASSERT_OK(amk_dh_new_group(&dh, 14));
    ASSERT_OK(amk_dh_generate(dh, 128, NULL));
    for (size_t i = 0; i < 2; i++) {
        BN_free(v);
        v = bn_hex(small[i]);
        b = bn_bytes(v, &len);
        slen = 99;
        ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
        assert_int_equal(slen, 0);
        free(b);
    }
    /* f = 0 as an empty magnitude and with leading zeros */
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, secret, 0, secret, sizeof(secret), &slen));
    memset(secret, 0, 5);
    secret[4] = 1;
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, secret, 5, secret, sizeof(secret), &slen));

    /* p - 1, p, p + 1, 2p */
    assert_true(BN_copy(v, p) != NULL && BN_sub_word(v, 1));
    b = bn_bytes(v, &len);
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);
    assert_true(BN_add_word(v, 1));
    b = bn_bytes(v, &len);
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);
    assert_true(BN_add_word(v, 1));
    b = bn_bytes(v, &len);
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);
    assert_true(BN_lshift1(v, p));
    b = bn_bytes(v, &len);
    ASSERT_AMK(AMK_EKEY, amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);

    /* 2 and p - 2 are in range. */
    assert_true(BN_set_word(v, 2));
    b = bn_bytes(v, &len);
    ASSERT_OK(amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);
    assert_true(BN_copy(v, p) != NULL && BN_sub_word(v, 2));
    b = bn_bytes(v, &len);
    ASSERT_OK(amk_dh_shared(dh, b, len, secret, sizeof(secret), &slen));
    free(b);

    amk_dh_free(dh);
    BN_free(v);
    BN_free(p);
}

static void
test_amk_dh_shared_usage_errors(void **state)
{
    struct amk_dh *dh;
    uint8_t two = 2, secret[257];
    size_t slen;

    ASSERT_OK(amk_dh_new_group(&dh, 14));
    ASSERT_AMK(AMK_ESTATE, amk_dh_shared(dh, &two, 1, secret, sizeof(secret), &slen));
    ASSERT_OK(amk_dh_generate(dh, 128, NULL));
    ASSERT_AMK(AMK_EINVAL, amk_dh_shared(dh, &two, 1, secret, 255, &slen));
    ASSERT_OK(amk_dh_shared(dh, &two, 1, secret, 256, &slen));
    amk_dh_free(dh);
}

static void
test_amk_dh_set_private_range(void **state)
{
    struct amk_dh *dh;
    uint8_t x[257];

    ASSERT_OK(amk_dh_new_group(&dh, 14));
    x[0] = 0;
    ASSERT_AMK(AMK_EINVAL, amk_dh_set_private(dh, x, 1));
    x[0] = 1;
    ASSERT_AMK(AMK_EINVAL, amk_dh_set_private(dh, x, 1));
    memset(x, 0xff, 256);    /* 2048 bits: as long as p */
    ASSERT_AMK(AMK_EINVAL, amk_dh_set_private(dh, x, 256));
    x[0] = 0x7f;
    ASSERT_OK(amk_dh_set_private(dh, x, 256));
    x[0] = 2;
    ASSERT_OK(amk_dh_set_private(dh, x, 1));
    amk_dh_free(dh);
}

/* Builds a custom group from BIGNUMs and returns amk_dh_new_custom's code. */
static int
try_custom(const BIGNUM *p, const BIGNUM *g)
{
    struct amk_dh *dh = NULL;
    size_t plen, glen;
    uint8_t *pb = bn_bytes(p, &plen), *gb = bn_bytes(g, &glen);
    int r = amk_dh_new_custom(&dh, pb, plen, gb, glen);

    if (r == AMK_OK) {
        const uint8_t *p2, *g2;
        size_t p2len, g2len;

        amk_dh_group(dh, &p2, &p2len, &g2, &g2len);
        assert_int_equal(p2len, plen);
        assert_memory_equal(p2, pb, plen);
        assert_int_equal(g2len, glen);
        assert_memory_equal(g2, gb, glen);
        assert_int_equal(amk_dh_bits(dh), (size_t)BN_num_bits(p));
    } else {
        assert_null(dh);
    }
    amk_dh_free(dh);
    free(pb);
    free(gb);
    return r;
}

static void
test_amk_dh_new_custom_accepts(void **state)
{
    BIGNUM *p14 = rfc3526_prime(14), *p18 = rfc3526_prime(18), *g = BN_new();

    assert_true(BN_set_word(g, 2));
    ASSERT_OK(try_custom(p14, g));
    ASSERT_OK(try_custom(p18, g));
    assert_true(BN_copy(g, p14) != NULL && BN_sub_word(g, 2));    /* g = p - 2 */
    ASSERT_OK(try_custom(p14, g));
    BN_free(p14);
    BN_free(p18);
    BN_free(g);
}

static void
test_amk_dh_new_custom_rejects(void **state)
{
    BIGNUM *p14 = rfc3526_prime(14), *p18 = rfc3526_prime(18);
    BIGNUM *p = BN_new(), *g = BN_new();
    struct amk_dh *dh;
    uint8_t two = 2;

    assert_true(BN_set_word(g, 2));
    /* 2047 bits (odd): too small (RFC 8270) */
    assert_true(BN_rshift1(p, p14));
    assert_int_equal(BN_num_bits(p), 2047);
    ASSERT_AMK(AMK_EKEY, try_custom(p, g));
    /* 8193 bits (odd): too large */
    assert_true(BN_lshift1(p, p18) && BN_add_word(p, 1));
    assert_int_equal(BN_num_bits(p), 8193);
    ASSERT_AMK(AMK_EKEY, try_custom(p, g));
    /* even p */
    assert_true(BN_copy(p, p14) != NULL && BN_sub_word(p, 1));
    ASSERT_AMK(AMK_EKEY, try_custom(p, g));
    /* g = 0, 1, p - 1, p, p + 1 */
    assert_true(BN_set_word(g, 0));
    ASSERT_AMK(AMK_EKEY, try_custom(p14, g));
    assert_true(BN_set_word(g, 1));
    ASSERT_AMK(AMK_EKEY, try_custom(p14, g));
    assert_true(BN_copy(g, p14) != NULL && BN_sub_word(g, 1));
    ASSERT_AMK(AMK_EKEY, try_custom(p14, g));
    assert_true(BN_add_word(g, 1));
    ASSERT_AMK(AMK_EKEY, try_custom(p14, g));
    assert_true(BN_add_word(g, 1));
    ASSERT_AMK(AMK_EKEY, try_custom(p14, g));
    /* empty p */
    ASSERT_AMK(AMK_EKEY, amk_dh_new_custom(&dh, NULL, 0, &two, 1));
    BN_free(p14);
    BN_free(p18);
    BN_free(p);
    BN_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_dh_new_group_matches_rfc3526),
        cmocka_unit_test(test_amk_dh_new_group_unknown),
        cmocka_unit_test(test_amk_dh_shared_known_answer),
        cmocka_unit_test(test_amk_dh_generate_roundtrip),
        cmocka_unit_test(test_amk_dh_generate_exponent_length),
        cmocka_unit_test(test_amk_dh_generate_failures),
        cmocka_unit_test(test_amk_dh_shared_range),
        cmocka_unit_test(test_amk_dh_shared_usage_errors),
        cmocka_unit_test(test_amk_dh_set_private_range),
        cmocka_unit_test(test_amk_dh_new_custom_accepts),
        cmocka_unit_test(test_amk_dh_new_custom_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
