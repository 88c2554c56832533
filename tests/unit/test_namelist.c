/* Unit tests for src/util/namelist.c. */
#include "test_helper.h"

#include "util/buf.h"
#include "util/namelist.h"

static void
test_amk_namelist_validate_good(void **state)
{
    static const char *good[] = { "", "a", "zlib,none", "aes128-ctr,chacha20-poly1305@openssh.com" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ASSERT_OK(amk_namelist_validate(good[i], strlen(good[i])));
}

static void
test_amk_namelist_validate_bad(void **state)
{
    static const char *bad[] = { ",", "a,", ",a", "a,,b", "a b", "a\tb", "caf\xc3\xa9" };
    char longname[AMK_NAME_MAX + 2];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_AMK(AMK_EFORMAT, amk_namelist_validate(bad[i], strlen(bad[i])));
    ASSERT_AMK(AMK_EFORMAT, amk_namelist_validate("a\0b", 3));
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ASSERT_AMK(AMK_EFORMAT, amk_namelist_validate(longname, strlen(longname)));
    ASSERT_OK(amk_namelist_validate(longname, AMK_NAME_MAX));
}

static void
test_amk_buf_get_namelist_validates(void **state)
{
    struct amk_buf *b = amk_buf_new();
    char *list;

    ASSERT_OK(amk_buf_put_cstring(b, "zlib,none"));
    ASSERT_OK(amk_buf_put_cstring(b, "bad,,list"));
    ASSERT_OK(amk_buf_get_namelist(b, &list));
    assert_string_equal(list, "zlib,none");
    free(list);
    ASSERT_AMK(AMK_EFORMAT, amk_buf_get_namelist(b, &list));
    assert_null(list);
    assert_int_equal(amk_buf_len(b), 4 + 9);
    amk_buf_free(b);
}

/* libssh 0.10.6's default cipher lists end with a comma: one trailing
 * comma is dropped; no other empty name is let through. */
static void
test_amk_buf_get_namelist_forgives_one_trailing_comma(void **state)
{
    static const char *const bad[] = { ",", ",,", "a,,", "a,,b", ",a", ",a,", "a b,", "" };
    struct amk_buf *b;
    char *list;

    (void)state;
    b = amk_buf_new();
    ASSERT_OK(amk_buf_put_cstring(b, "aes192-ctr,aes128-ctr,"));
    ASSERT_OK(amk_buf_put_cstring(b, "x,"));
    ASSERT_OK(amk_buf_get_namelist(b, &list));
    assert_string_equal(list, "aes192-ctr,aes128-ctr");
    free(list);
    ASSERT_OK(amk_buf_get_namelist(b, &list));
    assert_string_equal(list, "x");
    free(list);
    assert_int_equal(amk_buf_len(b), 0);
    for (size_t i = 0; bad[i][0] != '\0'; i++) {
        ASSERT_OK(amk_buf_put_cstring(b, bad[i]));
        ASSERT_AMK(AMK_EFORMAT, amk_buf_get_namelist(b, &list));
        assert_null(list);
        amk_buf_reset(b);
    }
    amk_buf_free(b);
}

static void
test_amk_namelist_match_client_preference(void **state)
{
    char out[AMK_NAME_MAX + 1];

    /* RFC 4253 §7.1: the first algorithm on the client's list that the server supports. */
    ASSERT_OK(amk_namelist_match("c,b,a", "a,b", out));
    assert_string_equal(out, "b");
    ASSERT_OK(amk_namelist_match("aes128-ctr", "aes128-ctr", out));
    assert_string_equal(out, "aes128-ctr");
    /* Prefixes are not matches. */
    ASSERT_AMK(AMK_ENOMATCH, amk_namelist_match("aes128", "aes128-ctr", out));
    ASSERT_AMK(AMK_ENOMATCH, amk_namelist_match("", "a", out));
    ASSERT_AMK(AMK_ENOMATCH, amk_namelist_match("a", "", out));
    assert_string_equal(out, "");
}

static void
test_amk_namelist_contains_and_count(void **state)
{
    assert_true(amk_namelist_contains("a,bb,c", "bb"));
    assert_false(amk_namelist_contains("a,bb,c", "b"));
    assert_false(amk_namelist_contains("", "a"));
    assert_int_equal(amk_namelist_count("a,bb,c"), 3);
    assert_int_equal(amk_namelist_count(""), 0);
}

static void
test_amk_wildcard_match_cases(void **state)
{
    assert_true(amk_wildcard_match("*", "anything"));
    assert_true(amk_wildcard_match("aes*-ctr", "aes128-ctr"));
    assert_true(amk_wildcard_match("hmac-sha1*", "hmac-sha1-etm@openssh.com"));
    assert_true(amk_wildcard_match("a?c", "abc"));
    assert_false(amk_wildcard_match("a?c", "abbc"));
    assert_false(amk_wildcard_match("aes*-cbc", "aes128-ctr"));
    assert_true(amk_wildcard_match("*a*a*a*", "banana.a"));
}

static void
test_amk_namelist_apply_ops(void **state)
{
    const char *supported = "a,b,c,d1,d2";
    const char *defaults = "a,b,c";
    char *out;

    ASSERT_OK(amk_namelist_apply(defaults, supported, NULL, &out));
    assert_string_equal(out, "a,b,c");
    free(out);
    ASSERT_OK(amk_namelist_apply(defaults, supported, "c,a", &out));
    assert_string_equal(out, "c,a");
    free(out);
    ASSERT_OK(amk_namelist_apply(defaults, supported, "+d*", &out));
    assert_string_equal(out, "a,b,c,d1,d2");
    free(out);
    ASSERT_OK(amk_namelist_apply(defaults, supported, "-b", &out));
    assert_string_equal(out, "a,c");
    free(out);
    ASSERT_OK(amk_namelist_apply(defaults, supported, "^d2,c", &out));
    assert_string_equal(out, "c,d2,a,b");
    free(out);
    ASSERT_AMK(AMK_ENOTSUP, amk_namelist_apply(defaults, supported, "zz", &out));
    ASSERT_AMK(AMK_ENOTSUP, amk_namelist_apply(defaults, supported, "+zz*", &out));
    ASSERT_AMK(AMK_EINVAL, amk_namelist_apply(defaults, supported, "-*", &out));
    ASSERT_AMK(AMK_EINVAL, amk_namelist_apply(defaults, supported, "a,,b", &out));
    assert_null(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amk_namelist_validate_good),
        cmocka_unit_test(test_amk_namelist_validate_bad),
        cmocka_unit_test(test_amk_buf_get_namelist_validates),
        cmocka_unit_test(test_amk_buf_get_namelist_forgives_one_trailing_comma),
        cmocka_unit_test(test_amk_namelist_match_client_preference),
        cmocka_unit_test(test_amk_namelist_contains_and_count),
        cmocka_unit_test(test_amk_wildcard_match_cases),
        cmocka_unit_test(test_amk_namelist_apply_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
