/* Unit tests for src/crypto/ecdh.c. */
#include "test_helper.h"

#include "crypto/kex.h"

/* RFC 5903 §8.1 (256-bit), §8.2 (384-bit) and §8.3 (521-bit) random ECP groups. */
static const struct {
    enum amk_ec_curve curve;
    const char *i, *gi, *r, *gr, *girx;
} kat_rfc5903[] = {
    {
        AMK_EC_P256,
        "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
        "04"
        "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
        "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
        "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
        "04"
        "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
        "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
        "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE",
    },
    {
        AMK_EC_P384,
        "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655"
        "E35B538041E649EE3FAEF896783AB194",
        "04"
        "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6"
        "DE3AC808ACB4BDB4C88732AEE95F41AA"
        "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E"
        "EB9FCFF3C2C947DAE69B4C634573A81C",
        "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942"
        "E0308312916B8ED2960E4BD55A7448FC",
        "04"
        "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D"
        "0D1AC43A0336DEF96FDA41D0774A3571"
        "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FF"
        "F83FA40142209DFF5EAAD96DB9E6386C",
        "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4"
        "D603135569B9E9D09CF5D4A270F59746",
    },
    {
        AMK_EC_P521,
        "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A0"
        "95AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D"
        "4A52",
        "04"
        "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBE"
        "E1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7F4601723C4195D176C"
        "ED3E"
        "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10A"
        "D8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507438BF01BEB6CA3926F"
        "9582",
        "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E"
        "9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB15168"
        "5EB9",
        "04"
        "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A21"
        "9B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D0433CED2B6171640012D9"
        "460F"
        "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87"
        "220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732296579AB44FCD17F0F"
        "C56A",
        "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04"
        "D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3"
        "DDEA",
    },
};

#define NKAT (sizeof(kat_rfc5903) / sizeof(kat_rfc5903[0]))

static struct amk_ecdh *
ecdh_from_hex(enum amk_ec_curve curve, const char *hex)
{
    struct amk_ecdh *e;
    size_t len;
    uint8_t *d = test_unhex(hex, &len);

    ASSERT_OK(amk_ecdh_new_from_private(&e, curve, d, len));
    free(d);
    return e;
}

static void
test_amk_ec_field_len(void **state)
{
    assert_int_equal(amk_ec_field_len(AMK_EC_P256), 32);
    assert_int_equal(amk_ec_field_len(AMK_EC_P384), 48);
    assert_int_equal(amk_ec_field_len(AMK_EC_P521), 66);
    assert_int_equal(amk_ec_field_len((enum amk_ec_curve)0), 0);
    assert_int_equal(amk_ec_field_len((enum amk_ec_curve)99), 0);
}

static void
test_amk_ecdh_public_rfc5903(void **state)
{
    for (size_t i = 0; i < NKAT; i++) {
        struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].i);
        struct amk_ecdh *b = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].r);
        const uint8_t *pub;
        size_t len;

        amk_ecdh_public(a, &pub, &len);
        ASSERT_HEX(kat_rfc5903[i].gi, pub, len);
        amk_ecdh_public(b, &pub, &len);
        ASSERT_HEX(kat_rfc5903[i].gr, pub, len);
        amk_ecdh_free(a);
        amk_ecdh_free(b);
    }
}

static void
test_amk_ecdh_shared_rfc5903(void **state)
{
    for (size_t i = 0; i < NKAT; i++) {
        struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].i);
        struct amk_ecdh *b = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].r);
        uint8_t secret[66], *peer;
        size_t len, peerlen;

        peer = test_unhex(kat_rfc5903[i].gr, &peerlen);
        ASSERT_OK(amk_ecdh_shared(a, peer, peerlen, secret, &len));
        assert_int_equal(len, amk_ec_field_len(kat_rfc5903[i].curve));
        ASSERT_HEX(kat_rfc5903[i].girx, secret, len);
        free(peer);
        peer = test_unhex(kat_rfc5903[i].gi, &peerlen);
        ASSERT_OK(amk_ecdh_shared(b, peer, peerlen, secret, &len));
        ASSERT_HEX(kat_rfc5903[i].girx, secret, len);
        free(peer);
        amk_ecdh_free(a);
        amk_ecdh_free(b);
    }
}

