/* Unit tests for src/util/base64.c. */
#include "test_helper.h"

#include "util/base64.h"
#include "util/buf.h"

/* RFC 4648 §10 test vectors. */
static const struct {
    const char *in, *out;
} b64_kat[] = {
    { "", "" },
    { "f", "Zg==" },
    { "fo", "Zm8=" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" },
    { "fooba", "Zm9vYmE=" },
    { "foobar", "Zm9vYmFy" },
};

#define KAT_COUNT (sizeof(b64_kat) / sizeof(b64_kat[0]))

static void
test_amk_base64_encode_rfc4648(void **state)
{
    for (size_t i = 0; i < KAT_COUNT; i++) {
        struct amk_buf *b = amk_buf_new();
        ASSERT_OK(amk_base64_encode((const uint8_t *)b64_kat[i].in, strlen(b64_kat[i].in), 1, b));
        assert_int_equal(amk_buf_len(b), strlen(b64_kat[i].out));
        assert_memory_equal(amk_buf_ptr(b), b64_kat[i].out, amk_buf_len(b));
        amk_buf_free(b);
    }
}

static void
test_amk_base64_encode_unpadded(void **state)
{
    struct amk_buf *b = amk_buf_new();

    ASSERT_OK(amk_base64_encode((const uint8_t *)"fooba", 5, 0, b));
    assert_int_equal(amk_buf_len(b), 7);
    assert_memory_equal(amk_buf_ptr(b), "Zm9vYmE", 7);
    amk_buf_free(b);
}

static void
test_amk_base64_decode_rfc4648(void **state)
{
    for (size_t i = 0; i < KAT_COUNT; i++) {
        struct amk_buf *b = amk_buf_new();
        ASSERT_OK(amk_base64_decode(b64_kat[i].out, strlen(b64_kat[i].out), b));
        assert_int_equal(amk_buf_len(b), strlen(b64_kat[i].in));
        if (amk_buf_len(b) > 0)
            assert_memory_equal(amk_buf_ptr(b), b64_kat[i].in, amk_buf_len(b));
        amk_buf_free(b);
    }
}

static void
test_amk_base64_decode_skips_whitespace(void **state)
{
    struct amk_buf *b = amk_buf_new();
    const char *s = " Zm9v\r\nYmFy\n";

    ASSERT_OK(amk_base64_decode(s, strlen(s), b));
    assert_int_equal(amk_buf_len(b), 6);
    assert_memory_equal(amk_buf_ptr(b), "foobar", 6);
    amk_buf_free(b);
}

static void
test_amk_base64_decode_rejects_malformed(void **state)
{
    static const char *bad[] = {
        "Zg=",        /* incomplete quantum */
        "Zm9",        /* missing padding */
        "Z===",       /* too much padding */
        "Zg==Zg==",   /* data after padding */
        "Zm9v!mFy",   /* character outside the alphabet */
        "Zm=v",       /* padding inside a quantum */
        "Zg==\0",     /* NUL */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct amk_buf *b = amk_buf_new();
        size_t len = strlen(bad[i]) + (i == 6 ? 1 : 0);
        ASSERT_AMK(AMK_EFORMAT, amk_base64_decode(bad[i], len, b));
        assert_int_equal(amk_buf_len(b), 0);   /* nothing left behind */
        amk_buf_free(b);
    }
}

static void
test_amk_base64_round_trip_all_bytes(void **state)
{
    uint8_t in[256];
    struct amk_buf *enc = amk_buf_new(), *dec = amk_buf_new();

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    for (size_t n = 0; n <= sizeof(in); n += 37) {
        amk_buf_reset(enc);
        amk_buf_reset(dec);
        ASSERT_OK(amk_base64_encode(in, n, 1, enc));
        ASSERT_OK(amk_base64_decode((const char *)amk_buf_ptr(enc), amk_buf_len(enc), dec));
        assert_int_equal(amk_buf_len(dec), n);
        if (n > 0)
            assert_memory_equal(amk_buf_ptr(dec), in, n);
    }
    amk_buf_free(enc);
    amk_buf_free(dec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_base64_encode_rfc4648),
        cmocka_unit_test(test_amk_base64_encode_unpadded),
        cmocka_unit_test(test_amk_base64_decode_rfc4648),
        cmocka_unit_test(test_amk_base64_decode_skips_whitespace),
        cmocka_unit_test(test_amk_base64_decode_rejects_malformed),
        cmocka_unit_test(test_amk_base64_round_trip_all_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
