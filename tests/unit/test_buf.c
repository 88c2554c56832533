/* Unit tests for src/util/buf.c: RFC 4251 §5 wire types, bounds and limits. */
#include "test_helper.h"

#include "util/buf.h"

static void
test_amk_buf_u32_u64_roundtrip(void **state)
{
    struct amk_buf *b = amk_buf_new();
    uint32_t v32;
    uint64_t v64;
    uint8_t u8;
    int bl;

    assert_non_null(b);
    ASSERT_OK(amk_buf_put_u8(b, 0xab));
    ASSERT_OK(amk_buf_put_bool(b, 7));
    ASSERT_OK(amk_buf_put_u32(b, 0x29b7f4aa));
    ASSERT_OK(amk_buf_put_u64(b, 0x0102030405060708ULL));
    ASSERT_HEX("ab 01 29b7f4aa 0102030405060708", amk_buf_ptr(b), amk_buf_len(b));
    ASSERT_OK(amk_buf_get_u8(b, &u8));
    assert_int_equal(u8, 0xab);
    ASSERT_OK(amk_buf_get_bool(b, &bl));
    assert_int_equal(bl, 1);
    ASSERT_OK(amk_buf_get_u32(b, &v32));
    assert_int_equal(v32, 0x29b7f4aa);
    ASSERT_OK(amk_buf_get_u64(b, &v64));
    assert_true(v64 == 0x0102030405060708ULL);
    assert_int_equal(amk_buf_len(b), 0);
    ASSERT_OK(amk_buf_get_end(b));
    amk_buf_free(b);
}

static void
test_amk_buf_get_bool_nonzero_is_true(void **state)
{
    /* RFC 4251 §5: all non-zero values MUST be interpreted as TRUE. */
    const uint8_t data[] = { 0x00, 0x02, 0xff };
    struct amk_buf v;
    int bl;

    amk_buf_view(&v, data, sizeof(data));
    ASSERT_OK(amk_buf_get_bool(&v, &bl));
    assert_int_equal(bl, 0);
    ASSERT_OK(amk_buf_get_bool(&v, &bl));
    assert_int_equal(bl, 1);
    ASSERT_OK(amk_buf_get_bool(&v, &bl));
    assert_int_equal(bl, 1);
}

static void
test_amk_buf_string_rfc4251_example(void **state)
{
    /* RFC 4251 §5: "testing" is 00 00 00 07 t e s t i n g */
    struct amk_buf *b = amk_buf_new();
    char *s = NULL;
    size_t len;

    ASSERT_OK(amk_buf_put_cstring(b, "testing"));
    ASSERT_HEX("00000007 74657374696e67", amk_buf_ptr(b), amk_buf_len(b));
    ASSERT_OK(amk_buf_get_cstring(b, &s, &len));
    assert_string_equal(s, "testing");
    assert_int_equal(len, 7);
    free(s);
    amk_buf_free(b);
}

static void
test_amk_buf_get_string_truncated_leaves_buffer(void **state)
{
    /* Length says 8 but only 7 bytes follow: fails, and consumes nothing. */
    const uint8_t data[] = { 0, 0, 0, 8, 't', 'e', 's', 't', 'i', 'n', 'g' };
    struct amk_buf v;
    const uint8_t *p;
    uint8_t *copy;
    char *cs;
    size_t len;

    amk_buf_view(&v, data, sizeof(data));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_string_direct(&v, &p, &len));
    assert_null(p);
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_string(&v, &copy, &len));
    assert_null(copy);
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_cstring(&v, &cs, &len));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_skip_string(&v));
    assert_int_equal(amk_buf_len(&v), sizeof(data));
}

static void
test_amk_buf_get_string_hostile_lengths(void **state)
{
    const uint32_t lengths[] = { 0xffffffffu, 0xfffffffcu, 0x80000000u, 0x7fffffffu, 5 };
    uint8_t data[8];
    struct amk_buf v;
    const uint8_t *p;
    size_t len;

    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        data[0] = (uint8_t)(lengths[i] >> 24);
        data[1] = (uint8_t)(lengths[i] >> 16);
        data[2] = (uint8_t)(lengths[i] >> 8);
        data[3] = (uint8_t)lengths[i];
        memset(data + 4, 'x', 4);
        amk_buf_view(&v, data, sizeof(data));
        ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_string_direct(&v, &p, &len));
        assert_int_equal(amk_buf_len(&v), sizeof(data));
    }
}