static void
test_amk_ecdh_new_roundtrip(void **state)
{
    static const enum amk_ec_curve curves[] = { AMK_EC_P256, AMK_EC_P384, AMK_EC_P521 };

    for (size_t i = 0; i < 3; i++) {
        struct amk_ecdh *a, *b;
        const uint8_t *apub, *bpub;
        size_t alen, blen, k1len, k2len;
        uint8_t k1[66], k2[66];

        ASSERT_OK(amk_ecdh_new(&a, curves[i], NULL));
        ASSERT_OK(amk_ecdh_new(&b, curves[i], NULL));
        amk_ecdh_public(a, &apub, &alen);
        amk_ecdh_public(b, &bpub, &blen);
        assert_int_equal(alen, 1 + 2 * amk_ec_field_len(curves[i]));
        assert_int_equal(apub[0], 0x04);
        assert_memory_not_equal(apub, bpub, alen);
        ASSERT_OK(amk_ecdh_shared(a, bpub, blen, k1, &k1len));
        ASSERT_OK(amk_ecdh_shared(b, apub, alen, k2, &k2len));
        assert_int_equal(k1len, k2len);
        assert_memory_equal(k1, k2, k1len);
        amk_ecdh_free(a);
        amk_ecdh_free(b);
    }
}

/* A source that repeats one byte, to steer scalar generation. */
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

static void
test_amk_ecdh_new_uses_rng(void **state)
{
    uint8_t byte = 0x11, d[32];
    struct amk_rng rng = { .fill = const_fill, .user = &byte };
    struct amk_ecdh *a, *b;
    const uint8_t *apub, *bpub;
    size_t alen, blen;

    memset(d, 0x11, sizeof(d));
    ASSERT_OK(amk_ecdh_new(&a, AMK_EC_P256, &rng));
    ASSERT_OK(amk_ecdh_new_from_private(&b, AMK_EC_P256, d, sizeof(d)));
    amk_ecdh_public(a, &apub, &alen);
    amk_ecdh_public(b, &bpub, &blen);
    assert_int_equal(alen, blen);
    assert_memory_equal(apub, bpub, alen);
    amk_ecdh_free(a);
    amk_ecdh_free(b);
}

static void
test_amk_ecdh_new_rng_failure(void **state)
{
    uint8_t byte = 0xff;    /* all-ones is above the order: never accepted */
    struct amk_rng bad = { .fill = failing_fill, .user = NULL };
    struct amk_rng high = { .fill = const_fill, .user = &byte };
    struct amk_ecdh *e = (struct amk_ecdh *)&byte;

    ASSERT_AMK(AMK_ECRYPTO, amk_ecdh_new(&e, AMK_EC_P256, &bad));
    assert_null(e);
    ASSERT_AMK(AMK_ECRYPTO, amk_ecdh_new(&e, AMK_EC_P384, &high));
    assert_null(e);
    ASSERT_AMK(AMK_EINVAL, amk_ecdh_new(&e, (enum amk_ec_curve)7, NULL));
    amk_ecdh_free(NULL);
}

static void
test_amk_ecdh_new_from_private_out_of_range(void **state)
{
    /* The P-256 group order n (FIPS 186-4 D.1.2.3). */
    static const char *n256 =
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
    uint8_t zero[32] = { 0 }, big[33];
    struct amk_ecdh *e;
    size_t len;
    uint8_t *n = test_unhex(n256, &len);

    ASSERT_AMK(AMK_EKEY, amk_ecdh_new_from_private(&e, AMK_EC_P256, zero, sizeof(zero)));
    ASSERT_AMK(AMK_EKEY, amk_ecdh_new_from_private(&e, AMK_EC_P256, n, len));
    n[len - 1]--;    /* n - 1 is the largest valid scalar */
    ASSERT_OK(amk_ecdh_new_from_private(&e, AMK_EC_P256, n, len));
    amk_ecdh_free(e);
    memset(big, 1, sizeof(big));
    ASSERT_AMK(AMK_EKEY, amk_ecdh_new_from_private(&e, AMK_EC_P256, big, sizeof(big)));
    ASSERT_AMK(AMK_EKEY, amk_ecdh_new_from_private(&e, AMK_EC_P256, big, 0));
    free(n);
}

/* Each invalid peer point is refused with AMK_EKEY and no secret. */
static void
expect_bad_peer(struct amk_ecdh *e, const uint8_t *peer, size_t len)
{
    uint8_t secret[66];
    size_t slen = 99;

    ASSERT_AMK(AMK_EKEY, amk_ecdh_shared(e, peer, len, secret, &slen));
    assert_int_equal(slen, 0);
}

