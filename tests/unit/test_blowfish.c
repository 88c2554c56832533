/* Unit tests for src/crypto/blowfish.c. */
#include "test_helper.h"

#include "crypto/blowfish.h"

/* Eric Young's ECB vectors, http://www.counterpane.com/vectors.txt
 * (Schneier's Blowfish page): key, plaintext, ciphertext. */
static const struct {
    const char *key, *pt, *ct;
} bf_kat[] = {
    { "0000000000000000", "0000000000000000", "4ef997456198dd78" },
    { "ffffffffffffffff", "ffffffffffffffff", "51866fd5b85ecb8a" },
    { "3000000000000000", "1000000000000001", "7d856f9a613063f2" },
    { "1111111111111111", "1111111111111111", "2466dd878b963c9d" },
    { "0123456789abcdef", "1111111111111111", "61f9c3802281b096" },
    { "1111111111111111", "0123456789abcdef", "7d0cc630afda1ec7" },
};

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
test_amk_blowfish_encrypt_kat(void **state)
{
    struct amk_blowfish bf;

    for (size_t i = 0; i < sizeof(bf_kat) / sizeof(bf_kat[0]); i++) {
        size_t kl, pl, cl;
        uint8_t *key = test_unhex(bf_kat[i].key, &kl);
        uint8_t *pt = test_unhex(bf_kat[i].pt, &pl);
        uint8_t *ct = test_unhex(bf_kat[i].ct, &cl);
        uint32_t l = be32(pt), r = be32(pt + 4);

        amk_blowfish_init(&bf);
        amk_blowfish_expand0(&bf, key, kl);
        amk_blowfish_encrypt(&bf, &l, &r);
        assert_int_equal(l, be32(ct));
        assert_int_equal(r, be32(ct + 4));
        amk_blowfish_decrypt(&bf, &l, &r);
        assert_int_equal(l, be32(pt));
        assert_int_equal(r, be32(pt + 4));
        free(key);
        free(pt);
        free(ct);
    }
}

static void
test_amk_blowfish_encrypt_wrong_key_differs(void **state)
{
    struct amk_blowfish bf;
    static const uint8_t key[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
    uint32_t l = 0, r = 0;

    amk_blowfish_init(&bf);
    amk_blowfish_expand0(&bf, key, sizeof(key));
    amk_blowfish_encrypt(&bf, &l, &r);
    assert_false(l == 0x4ef99745u && r == 0x6198dd78u);
}

static void
test_amk_blowfish_stream_word_cycles(void **state)
{
    static const uint8_t d[3] = { 1, 2, 3 };
    size_t pos = 0;

    assert_int_equal(amk_blowfish_stream_word(d, 3, &pos), 0x01020301u);
    assert_int_equal(amk_blowfish_stream_word(d, 3, &pos), 0x02030102u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_blowfish_encrypt_kat),
        cmocka_unit_test(test_amk_blowfish_encrypt_wrong_key_differs),
        cmocka_unit_test(test_amk_blowfish_stream_word_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
