/*
 * Unit tests for src/crypto/hash.c and src/crypto/rand.c: known-answer
 * digests and HMACs, incremental use, key reuse, and the random helpers.
 */
#include "test_helper.h"

#include "crypto/hash.h"
#include "crypto/rand.h"

/*
 * Vector inputs are written as "text:..." (ASCII), "rep:XX*N" (byte XX
 * repeated N times) or plain hex.
 */
static uint8_t *
kat_bytes(const char *spec, size_t *len)
{
    uint8_t *p;

    if (strncmp(spec, "text:", 5) == 0) {
        *len = strlen(spec + 5);
        p = malloc(*len + 1);
        assert_non_null(p);
        memcpy(p, spec + 5, *len);
        return p;
    }
    if (strncmp(spec, "rep:", 4) == 0) {
        unsigned int byte = 0;
        size_t n = 0;
        assert_int_equal(sscanf(spec + 4, "%x*%zu", &byte, &n), 2);
        p = malloc(n + 1);
        assert_non_null(p);
        memset(p, (int)byte, n);
        *len = n;
        return p;
    }
    return test_unhex(spec, len);
}

struct hash_kat {
    const char *source;
    enum amk_hash_alg alg;
    const char *msg;
    const char *digest;
};

static const char SHA_448[] = "text:abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char SHA_896[] = "text:abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static const struct hash_kat KAT_HASH[] = {
    /* RFC 1321 Appendix A.5 (MD5 test suite) */
    { "RFC 1321 A.5", AMK_HASH_MD5, "text:", "d41d8cd98f00b204e9800998ecf8427e" },
    { "RFC 1321 A.5", AMK_HASH_MD5, "text:a", "0cc175b9c0f1b6a831c399e269772661" },
    { "RFC 1321 A.5", AMK_HASH_MD5, "text:abc", "900150983cd24fb0d6963f7d28e17f72" },
    { "RFC 1321 A.5", AMK_HASH_MD5, "text:message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
    { "RFC 1321 A.5", AMK_HASH_MD5, "text:abcdefghijklmnopqrstuvwxyz",
      "c3fcd3d76192e4007dfb496cca67e13b" },
    { "RFC 1321 A.5", AMK_HASH_MD5,
      "text:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f" },
    { "RFC 1321 A.5", AMK_HASH_MD5,
      "text:12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a" },
    /* FIPS 180-2 Appendix A (SHA-1 examples) */
    { "FIPS 180-2 A.1", AMK_HASH_SHA1, "text:abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
    { "FIPS 180-2 A.2", AMK_HASH_SHA1, SHA_448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
    { "FIPS 180-2 A.3", AMK_HASH_SHA1, "rep:61*1000000", "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
    /* FIPS 180-2 Appendix B (SHA-256 examples) */
    { "FIPS 180-2 B.1", AMK_HASH_SHA256, "text:abc",
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "FIPS 180-2 B.2", AMK_HASH_SHA256, SHA_448,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "FIPS 180-2 B.3", AMK_HASH_SHA256, "rep:61*1000000",
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
    /* FIPS 180-2 Appendix D (SHA-384 examples) */
    { "FIPS 180-2 D.1", AMK_HASH_SHA384, "text:abc",
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
      "8086072ba1e7cc2358baeca134c825a7" },
    { "FIPS 180-2 D.2", AMK_HASH_SHA384, SHA_896,
      "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
      "fcc7c71a557e2db966c3e9fa91746039" },
    /* FIPS 180-2 Appendix C (SHA-512 examples) */
    { "FIPS 180-2 C.1", AMK_HASH_SHA512, "text:abc",
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
    { "FIPS 180-2 C.2", AMK_HASH_SHA512, SHA_896,
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
};

struct hmac_kat {
    const char *source;
    enum amk_hash_alg alg;
    const char *key;
    const char *msg;
    const char *mac;        /* may be a prefix: the test case truncates */
};

#define RFC4231_KEY4 "0102030405060708090a0b0c0d0e0f10111213141516171819"
#define RFC4231_MSG6 "text:Test Using Larger Than Block-Size Key - Hash Key First"
#define RFC4231_MSG7 "text:This is a test using a larger than block-size key and a larger " \
    "than block-size data. The key needs to be hashed before being used by the HMAC algorithm."

static const struct hmac_kat KAT_HMAC[] = {
    /* RFC 4231 §4.2-§4.8 (HMAC-SHA-256 and HMAC-SHA-512) */
    { "RFC 4231 4.2", AMK_HASH_SHA256, "rep:0b*20", "text:Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "RFC 4231 4.2", AMK_HASH_SHA512, "rep:0b*20", "text:Hi There",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { "RFC 4231 4.3", AMK_HASH_SHA256, "text:Jefe", "text:what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "RFC 4231 4.3", AMK_HASH_SHA512, "text:Jefe", "text:what do ya want for nothing?",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
    { "RFC 4231 4.4", AMK_HASH_SHA256, "rep:aa*20", "rep:dd*50",
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { "RFC 4231 4.4", AMK_HASH_SHA512, "rep:aa*20", "rep:dd*50",
      "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
      "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
    { "RFC 4231 4.5", AMK_HASH_SHA256, RFC4231_KEY4, "rep:cd*50",
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
    { "RFC 4231 4.5", AMK_HASH_SHA512, RFC4231_KEY4, "rep:cd*50",
      "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
      "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
    /* §4.6 gives only the first 128 bits: compared as a prefix. */
    { "RFC 4231 4.6", AMK_HASH_SHA256, "rep:0c*20", "text:Test With Truncation",
      "a3b6167473100ee06e0c796c2955552b" },
    { "RFC 4231 4.6", AMK_HASH_SHA512, "rep:0c*20", "text:Test With Truncation",
      "415fad6271580a531d4179bc891d87a6" },
    { "RFC 4231 4.7", AMK_HASH_SHA256, "rep:aa*131", RFC4231_MSG6,
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { "RFC 4231 4.7", AMK_HASH_SHA512, "rep:aa*131", RFC4231_MSG6,
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
    { "RFC 4231 4.8", AMK_HASH_SHA256, "rep:aa*131", RFC4231_MSG7,
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    { "RFC 4231 4.8", AMK_HASH_SHA512, "rep:aa*131", RFC4231_MSG7,
      "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
      "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
    /* RFC 2202 §3 (HMAC-SHA-1) */
    { "RFC 2202 3 tc1", AMK_HASH_SHA1, "rep:0b*20", "text:Hi There",
      "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "RFC 2202 3 tc2", AMK_HASH_SHA1, "text:Jefe", "text:what do ya want for nothing?",
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { "RFC 2202 3 tc3", AMK_HASH_SHA1, "rep:aa*20", "rep:dd*50",
      "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { "RFC 2202 3 tc4", AMK_HASH_SHA1, RFC4231_KEY4, "rep:cd*50",
      "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
    { "RFC 2202 3 tc5", AMK_HASH_SHA1, "rep:0c*20", "text:Test With Truncation",
      "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
    { "RFC 2202 3 tc6", AMK_HASH_SHA1, "rep:aa*80", RFC4231_MSG6,
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { "RFC 2202 3 tc7", AMK_HASH_SHA1, "rep:aa*80",
      "text:Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

#define NKAT(a) (sizeof(a) / sizeof((a)[0]))

static void
test_amk_hash_len_values(void **state)
{
    assert_int_equal(amk_hash_len(AMK_HASH_MD5), 16);
    assert_int_equal(amk_hash_len(AMK_HASH_SHA1), 20);
    assert_int_equal(amk_hash_len(AMK_HASH_SHA256), 32);
    assert_int_equal(amk_hash_len(AMK_HASH_SHA384), 48);
    assert_int_equal(amk_hash_len(AMK_HASH_SHA512), 64);
    assert_int_equal(amk_hash_len((enum amk_hash_alg)0), 0);
    assert_int_equal(amk_hash_len((enum amk_hash_alg)99), 0);
}

static void
test_amk_hash_kat_oneshot(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    for (size_t i = 0; i < NKAT(KAT_HASH); i++) {
        size_t len;
        uint8_t *msg = kat_bytes(KAT_HASH[i].msg, &len);
        print_message("%s\n", KAT_HASH[i].source);
        ASSERT_OK(amk_hash(KAT_HASH[i].alg, msg, len, out));
        ASSERT_HEX(KAT_HASH[i].digest, out, amk_hash_len(KAT_HASH[i].alg));
        free(msg);
    }
}

static void
test_amk_hash_kat_incremental_and_reset(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    for (size_t i = 0; i < NKAT(KAT_HASH); i++) {
        struct amk_hash_ctx *ctx = NULL;
        size_t len;
        uint8_t *msg = kat_bytes(KAT_HASH[i].msg, &len);

        ASSERT_OK(amk_hash_new(&ctx, KAT_HASH[i].alg));
        /* Feed in uneven pieces, then again after a reset with garbage in between. */
        for (int round = 0; round < 2; round++) {
            size_t off = 0, step = 1;
            if (round == 1) {
                ASSERT_OK(amk_hash_update(ctx, "garbage", 7));
                ASSERT_OK(amk_hash_reset(ctx));
            }
            while (off < len) {
                size_t n = len - off < step ? len - off : step;
                ASSERT_OK(amk_hash_update(ctx, msg + off, n));
                off += n;
                step = step * 3 + 1;
            }
            ASSERT_OK(amk_hash_final(ctx, out));
            ASSERT_HEX(KAT_HASH[i].digest, out, amk_hash_len(KAT_HASH[i].alg));
            ASSERT_OK(amk_hash_reset(ctx));
        }
        amk_hash_free(ctx);
        free(msg);
    }
}

static void
test_amk_hash_rejects_unknown_alg(void **state)
{
    struct amk_hash_ctx *ctx = (struct amk_hash_ctx *)1;
    uint8_t out[AMK_HASH_MAX_LEN];

    ASSERT_AMK(AMK_ENOTSUP, amk_hash((enum amk_hash_alg)0, "x", 1, out));
    ASSERT_AMK(AMK_ENOTSUP, amk_hash_new(&ctx, (enum amk_hash_alg)42));
    assert_null(ctx);
    ASSERT_AMK(AMK_EINVAL, amk_hash_update(NULL, "x", 1));
    ASSERT_AMK(AMK_EINVAL, amk_hash_final(NULL, out));
    amk_hash_free(NULL);
}

static void
test_amk_hash_wrong_input_gives_other_digest(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    /* "abd" is not "abc": a digest that ignored its input would pass the KATs alone. */
    ASSERT_OK(amk_hash(AMK_HASH_SHA256, "abd", 3, out));
    assert_memory_not_equal(out,
        "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23", 16);
}

static void
test_amk_hmac_kat_oneshot(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    for (size_t i = 0; i < NKAT(KAT_HMAC); i++) {
        size_t klen, mlen, want_len;
        uint8_t *key = kat_bytes(KAT_HMAC[i].key, &klen);
        uint8_t *msg = kat_bytes(KAT_HMAC[i].msg, &mlen);

        print_message("%s\n", KAT_HMAC[i].source);
        want_len = strlen(KAT_HMAC[i].mac) / 2;
        assert_true(want_len <= amk_hash_len(KAT_HMAC[i].alg));
        ASSERT_OK(amk_hmac(KAT_HMAC[i].alg, key, klen, msg, mlen, out));
        ASSERT_HEX(KAT_HMAC[i].mac, out, want_len);
        free(key);
        free(msg);
    }
}

static void
test_amk_hmac_kat_reinit_reuses_key(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    for (size_t i = 0; i < NKAT(KAT_HMAC); i++) {
        struct amk_hmac_ctx *ctx = NULL;
        size_t klen, mlen, want_len = strlen(KAT_HMAC[i].mac) / 2;
        uint8_t *key = kat_bytes(KAT_HMAC[i].key, &klen);
        uint8_t *msg = kat_bytes(KAT_HMAC[i].msg, &mlen);

        ASSERT_OK(amk_hmac_new(&ctx, KAT_HMAC[i].alg, key, klen));
        /* The caller's key copy may be gone: the context keeps what it needs. */
        memset(key, 0, klen);
        for (int round = 0; round < 3; round++) {
            ASSERT_OK(amk_hmac_init(ctx));
            if (round == 2) {
                /* An abandoned message must not leak into the next one. */
                ASSERT_OK(amk_hmac_update(ctx, "junk", 4));
                ASSERT_OK(amk_hmac_init(ctx));
            }
            ASSERT_OK(amk_hmac_update(ctx, msg, mlen / 2));
            ASSERT_OK(amk_hmac_update(ctx, msg + mlen / 2, mlen - mlen / 2));
            ASSERT_OK(amk_hmac_final(ctx, out));
            ASSERT_HEX(KAT_HMAC[i].mac, out, want_len);
        }
        amk_hmac_free(ctx);
        free(key);
        free(msg);
    }
}

static void
test_amk_hmac_wrong_key_gives_other_mac(void **state)
{
    uint8_t out[AMK_HASH_MAX_LEN];

    /* RFC 4231 4.3 with "Jeff" instead of "Jefe" */
    ASSERT_OK(amk_hmac(AMK_HASH_SHA256, "Jeff", 4, "what do ya want for nothing?", 28, out));
    assert_memory_not_equal(out, "\x5b\xdc\xc1\x46\xbf\x60\x75\x4e", 8);
}

static void
test_amk_hmac_rejects_bad_args(void **state)
{
    struct amk_hmac_ctx *ctx = (struct amk_hmac_ctx *)1;
    uint8_t out[AMK_HASH_MAX_LEN];

    ASSERT_AMK(AMK_ENOTSUP, amk_hmac_new(&ctx, (enum amk_hash_alg)0, "k", 1));
    assert_null(ctx);
    ASSERT_AMK(AMK_EINVAL, amk_hmac_new(&ctx, AMK_HASH_SHA256, NULL, 5));
    ASSERT_AMK(AMK_ENOTSUP, amk_hmac((enum amk_hash_alg)77, "k", 1, "m", 1, out));
    ASSERT_AMK(AMK_EINVAL, amk_hmac_init(NULL));
    ASSERT_AMK(AMK_EINVAL, amk_hmac_update(NULL, "m", 1));
    ASSERT_AMK(AMK_EINVAL, amk_hmac_final(NULL, out));
    amk_hmac_free(NULL);
}

static void
test_amk_hmac_empty_key(void **state)
{
    uint8_t a[AMK_HASH_MAX_LEN], b[AMK_HASH_MAX_LEN];

    /* RFC 2104 §2: a short key is zero-padded, so "" and "\0" give the same MAC. */
    ASSERT_OK(amk_hmac(AMK_HASH_SHA256, NULL, 0, "m", 1, a));
    ASSERT_OK(amk_hmac(AMK_HASH_SHA256, "\0", 1, "m", 1, b));
    assert_memory_equal(a, b, 32);
}

/* A deterministic source that replays a script of bytes. */
struct script {
    const uint8_t *bytes;
    size_t len, pos;
    int fail;
};

static int
script_fill(void *user, uint8_t *out, size_t len)
{
    struct script *s = user;

    if (s->fail || s->len - s->pos < len)
        return AMK_ECRYPTO;
    memcpy(out, s->bytes + s->pos, len);
    s->pos += len;
    return AMK_OK;
}

static void
test_amk_random_bytes_uses_rng(void **state)
{
    static const uint8_t script_bytes[] = { 1, 2, 3, 4, 5 };
    struct script s = { script_bytes, sizeof(script_bytes), 0, 0 };
    struct amk_rng rng = { script_fill, &s };
    uint8_t out[5];

    ASSERT_OK(amk_random_bytes(&rng, out, sizeof(out)));
    assert_memory_equal(out, script_bytes, 5);
    ASSERT_AMK(AMK_ECRYPTO, amk_random_bytes(&rng, out, 1));   /* script exhausted */
}

static void
test_amk_random_bytes_openssl_differs(void **state)
{
    uint8_t a[32], b[32];

    ASSERT_OK(amk_random_bytes(NULL, a, sizeof(a)));
    ASSERT_OK(amk_random_bytes(NULL, b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));
    ASSERT_OK(amk_random_bytes(NULL, NULL, 0));
    ASSERT_AMK(AMK_EINVAL, amk_random_bytes(NULL, NULL, 4));
}

static void
test_amk_random_uniform_rejects_biased_values(void **state)
{
    /*
     * bound 3: 2^32 mod 3 == 1, so 0x00000000 must be rejected; then
     * 0x00000001 is accepted and gives 1; 0xffffffff gives 0xffffffff % 3 == 0.
     */
    static const uint8_t script_bytes[] = {
        0x00, 0x00, 0x00, 0x00,  0x00, 0x00, 0x00, 0x01,  0xff, 0xff, 0xff, 0xff,
    };
    struct script s = { script_bytes, sizeof(script_bytes), 0, 0 };
    struct amk_rng rng = { script_fill, &s };
    uint32_t v = 99;

    ASSERT_OK(amk_random_uniform(&rng, 3, &v));
    assert_int_equal(v, 1);
    assert_int_equal(s.pos, 8);
    ASSERT_OK(amk_random_uniform(&rng, 3, &v));
    assert_int_equal(v, 0);
}

static void
test_amk_random_uniform_bounds(void **state)
{
    uint32_t v, seen = 0;

    ASSERT_AMK(AMK_EINVAL, amk_random_uniform(NULL, 0, &v));
    ASSERT_OK(amk_random_uniform(NULL, 1, &v));
    assert_int_equal(v, 0);
    for (int i = 0; i < 2000; i++) {
        ASSERT_OK(amk_random_uniform(NULL, 7, &v));
        assert_true(v < 7);
        seen |= 1u << v;
    }
    assert_int_equal(seen, 0x7f);   /* each of the 7 values came up */
}

static void
test_amk_random_uniform_rng_failure(void **state)
{
    struct script s = { NULL, 0, 0, 1 };
    struct amk_rng rng = { script_fill, &s };
    uint32_t v = 5;

    ASSERT_AMK(AMK_ECRYPTO, amk_random_uniform(&rng, 10, &v));
    assert_int_equal(v, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_hash_len_values),
        cmocka_unit_test(test_amk_hash_kat_oneshot),
        cmocka_unit_test(test_amk_hash_kat_incremental_and_reset),
        cmocka_unit_test(test_amk_hash_rejects_unknown_alg),
        cmocka_unit_test(test_amk_hash_wrong_input_gives_other_digest),
        cmocka_unit_test(test_amk_hmac_kat_oneshot),
        cmocka_unit_test(test_amk_hmac_kat_reinit_reuses_key),
        cmocka_unit_test(test_amk_hmac_wrong_key_gives_other_mac),
        cmocka_unit_test(test_amk_hmac_rejects_bad_args),
        cmocka_unit_test(test_amk_hmac_empty_key),
        cmocka_unit_test(test_amk_random_bytes_uses_rng),
        cmocka_unit_test(test_amk_random_bytes_openssl_differs),
        cmocka_unit_test(test_amk_random_uniform_rejects_biased_values),
        cmocka_unit_test(test_amk_random_uniform_bounds),
        cmocka_unit_test(test_amk_random_uniform_rng_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