static void
test_amk_ecdh_shared_off_curve(void **state)
{
    for (size_t i = 0; i < NKAT; i++) {
        struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].i);
        size_t len;
        uint8_t *peer = test_unhex(kat_rfc5903[i].gr, &len);

        peer[len - 1] ^= 1;    /* y no longer matches x */
        expect_bad_peer(a, peer, len);
        peer[len - 1] ^= 1;
        peer[1 + amk_ec_field_len(kat_rfc5903[i].curve) / 2] ^= 0x40;    /* x changed */
        expect_bad_peer(a, peer, len);
        free(peer);
        amk_ecdh_free(a);
    }
}

static void
test_amk_ecdh_shared_wrong_length(void **state)
{
    struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[0].curve, kat_rfc5903[0].i);
    size_t len;
    uint8_t *peer = test_unhex(kat_rfc5903[0].gr, &len);
    uint8_t longer[66 * 2 + 2];

    expect_bad_peer(a, peer, len - 1);
    expect_bad_peer(a, peer, 1);
    expect_bad_peer(a, peer, 0);
    memcpy(longer, peer, len);
    longer[len] = 0;
    expect_bad_peer(a, longer, len + 1);
    /* A P-384 point offered on P-256. */
    free(peer);
    peer = test_unhex(kat_rfc5903[1].gr, &len);
    expect_bad_peer(a, peer, len);
    free(peer);
    amk_ecdh_free(a);
}

static void
test_amk_ecdh_shared_compressed_form(void **state)
{
    for (size_t i = 0; i < NKAT; i++) {
        struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[i].curve, kat_rfc5903[i].i);
        size_t len, flen = amk_ec_field_len(kat_rfc5903[i].curve);
        uint8_t *peer = test_unhex(kat_rfc5903[i].gr, &len);

        /* SEC1 2.3.3 compressed: 02/03 || x. Valid elsewhere, not in SSH. */
        peer[0] = (uint8_t)(0x02 | (peer[len - 1] & 1));
        expect_bad_peer(a, peer, 1 + flen);
        /* The hybrid forms 06/07 with the full point. */
        peer[0] = (uint8_t)(0x06 | (peer[len - 1] & 1));
        expect_bad_peer(a, peer, len);
        free(peer);
        amk_ecdh_free(a);
    }
}

static void
test_amk_ecdh_shared_infinity(void **state)
{
    struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[0].curve, kat_rfc5903[0].i);
    uint8_t inf[1 + 64] = { 0x04 };
    uint8_t zero1 = 0x00;

    expect_bad_peer(a, inf, sizeof(inf));    /* (0, 0) is not on P-256 */
    expect_bad_peer(a, &zero1, 1);           /* SEC1 2.3.3: infinity is 00 */
    amk_ecdh_free(a);
}

static void
test_amk_ecdh_shared_coordinate_above_field(void **state)
{
    struct amk_ecdh *a = ecdh_from_hex(kat_rfc5903[0].curve, kat_rfc5903[0].i);
    uint8_t pt[1 + 64];

    /* x = y = 2^256 - 1 > p: not field elements (SEC1 2.3.4). */
    memset(pt, 0xff, sizeof(pt));
    pt[0] = 0x04;
    expect_bad_peer(a, pt, sizeof(pt));
    amk_ecdh_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_ec_field_len),
        cmocka_unit_test(test_amk_ecdh_public_rfc5903),
        cmocka_unit_test(test_amk_ecdh_shared_rfc5903),
        cmocka_unit_test(test_amk_ecdh_new_roundtrip),
        cmocka_unit_test(test_amk_ecdh_new_uses_rng),
        cmocka_unit_test(test_amk_ecdh_new_rng_failure),
        cmocka_unit_test(test_amk_ecdh_new_from_private_out_of_range),
        cmocka_unit_test(test_amk_ecdh_shared_off_curve),
        cmocka_unit_test(test_amk_ecdh_shared_wrong_length),
        cmocka_unit_test(test_amk_ecdh_shared_compressed_form),
        cmocka_unit_test(test_amk_ecdh_shared_infinity),
        cmocka_unit_test(test_amk_ecdh_shared_coordinate_above_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