static void
test_amk_buf_get_fixed_truncated(void **state)
{
    const uint8_t data[] = { 1, 2, 3 };
    struct amk_buf v;
    uint32_t v32;
    uint64_t v64;
    uint8_t u8;

    amk_buf_view(&v, data, sizeof(data));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_u32(&v, &v32));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_get_u64(&v, &v64));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_peek_u32(&v, 0, &v32));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_peek_u8(&v, 3, &u8));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_peek_u32(&v, SIZE_MAX, &v32));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_consume(&v, 4));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_consume_end(&v, 4));
    assert_int_equal(amk_buf_len(&v), 3);
    ASSERT_AMK(AMK_EFORMAT, amk_buf_get_end(&v));
}

static void
test_amk_buf_get_cstring_embedded_nul(void **state)
{
    const uint8_t data[] = { 0, 0, 0, 3, 'a', 0, 'b' };
    struct amk_buf v;
    char *s;

    amk_buf_view(&v, data, sizeof(data));
    ASSERT_AMK(AMK_EFORMAT, amk_buf_get_cstring(&v, &s, NULL));
    assert_null(s);
    assert_int_equal(amk_buf_len(&v), sizeof(data));
}

/* RFC 4251 §5 mpint examples: value, magnitude hex, encoding hex. */
static const struct {
    const char *mag;
    int negative;
    const char *wire;
} MPINT_RFC4251[] = {
    { "", 0, "00000000" },
    { "09a378f9b2e332a7", 0, "00000008 09a378f9b2e332a7" },
    { "80", 0, "00000002 0080" },
    { "1234", 1, "00000002 edcc" },
    { "deadbeef", 1, "00000005 ff21524111" },
};

static void
test_amk_buf_mpint_rfc4251_examples(void **state)
{
    for (size_t i = 0; i < sizeof(MPINT_RFC4251) / sizeof(MPINT_RFC4251[0]); i++) {
        struct amk_buf *b = amk_buf_new();
        uint8_t *mag;
        uint8_t out[16];
        size_t maglen, outlen;
        int neg;

        mag = test_unhex(MPINT_RFC4251[i].mag, &maglen);
        ASSERT_OK(amk_buf_put_mpint_signed(b, mag, maglen, MPINT_RFC4251[i].negative));
        ASSERT_HEX(MPINT_RFC4251[i].wire, amk_buf_ptr(b), amk_buf_len(b));
        ASSERT_OK(amk_buf_get_mpint_signed(b, out, sizeof(out), &outlen, &neg));
        assert_int_equal(outlen, maglen);
        if (maglen > 0)
            assert_memory_equal(out, mag, maglen);
        assert_int_equal(neg, MPINT_RFC4251[i].negative);
        assert_int_equal(amk_buf_len(b), 0);
        free(mag);
        amk_buf_free(b);
    }
}

static void
test_amk_buf_mpint_negative_edges(void **state)
{
    /* -128 is 0x80, -129 is ff7f, -256 is ff00 (minimal two's complement). */
    static const struct { const char *mag, *wire; } cases[] = {
        { "80", "00000001 80" }, { "81", "00000002 ff7f" }, { "0100", "00000002 ff00" },
        { "01", "00000001 ff" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct amk_buf *b = amk_buf_new();
        uint8_t out[8];
        size_t maglen, outlen;
        int neg;
        uint8_t *mag = test_unhex(cases[i].mag, &maglen);

        ASSERT_OK(amk_buf_put_mpint_signed(b, mag, maglen, 1));
        ASSERT_HEX(cases[i].wire, amk_buf_ptr(b), amk_buf_len(b));
        ASSERT_OK(amk_buf_get_mpint_signed(b, out, sizeof(out), &outlen, &neg));
        assert_int_equal(neg, 1);
        assert_int_equal(outlen, maglen);
        assert_memory_equal(out, mag, maglen);
        free(mag);
        amk_buf_free(b);
    }
}

static void
test_amk_buf_put_mpint_strips_leading_zeros(void **state)
{
    const uint8_t mag[] = { 0, 0, 0x7f, 1 };
    const uint8_t zero[] = { 0, 0 };
    struct amk_buf *b = amk_buf_new();

    ASSERT_OK(amk_buf_put_mpint(b, mag, sizeof(mag)));
    ASSERT_OK(amk_buf_put_mpint(b, zero, sizeof(zero)));
    ASSERT_HEX("00000002 7f01 00000000", amk_buf_ptr(b), amk_buf_len(b));
    amk_buf_free(b);
}

static void
test_amk_buf_get_mpint_rejects_non_minimal(void **state)
{
    static const char *bad[] = {
        "00000001 00",          /* zero must be empty */
        "00000002 0001",        /* unnecessary 00 */
        "00000003 00007f",
        "00000002 ff80",        /* unnecessary ff */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len, maglen;
        uint8_t *wire = test_unhex(bad[i], &len);
        const uint8_t *mag;
        uint8_t out[8];
        int neg;
        struct amk_buf v;

        amk_buf_view(&v, wire, len);
        ASSERT_AMK(AMK_EFORMAT, amk_buf_get_mpint_direct(&v, &mag, &maglen));
        ASSERT_AMK(AMK_EFORMAT, amk_buf_get_mpint_signed(&v, out, sizeof(out), &maglen, &neg));
        assert_int_equal(amk_buf_len(&v), len);
        free(wire);
    }
}

static void
test_amk_buf_get_mpint_direct_rejects_negative(void **state)
{
    const uint8_t wire[] = { 0, 0, 0, 1, 0x80 };
    struct amk_buf v;
    const uint8_t *mag;
    size_t len;

    amk_buf_view(&v, wire, sizeof(wire));
    ASSERT_AMK(AMK_EFORMAT, amk_buf_get_mpint_direct(&v, &mag, &len));
}

static void
test_amk_buf_get_mpint_too_big(void **state)
{
    struct amk_buf *b = amk_buf_new();
    size_t n = AMK_MPINT_MAX_BYTES + 1;
    uint8_t *big = calloc(1, n);
    const uint8_t *mag;
    size_t len;

    big[0] = 0x7f;
    ASSERT_OK(amk_buf_put_string(b, big, n));
    ASSERT_AMK(AMK_ETOOBIG, amk_buf_get_mpint_direct(b, &mag, &len));
    amk_buf_reset(b);
    /* The largest allowed magnitude, with its sign byte, is accepted. */
    big[0] = 0;
    big[1] = 0xff;
    ASSERT_OK(amk_buf_put_string(b, big, n));
    ASSERT_OK(amk_buf_get_mpint_direct(b, &mag, &len));
    assert_int_equal(len, AMK_MPINT_MAX_BYTES);
    free(big);
    amk_buf_free(b);
}

static void
test_amk_buf_mpint_signed_capacity(void **state)
{
    const uint8_t wire[] = { 0, 0, 0, 3, 0x01, 0x02, 0x03 };
    struct amk_buf v;
    uint8_t out[2];
    size_t len;
    int neg;

    amk_buf_view(&v, wire, sizeof(wire));
    ASSERT_AMK(AMK_ELIMIT, amk_buf_get_mpint_signed(&v, out, sizeof(out), &len, &neg));
    assert_int_equal(amk_buf_len(&v), sizeof(wire));
}

static void
test_amk_buf_max_size_enforced(void **state)
{
    struct amk_buf *b = amk_buf_new();
    uint8_t *p;

    ASSERT_OK(amk_buf_set_max(b, 100));
    ASSERT_OK(amk_buf_reserve(b, 96, &p));
    ASSERT_OK(amk_buf_put_u32(b, 1));
    ASSERT_AMK(AMK_ELIMIT, amk_buf_put_u8(b, 1));
    ASSERT_AMK(AMK_ELIMIT, amk_buf_reserve(b, SIZE_MAX, &p));
    assert_null(p);
    ASSERT_AMK(AMK_ELIMIT, amk_buf_put_string(b, "", SIZE_MAX - 2));
    assert_int_equal(amk_buf_len(b), 100);
    /* Consuming makes room again. */
    ASSERT_OK(amk_buf_consume(b, 50));
    ASSERT_OK(amk_buf_reserve(b, 50, &p));
    assert_int_equal(amk_buf_len(b), 100);
    ASSERT_AMK(AMK_EINVAL, amk_buf_set_max(b, 99));
    ASSERT_AMK(AMK_EINVAL, amk_buf_set_max(b, AMK_BUF_MAX_HARD + 1));
    amk_buf_free(b);
}

static void
test_amk_buf_growth_keeps_data(void **state)
{
    struct amk_buf *b;
    uint32_t v;

    /* Order check: interleaved puts and gets stay FIFO. */
    b = amk_buf_new();
    uint32_t next = 0;
    for (uint32_t i = 0; i < 50000; i++) {
        ASSERT_OK(amk_buf_put_u32(b, i));
        if (i % 2 == 1) {
            ASSERT_OK(amk_buf_get_u32(b, &v));
            assert_int_equal(v, next++);
        }
    }
    while (amk_buf_len(b) > 0) {
        ASSERT_OK(amk_buf_get_u32(b, &v));
        assert_int_equal(v, next++);
    }
    assert_int_equal(next, 50000);
    amk_buf_free(b);
}

static void
test_amk_buf_view_is_readonly(void **state)
{
    const uint8_t data[] = { 0, 0, 0, 1, 'x' };
    struct amk_buf v;

    amk_buf_view(&v, data, sizeof(data));
    assert_null(amk_buf_mutable_ptr(&v));
    ASSERT_AMK(AMK_ESTATE, amk_buf_put_u8(&v, 1));
    ASSERT_AMK(AMK_ESTATE, amk_buf_poke_u32(&v, 0, 5));
    assert_memory_equal(amk_buf_ptr(&v), data, sizeof(data));
}

static void
test_amk_buf_stringb_child_view(void **state)
{
    /* A nested blob parsed in a child view, with the fully-consumed check. */
    struct amk_buf *inner = amk_buf_new(), *outer = amk_buf_new();
    struct amk_buf child;
    uint32_t v;
    char *s;

    ASSERT_OK(amk_buf_put_cstring(inner, "ssh-ed25519"));
    ASSERT_OK(amk_buf_put_u32(inner, 42));
    ASSERT_OK(amk_buf_put_stringb(outer, inner));
    ASSERT_OK(amk_buf_put_u8(outer, 9));
    ASSERT_OK(amk_buf_get_stringb(outer, &child));
    ASSERT_OK(amk_buf_get_cstring(&child, &s, NULL));
    assert_string_equal(s, "ssh-ed25519");
    free(s);
    ASSERT_AMK(AMK_EFORMAT, amk_buf_get_end(&child));
    ASSERT_OK(amk_buf_get_u32(&child, &v));
    assert_int_equal(v, 42);
    ASSERT_OK(amk_buf_get_end(&child));
    assert_int_equal(amk_buf_len(outer), 1);
    amk_buf_free(inner);
    amk_buf_free(outer);
}

static void
test_amk_buf_poke_u32_fills_reserved_length(void **state)
{
    struct amk_buf *b = amk_buf_new();
    uint32_t v;

    ASSERT_OK(amk_buf_put_u32(b, 0));
    ASSERT_OK(amk_buf_put(b, "abcdef", 6));
    ASSERT_OK(amk_buf_poke_u32(b, 0, 6));
    ASSERT_HEX("00000006 616263646566", amk_buf_ptr(b), amk_buf_len(b));
    ASSERT_AMK(AMK_ETRUNCATED, amk_buf_poke_u32(b, 7, 1));
    ASSERT_OK(amk_buf_get_u32(b, &v));
    assert_int_equal(v, 6);
    amk_buf_free(b);
}

static void
test_amk_buf_to_cstring_copies_unread_data(void **state)
{
    struct amk_buf *b = amk_buf_new();
    char *s = NULL;
    size_t len = 99;

    ASSERT_OK(amk_buf_to_cstring(b, &s, &len));   /* empty buffer without storage */
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    ASSERT_OK(amk_buf_put(b, "xxabc", 5));
    ASSERT_OK(amk_buf_consume(b, 2));
    ASSERT_OK(amk_buf_to_cstring(b, &s, NULL));
    assert_string_equal(s, "abc");
    assert_int_equal(amk_buf_len(b), 3);
    free(s);
    amk_buf_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_buf_u32_u64_roundtrip),
        cmocka_unit_test(test_amk_buf_get_bool_nonzero_is_true),
        cmocka_unit_test(test_amk_buf_string_rfc4251_example),
        cmocka_unit_test(test_amk_buf_get_string_truncated_leaves_buffer),
        cmocka_unit_test(test_amk_buf_get_string_hostile_lengths),
        cmocka_unit_test(test_amk_buf_get_fixed_truncated),
        cmocka_unit_test(test_amk_buf_get_cstring_embedded_nul),
        cmocka_unit_test(test_amk_buf_mpint_rfc4251_examples),
        cmocka_unit_test(test_amk_buf_mpint_negative_edges),
        cmocka_unit_test(test_amk_buf_put_mpint_strips_leading_zeros),
        cmocka_unit_test(test_amk_buf_get_mpint_rejects_non_minimal),
        cmocka_unit_test(test_amk_buf_get_mpint_direct_rejects_negative),
        cmocka_unit_test(test_amk_buf_get_mpint_too_big),
        cmocka_unit_test(test_amk_buf_mpint_signed_capacity),
        cmocka_unit_test(test_amk_buf_max_size_enforced),
        cmocka_unit_test(test_amk_buf_growth_keeps_data),
        cmocka_unit_test(test_amk_buf_view_is_readonly),
        cmocka_unit_test(test_amk_buf_stringb_child_view),
        cmocka_unit_test(test_amk_buf_poke_u32_fills_reserved_length),
        cmocka_unit_test(test_amk_buf_to_cstring_copies_unread_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
